#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# docs-sections.sh SRCDIR bench|soak: writes the benchmark figures quoted in README.md,
# ARCHITECTURE.md and docs/RELIABILITY.md between their markers (tests/readme-section.sh),
# from the results of the run that measured them (bench/results-*.md, bench/raw/goals-*.tsv),
# so that no figure in the docs is typed by hand. `make bench` runs it with "bench", `make soak`
# with "soak". Each section names the run it comes from (date, commit, machine speed).
#
# Sections (name: file: what):
#   bench-cleanup:   README.md: the dead owner's lock, kill → gone, beside the holder's pidfd
#   bench-headline:  README.md: the headline table
#   bench-races:     README.md: race reports beside the concurrent bare fanotify reader
#   bench-resync:    README.md: the resync after lost events (bench/results-resync.md's table)
#   bench-resync-architecture: ARCHITECTURE.md: the same, one sentence
#   bench-targets:   docs/RELIABILITY.md: the goals' table, idle, start-up and memory
#   bench-scale:     docs/RELIABILITY.md: bench/results-scale.md's table
#   bench-profile:   docs/PERFORMANCE.md: the storm's profile (bench/results-profile.md), beside
#                    the base revision's (bench/results-profile-base.md, `make bench-profile-base`)
#   soak-results:    docs/RELIABILITY.md: the last `make soak` (written by `make soak`)
set -euo pipefail
src=$1 mode=$2
b=$src/bench
section=$src/tests/readme-section.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The run a results file names in its first lines: "`make bench` (`bench/x N`) on DATE, the
# machine; commit C; machine speed: ...".
run_of() {
        [[ -f $1 ]] || { echo "no run yet ($(basename "$1") is missing)"; return; }
        local l
        if l=$(grep -m1 -E '^Machine: ' "$1"); then
                l="\`make bench\` on ${l#Machine: }"
        else
                l=$(grep -m1 -E '^(Measured by |`make soak)' "$1" || true)
                l=${l#Measured by }
        fi
        echo "${l%.}"
}
# The first table row of FILE whose first cell starts with PREFIX.
row() { [[ -f $1 ]] && grep -m1 -F "| $2" "$1" || true; }
# Cell N (1 = the first cell) of a table row, trimmed.
cell() { awk -F'|' -v n="$2" '{ v = $(n + 1); gsub(/^ +| +$/, "", v); print v }' <<<"$1"; }
# The first number of a cell ("214 (200–230)" → 214).
num() { sed -E 's/^\**([0-9.]+).*/\1/' <<<"$1"; }
# In FILE's first table, the value under the column headed HEADER, in the data row chosen by
# WHICH (first or last), among the rows whose first cell is ONLY (if given: a series).
col() {
        [[ -f $1 ]] || return 0
        awk -F'|' -v h="$2" -v which="$3" -v only="${4:-}" '
                /^\|/ && !t { t = 1; for (i = 2; i < NF; i++) { v = $i; gsub(/^ +| +$/, "", v); if (v == h) c = i }; next }
                /^\|---/ { next }
                /^\|/ && t && c && only != "" { s = $2; gsub(/^ +| +$/, "", s); if (s != only) next }
                /^\|/ && t && c { v = $c; gsub(/^ +| +$/, "", v); last = v; if (which == "first" && !done) { print v; done = 1 } }
                !/^\|/ && t { t = 0; if (c) exit }
                END { if (which == "last" && c) print last }' "$1"
}
# FILE's first table, as it stands.
table() { [[ -f $1 ]] && awk '/^\|/ { print; t = 1; next } t { exit }' "$1" || true; }
# A goal's verdict from bench/raw/goals-PART.tsv: the row whose goal starts with PREFIX.
goal() { [[ -f $b/raw/goals-$1.tsv ]] && awk -F'\t' -v p="$2" 'index($1, p) == 1 { print $'"$3"'; exit }' "$b/raw/goals-$1.tsv" || true; }
met() { local m; m=$(goal "$1" "$2" 5); [[ $m == yes ]] && echo "met" || echo "**missed**"; }

write() { bash "$section" "$src/$1" "$2" "$tmp/$2"; }

c=$b/results-cleanup.md r=$b/results-races.md t=$b/results-throughput.md
holder=$(row "$c" "bare pidfd waiter, the killed holder") fork=$(row "$c" "bare pidfd waiter, a forked child")
gone=$(row "$c" "kill → lock name gone") since=$(row "$c" '`since_read_us`')
idle_s=$(sed -nE 's/^\| measure over ([0-9]+) s .*/\1/p' "$b/results-idle.md" 2>/dev/null | head -1)
wakeups=$(cell "$(row "$b/results-idle.md" "wakeups")" 2)
# The scale figures quoted: the largest row of the "files" series (transcripts and locks in few
# folders; the agents and owners series are in the table itself).
scale_ms=$(col "$b/results-scale.md" "start-up ms" last files) scale_b=$(col "$b/results-scale.md" "bytes per tracked file" last files)
scale_files=$(col "$b/results-scale.md" "transcripts" last files) scale_locks=$(col "$b/results-scale.md" "live locks" last files)

# The headline table: the figures of the last `make bench` and the last `make soak`.
headline() {
        local lw bare fa in rounds soak kills steals violations soak_lat soak_s scale_kib goals_met goals_all stolen
        lw=$(row "$t" "lockwarden |") bare=$(row "$t" "bare C fanotify reader") fa=$(row "$t" "fatrace") in=$(row "$t" "inotifywait")
        rounds=$(sed -nE 's/.*`bench\/throughput ([0-9.]+)`, ([0-9]+) rounds.*/\2 rounds of \1 s/p' "$t" | head -1)
        soak=$b/results-soak.md
        kills=$(col "$soak" "kills holding a lock" first) steals=$(col "$soak" "steals" first)
        violations=$(col "$soak" "violations" first) soak_lat=$(col "$soak" "cleanup latency after SIGKILL p50 / p99 / max" first)
        soak_s=$(col "$soak" "seconds" first)
        scale_kib=$(col "$b/results-scale.md" "RSS KiB" last files)
        goals_met=$(cat "$b"/raw/goals-*.tsv 2>/dev/null | awk -F'\t' '$5 == "yes"' | wc -l)
        goals_all=$(cat "$b"/raw/goals-*.tsv 2>/dev/null | wc -l)
        stolen=$(row "$r" '`race.lock-stolen`')
        {
                echo "From $(run_of "$c") and $(run_of "$soak"):"
                echo "[bench/results.md](bench/results.md), [docs/RELIABILITY.md](docs/RELIABILITY.md)."
                echo
                echo "| | |"
                echo "|---|---|"
                echo "| issue 17's goals | $goals_met of $goals_all met ([bench/results-goals.md](bench/results-goals.md)) |"
                echo "| dead owner's lock gone after SIGKILL | $(cell "$gone" 2) µs median, $(cell "$gone" 3) µs p99: $(goal cleanup "cleanup: kill → lock gone, median" 3 | cut -d' ' -f1) the killed holder's own pidfd ($(cell "$holder" 2) µs), $(cell "$gone" 6) a bare fork's ($(cell "$fork" 2) µs) |"
                echo "| stolen lock reported after the \`unlink()\` | $(cell "$stolen" 4) µs median, $(cell "$stolen" 5) µs p99; a bare fanotify reader beside the daemon: $(cell "$stolen" 7) µs (median ratio $(cell "$stolen" 9)) |"
                echo "| storm of 2 processes, ${rounds:-? rounds}, order reversed every other round | $(num "$(cell "$lw" 7)") CPU s per million open/append/close cycles, $(num "$(cell "$lw" 8)")× the bare fanotify reader's $(num "$(cell "$bare" 7)") (fatrace $(num "$(cell "$fa" 7)"), inotifywait $(num "$(cell "$in" 7)")): $(goal throughput "throughput: CPU per storm cycle below" 3); the storm's rate $(num "$(cell "$lw" 3)")% of its rate beside the bare reader; $(goal throughput "throughput: lockwarden's queue overflows" 3) |"
                echo "| idle, ${idle_s:-?} s | ${wakeups:-?} wakeups |"
                echo "| ${scale_files:-?} session files + ${scale_locks:-?} live locks | ready in ${scale_ms:-?} ms, ${scale_kib:-?} KiB RSS (${scale_b:-?} B per tracked file) |"
                echo "| chaos soak, ${soak_s:-?} s: ${kills:-?} SIGKILLs holding a lock, ${steals:-?} steals | ${violations:-?} violations: every dead lock cleaned (p50 / p99 / max ${soak_lat:-?}), every steal reported, no live lock touched, no line lost |"
                echo "| the real application (2026.5.28, 2026.7.1, 2026.7.35, 2026.9.6) | same verdicts; a contender on a leaked lock gets it within the grace; its restart recovery keeps working; 1,000 cycles, 0 reports ([bench/results-interop.md](bench/results-interop.md)) |"
        } >"$tmp/bench-headline"
        write README.md bench-headline
}

if [[ $mode == bench ]]; then
        n_cleanup=$(sed -nE 's/.*`bench\/cleanup-latency ([0-9]+)`.*/\1/p' "$c" | head -1)
        {
                echo "Measured by $(run_of "$c") ([bench/results-cleanup.md](bench/results-cleanup.md)),"
                echo "${n_cleanup:-?} real holders SIGKILLed while holding: the lock name is gone **$(cell "$gone" 2) µs**"
                echo "after the kill (median; p99 $(cell "$gone" 3) µs). The killed holder's own pidfd, polled by a bare"
                echo "waiter in the same samples, turned readable after $(cell "$holder" 2) µs (a bare forked child's after"
                echo "$(cell "$fork" 2) µs): $(goal cleanup "cleanup: kill → lock gone, median" 3 | cut -d' ' -f1) the holder's own (goal ≤ 1.5×: $(met cleanup "cleanup: kill → lock gone, median"); p99 ≤ 1 ms:"
                echo "$(met cleanup "cleanup: kill → lock gone, p99")). From the evidence read to the removal done: $(cell "$since" 2) µs."
                echo "A 5-minute cron sweep leaves it for 150 s on average."
        } >"$tmp/bench-cleanup"
        write README.md bench-cleanup

        line() { # KIND: "M µs after the SYSCALL (bare reader: B µs, median ratio R×)"
                local x
                x=$(row "$r" "\`$1\`")
                echo "$(cell "$x" 4) µs (p99 $(cell "$x" 5) µs; the bare reader $(cell "$x" 7) µs, median ratio $(cell "$x" 9))"
        }
        coalesced=$(row "$r" '`race.unlocked-write (default')
        {
                echo "Measured by $(run_of "$r") ([bench/results-races.md](bench/results-races.md)),"
                echo "each report against a bare fanotify reader marking the same folder beside the daemon, for"
                echo "the same syscall (medians): a stolen lock is reported **$(line race.lock-stolen)**"
                echo "after the \`unlink()\`, a double holder $(line race.double-holder) after the"
                echo "\`open(O_EXCL)\`, a foreign write $(line race.foreign-write) and an unlocked"
                echo "write $(line race.unlocked-write) after the \`write()\`, with coalescing off."
                echo "With the default coalescing the report waits for 250 ms without writes (median"
                echo "$(awk -v v="$(cell "$coalesced" 4)" 'BEGIN { printf "%.0f", v / 1000 }') ms). The goal, a report within 2× the bare reader's delivery, is met for"
                echo "$(awk -F'\t' '$5 == "yes"' "$b/raw/goals-races.tsv" 2>/dev/null | wc -l) of $(wc -l <"$b/raw/goals-races.tsv" 2>/dev/null || echo 0) race kinds ([bench/results-goals.md](bench/results-goals.md))."
        } >"$tmp/bench-races"
        write README.md bench-races

        headline

        {
                echo "Measured by $(run_of "$b/results-resync.md") ([bench/results-resync.md](bench/results-resync.md)):"
                echo
                table "$b/results-resync.md"
        } >"$tmp/bench-resync"
        write README.md bench-resync
        fan=$(cell "$(row "$b/results-resync.md" "fanotify |")" 3)
        if [[ -n $fan ]]; then
                echo "Measured by \`bench/resync\` in $(run_of "$b/results-resync.md") ([bench/results-resync.md](bench/results-resync.md)): the daemon's own resync took $fan (fanotify; median / max)."
        else
                echo "Measured by \`bench/resync\` (\`make bench\`): [bench/results-resync.md](bench/results-resync.md)."
        fi >"$tmp/bench-resync-architecture"
        write ARCHITECTURE.md bench-resync-architecture

        {
                echo "From \`make bench\`: [bench/results-goals.md](../bench/results-goals.md), gathered from the"
                echo "runs below; each figure beside its reference in the same samples or rounds."
                echo
                sed -n '/^- /p' "$b/results-goals.md" 2>/dev/null
                echo
                echo "| goal | target | this run | reference | met |"
                echo "|---|---|---|---|---|"
                grep '^| [a-z]*: ' "$b/results-goals.md" 2>/dev/null || true
                yn() { awk -v v="$1" -v lim="$2" 'BEGIN { print v == "" ? "not measured" : (v + 0 <= lim + 0) ? "yes" : "**no**" }'; }
                echo "| idle: wakeups in ${idle_s:-?} s | 0 | ${wakeups:-?} | — | $(yn "${wakeups:-}" 0) |"
                echo "| start-up with ${scale_files:-?} files and ${scale_locks:-?} live locks | < 1 s | ${scale_ms:-?} ms | — | $(yn "${scale_ms:-}" 999.999) |"
                echo "| memory per tracked file | ≤ 256 B | ${scale_b:-?} B | the empty daemon's RSS subtracted | $(yn "${scale_b:-}" 256) |"
        } >"$tmp/bench-targets"
        write docs/RELIABILITY.md bench-targets

        {
                echo "Measured by $(run_of "$b/results-scale.md") ([bench/results-scale.md](../bench/results-scale.md)):"
                echo
                table "$b/results-scale.md"
        } >"$tmp/bench-scale"
        write docs/RELIABILITY.md bench-scale

        # The profile, this run's beside the base revision's (both by bench/profile.sh).
        {
                for f in results-profile.md results-profile-base.md; do
                        [[ -f $b/$f ]] || { echo "No run of $f yet."; echo; continue; }
                        if [[ $f == results-profile.md ]]; then echo "**This run** ([bench/$f](../bench/$f)):"
                        else echo "**The base revision**, for reference ([bench/$f](../bench/$f)):"; fi
                        echo
                        sed '1,2d' "$b/$f"
                        echo
                done
        } >"$tmp/bench-profile"
        write docs/PERFORMANCE.md bench-profile
fi

if [[ $mode == soak ]]; then
        soak=$b/results-soak.md
        {
                echo "The last soak: $(run_of "$soak") ([bench/results-soak.md](../bench/results-soak.md)):"
                echo
                table "$soak"
        } >"$tmp/soak-results"
        write docs/RELIABILITY.md soak-results
        headline
fi
