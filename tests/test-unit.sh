#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The systemd unit: `systemd-analyze verify` passes; `systemd-analyze security --offline`
# rates it at most 2.0; its capability sets are the documented start-up set; and its
# SystemCallFilter= allows every system call the daemon makes, measured by running a real
# daemon through a session (a lock taken, its owner SIGKILLed and the lock cleaned, the
# verbs asked, SIGHUP, SIGUSR1, SIGTERM) under strace. The strace part needs root, fanotify
# and strace, and skips (77) without them; the rest needs nothing.
set -euo pipefail
src=${LW_SRCDIR:-${srcdir:-..}}
build=${LW_BUILDDIR:-$PWD}
bin=$build/src/lockwarden
unit=$src/contrib/lockwarden.service
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; [[ -n ${LW_KEEP_TMP:-} ]] || rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
command -v systemd-analyze >/dev/null || { echo "no systemd-analyze: skipped" >&2; exit 77; }

# 1. verify, with the binary under test in place of the installed one.
sed "s#/usr/bin/lockwarden#$bin#" "$unit" >"$tmp/lockwarden.service"
out=$(systemd-analyze verify --man=no "$tmp/lockwarden.service" 2>&1) || fail "systemd-analyze verify: $out"
[[ -z $out ]] || fail "systemd-analyze verify says: $out"

# 2. The exposure score.
report=$(systemd-analyze security --offline=yes "$tmp/lockwarden.service" 2>&1)
score=$(sed -n 's/.*Overall exposure level for lockwarden.service: \([0-9.]*\).*/\1/p' <<<"$report")
[[ -n $score ]] || fail "no score in: $report"
awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }' || fail "exposure $score > 2.0: $report"
echo "exposure level: $score"

# 3. The capabilities: the documented start-up set (ARCHITECTURE.md, "Privileges"), ambient
#    because the unit runs as an unprivileged user.
want="CAP_SYS_ADMIN CAP_DAC_OVERRIDE CAP_SYS_PTRACE CAP_LEASE CAP_SETPCAP"
for key in CapabilityBoundingSet AmbientCapabilities; do
        got=$(sed -n "s/^$key=//p" "$unit")
        [[ $got == "$want" ]] || fail "$key=$got, documented: $want"
done

# 4. The system call filter against what the daemon really calls.
if [[ $(id -u) -ne 0 ]] || ! command -v strace >/dev/null; then
        echo "the system call check needs root and strace: skipped" >&2
        exit 77
fi
# Expand the unit's filter: allowed groups and names, minus the denied ones.
expand() { # a group or a name → names, one per line
        if [[ $1 == @* ]]; then
                systemd-analyze syscall-filter "$1" | sed -n '2,$p' | grep -v '^ *#' | awk 'NF { print $1 }' |
                        while read -r x; do expand "$x"; done
        else
                echo "$1"
        fi
}
allow=$(for x in $(sed -n 's/^SystemCallFilter=\([^~].*\)/\1/p' "$unit"); do expand "$x"; done | sort -u)
deny=$(for x in $(sed -n 's/^SystemCallFilter=~//p' "$unit"); do expand "$x"; done | sort -u)
allowed=$(comm -23 <(echo "$allow") <(echo "$deny"))
[[ $(wc -l <<<"$allowed") -gt 100 ]] || fail "the filter expands to too little: $allowed"

state=$tmp/state
mkdir -p "$state/agents/main/sessions"
echo '{}' >"$tmp/config.json"
events=$tmp/events
: >"$events"
# LeakSanitizer cannot run under ptrace (the sanitizer build); the other checks stay on.
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 strace -f -qq -o "$tmp/strace" "$bin" run --state-dir "$state" --socket "$tmp/sock" --config "$tmp/config.json" \
        --events "$events" --leak-grace-ms 100 2>"$tmp/stderr" &
tracer=$!
await() { # EVENT: wait (bounded) until the event stream has it
        timeout 20 grep -q -m1 "\"event\":\"$1\"" <(tail -n +1 -f "$events") || fail "no $1: $(cat "$tmp/stderr")"
}
await monitor.ready
# Signals go to the daemon itself, not to strace.
daemon=$("$bin" status --json --socket "$tmp/sock" | sed -n 's/^ *"pid": \([0-9]*\),*$/\1/p')
[[ -n $daemon ]] || fail "no pid from status --json"
lock=$state/agents/main/sessions/s.jsonl.lock
"$build/tests/lock-holder" "$lock" >"$tmp/holder" &
holder=$!
await lock.acquired
kill -KILL $holder
await lock.cleaned
"$bin" status --socket "$tmp/sock" >/dev/null || fail "status"
"$bin" locks --all --socket "$tmp/sock" >/dev/null || fail "locks"
"$bin" events --socket "$tmp/sock" >/dev/null || fail "events"
"$bin" cleanup --socket "$tmp/sock" >/dev/null || fail "cleanup"
kill -HUP $daemon
await monitor.reloaded
kill -USR1 $daemon
await monitor.dump
kill -TERM $daemon
wait $tracer || fail "the daemon under strace exited $?"

# The daemon's calls (the pid strace reports first is the daemon; it forks nothing).
pid=$(awk 'NR == 1 { print $1 }' "$tmp/strace")
used=$(awk -v p="$pid" '$1 == p { sub(/\(.*/, "", $2); print $2 }' "$tmp/strace" |
        grep -E '^[a-z_0-9]+$' | sort -u | grep -v -x -e execve -e exit_group -e '+++' || true)
[[ $(wc -l <<<"$used") -gt 20 ]] || fail "too few calls traced: $used"
missing=$(comm -23 <(echo "$used") <(echo "$allowed"))
[[ -z $missing ]] || fail "the unit's SystemCallFilter= denies what the daemon calls: $missing"
echo "$(wc -l <<<"$used") distinct system calls, all allowed by the unit"
