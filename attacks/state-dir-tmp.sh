#!/bin/bash
# Attack: nobody's gateway-looking process names OPENCLAW_STATE_DIR=/tmp. /tmp is root's, so
# it is accepted as a state dir (only a missing one's ancestor is checked for others' write
# access): the daemon then watches /tmp for its agents/ folder, and every file made or removed
# there by any process of the host is an event for it. Measured: daemon CPU over N mktemp+rm.
LW=${LW:-/work/main/build/check/src/lockwarden}
N=${N:-3000}
run() {
  T=$(mktemp -d /var/tmp/atk.XXXX); chmod 755 $T; echo '{}' > $T/lw.json
  mkdir -p $T/app; echo '//' > $T/app/openclaw.mjs
  if [ "$1" = attack ]; then
    setpriv --reuid=nobody --regid=nogroup --clear-groups env -i OPENCLAW_STATE_DIR=/tmp bash -c "exec -a $T/app/openclaw.mjs bash -c 'sleep 60; :' gateway" &
    sleep 0.3
  fi
  env -u OPENCLAW_STATE_DIR $LW run --config $T/lw.json --socket $T/sock --events - > $T/events 2>/dev/null &
  d=$!
  for i in $(seq 100); do grep -q monitor.ready $T/events 2>/dev/null && break; sleep 0.1; done
  t0=$(awk '{print $14+$15}' /proc/$d/stat)
  for i in $(seq $N); do : > /tmp/atk-churn.$i; done; rm -f /tmp/atk-churn.*
  sleep 0.5
  t1=$(awk '{print $14+$15}' /proc/$d/stat)
  echo "$1: daemon cpu ticks over $N creates+removes in /tmp: $((t1-t0)); discovered: $(grep -o '"discovered":[^]]*]' $T/events | head -1 | cut -c1-160)"
  kill $d; wait $d 2>/dev/null
  [ "$1" = attack ] && kill %1 2>/dev/null
  rm -rf $T
}
run baseline
run attack
