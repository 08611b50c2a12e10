#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# goals.sh SRCDIR [--check]: the goals of issue 17 against this run's figures, gathered from
# the verdicts the benchmarks wrote (bench/raw/goals-cleanup.tsv, -races.tsv, -throughput.tsv:
# goal, target, figure, reference, met) into bench/results-goals.md. A missed goal is reported,
# never a failure; with --check (`make bench-goals`) it writes nothing and exits 1 when any
# goal was missed or a part is missing, so that "twice in a row" can be checked by a script.
set -euo pipefail
src=$1 check=${2:-}
parts=(cleanup races throughput)
missed=0 missing=()
for p in "${parts[@]}"; do
        [[ -s $src/bench/raw/goals-$p.tsv ]] || missing+=("$p")
done
for p in "${parts[@]}"; do
        [[ -s $src/bench/raw/goals-$p.tsv ]] || continue
        n=$(awk -F'\t' '$5 != "yes"' "$src/bench/raw/goals-$p.tsv" | wc -l)
        missed=$((missed + n))
done
if [[ $check == --check ]]; then
        for p in "${missing[@]}"; do echo "bench-goals: no verdicts from the $p part (bench/raw/goals-$p.tsv)" >&2; done
        cat "$src"/bench/raw/goals-*.tsv 2>/dev/null | awk -F'\t' '{ printf "%-3s %s: %s (target %s)\n", $5, $1, $3, $2 }'
        ((missed == 0 && ${#missing[@]} == 0)) || { echo "bench-goals: $missed goal(s) missed" >&2; exit 1; }
        exit 0
fi
# Where each part's figures come from: its own "on DATE, ...; commit X; machine speed: ..." line.
sources() {
        for p in "${parts[@]}"; do
                f=$src/bench/results-$p.md
                [[ -f $f ]] || continue
                line=$(grep -m1 '^Measured by ' "$f" | sed 's/^Measured by //; s/\.$//')
                echo "- $p: $line"
        done
}
commits=$(sources | grep -o 'commit [^;]*' | sort -u)
{
        echo "# Goals (issue 17)"
        echo
        echo "Gathered by \`make bench\` (\`bench/goals.sh\`) from the verdicts its benchmarks wrote"
        echo "(\`bench/raw/goals-*.tsv\`); each figure beside its reference, measured in the same samples"
        echo "or rounds. A goal missed is reported here and does not fail \`make bench\`;"
        echo "\`make bench-goals\` exits 1 when any is missed. The parts' runs:"
        echo
        sources
        if [[ $(printf '%s\n' "$commits" | grep -c .) -gt 1 ]]; then
                echo
                echo "**The parts measured different commits** ($(printf '%s' "$commits" | paste -sd, - | sed 's/,/, /g')): not one run."
        fi
        for p in "${missing[@]}"; do
                echo
                echo "**No verdicts from the $p part** (bench/raw/goals-$p.tsv is missing)."
        done
        echo
        echo "| goal | target | this run | reference | met |"
        echo "|---|---|---|---|---|"
        for p in "${parts[@]}"; do
                [[ -s $src/bench/raw/goals-$p.tsv ]] || continue
                awk -F'\t' '{ printf "| %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, ($5 == "yes" ? "yes" : "**no**") }' \
                        "$src/bench/raw/goals-$p.tsv"
        done
        echo
        echo "Goals met: $(cat "$src"/bench/raw/goals-*.tsv 2>/dev/null | awk -F'\t' '$5 == "yes"' | wc -l) of" \
                "$(cat "$src"/bench/raw/goals-*.tsv 2>/dev/null | wc -l)."
} >"$src/bench/results-goals.md"
