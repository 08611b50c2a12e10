#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# idle: what an idle lockwarden costs. A real daemon guards a state dir with 10 live locks
# held by real processes (no watchdog: not under systemd); after monitor.ready, for SECONDS
# (default 10): its context switches (/proc/PID/status: every wakeup is one), then, separately,
# the system calls it makes (strace -c attached for SECONDS).
#   idle.sh BUILDDIR [SECONDS] [RESULTS.md]
set -euo pipefail
build=$1 seconds=${2:-10} results=${3:-/dev/stdout}
bin=$build/src/lockwarden
tmp=$(mktemp -d /var/tmp/lockwarden-idle.XXXXXX)
pids=()
trap 'kill ${pids[*]} 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$tmp"' EXIT
mkdir -p "$tmp/state/agents/main/sessions"
: >"$tmp/events"
"$bin" run --state-dir "$tmp/state" --socket "$tmp/sock" --config /dev/null --events "$tmp/events" 2>/dev/null &
daemon=$!
pids+=($daemon)
deadline=$((SECONDS + 20))
until grep -q '"event":"monitor.ready"' "$tmp/events"; do
        ((SECONDS < deadline)) || { echo "idle: the daemon did not start" >&2; exit 1; }
        sleep 0.05
done
for i in $(seq 1 10); do
        "$build/tests/lock-holder" "$tmp/state/agents/main/sessions/s$i.jsonl.lock" >/dev/null &
        pids+=($!)
done
deadline=$((SECONDS + 20))
until [[ $(grep -c '"event":"lock.acquired"' "$tmp/events") -ge 10 ]]; do
        ((SECONDS < deadline)) || { echo "idle: the daemon never saw the 10 locks" >&2; exit 1; }
        sleep 0.05
done
switches() { awk '/ctxt_switches/ { n += $2 } END { print n }' "/proc/$daemon/status"; }
a=$(switches)
sleep "$seconds"
b=$(switches)
wakeups=$((b - a))
calls=-
if command -v strace >/dev/null; then
        timeout -s INT "$seconds" strace -c -f -p "$daemon" -o "$tmp/strace" 2>/dev/null || true
        calls=$(awk '$NF == "total" { print $4 }' "$tmp/strace")
        [[ -n $calls ]] || calls=0
        names=$(awk '$1 ~ /^[0-9.]+$/ && $NF != "total" { printf "%s%s", sep, $NF; sep = ", " }' "$tmp/strace")
        [[ -z $names ]] || calls="$calls ($names: strace attaching and detaching interrupts the epoll wait)"
fi
. "$(dirname "$0")/machine.sh"
{
        echo "# Idle cost"
        echo
        echo "Measured by \`make bench\` (\`bench/idle.sh\`) on $(machine "$build")."
        echo "A daemon guarding 10 live locks held by real processes, no watchdog, nothing happening,"
        echo "for $seconds s after it has seen every lock."
        echo
        echo "| measure over $seconds s | count |"
        echo "|---|---:|"
        echo "| wakeups (context switches, /proc/PID/status) | $wakeups |"
        echo "| system calls (strace -c attached) | $calls |"
} >"$results"
cat "$results" >&2
