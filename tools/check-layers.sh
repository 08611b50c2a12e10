#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# check-layers.sh: dependencies point down. src/ has a folder per layer, in the order below;
# a file may include (#include "x.h") only from its own folder or a lower layer's.
# ARCHITECTURE.md ("Layers") says why the layers are in this order.
#
#   tools/check-layers.sh [--srcdir DIR]            exit 1 on an upward include, a file of
#                                                   src/ outside the layer folders, or a folder
#                                                   that is not a layer
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

# The layers, lowest first: number and folder.
layers='
1 basic
2 kernel
3 decide
4 act
5 model
6 daemon
7 cli
'

[ -d "$srcdir" ] || { echo "check-layers: no folder $srcdir" >&2; exit 2; }

cd "$srcdir"
bad=0
for f in *; do
        [ -e "$f" ] || continue
        if [ -d "$f" ]; then
                printf '%s\n' "$layers" | grep -q " $f\$" && continue
                echo "src/$f/: not a layer (tools/check-layers.sh)"
        else
                echo "src/$f: outside the layer folders (tools/check-layers.sh)"
        fi
        bad=1
done
[ $bad -eq 0 ] || exit 1

# shellcheck disable=SC2035
LC_ALL=C awk -v layers="$layers" -v mode="$mode" '
BEGIN {
        n = split(layers, lines, "\n")
        for (i = 1; i <= n; i++)
                if (split(lines[i], w, " ") == 2) {
                        num[w[2]] = w[1]
                        lname[w[1]] = w[2]
                }
        for (i = 1; i < ARGC; i++) {    # which layer has which header: by its folder
                split(ARGV[i], p, "/")
                layer[p[2]] = num[p[1]]
        }
}
FNR == 1 {
        split(FILENAME, p, "/")
        m = p[1]
        base = p[2]
}
/^[ \t]*#[ \t]*include[ \t]*"/ {
        h = $0
        sub(/^[ \t]*#[ \t]*include[ \t]*"/, "", h)
        sub(/".*/, "", h)
        if (!(h in layer))
                next            # config.h (generated), or a header of tests/
        if (layer[h] <= num[m])
                next
        if (mode == "report") {
                printf "src/%s:%d: %s (%d %s) includes %s (%d %s)\n", FILENAME, FNR, base,
                       num[m], m, h, layer[h], lname[layer[h]]
                nviol++
        } else {
                printf "src/%s:%d: %s (%d %s) includes %s (%d %s), a higher layer\n", FILENAME, FNR,
                       base, num[m], m, h, layer[h], lname[layer[h]]
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
' */*.c */*.h
