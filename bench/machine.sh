# SPDX-License-Identifier: LGPL-2.1-or-later
# machine: "2026-11-25 10:40 UTC, kernel Linux 6.1.0, 2 CPUs (model)", as bench-util.c says it.
machine() {
        printf '%s, kernel %s %s, %s CPUs (%s)' "$(date -u '+%Y-%m-%d %H:%M UTC')" "$(uname -s)" "$(uname -r)" \
                "$(nproc)" "$(sed -n 's/^model name\t*: //p' /proc/cpuinfo | head -1)"
}
