# SPDX-License-Identifier: LGPL-2.1-or-later
# machine BUILDDIR: the line every results file carries (bench/machine: the date, the machine,
# the commit measured, the machine's speed), as bench-util.c says it. Without that program,
# what is known without measuring.
machine() {
        local line
        if [[ -x ${1:-}/bench/machine ]] && line=$(LW_BUILDDIR=$1 "$1/bench/machine" 2>/dev/null); then
                echo "$line"
                return
        fi
        printf '%s, kernel %s %s, %s CPUs (%s); commit %s' "$(date -u '+%Y-%m-%d %H:%M UTC')" "$(uname -s)" "$(uname -r)" \
                "$(nproc)" "$(sed -n 's/^model name\t*: //p' /proc/cpuinfo | head -1)" "${BENCH_COMMIT:-unknown}"
}
