#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# profile: where lockwarden's CPU goes under the throughput benchmark's storm. A real daemon
# (default settings) guards one sessions folder while bench/storm runs for SECONDS; perf
# samples the daemon alone (kernel and user stacks). Writes RESULTS.md (the costs by system
# call and by library, with the daemon's CPU per million storm cycles) and RAW.txt (perf's
# report, as text). Needs perf (Debian: linux-perf) and root. DAEMON profiles another build's
# lockwarden (a base revision's: `make bench-profile-base`; BENCH_COMMIT names it).
#   profile.sh BUILDDIR SECONDS RESULTS.md RAW.txt [DAEMON]
set -euo pipefail
build=$1 seconds=$2 results=$3 raw=$4 daemon_bin=${5:-$1/src/lockwarden}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/machine.sh"
command -v perf >/dev/null || { echo "profile: perf is not installed (Debian: apt-get install linux-perf)" >&2; exit 1; }
tmp=$(mktemp -d /var/tmp/lockwarden-profile.XXXXXX)
pids=()
trap 'kill ${pids[*]} 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$tmp"' EXIT
mkdir -p "$tmp/state/agents/main/sessions"
: >"$tmp/events"
"$daemon_bin" run --state-dir "$tmp/state" --socket "$tmp/sock" --config /dev/null \
        --events "$tmp/events" 2>/dev/null &
daemon=$!
pids+=($daemon)
deadline=$((SECONDS + 20))
until grep -q '"event":"monitor.ready"' "$tmp/events"; do
        ((SECONDS < deadline)) || { echo "profile: the daemon did not start" >&2; exit 1; }
        sleep 0.05
done
ticks() { awk '{ print $14 + $15 }' "/proc/$daemon/stat"; }
perf record -q -F 999 -g -p "$daemon" -o "$tmp/perf.data" >/dev/null 2>&1 &
perf=$!
sleep 0.5 # perf attached
t0=$(ticks)
cycles=$("$build/bench/storm" "$tmp/state/agents/main/sessions" "$seconds")
t1=$(ticks)
kill -INT "$perf"
wait "$perf" || true
hz=$(getconf CLK_TCK)
cpu=$(awk -v t=$((t1 - t0)) -v hz="$hz" 'BEGIN { printf "%.2f", t / hz }')
per=$(awk -v t=$((t1 - t0)) -v hz="$hz" -v c="$cycles" 'BEGIN { printf "%.2f", t / hz / (c / 1e6) }')
{
        echo "# perf report --children --sort symbol -g none (daemon only, $seconds s storm, $cycles cycles)"
        perf report -i "$tmp/perf.data" --children --sort symbol -g none --percent-limit 0.3 --stdio 2>/dev/null |
                grep -E '^ +[0-9]'
        echo
        echo "# perf report --no-children --sort dso"
        perf report -i "$tmp/perf.data" --no-children --sort dso -g none --stdio 2>/dev/null | grep -E '^ +[0-9]'
} >"$raw"

what() {
        case $1 in
        epoll_wait) echo "\`epoll_wait\`: waiting, and the context switch of every wake-up" ;;
        read) echo "\`read\`: the kernel's queue (\`fanotify_read\` copying records), small \`/proc\` files" ;;
        fstatat) echo "\`fstatat\`: a file's attributes by name" ;;
        statx) echo "\`statx\`: attributes by descriptor (\`/proc/PID/fd/N\`; a kept transcript descriptor)" ;;
        openat) echo "\`openat\`: a file by name (\`O_PATH\` identity reads, \`/proc\` directories)" ;;
        ioctl) echo "\`ioctl(FIONREAD)\`: was the queue read empty" ;;
        getdents) echo "\`getdents64\`: listing \`/proc/PID/fd\`" ;;
        name_to_handle_at) echo "\`name_to_handle_at\`: a file's handle" ;;
        poll) echo "\`poll\`" ;;
        *) echo "\`$1\`" ;;
        esac
}
{
        echo "# Where the CPU goes (the storm, profiled)"
        echo
        echo "Measured by \`${PROFILE_BY:-make bench}\` (\`bench/profile.sh $seconds\`) on $(machine "$build")."
        echo "lockwarden (default settings) guards one sessions folder while \`bench/storm\` (the"
        echo "throughput benchmark's load: 2 processes open, append, close, every 8th unlinked) runs;"
        echo "\`perf record -g\` samples the daemon alone. The daemon used $cpu CPU s for $cycles cycles:"
        echo "**$per CPU s per million storm cycles** in this run. Raw: \`bench/raw/$(basename "$raw")\`."
        echo
        echo "| cost (system call, with the kernel work under it) | share of the daemon's CPU |"
        echo "|---|---:|"
        # The C library's system-call wrappers, each with the kernel work under it.
        grep -E '^ +[0-9.]+% +[0-9.]+% +\[\.\] ' "$raw" |
                awk '{ n = $4; sub(/^__GI___/, "", n); sub(/^__libc_/, "", n); sub(/^__/, "", n);
                       sub(/64$/, "", n); print $1, n }' |
                grep -wE 'epoll_wait|read|fstatat|statx|openat|ioctl|poll|getdents|name_to_handle_at|close|write|readlink|pread|timerfd_settime|sendmsg|send|unlinkat|renameat2' |
                sort -rn | head -9 | while read -r pct name; do
                        printf '| %s | %s |\n' "$(what "$name")" "$pct"
                done
        echo
        echo "| where the instructions ran | share |"
        echo "|---|---:|"
        sed -n '/--sort dso/,$p' "$raw" | grep -E '^ +[0-9]' | awk '{ printf "| %s | %s |\n", $2, $1 }' | head -6
} >"$results"
cat "$results"
