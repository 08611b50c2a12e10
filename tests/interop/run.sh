#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Interop with the real application: the published OpenClaw packages' own session-lock code
# (acquireSessionWriteLock, cleanStaleLockFiles) and restart recovery
# (markRestartAbortedMainSessionsFromLocks), driven by tests/interop/openclaw.mjs, against a
# real lockwarden, for each release that has session locks (OPENCLAW_VERSIONS, default
# 2026.5.28 2026.7.1 2026.7.35: the "2026.5" and the "2026.7" rules of ../shared/PROTOCOL.md).
# lockwarden's verdicts must match what the application itself concludes:
#   1. a live holder is never touched; its own release is a release, with no race;
#   2. a SIGKILLed holder's lock is cleaned, and the application's next acquire succeeds at once;
#   3. on the same dead and live locks, lockwarden and the application's cleanStaleLockFiles
#      give the same verdicts (dead-pid; not stale);
#   4/10. a live holder's lock past its maxHoldMs: lockwarden says lock.aged (hold-exceeded)
#      and what the release's contenders do; 2026.5: a contender takes it (race.lock-stolen);
#      2026.7: a contender fails at once ("session file lock stale (hold-exceeded)"), the lock
#      stays with its holder, no race;
#   5. 1,000 acquire/append/release cycles from 4 processes: no race, nothing stale, every line
#      in the transcript;
#   6. a live gateway leaks its lock (descriptor closed, file left): a contender polling with
#      the application's code gets it within the leak grace + 200 ms (20 runs, measured);
#   7. a gateway SIGKILLed while a main session runs: lockwarden keeps the lock
#      (lock.kept restart-recovery) for the application's own start-up sweep, which then marks
#      the session abortedLastRun (5 runs, counted); a non-gateway holder's lock is cleaned;
#   8. a holder that handed its write descriptor to a child and was SIGKILLed: the lock stays
#      while the child holds it, and is cleaned once the child is gone;
#   9. two containers whose holders both write pid 1: one killed, only its lock is cleaned;
#  11. lockwarden finds the release from the holder's package.json (monitor.release, status).
# Once, on a release without session locks (OPENCLAW_SQLITE_VERSION, default 2026.9.6):
#  12. a state dir with the SQLite session store: one monitor.warning, its leftover .jsonl.lock
#      files are left alone and .jsonl writes there are no races.
# Negative checks end on a barrier the daemon answers after everything queued before it (a
# leaked lock, taken later, cleaned once its grace ran out; then `lockwarden cleanup`, which
# drains the queue); every wait is bounded and waits for a condition.
# Each package is fetched with npm into LW_INTEROP_CACHE (default: BUILDDIR/interop-cache) once.
# Without node/npm or the npm registry the suite skips (77) and says so. Needs root (fanotify,
# pid namespaces). Every scenario runs, each in its own subshell with its own daemon; the exit
# status is 1 if any failed. LW_INTEROP_FAIL_FAST=1 stops at the first failure; OPENCLAW_VERSIONS=""
# runs no lock release, OPENCLAW_SQLITE_VERSION="" not scenario 12.
set -euo pipefail
read -r -a versions <<<"${OPENCLAW_VERSIONS-${OPENCLAW_VERSION:-2026.5.28 2026.7.1 2026.7.35}}"
sqlite_version=${OPENCLAW_SQLITE_VERSION-2026.9.6}
src=${LW_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${LW_BUILDDIR:-$PWD}
bin=$build/src/lockwarden
cache=${LW_INTEROP_CACHE:-$build/interop-cache}
driver=$src/tests/interop/openclaw.mjs
grace=300    # --leak-grace-ms of every daemon here
leak_runs=20
recovery_runs=5

skip() { echo "interop skipped: $*" >&2; exit 77; }
[[ $(id -u) -eq 0 ]] || skip "needs root (fanotify)"
command -v node >/dev/null && command -v npm >/dev/null || skip "node and npm are not installed"

# The rules a release follows (PROTOCOL.md): 2026.2-2026.5.x, 2026.6-2026.7.x, 2026.8+ (no locks).
rules_of() {
        local year=${1%%.*} minor=${1#*.}
        minor=${minor%%.*}
        if ((year > 2026 || minor >= 8)); then echo 2026.8+
        elif ((minor >= 6)); then echo 2026.7
        else echo 2026.5
        fi
}

# The package VERSION, once: "pack" unpacks it, "install" also installs its dependencies. Sets
# $pkg, and $drv: the driver, copied into the package so that it runs from there as the
# application does (lockwarden finds the release from the script's package.json).
fetch_package() {
        local v=$1 want=$2 dir=$cache/openclaw-$1
        pkg=$dir/package
        if [[ ! -f $pkg/.lockwarden-unpacked && ! -f $pkg/.lockwarden-installed ]]; then
                mkdir -p "$dir"
                (cd "$dir" && timeout 300 npm pack --silent "openclaw@$v" >/dev/null 2>"$dir/npm-pack.log") ||
                        skip "the npm registry is not reachable (npm pack openclaw@$v: $(tail -1 "$dir/npm-pack.log"))"
                rm -rf "$pkg"
                tar -C "$dir" -xzf "$dir/openclaw-$v.tgz"
                rm -f "$dir/openclaw-$v.tgz"
                touch "$pkg/.lockwarden-unpacked"
        fi
        if [[ $want == install && ! -f $pkg/.lockwarden-installed ]]; then
                (cd "$pkg" && timeout 900 npm install --silent --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund \
                        >"$dir/npm-install.log" 2>&1) || { cat "$dir/npm-install.log" >&2; echo "FAIL: npm install openclaw@$v" >&2; exit 1; }
                touch "$pkg/.lockwarden-installed"
        fi
        # The restart-recovery module imports undici; undici 7 and later need a newer node than
        # 20 (webidl.util.markAsUncloneable): on such a node, undici 6 in the package.
        if [[ $want == install ]] && ! (cd "$pkg" && node --input-type=module -e 'await import("undici")' >/dev/null 2>&1); then
                (cd "$pkg" && timeout 300 npm install --silent --no-save --omit=dev --omit=optional --ignore-scripts --no-audit \
                        --no-fund undici@6 >"$dir/npm-undici.log" 2>&1) ||
                        { cat "$dir/npm-undici.log" >&2; echo "FAIL: npm install undici@6 in openclaw@$v" >&2; exit 1; }
        fi
        mkdir -p "$pkg/lockwarden-interop"
        cp "$driver" "$pkg/lockwarden-interop/openclaw.mjs"
        drv=$pkg/lockwarden-interop/openclaw.mjs
}

for v in "${versions[@]}"; do fetch_package "$v" install; done
[[ -z $sqlite_version ]] || fetch_package "$sqlite_version" pack

tmp=$(mktemp -d /var/tmp/lockwarden-interop.XXXXXX)
pids=()
reap() {
        local p
        for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
        wait 2>/dev/null || true
}
# LW_INTEROP_KEEP=1 keeps the state dirs and event files for a look after the run.
# The application's logger makes /tmp/openclaw when its modules load (the driver keeps it silent).
[[ -e /tmp/openclaw ]] && app_tmp_existed=1 || app_tmp_existed=0
on_exit() {
        reap
        ((app_tmp_existed)) || rmdir /tmp/openclaw 2>/dev/null || true
        if [[ ${LW_INTEROP_KEEP:-0} == 0 ]]; then rm -rf "$tmp"; else echo "kept $tmp" >&2; fi
}
trap on_exit EXIT
# The programs under test as they are now: a rebuild during the run changes nothing in it.
cp "$bin" "$tmp/lockwarden"
cp "$build/tests/lock-holder" "$tmp/lock-holder"
bin=$tmp/lockwarden
lock_holder=$tmp/lock-holder

# Ends the scenario: the reason, kept for the summary, and the end of its events.
fail() {
        echo "FAIL: $*" >&2
        echo "openclaw@$version $scenario: $*" >>"$tmp/failures"
        if [[ -n ${ev:-} && -f $ev ]]; then
                echo "== the last events of $ev" >&2
                tail -n 30 "$ev" | cut -c1-400 >&2
        fi
        exit 1
}
say() { echo "  $*"; }

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
field() { grep -o "\"$1\":\\(\"[^\"]*\"\\|[^,}]*\\)" | head -1; } # FIELD: '"FIELD":value' of the line on stdin

# A daemon on its own state dir NAME (agents/main/sessions made first, and agents/A/sessions
# for every A in $agents); sets $state, $ses (its agents/main/sessions), $ev, $sock, $daemon.
start_daemon() {
        local name=$1 a
        shift
        state=$tmp/$version/state-$name
        ev=$tmp/$version/events-$name
        sock=$tmp/$version/sock-$name
        ses=$state/agents/main/sessions
        mkdir -p "$ses"
        for a in ${agents:-}; do mkdir -p "$state/agents/$a/sessions"; done
        : >"$ev"
        "$bin" run --state-dir "$state" --socket "$sock" --config /dev/null --events "$ev" \
                --leak-grace-ms "$grace" "$@" 2>"$tmp/$version/stderr-$name" &
        daemon=$!
        pids+=("$daemon")
        await "monitor.ready" has "$ev" monitor.ready
}
stop_daemon() {
        kill -TERM "$daemon"
        wait "$daemon" || fail "lockwarden exited $?"
}
# Starts the application holding FILE's lock (FILE [MAX_HOLD_MS] [gateway]); sets $holder.
hold() {
        local out
        out=$(mktemp "$tmp/hold.XXXXXX")
        node "$drv" hold "$@" >"$out" 2>&1 &
        holder=$!
        pids+=("$holder")
        await "the application to take the lock of $1" grep -q '^locked ' "$out"
}
# The barrier before a negative check, in sessions folder DIR: a lock leaked after everything
# that came before; once lockwarden cleaned it (its grace ran out), any grace started before
# has run out too; then `cleanup` answers after judging everything still queued.
barrier() {
        local lock=$1/barrier-$RANDOM$RANDOM.jsonl.lock p
        "$lock_holder" --mode=leak "$lock" >/dev/null &
        p=$!
        pids+=("$p")
        await "the leaked barrier lock cleaned" has "$ev" lock.cleaned "\"lock\":\"$lock\""
        kill -TERM "$p"
        wait "$p" 2>/dev/null || true
        "$bin" cleanup --socket "$sock" >/dev/null || fail "lockwarden cleanup failed"
}
gone() { ! kill -0 "$1" 2>/dev/null; }

# 3. The same dead and live locks, judged by lockwarden (report only) and by the application.
s3_verdicts() {
        start_daemon report --cleanup=report
        local dead=$ses/dead.jsonl live=$ses/live.jsonl dead_pid live_pid ours theirs
        hold "$dead"
        dead_pid=$holder
        hold "$live"
        live_pid=$holder
        await "lock.acquired (dead)" has "$ev" lock.acquired "\"lock\":\"$dead.lock\"" "\"pid\":$dead_pid"
        await "lock.acquired (live)" has "$ev" lock.acquired "\"lock\":\"$live.lock\"" "\"pid\":$live_pid"
        kill -KILL "$dead_pid"
        await "lock.stale (dead)" has "$ev" lock.stale "\"lock\":\"$dead.lock\""
        ours=$(events "$ev" lock.stale "\"lock\":\"$dead.lock\"" | field reason)
        theirs=$(node "$drv" inspect "$ses")
        [[ $ours == '"reason":"dead-pid"' ]] || fail "lockwarden says $ours"
        [[ $theirs == *"\"lock\":\"$dead.lock\",\"pid\":$dead_pid,\"stale\":true,\"reasons\":[\"dead-pid\"]"* ]] ||
                fail "the application does not call the dead lock dead-pid: $theirs"
        [[ $theirs == *"\"lock\":\"$live.lock\",\"pid\":$live_pid,\"stale\":false"* ]] ||
                fail "the application calls the live lock stale: $theirs"
        [[ $(count "$ev" lock.stale "\"lock\":\"$live.lock\"") -eq 0 ]] || fail "lockwarden calls the live lock stale"
        kill -TERM "$live_pid"
        wait "$live_pid" 2>/dev/null || true
        stop_daemon
        say "3. verdicts agree: dead.jsonl.lock dead-pid for both, live.jsonl.lock live for both"
}

# 1. A live holder, left alone past the grace; then its own release.
s1_live() {
        start_daemon live
        local s1=$ses/s1.jsonl
        hold "$s1"
        await "lock.acquired" has "$ev" lock.acquired "\"lock\":\"$s1.lock\"" "\"pid\":$holder"
        "$bin" locks --json --socket "$sock" >"$tmp/$version/locks.json"
        grep -q '"verdict": "live"' "$tmp/$version/locks.json" || fail "lockwarden does not call it live: $(cat "$tmp/$version/locks.json")"
        barrier "$ses"
        [[ -e $s1.lock ]] || fail "the live holder's lock disappeared"
        [[ $(count "$ev" lock.stale "\"lock\":\"$s1.lock\"") -eq 0 ]] || fail "a live lock was judged stale"
        kill -TERM "$holder"
        wait "$holder" 2>/dev/null || true
        await "lock.released" has "$ev" lock.released "\"lock\":\"$s1.lock\""
        stop_daemon
        say "1. live holder untouched past the grace, its release a release"
}

# 2. SIGKILL while holding: cleaned, and the application's next acquire succeeds at once.
s2_killed() {
        start_daemon killed
        local s2=$ses/s2.jsonl out waited
        hold "$s2"
        await "lock.acquired" has "$ev" lock.acquired "\"lock\":\"$s2.lock\"" "\"pid\":$holder"
        kill -KILL "$holder"
        await "lock.cleaned" has "$ev" lock.cleaned "\"lock\":\"$s2.lock\"" '"reason":"dead-pid'
        out=$(node "$drv" acquire "$s2" 1000 2>&1) || fail "the application could not take the lock after the cleanup: $out"
        waited=$(sed -n 's/^acquired \([0-9]*\) .*/\1/p' <<<"$out")
        [[ $waited -lt 50 ]] || fail "the application waited $waited ms"
        stop_daemon
        say "2. SIGKILLed holder's lock cleaned; the application's next acquire: $waited ms"
}

# 4/10. A live holder's lock past its maxHoldMs (300 ms): reported as aged with what the
# release's contenders do, then a contender of that release.
s4_hold_exceeded() {
        start_daemon aged
        local s4=$ses/s4.jsonl victim aged want out err ms stolen
        hold "$s4" 300
        victim=$holder
        await "lock.acquired" has "$ev" lock.acquired "\"lock\":\"$s4.lock\"" "\"pid\":$victim"
        await "lock.aged (hold-exceeded)" has "$ev" lock.aged "\"lock\":\"$s4.lock\"" '"reason":"hold-exceeded"'
        aged=$(events "$ev" lock.aged "\"lock\":\"$s4.lock\"" '"reason":"hold-exceeded"' | head -1)
        case $rules in
        2026.5) want='"contenders":"steal"' ;;
        *) want='"contenders":"fail-fast"' ;;
        esac
        out=$tmp/$version/contender.out
        err=$tmp/$version/contender.err
        if [[ $rules == 2026.5 ]]; then
                node "$drv" acquire "$s4" 10000 >"$out" 2>"$err" || fail "the contender did not take the lock: $(cat "$err")"
                await "race.lock-stolen" has "$ev" race.lock-stolen "\"lock\":\"$s4.lock\"" "\"owner_pid\":$victim"
                stolen=$(events "$ev" race.lock-stolen "\"lock\":\"$s4.lock\"" | head -1)
                [[ $stolen == *'"actor_comm":"node"'* ]] || fail "the actor is not the contender: $stolen"
                say "4/10. the application's hold-exceeded steal reported: $(field actor_pid <<<"$stolen"), owner $victim"
        else
                ! node "$drv" acquire "$s4" 10000 >"$out" 2>"$err" || fail "a $rules contender took a live holder's hold-exceeded lock"
                grep -q 'session file lock stale (hold-exceeded)' "$err" || fail "the contender's error: $(cat "$err")"
                ms=$(sed -n 's/^failed //p' "$out")
                ((ms < 5000)) || fail "the contender did not fail fast: $ms ms of its 10000"
                barrier "$ses"
                [[ -e $s4.lock ]] && ! gone "$victim" || fail "the lock or its holder is gone"
                grep -q "\"pid\": $victim," "$s4.lock" || fail "the lock is not the holder's any more: $(cat "$s4.lock")"
                [[ $(count "$ev" race.lock-stolen "\"lock\":\"$s4.lock\"") -eq 0 ]] || fail "race.lock-stolen without a steal"
                [[ $(count "$ev" lock.cleaned "\"lock\":\"$s4.lock\"") -eq 0 ]] || fail "lockwarden removed a live lock"
                say "4/10. the application's contender failed after $ms ms: $(head -c 60 "$err")...; the lock stays, no race"
        fi
        [[ $aged == *"$want"* ]] || fail "lock.aged does not say $want: $aged"
        [[ $aged == *"\"release\":\"$rules\""* ]] || fail "lock.aged does not say release $rules: $aged"
        say "4/10. lock.aged: $want, release $rules"
        kill -TERM "$victim"
        wait "$victim" 2>/dev/null || true
        stop_daemon
}

