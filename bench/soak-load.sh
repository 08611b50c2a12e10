#!/bin/bash
# soak-load.sh RESULTS [RUNS] [SECONDS]: the chaos soak (bench/soak) RUNS times in a row (5),
# SECONDS each (60), every run beside two processes that spin on the CPUs (`yes >/dev/null`):
# a busy host. Writes RESULTS with each run's row; exit 1 if any run had a violation.
# LW_BUILDDIR: the build with src/lockwarden and bench/soak.
set -uo pipefail
results=$1 runs=${2:-5} seconds=${3:-60}
cd "$LW_BUILDDIR"
rows=() total=0 status=0
for ((i = 1; i <= runs; i++)); do
        yes >/dev/null & h1=$!
        yes >/dev/null & h2=$!
        out=$(mktemp)
        ./bench/soak "$seconds" "$out" >"$out.log" 2>&1
        rc=$?
        kill "$h1" "$h2"
        wait "$h1" "$h2" 2>/dev/null
        row=$(tail -n 1 "$out")
        header=$(sed -n '/^| seconds/,/^|---/p' "$out")
        machine=$(sed -n 's/^`make soak SOAK_SECONDS=[0-9]*` on \(.*\)\.$/\1/p' "$out")
        v=$(awk -F'|' '{gsub(/[ *]/, "", $(NF-1)); print $(NF-1)}' <<<"$row")
        total=$((total + ${v:-1}))
        ((rc == 0)) || { status=1; tail -n 30 "$out.log" >&2; }
        rows+=("${row/| $seconds |/| $i | $seconds |}")
        rm -f "$out" "$out.log"
        echo "run $i: ${v:-?} violations" >&2
done
{
        echo "# Chaos soak under load"
        echo
        echo "\`make soak-load\`: $runs run(s) of the chaos soak in a row, $seconds s each, every run beside two"
        echo "processes spinning on the CPUs (\`yes >/dev/null\`), on $machine."
        echo
        echo "| run | ${header#| }" | sed "1!d"
        echo "|---${header##*$'\n'}"
        printf '%s\n' "${rows[@]}"
        echo
        echo "Violations in all: **$total**."
} >"$results"
exit $status
