#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# compare-cleanup: did a change make the cleanup of a dead owner's lock slower? Builds BASE
# (a git revision) and the working tree's current build side by side, then runs
# bench/cleanup-latency N times ROUNDS times for each, interleaved (base, this, base, this, ...)
# so that both see the same machine, and writes RESULTS.md (a table: each round's medians and
# the median of the rounds, with the killed holder's own pidfd as the reference in the same
# round) and the raw per-round samples under RAW_DIR.
#
#   compare-cleanup.sh SRCDIR BUILDDIR BASE N ROUNDS RESULTS.md RAW_DIR
set -euo pipefail
src=$1 build=$2 base=$3 n=$4 rounds=$5 results=$6 raw=$7
. "$src/bench/machine.sh"

work=$build/bench-compare
rev=$(git -C "$src" rev-parse --short "$base")
head=$(git -C "$src" rev-parse --short HEAD)
dirty=$(git -C "$src" status --porcelain --untracked-files=no | grep -q . && echo "+changes" || true)

# BASE, built once per revision (release build, as `make bench` uses the tree's own build).
if [[ ! -x $work/$rev/b/bench/cleanup-latency ]]; then
        rm -rf "$work/$rev"
        mkdir -p "$work"
        git -C "$src" worktree add -f --detach "$work/$rev" "$rev" >/dev/null
        # Not under the calling make's jobserver and flags: this is another tree.
        (cd "$work/$rev" && unset MAKEFLAGS MFLAGS MAKELEVEL && autoreconf -fi >/dev/null 2>&1 && mkdir -p b &&
                cd b && ../configure -q >/dev/null &&
                make -s -j"$(nproc)" src/lockwarden tests/lock-holder tests/liblwtest.a bench/cleanup-latency >/dev/null)
fi

mkdir -p "$raw"
raw=$(cd "$raw" && pwd)   # the runs below start in other folders
declare -A line
for ((r = 1; r <= rounds; r++)); do
        for side in base this; do
                if [[ $side == base ]]; then dir=$work/$rev/b; else dir=$build; fi
                # The program prints one summary line on stdout; its own report goes to a scratch file.
                line[$side,$r]=$(cd "$dir" && LW_BUILDDIR=$dir ./bench/cleanup-latency "$n" "$work/scratch.md" \
                        "$raw/compare-cleanup-$side-$r.tsv" 2>"$work/$side.log")
        done
done

# "latency_us median A max B; kill->gone median C p99 D max E; holder pidfd median F; bare pidfd median G"
field() { sed -n "s/.*$2 median \([0-9]*\).*/\1/p" <<<"$1"; }
gone() { sed -n 's/.*kill->gone median \([0-9]*\) p99 \([0-9]*\).*/\1 \2/p' <<<"$1"; }
median() { sort -n | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : int((v[NR/2]+v[NR/2+1])/2)}'; }

{
        echo "# Cleanup latency: $rev against $head$dirty"
        echo
        echo "Written by \`make bench-compare BENCH_BASE=$base\` ($(machine "$build"))."
        echo "Each round: \`bench/cleanup-latency $n\` ($n real holders SIGKILLed while holding) on the base"
        echo "build, then on this one; $rounds rounds, interleaved. Medians in µs; the reference is"
        echo "the killed holder's own pidfd, polled in the same round (the kernel's limit for that death)."
        echo
        echo "| round | build | \`latency_us\` (stale evidence → removed) | kill → lock gone | p99 | holder's pidfd | gone ÷ pidfd |"
        echo "|---:|---|---:|---:|---:|---:|---:|"
        for ((r = 1; r <= rounds; r++)); do
                for side in base this; do
                        l=${line[$side,$r]}
                        read -r g p99 <<<"$(gone "$l")"
                        pf=$(field "$l" "holder pidfd")
                        name=$rev
                        [[ $side == this ]] && name=$head$dirty
                        printf '| %d | %s | %s | %s | %s | %s | %s× |\n' "$r" "$name" "$(field "$l" latency_us)" "$g" "$p99" "$pf" \
                                "$(awk -v a="$g" -v b="$pf" 'BEGIN {printf "%.2f", a / b}')"
                done
        done
        echo
        for side in base this; do
                name=$rev
                [[ $side == this ]] && name=$head$dirty
                lat=$(for ((r = 1; r <= rounds; r++)); do field "${line[$side,$r]}" latency_us; done | median)
                g=$(for ((r = 1; r <= rounds; r++)); do gone "${line[$side,$r]}" | cut -d' ' -f1; done | median)
                pf=$(for ((r = 1; r <= rounds; r++)); do field "${line[$side,$r]}" "holder pidfd"; done | median)
                echo "- $name: median of the rounds' medians: \`latency_us\` $lat µs, kill → gone $g µs, the holder's pidfd $pf µs ($(awk -v a="$g" -v b="$pf" 'BEGIN {printf "%.2f", a / b}')×)."
        done
} >"$results"
cat "$results"
