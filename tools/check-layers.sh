#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# check-layers.sh: dependencies point down. Every file in src/ has a layer (the table below);
# a file may include (#include "x.h") only from its own layer or a lower one. ARCHITECTURE.md
# ("Layers") says why the layers are in this order.
#
#   tools/check-layers.sh [--srcdir DIR] [--allow FILE]   exit 1 on an upward include not in
#                                                         the allow-list, an allow-list entry
#                                                         that no longer occurs, or a file of
#                                                         src/ missing from the table
#   tools/check-layers.sh --report [--srcdir DIR]        print every upward include, exit 0
#
# The allow-list (tools/layers-allow) holds the upward includes still to remove, one
# "src/FILE HEADER" a line: a new one fails, and so does one that is gone but still listed.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
srcdir=$top/src
allow=$top/tools/layers-allow
mode=check

while [ $# -gt 0 ]; do
        case $1 in
        --report) mode=report ;;
        --srcdir) srcdir=$2; shift ;;
        --allow) allow=$2; shift ;;
        *) echo "usage: $0 [--report] [--srcdir DIR] [--allow FILE]" >&2; exit 2 ;;
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
[ "$mode" = report ] || [ -f "$allow" ] || { echo "check-layers: no allow-list $allow" >&2; exit 2; }
[ "$mode" = report ] && allow=/dev/null
case $allow in /*) ;; *) allow=$(pwd)/$allow ;; esac    # read after the cd below

cd "$srcdir"
# shellcheck disable=SC2035
LC_ALL=C awk -v layers="$layers" -v allowfile="$allow" -v mode="$mode" '
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
        while ((getline line < allowfile) > 0) {
                sub(/#.*/, "", line)
                if (split(line, w, " ") == 2)
                        allowed[w[1] " " w[2]] = 1
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
        key = "src/" FILENAME " " h
        seen[key] = 1
        if (mode == "report") {
                printf "src/%s:%d: %s (%d %s) includes %s (%d %s)\n", FILENAME, FNR, FILENAME,
                       layer[m], lname[layer[m]], h, layer[hm], lname[layer[hm]]
                nviol++
        } else if (!(key in allowed)) {
                printf "src/%s:%d: %s (%d %s) includes %s (%d %s), a higher layer\n", FILENAME, FNR,
                       FILENAME, layer[m], lname[layer[m]], h, layer[hm], lname[layer[hm]]
                bad = 1
        }
}
END {
        for (key in allowed)
                if (!(key in seen)) {
                        printf "%s: listed in %s but no longer included upward: remove the line\n",
                               key, allowfile
                        bad = 1
                }
        if (mode == "report") {
                printf "%d upward includes\n", nviol
                exit 0
        }
        exit bad
}
' *.c *.h
