#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Interop with the real application: the published OpenClaw package's own session-lock code
# (acquireSessionWriteLock, cleanStaleLockFiles), driven by tests/interop/openclaw.mjs,
# against a real lockwarden. lockwarden's verdicts must match what the application itself
# concludes:
#   1. a live holder is never touched; its own release is a release, with no race;
#   2. a SIGKILLed holder's lock is cleaned, and the application's next acquire succeeds at once;
#   3. on the same dead and live locks, lockwarden and the application's cleanStaleLockFiles
#      give the same verdicts (dead-pid; not stale);
#   4. a contender that judges a live holder's lock hold-exceeded and takes it: race.lock-stolen;
#   5. 1,000 acquire/append/release cycles from 4 processes: no race, nothing stale, every line
#      in the transcript.
# The package version is pinned (OPENCLAW_VERSION below; README.md says how to add a newer one).
# It is fetched with npm into LW_INTEROP_CACHE (default: BUILDDIR/interop-cache) once. Without
# node/npm or the npm registry the suite skips (77) and says so. Needs root for fanotify.
set -euo pipefail
OPENCLAW_VERSION=${OPENCLAW_VERSION:-2026.5.28}
src=${LW_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${LW_BUILDDIR:-$PWD}
bin=$build/src/lockwarden
cache=${LW_INTEROP_CACHE:-$build/interop-cache}
driver=$src/tests/interop/openclaw.mjs

skip() { echo "interop skipped: $*" >&2; exit 77; }
[[ $(id -u) -eq 0 ]] || skip "needs root (fanotify)"
command -v node >/dev/null && command -v npm >/dev/null || skip "node and npm are not installed"

# The package, once.
pkg=$cache/openclaw-$OPENCLAW_VERSION/package
if [[ ! -f $pkg/.lockwarden-installed ]]; then
        mkdir -p "$cache/openclaw-$OPENCLAW_VERSION"
        (cd "$cache/openclaw-$OPENCLAW_VERSION" &&
                timeout 300 npm pack --silent "openclaw@$OPENCLAW_VERSION" >/dev/null 2>"$cache/npm-pack.log") ||
                skip "the npm registry is not reachable (npm pack openclaw@$OPENCLAW_VERSION: $(tail -1 "$cache/npm-pack.log"))"
        rm -rf "$pkg"
        tar -C "$cache/openclaw-$OPENCLAW_VERSION" -xzf "$cache/openclaw-$OPENCLAW_VERSION/openclaw-$OPENCLAW_VERSION.tgz"
        (cd "$pkg" && timeout 900 npm install --silent --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund \
                >"$cache/npm-install.log" 2>&1) || { cat "$cache/npm-install.log" >&2; echo "FAIL: npm install" >&2; exit 1; }
        touch "$pkg/.lockwarden-installed"
fi
export LW_OPENCLAW_DIST=$pkg/dist
echo "openclaw@$OPENCLAW_VERSION from $pkg"

tmp=$(mktemp -d /var/tmp/lockwarden-interop.XXXXXX)
pids=()
cleanup() {
        for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
        wait 2>/dev/null || true
        rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; echo "== events" >&2; cut -c1-300 "$tmp"/events-* >&2 || true; exit 1; }

# Waits (bounded) until the command succeeds: a condition, never a fixed delay.
await() {
        local what=$1 deadline=$((SECONDS + 30))
        shift
        until "$@"; do
                ((SECONDS < deadline)) || fail "timed out waiting for $what"
                sleep 0.02
        done
}
# Lines of the event stream with EVENT and every further substring given.
events() {
        local file=$1 ev=$2
        shift 2
        grep -F "\"event\":\"$ev\"" "$file" | { local l; while IFS= read -r l; do
                local ok=1 s
                for s in "$@"; do [[ $l == *"$s"* ]] || ok=0; done
                ((ok)) && echo "$l"
        done; } || true
}
has() { [[ -n $(events "$@") ]]; }
count() { events "$@" | grep -c . || true; }

start_daemon() { # NAME ARGS...: a daemon on its own state dir; sets $state, $ev
        local name=$1
        shift
        state=$tmp/state-$name
        ev=$tmp/events-$name
        mkdir -p "$state/agents/main/sessions"
        : >"$ev"
        "$bin" run --state-dir "$state" --socket "$tmp/sock-$name" --config /dev/null --events "$ev" \
                --leak-grace-ms 300 "$@" 2>"$tmp/stderr-$name" &
        daemon=$!
        pids+=("$daemon")
        await "monitor.ready" has "$ev" monitor.ready
}
stop_daemon() {
        kill -TERM "$daemon"
        wait "$daemon" || fail "lockwarden exited $?"
}
# Starts the application holding SESSION's lock (extra args: max hold ms); sets $holder.
hold() {
        local out=$tmp/hold-$RANDOM
        node "$driver" hold "$@" >"$out" 2>&1 &
        holder=$!
        pids+=("$holder")
        await "the application to take the lock" grep -q '^locked ' "$out"
}
sessions() { echo "$state/agents/main/sessions"; }

# 3 first, with cleanup off, so that the dead lock stays for the application to judge too.
start_daemon report --cleanup=report
dead=$(sessions)/dead.jsonl
live=$(sessions)/live.jsonl
hold "$dead"
dead_pid=$holder
hold "$live"
live_pid=$holder
await "lock.acquired (dead)" has "$ev" lock.acquired "\"lock\":\"$dead.lock\"" "\"pid\":$dead_pid"
await "lock.acquired (live)" has "$ev" lock.acquired "\"lock\":\"$live.lock\"" "\"pid\":$live_pid"
kill -KILL "$dead_pid"
await "lock.stale (dead)" has "$ev" lock.stale "\"lock\":\"$dead.lock\""
ours=$(events "$ev" lock.stale "\"lock\":\"$dead.lock\"" | grep -o '"reason":"[a-z-]*"')
theirs=$(node "$driver" inspect "$(sessions)")
echo "lockwarden: dead.jsonl.lock $ours, live.jsonl.lock live; application: $theirs"
[[ $ours == '"reason":"dead-pid"' ]] || fail "lockwarden says $ours"
[[ $theirs == *"\"lock\":\"$dead.lock\",\"pid\":$dead_pid,\"stale\":true,\"reasons\":[\"dead-pid\"]"* ]] ||
        fail "the application does not call the dead lock dead-pid: $theirs"
[[ $theirs == *"\"lock\":\"$live.lock\",\"pid\":$live_pid,\"stale\":false"* ]] ||
        fail "the application calls the live lock stale: $theirs"
[[ $(count "$ev" lock.stale "\"lock\":\"$live.lock\"") -eq 0 ]] || fail "lockwarden calls the live lock stale"
kill -TERM "$live_pid"
wait "$live_pid" 2>/dev/null || true
stop_daemon
echo "3. verdicts agree"

start_daemon auto
# 1. A live holder, left alone past the grace; then its own release.
s1=$(sessions)/s1.jsonl
hold "$s1"
await "lock.acquired" has "$ev" lock.acquired "\"lock\":\"$s1.lock\"" "\"pid\":$holder"
"$bin" locks --json --socket "$tmp/sock-auto" >"$tmp/locks.json"
grep -q '"verdict": "live"' "$tmp/locks.json" || fail "lockwarden does not call it live: $(cat "$tmp/locks.json")"
# Past the grace (300 ms), and the lock is still there, untouched. The barrier, an event rather
# than a delay: a lock leaked after this one was taken goes stale when its grace runs out, so
# once it is cleaned, the live lock's grace (had it wrongly started) has run out too.
leak=$(sessions)/barrier.jsonl.lock
"$build/tests/lock-holder" --mode=leak "$leak" >"$tmp/barrier.out" &
pids+=($!)
await "the leaked barrier lock cleaned" has "$ev" lock.cleaned "\"lock\":\"$leak\""
[[ -e $s1.lock ]] || fail "the live holder's lock disappeared"
[[ $(count "$ev" lock.stale "\"lock\":\"$s1.lock\"") -eq 0 ]] || fail "a live lock was judged stale"
kill -TERM "$holder"
wait "$holder" 2>/dev/null || true
await "lock.released" has "$ev" lock.released "\"lock\":\"$s1.lock\""
echo "1. live holder untouched, its release a release"

# 2. SIGKILL while holding: cleaned, and the application's next acquire succeeds at once.
s2=$(sessions)/s2.jsonl
hold "$s2"
await "lock.acquired" has "$ev" lock.acquired "\"lock\":\"$s2.lock\"" "\"pid\":$holder"
kill -KILL "$holder"
await "lock.cleaned" has "$ev" lock.cleaned "\"lock\":\"$s2.lock\"" '"reason":"dead-pid'
waited=$(node "$driver" acquire "$s2" 1000) || fail "the application could not take the lock after the cleanup"
echo "2. SIGKILLed holder's lock cleaned; the application's next acquire: $waited ms"
[[ ${waited#acquired } -lt 50 ]] || fail "the application waited ${waited#acquired } ms"

# 4. A contender judges a live holder's lock hold-exceeded and takes it from under it.
s4=$(sessions)/s4.jsonl
hold "$s4" 300
victim=$holder
await "lock.acquired" has "$ev" lock.acquired "\"lock\":\"$s4.lock\"" "\"pid\":$victim"
node "$driver" acquire "$s4" 10000 >"$tmp/steal.out" || fail "the contender did not take the lock"
await "race.lock-stolen" has "$ev" race.lock-stolen "\"lock\":\"$s4.lock\"" "\"owner_pid\":$victim"
stolen=$(events "$ev" race.lock-stolen "\"lock\":\"$s4.lock\"" | head -1)
[[ $stolen == *'"actor_comm":"node"'* ]] || fail "the actor is not the contender: $stolen"
echo "4. the application's hold-exceeded steal reported: $(grep -o '"actor_pid":[0-9]*' <<<"$stolen"), owner $victim"
kill -TERM "$victim"
wait "$victim" 2>/dev/null || true

# 5. 1,000 normal cycles from 4 processes on one session: not one report beyond the lifecycle.
before_races=$(count "$ev" race.)
before_stale=$(count "$ev" lock.stale)
s5=$(sessions)/s5.jsonl
cyclers=()
for i in 1 2 3 4; do
        node "$driver" cycles "$s5" 250 >"$tmp/cycles-$i" 2>&1 &
        cyclers+=($!)
done
for c in "${cyclers[@]}"; do wait "$c" || fail "a cycling process failed: $(cat "$tmp"/cycles-*)"; done
lines=$(wc -l <"$s5")
[[ $lines -eq 1000 ]] || fail "$lines lines in the transcript, not 1000"
# Everything the kernel queued is judged before this answer (cleanup drains the queue).
"$bin" cleanup --socket "$tmp/sock-auto" >/dev/null
races=$(($(count "$ev" race.) - before_races))
stale=$(($(count "$ev" lock.stale) - before_stale))
acquired=$(count "$ev" lock.acquired "\"lock\":\"$s5.lock\"")
echo "5. 1000 cycles from 4 processes: $acquired lock.acquired, $races races, $stale stale"
[[ $races -eq 0 && $stale -eq 0 ]] || fail "the happy path was reported: $races races, $stale stale"
stop_daemon
echo "interop with openclaw@$OPENCLAW_VERSION: all verdicts match"
