#!/bin/bash
# Cost: nobody's gateway-looking process names a state dir 1000 folders deep. Counts the
# daemon's opens of /proc/self/mountinfo at start-up (strace), i.e. the per-component cost of
# the FUSE check in chase_dir_flags.
LW=${LW:-/work/wt/attack/build/check/src/lockwarden}
T=$(mktemp -d /tmp/atk.XXXX); chmod 755 $T; echo '{}' > $T/lw.json
mkdir -p $T/app $T/n; echo '//' > $T/app/openclaw.mjs; chown nobody:nogroup $T/n
D=$(setpriv --reuid=nobody --regid=nogroup --clear-groups bash -c "cd $T/n; p=$T/n; for i in \$(seq 1000); do mkdir a && cd a && p=\$p/a; done; echo \$p")
setpriv --reuid=nobody --regid=nogroup --clear-groups env -i OPENCLAW_STATE_DIR=$D/state bash -c "exec -a $T/app/openclaw.mjs bash -c 'sleep 30; :' gateway" &
sleep 0.3
env -u OPENCLAW_STATE_DIR timeout 20 strace -f -e trace=openat -o $T/trace $LW run --config $T/lw.json --socket $T/sock --events - > $T/events 2>/dev/null &
for i in $(seq 150); do grep -q monitor.ready $T/events 2>/dev/null && break; sleep 0.1; done
echo "mountinfo opens until ready: $(grep -c 'self/mountinfo' $T/trace); ready: $(grep -c monitor.ready $T/events)"
kill %2 2>/dev/null; wait %2 2>/dev/null; kill %1 2>/dev/null; rm -rf $T