# 5. 1,000 normal cycles from 4 processes on one session: not one report beyond the lifecycle.
s5_cycles() {
        start_daemon cycles
        local s5=$ses/s5.jsonl cyclers=() c i lines races stale acquired
        for i in 1 2 3 4; do
                node "$drv" cycles "$s5" 250 >"$tmp/$version/cycles-$i" 2>&1 &
                cyclers+=($!)
                pids+=($!)
        done
        for c in "${cyclers[@]}"; do wait "$c" || fail "a cycling process failed: $(cat "$tmp/$version"/cycles-*)"; done
        lines=$(wc -l <"$s5")
        [[ $lines -eq 1000 ]] || fail "$lines lines in the transcript, not 1000"
        # Everything the kernel queued is judged before this answer (cleanup drains the queue).
        "$bin" cleanup --socket "$sock" >/dev/null
        races=$(count "$ev" race.)
        stale=$(count "$ev" lock.stale)
        acquired=$(count "$ev" lock.acquired "\"lock\":\"$s5.lock\"")
        [[ $races -eq 0 && $stale -eq 0 ]] || fail "the happy path was reported: $races races, $stale stale"
        stop_daemon
        say "5. 1000 cycles from 4 processes: $acquired lock.acquired, $races races, $stale stale"
}

# 6. A live gateway leaks its lock while a contender polls: how long the contender waits after
# the leak. The contender is polling (the application's 50 ms retries, each opening the lock
# read-only) before the holder closes its descriptor; the wait runs from that close to the
# contender's acquire.
s6_leak() {
        start_daemon leak
        local i f lout cout leaker contender t_leak t_acq w waits=() sorted median max
        for ((i = 1; i <= leak_runs; i++)); do
                f=$ses/leak-$i.jsonl
                lout=$(mktemp "$tmp/leak.XXXXXX")
                cout=$(mktemp "$tmp/contender.XXXXXX")
                node "$drv" leak "$f" gateway >"$lout" 2>&1 &
                leaker=$!
                pids+=("$leaker")
                await "the gateway to take the lock" grep -q '^locked ' "$lout"
                await "lock.acquired" has "$ev" lock.acquired "\"lock\":\"$f.lock\"" "\"pid\":$leaker"
                node "$drv" acquire "$f" 8000 >"$cout" 2>&1 &
                contender=$!
                pids+=("$contender")
                await "the contender to start" grep -q '^waiting ' "$cout"
                kill -USR1 "$leaker"
                await "the leak" grep -q '^leaked ' "$lout"
                wait "$contender" || fail "run $i: the contender did not get the leaked lock: $(cat "$cout")"
                t_leak=$(sed -n 's/^leaked //p' "$lout")
                t_acq=$(sed -n 's/^acquired [0-9]* //p' "$cout")
                w=$(awk -v a="$t_acq" -v b="$t_leak" 'BEGIN { printf "%d", a - b + 0.5 }')
                waits+=("$w")
                await "lock.cleaned" has "$ev" lock.cleaned "\"lock\":\"$f.lock\""
                kill -KILL "$leaker"
                wait "$leaker" 2>/dev/null || true
                ((w <= grace + 200)) || fail "run $i: the contender got the leaked lock $w ms after the leak (grace $grace ms + 200)"
        done
        mapfile -t sorted < <(printf '%s\n' "${waits[@]}" | sort -n)
        median=$(((sorted[(leak_runs - 1) / 2] + sorted[leak_runs / 2]) / 2))
        max=${sorted[leak_runs - 1]}
        echo "openclaw@$version: contender wait on a leaked lock: median $median ms, max $max ms ($leak_runs runs, grace $grace ms)" \
                >>"$tmp/measured"
        stop_daemon
        say "6. leaked lock, polling contender: median $median ms, max $max ms after the leak ($leak_runs runs): ${waits[*]}"
}

