#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# check-layers.sh: dependencies point down. src/ has a folder per layer, in the order below;
# a file may include (#include "x.h") only from its own folder or a lower layer's, and no
# module (NAME.c with NAME.h) may include another that includes it back, directly or not.
# ARCHITECTURE.md ("Layers") says why the layers are in this order.
#
#   tools/check-layers.sh [--srcdir DIR]            exit 1 on an upward include, a file of
#                                                   src/ outside the layer folders, a folder
#                                                   that is not a layer, or an include cycle
#                                                   (printed as a -> b -> a)
#   tools/check-layers.sh --report [--srcdir DIR]   print every upward include and every
#                                                   include cycle, exit 0
#
# There are no exceptions to the layers: the last upward includes (the model's state kept in
# the daemon's Manager) went with the model's own context (model.h), and so did the
# allow-list. Nor to the modules' order: no include cycle either.
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
' */*.c */*.h || bad=1

# No include cycles between modules, within a layer or across: a module is NAME.c with NAME.h,
# and M -> H when either of M's files includes H.h (its unit tests, test-*.c, do not count).
# One cycle is printed per strongly connected component of that graph, the shortest through
# its first module by name.
# shellcheck disable=SC2035
LC_ALL=C awk -v mode="$mode" '
function modname(path,    p, b) {
        split(path, p, "/")
        b = p[2]
        sub(/\.[ch]$/, "", b)
        return b
}
function strong(v,    i, w, k) {     # Tarjan
        idx[v] = low[v] = ++counter
        stack[++sp] = v
        onstack[v] = 1
        for (i = 1; i <= nout[v]; i++) {
                w = out[v, i]
                if (!(w in idx)) {
                        strong(w)
                        if (low[w] < low[v])
                                low[v] = low[w]
                } else if (onstack[w] && idx[w] < low[v])
                        low[v] = idx[w]
        }
        if (low[v] == idx[v]) {
                nscc++
                k = 0
                do {
                        w = stack[sp--]
                        onstack[w] = 0
                        comp[w] = nscc
                        k++
                } while (w != v)
                size[nscc] = k
        }
}
function cycle(s,    q, head, tail, u, i, w, par, path) {   # shortest, by breadth first
        head = 1; tail = 0
        q[++tail] = s
        while (head <= tail) {
                u = q[head++]
                for (i = 1; i <= nout[u]; i++) {
                        w = out[u, i]
                        if (comp[w] != comp[s])
                                continue
                        if (w == s) {
                                path = s
                                for (; u != s; u = par[u])
                                        path = u " -> " path
                                return s " -> " path
                        }
                        if (!(w in par)) {
                                par[w] = u
                                q[++tail] = w
                        }
                }
        }
        return ""
}
BEGIN {
        for (i = 1; i < ARGC; i++) {
                m = modname(ARGV[i])
                if (ARGV[i] ~ /\.h$/)
                        ismod[m] = 1
                if (!(m in seen)) {
                        seen[m] = 1
                        mods[++nmods] = m
                }
        }
}
FNR == 1 {
        m = modname(FILENAME)
        skip = (FILENAME ~ /\/test-[^\/]*\.c$/)
}
!skip && /^[ \t]*#[ \t]*include[ \t]*"/ {
        h = $0
        sub(/^[ \t]*#[ \t]*include[ \t]*"/, "", h)
        sub(/".*/, "", h)
        if (h !~ /\.h$/)
                next
        sub(/\.h$/, "", h)
        if (!(h in ismod) || h == m || ((m, h) in edge))
                next            # config.h (generated), a header of tests/, or seen
        edge[m, h] = 1
        out[m, ++nout[m]] = h
}
END {
        for (i = 1; i <= nmods; i++)
                if (!(mods[i] in idx))
                        strong(mods[i])
        n = 0
        for (i = 1; i <= nmods; i++) {          # mods[] is in the order of the file names
                m = mods[i]
                if (size[comp[m]] < 2 || (comp[m] in done))
                        continue
                done[comp[m]] = 1
                c = cycle(m)
                printf "include cycle: %s", c
                if (size[comp[m]] > split(c, w, " -> ") - 1) {  # more modules than the one cycle
                        printf " (and with it:"
                        for (j = 1; j <= nmods; j++)
                                if (comp[mods[j]] == comp[m] && index(" " c " ", " " mods[j] " ") == 0)
                                        printf " %s", mods[j]
                        printf ")"
                }
                printf "\n"
                n++
        }
        if (mode == "report") {
                printf "%d include cycles\n", n
                exit 0
        }
        exit n > 0
}
' */*.c */*.h || bad=1
exit $bad
