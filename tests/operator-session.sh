#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# operator-session.sh OUT.md: the README's operator session, from a real run. As root: a
# daemon (the build's) on the default control socket guards a state dir with two agents;
# three holders (tests/lock-holder, the test suite's own implementation of the application's
# lock protocol) take locks, one is SIGKILLed, and a process steals a live holder's lock
# (tests/session-actor). Then the operator's commands run exactly as printed, and their
# output is written to OUT.md unedited. `make operator-session` puts it into README.md.
# Every wait is bounded; the run fails (exit 1) rather than write a partial session.
set -euo pipefail
out=$1
builddir=${LW_BUILDDIR:-$PWD}
lw=$builddir/src/lockwarden
[[ $(id -u) == 0 ]] || { echo "operator-session: needs root (fanotify, the system socket)" >&2; exit 1; }
sock=/run/lockwarden/control.sock
[[ ! -e $sock ]] || { echo "operator-session: $sock exists (a lockwarden runs): stop it first" >&2; exit 1; }
state=/var/tmp/lockwarden-demo/.openclaw
rm -rf /var/tmp/lockwarden-demo
mkdir -p $state/agents/main/sessions $state/agents/ops/sessions
main=$state/agents/main/sessions ops=$state/agents/ops/sessions
for f in 7f3a9c c90d11; do echo '{}' >$main/$f.jsonl; done
echo '{}' >$ops/b21e04.jsonl
pids=()
cleanup() {
        for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
        wait 2>/dev/null || true
        rm -rf /var/tmp/lockwarden-demo
        rmdir /run/lockwarden 2>/dev/null || true
}
trap cleanup EXIT

# Until COMMAND succeeds, at most 10 s (polled every 10 ms).
until_true() {
        for _ in $(seq 1000); do "$@" && return 0; sleep 0.01; done
        echo "operator-session: timed out waiting for: $*" >&2
        exit 1
}

mkdir -p /run/lockwarden
"$lw" run --state-dir $state --config /dev/null --events /var/tmp/lockwarden-demo/events.jsonl 2>/dev/null &
pids+=($!)
until_true test -S $sock
until_true grep -q monitor.ready /var/tmp/lockwarden-demo/events.jsonl
holder() { # holder LOCK: a lock-holder that holds LOCK, once it says so
        local fifo
        fifo=$(mktemp -u /var/tmp/lockwarden-demo/fifo.XXXXXX)
        mkfifo "$fifo"
        "$builddir/tests/lock-holder" "$1" >"$fifo" &
        pids+=($!)
        read -r -t 10 _ <"$fifo"
        rm -f "$fifo"
}
holder $main/7f3a9c.jsonl.lock
holder $main/c90d11.jsonl.lock
killed=${pids[-1]}
holder $ops/b21e04.jsonl.lock
until_true grep -q '"lock.acquired".*b21e04' /var/tmp/lockwarden-demo/events.jsonl
kill -KILL "$killed"
wait "$killed" 2>/dev/null || true
until_true grep -q '"lock.cleaned".*c90d11' /var/tmp/lockwarden-demo/events.jsonl
"$builddir/tests/session-actor" steal $ops/b21e04.jsonl.lock >/dev/null &
pids+=($!)
until_true grep -q '"race.lock-stolen".*b21e04' /var/tmp/lockwarden-demo/events.jsonl
until_true grep -q '"lock.acquired".*b21e04.*session-actor' /var/tmp/lockwarden-demo/events.jsonl

run() { # run ARGS...: the command as typed, then its output
        echo "# lockwarden $*"
        (cd $main && "$lw" "$@" 2>&1) || echo "exit $?"
        echo
}
{
        echo "# The operator session"
        echo
        echo "Written by \`tests/operator-session.sh\` (\`make operator-session\`) on $(date -u '+%Y-%m-%d %H:%M UTC'), as root, in $main:"
        echo
        echo '```'
        run status
        run locks
        run holders 7f3a9c.jsonl.lock
        run explain $ops/b21e04.jsonl.lock
        run events --since 5m
        run cleanup .
        run explain nope.jsonl.lock
        echo '```'
} >"$out.tmp"
mv "$out.tmp" "$out"
