#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# check-layers.sh: dependencies point down. Every file in src/ has a layer (the table below);
# a file may include (#include "x.h") only from its own layer or a lower one. ARCHITECTURE.md
# ("Layers") says why the layers are in this order.
#
#   tools/check-layers.sh [--srcdir DIR]            exit 1 on an upward include, or a file of
#                                                   src/ missing from the table
#   tools/check-layers.sh --report [--srcdir DIR]   print every upward include, exit 0
#
# There are no exceptions: the last upward includes (the model's state kept in the daemon's
# Manager) went with the model's own context (model.h), and so did the allow-list.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
srcdir=$top/src
mode=check

while [ $# -gt 0 ]; do
        case $1 in
        --report) mode=report ;;
        --srcdir) srcdir=$2; shift ;;
        *) echo "usage: $0 [--report] [--srcdir DIR]" >&2; exit 2 ;;
        esac
        shift
done

# Layer, name, then the modules in it (a module is NAME.c and NAME.h, whichever exist).
layers='
1 basic    macro list hashmap time-util event-util fs-util escape outbuf log test-hook
2 kernel   fs-event file-id fanotify-source inotify-source source proc fs-type chase layout actor
3 decide   payload verdict race openclaw
4 act      report journal-native cleanup recovery
5 model    holder-map size-cache settings model tree tracker owner lock session lock-facts
6 daemon   manager control reload capability options config-file discovery metrics
7 cli      main verbs control-client table scan verb-help
'

[ -d "$srcdir" ] || { echo "check-layers: no folder $srcdir" >&2; exit 2; }

cd "$srcdir"
# shellcheck disable=SC2035
LC_ALL=C awk -v layers="$layers" -v mode="$mode" '
BEGIN {
        n = split(layers, lines, "\n")
        for (i = 1; i <= n; i++) {
                k = split(lines[i], w, " ")
                if (k < 2)
                        continue
                lname[w[1]] = w[2]
                for (j = 3; j <= k; j++)
                        layer[w[j]] = w[1]
        }
        bad = 0
        for (i = 1; i < ARGC; i++)      # here, not at a first line: an empty file has none
                if (!(module(ARGV[i]) in layer)) {
                        printf "src/%s: not in the table of layers (tools/check-layers.sh)\n", ARGV[i]
                        bad = 1
                }
}
function module(f) {
        sub(/\.[ch]$/, "", f)
        return f
}
FNR == 1 {
        m = module(FILENAME)
}
/^[ \t]*#[ \t]*include[ \t]*"/ {
        h = $0
        sub(/^[ \t]*#[ \t]*include[ \t]*"/, "", h)
        sub(/".*/, "", h)
        hm = module(h)
        if (!(hm in layer) || !(m in layer))
                next            # config.h (generated), or reported above
        if (layer[hm] <= layer[m])
                next
        if (mode == "report") {
                printf "src/%s:%d: %s (%d %s) includes %s (%d %s)\n", FILENAME, FNR, FILENAME,
                       layer[m], lname[layer[m]], h, layer[hm], lname[layer[hm]]
                nviol++
        } else {
                printf "src/%s:%d: %s (%d %s) includes %s (%d %s), a higher layer\n", FILENAME, FNR,
                       FILENAME, layer[m], lname[layer[m]], h, layer[hm], lname[layer[hm]]
                bad = 1
        }
}
END {
        if (mode == "report") {
                printf "%d upward includes\n", nviol
                exit 0
        }
        exit bad
}
' *.c *.h