# 7. A gateway SIGKILLed while its main session runs; lockwarden keeps the lock for the
# application's start-up sweep (cleanStaleLockFiles + markRestartAbortedMainSessionsFromLocks),
# which marks the session abortedLastRun. Each run in its own agent's sessions folder. Then the
# control: the same with a holder that is not a gateway.
s7_recovery() {
        local i dir sid t r marked=0 problems=() store key
        agents="$(for ((i = 1; i <= recovery_runs; i++)); do echo "r$i"; done) ctl" start_daemon recovery
        for ((i = 1; i <= recovery_runs; i++)); do
                dir=$state/agents/r$i/sessions
                key=agent:r$i:main
                sid=$(cat /proc/sys/kernel/random/uuid)
                t=$dir/$sid.jsonl
                store=$(node -e 'const [k, sid, t, withFile] = process.argv.slice(1);
                        const e = { sessionId: sid, status: "running", updatedAt: Date.now(), sessionStartedAt: Date.now() };
                        if (withFile === "1") e.sessionFile = t;
                        console.log(JSON.stringify({ [k]: e }, null, 2));' "$key" "$sid" "$t" $((i % 2)))
                echo "$store" >"$dir/sessions.json"
                hold "$t" gateway
                await "lock.acquired" has "$ev" lock.acquired "\"lock\":\"$t.lock\"" "\"pid\":$holder"
                kill -KILL "$holder"
                wait "$holder" 2>/dev/null || true
                await "lockwarden's verdict on run $i" has_verdict "$t.lock"
                if ! has "$ev" lock.kept "\"lock\":\"$t.lock\"" '"why":"restart-recovery'; then
                        problems+=("run $i: no lock.kept restart-recovery: $(events "$ev" lock.cleaned "\"lock\":\"$t.lock\"" | cut -c1-200)")
                elif ! has "$ev" lock.stale "\"lock\":\"$t.lock\"" '"reason":"dead-pid"'; then
                        problems+=("run $i: lock.kept without lock.stale dead-pid")
                elif [[ ! -e $t.lock ]]; then
                        problems+=("run $i: lock.kept, yet the lock is gone")
                fi
                r=$(node "$drv" recover "$dir" | tail -n 1) || fail "the application's start-up sweep failed: $r"
                if node -e 'const s = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
                        process.exit(s[process.argv[2]]?.abortedLastRun === true ? 0 : 1)' "$dir/sessions.json" "$key"; then
                        ((++marked))
                else
                        problems+=("run $i: the application's sweep did not mark the session: $r")
                fi
        done
        echo "openclaw@$version: restart recovery: marked $marked of $recovery_runs" >>"$tmp/measured"
        say "7. restart recovery: marked $marked of $recovery_runs"
        ((${#problems[@]} == 0)) || fail "${problems[*]}"

        # The control: the same, but the holder's command line has no "gateway": lockwarden cleans
        # its lock at once (and the application's sweep then finds nothing to mark).
        dir=$state/agents/ctl/sessions
        sid=$(cat /proc/sys/kernel/random/uuid)
        t=$dir/$sid.jsonl
        printf '{\n  "agent:ctl:main": {\n    "sessionId": "%s",\n    "status": "running",\n    "updatedAt": %s\n  }\n}\n' \
                "$sid" "$(date +%s%3N)" >"$dir/sessions.json"
        hold "$t"
        await "lock.acquired" has "$ev" lock.acquired "\"lock\":\"$t.lock\"" "\"pid\":$holder"
        kill -KILL "$holder"
        wait "$holder" 2>/dev/null || true
        await "lock.cleaned (not a gateway)" has "$ev" lock.cleaned "\"lock\":\"$t.lock\"" '"reason":"dead-pid'
        [[ $(count "$ev" lock.kept "\"lock\":\"$t.lock\"") -eq 0 ]] || fail "a non-gateway holder's lock was kept"
        r=$(node "$drv" recover "$dir" | tail -n 1) || fail "the application's start-up sweep failed: $r"
        stop_daemon
        say "7. control, a holder that is not a gateway: lock cleaned (dead-pid), not kept; the sweep then: $r"
}
has_verdict() { has "$ev" lock.kept "\"lock\":\"$1\"" || has "$ev" lock.cleaned "\"lock\":\"$1\""; }

# 8. A holder hands its write descriptor to a child that never opens the lock, and is
# SIGKILLed: the child holds the lock now.
s8_forked() {
        start_daemon forked
        local f=$ses/fork.jsonl out parent child holders
        out=$(mktemp "$tmp/fork.XXXXXX")
        node "$drv" hold-fork "$f" >"$out" 2>&1 &
        parent=$!
        pids+=("$parent")
        await "the application to take the lock" grep -q '^locked ' "$out"
        child=$(sed -n 's/^locked [0-9]* child \([0-9]*\)$/\1/p' "$out")
        [[ -n $child ]] || fail "no child: $(cat "$out")"
        pids+=("$child")
        await "lock.acquired" has "$ev" lock.acquired "\"lock\":\"$f.lock\"" "\"pid\":$parent"
        kill -KILL "$parent"
        wait "$parent" 2>/dev/null || true
        barrier "$ses"
        [[ -e $f.lock ]] || fail "the lock was removed while the child $child holds it: $(events "$ev" lock.cleaned "\"lock\":\"$f.lock\"")"
        [[ $(count "$ev" lock.cleaned "\"lock\":\"$f.lock\"") -eq 0 ]] || fail "lock.cleaned while the child holds it"
        holders=$("$bin" holders "$f.lock" --socket "$sock" --json | tr -d ' \n')
        node -e 'process.exit(JSON.parse(process.argv[1]).some((h) => h.pid === Number(process.argv[2]) && /w/.test(h.mode)) ? 0 : 1)' \
                "$holders" "$child" || fail "lockwarden holders does not list the child $child as a writer: $holders"
        barrier "$ses"
        [[ -e $f.lock && $(count "$ev" lock.cleaned "\"lock\":\"$f.lock\"") -eq 0 ]] ||
                fail "the lock was removed while the child $child holds it: $(events "$ev" lock.cleaned "\"lock\":\"$f.lock\"")"
        kill -KILL "$child"
        await "lock.cleaned once the child is gone" has "$ev" lock.cleaned "\"lock\":\"$f.lock\""
        [[ $(events "$ev" lock.cleaned "\"lock\":\"$f.lock\"") == *'"reason":"dead-pid"'* ]] ||
                fail "cleaned, but not for dead-pid: $(events "$ev" lock.cleaned "\"lock\":\"$f.lock\"")"
        stop_daemon
        say "8. forked holder: kept while the child $child held it (holders: $holders); cleaned (dead-pid) after it"
}

# 9. Two containers (pid namespaces), each holder pid 1 in its own; container A's holder killed.
s9_containers() {
        start_daemon containers
        local fa=$ses/ca.jsonl fb=$ses/cb.jsonl oa ob ua ub na nb
        oa=$(mktemp "$tmp/ca.XXXXXX")
        ob=$(mktemp "$tmp/cb.XXXXXX")
        unshare --fork --pid --mount-proc --kill-child node "$drv" hold "$fa" >"$oa" 2>&1 &
        ua=$!
        pids+=("$ua")
        unshare --fork --pid --mount-proc --kill-child node "$drv" hold "$fb" >"$ob" 2>&1 &
        ub=$!
        pids+=("$ub")
        await "container A's holder" grep -q '^locked ' "$oa"
        await "container B's holder" grep -q '^locked ' "$ob"
        grep -qx 'locked 1' "$oa" && grep -qx 'locked 1' "$ob" || fail "not pid 1 in the containers: $(cat "$oa" "$ob")"
        grep -q '"pid": 1,' "$fa.lock" && grep -q '"pid": 1,' "$fb.lock" || fail "the payloads: $(cat "$fa.lock" "$fb.lock")"
        na=$(pgrep -P "$ua")
        nb=$(pgrep -P "$ub")
        [[ -n $na && -n $nb ]] || fail "the containers' node processes are not found"
        pids+=("$na" "$nb")
        await "lock.acquired (A)" has "$ev" lock.acquired "\"lock\":\"$fa.lock\""
        await "lock.acquired (B)" has "$ev" lock.acquired "\"lock\":\"$fb.lock\""
        kill -KILL "$na"
        await "lock.cleaned (A)" has "$ev" lock.cleaned "\"lock\":\"$fa.lock\"" '"reason":"dead-pid'
        [[ $(events "$ev" lock.cleaned "\"lock\":\"$fa.lock\"") =~ \"owner_pid\":1[,\}] ]] ||
                fail "lock.cleaned (A) does not name owner pid 1: $(events "$ev" lock.cleaned "\"lock\":\"$fa.lock\"")"
        barrier "$ses"
        [[ -e $fb.lock ]] || fail "container B's lock was removed"
        [[ $(count "$ev" lock.stale "\"lock\":\"$fb.lock\"") -eq 0 ]] || fail "container B's live lock was judged stale"
        # B's own release (pid 1 ignores the signal its handler raises again: then SIGKILL).
        kill -TERM "$nb"
        await "lock.released (B)" has "$ev" lock.released "\"lock\":\"$fb.lock\""
        kill -KILL "$nb" 2>/dev/null || true
        wait "$ua" "$ub" 2>/dev/null || true
        stop_daemon
        say "9. two containers, both pid 1: A's lock cleaned (host pid $na killed), B's kept until its own release"
}

# 11. The release, from the holder's package.json.
s11_release() {
        start_daemon release
        local f=$ses/rel.jsonl rel st
        hold "$f"
        await "lock.acquired" has "$ev" lock.acquired "\"lock\":\"$f.lock\"" "\"pid\":$holder"
        await "monitor.release" has "$ev" monitor.release "\"state_dir\":\"$state\""
        rel=$(events "$ev" monitor.release "\"state_dir\":\"$state\"" | head -1)
        [[ $rel == *"\"release\":\"$rules\""* && $rel == *"\"version\":\"$version\""* ]] ||
                fail "monitor.release does not say release $rules, version $version: $rel"
        [[ $rel == *"\"source\":\"package.json of pid $holder\""* ]] || fail "monitor.release's source: $rel"
        st=$("$bin" status --json --socket "$sock" | tr -d ' \n')
        [[ $st == *"\"$version\""* || $st == *"\"$rules\""* ]] || fail "lockwarden status does not report the release: $st"
        kill -TERM "$holder"
        wait "$holder" 2>/dev/null || true
        stop_daemon
        say "11. release found: $(field release <<<"$rel") $(field version <<<"$rel") $(field source <<<"$rel")"
}

# 12. A release without session locks: the SQLite session store, with leftover lock files.
s12_sqlite() {
        local db ctl x p warned
        state=$tmp/$version/state-sqlite
        ctl=$tmp/$version/state-control
        # The path from the application's own resolver. The store itself cannot be made with the
        # package's code here: it needs node:sqlite (node >= 22.5; the package wants node 24), so
        # an SQLite database is made at that path with the sqlite3 shell or Python when present.
        db=$(node "$drv" sqlite-path "$state") || fail "the application's SQLite path: $db"
        [[ $db == "$state/agents/main/agent/openclaw-agent.sqlite" ]] || fail "the application's SQLite store is at $db"
        mkdir -p "$(dirname "$db")" "$state/agents/main/sessions" "$ctl/agents/main/sessions"
        if command -v sqlite3 >/dev/null; then
                sqlite3 "$db" 'PRAGMA journal_mode=WAL; CREATE TABLE IF NOT EXISTS lockwarden_interop (id INTEGER);' >/dev/null
        elif command -v python3 >/dev/null; then
                python3 -c 'import sqlite3, sys; sqlite3.connect(sys.argv[1]).execute("CREATE TABLE lockwarden_interop (id INTEGER)")' "$db"
        else
                : >"$db"
        fi
        ev=$tmp/$version/events-sqlite
        sock=$tmp/$version/sock-sqlite
        : >"$ev"
        # Races reported at every write (no coalescing), so that the negative check is exact.
        "$bin" run --state-dir "$state" --state-dir "$ctl" --socket "$sock" --config /dev/null --events "$ev" \
                --leak-grace-ms "$grace" --race-coalesce-ms 0 2>"$tmp/$version/stderr-sqlite" &
        daemon=$!
        pids+=("$daemon")
        await "monitor.ready" has "$ev" monitor.ready
        # A leftover lock there, its owner alive and not holding it (elsewhere: a leak, cleaned).
        x=$state/agents/main/sessions/x.jsonl
        "$lock_holder" --mode=leak "$x.lock" >/dev/null &
        p=$!
        pids+=("$p")
        await "the leftover lock" test -s "$x.lock"
        # Writes to leftover transcripts, one with that lock, one without; then the same in a
        # folder with locks, which must be reported.
        echo '{"type":"message"}' >>"$x"
        echo '{"type":"message"}' >>"$state/agents/main/sessions/y.jsonl"
        echo '{"type":"message"}' >>"$ctl/agents/main/sessions/c.jsonl"
        await "race.unlocked-write in the control folder" has "$ev" race.unlocked-write "$ctl/agents/main/sessions/c.jsonl"
        barrier "$ctl/agents/main/sessions"
        [[ -e $x.lock ]] || fail "a leftover lock in the SQLite state dir was removed: $(events "$ev" lock.cleaned "\"lock\":\"$x.lock\"")"
        [[ $(grep -F '"event":"race.' "$ev" | grep -cF "$state/" || true) -eq 0 ]] ||
                fail "writes in the SQLite state dir reported as races: $(grep -F '"event":"race.' "$ev" | grep -F "$state/")"
        await "monitor.warning (SQLite session store)" has "$ev" monitor.warning "SQLite session store"
        warned=$(count "$ev" monitor.warning "SQLite session store")
        [[ $warned -eq 1 ]] || fail "$warned monitor.warning for the SQLite store, not one"
        has "$ev" monitor.release "\"state_dir\":\"$state\"" '"release":"2026.8+"' '"source":"SQLite session store"' ||
                fail "no monitor.release 2026.8+ (SQLite session store) for the state dir: $(events "$ev" monitor.release)"
        kill -TERM "$p"
        stop_daemon
        say "12. SQLite store: one warning ($(events "$ev" monitor.warning "SQLite session store" | field path)); its leftover lock left alone, its writes no race"
}

# Runs one scenario in a subshell of its own (its processes reaped when it ends).
declare -a passed failed
run() {
        local rc
        scenario=$1
        set +e
        (
                set -e
                pids=()
                trap reap EXIT
                "$2"
        )
        rc=$?
        set -e
        if ((rc == 0)); then
                passed+=("$1")
        else
                failed+=("$1")
                [[ ${LW_INTEROP_FAIL_FAST:-0} == 0 ]] || exit 1
        fi
}

summary=()
any_failed=0
for version in "${versions[@]}"; do
        fetch_package "$version" install
        rules=$(rules_of "$version")
        [[ $rules != 2026.8+ ]] || { echo "openclaw@$version has no session locks: not a lock release" >&2; exit 2; }
        mkdir -p "$tmp/$version"
        echo "openclaw@$version ($rules rules) from $pkg"
        passed=()
        failed=()
        run 3 s3_verdicts
        run 1 s1_live
        run 2 s2_killed
        run 4/10 s4_hold_exceeded
        run 5 s5_cycles
        run 6 s6_leak
        run 7 s7_recovery
        run 8 s8_forked
        run 9 s9_containers
        run 11 s11_release
        if ((${#failed[@]} == 0)); then
                summary+=("openclaw@$version ($rules rules): all ${#passed[@]} scenarios pass")
        else
                any_failed=1
                summary+=("openclaw@$version ($rules rules): ${#passed[@]} pass (${passed[*]}), ${#failed[@]} FAIL (${failed[*]})")
        fi
done
if [[ -n $sqlite_version ]]; then
        version=$sqlite_version
        rules=$(rules_of "$version")
        fetch_package "$version" pack
        mkdir -p "$tmp/$version"
        echo "openclaw@$version ($rules: no session locks) from $pkg"
        passed=()
        failed=()
        run 12 s12_sqlite
        if ((${#failed[@]} == 0)); then
                summary+=("openclaw@$version ($rules): SQLite store detection passes")
        else
                any_failed=1
                summary+=("openclaw@$version ($rules): SQLite store detection FAILS")
        fi
fi

echo "== summary"
printf '%s\n' "${summary[@]}"
[[ ! -f $tmp/measured ]] || cat "$tmp/measured"
# LW_INTEROP_RESULTS=FILE (make interop-results: bench/results-interop.md): this run's summary
# and measurements, dated, for the docs to quote.
if [[ -n ${LW_INTEROP_RESULTS:-} ]]; then
        {
                echo "# Interop with the real application"
                echo
                echo "Written by \`tests/interop/run.sh\` (\`make interop-results\`) on $(date -u '+%Y-%m-%d %H:%M UTC'),"
                echo "kernel $(uname -sr), $(nproc) CPUs, node $(node --version). Each release's own code against"
                echo "a real lockwarden (leak grace $grace ms); what each scenario checks: the head of tests/interop/run.sh."
                echo
                printf -- '- %s\n' "${summary[@]}"
                [[ ! -f $tmp/measured ]] || sed 's/^/- /' "$tmp/measured"
        } >"$LW_INTEROP_RESULTS"
fi
if ((any_failed)); then
        echo "== failures"
        cat "$tmp/failures" 2>/dev/null || true
        exit 1
fi
echo "interop: every verdict matches the application's, for ${versions[*]}${sqlite_version:+ and $sqlite_version}"
