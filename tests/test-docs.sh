#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The documentation tells the truth: every option `lockwarden --help` names is in lockwarden(8)
# and in the bash completion; every command, every event kind (from the journal catalog) and
# every race kind is in lockwarden(8); every configuration key the parser knows (it lists
# them when it meets an unknown one) is in lockwarden.json(5). Then the completion itself,
# driven as bash would drive it. Needs no privilege.
set -euo pipefail
src=${LW_SRCDIR:-${srcdir:-..}}
bin=${LW_BUILDDIR:-.}/src/lockwarden
man8=$src/doc/lockwarden.8
man5=$src/doc/lockwarden.json.5
completion=$src/contrib/bash-completion/lockwarden
fail=0

# Man page text with roff's escaped hyphens plain.
text8=$(sed 's/\\-/-/g' "$man8")
text5=$(sed 's/\\-/-/g' "$man5")
has() { grep -qF -- "$2" <<<"$1"; }
need() { # WHAT TEXT-NAME TEXT ITEM
        if ! has "$3" "$4"; then
                echo "FAIL: $1 '$4' is not in $2" >&2
                fail=1
        fi
}

help=$("$bin" --help)
options=$(grep -oE -- '--[a-z][a-z-]+' <<<"$help" | sort -u)
[[ $(wc -l <<<"$options") -ge 20 ]] || { echo "FAIL: too few options in --help: $options" >&2; exit 1; }
for o in $options; do
        need "option" "lockwarden(8)" "$text8" "$o"
        need "option" "the bash completion" "$(cat "$completion")" "$o"
done
for verb in run status locks holders events cleanup scan metrics; do
        need "command" "--help" "$help" "lockwarden $verb"
        need "command" "lockwarden(8)" "$text8" "lockwarden $verb"
done
# Every event kind has a catalog entry "(kind)" in its Subject: each is documented.
events=$(grep -oE '^Subject: .*\(([a-z]+\.[a-z-]+)\)$' "$src/contrib/lockwarden.catalog" | grep -oE '\([a-z.-]+\)$' | tr -d '()')
[[ $(wc -l <<<"$events") -ge 19 ]] || { echo "FAIL: too few events in the catalog" >&2; exit 1; }
for e in $events; do
        need "event" "lockwarden(8)" "$text8" "$e"
done
# The configuration keys, as the parser lists them.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo '{"no-such-key": 1}' >"$tmp/a.json"
echo '{"folders": [{"path": "/x", "no-such-key": 1}]}' >"$tmp/b.json"
for f in a b; do
        set +e
        err=$("$bin" run --check-config --config "$tmp/$f.json" 2>&1 >/dev/null)
        rc=$?
        set -e
        [[ $rc -eq 2 ]] || { echo "FAIL: exit $rc for an unknown key" >&2; exit 1; }
        keys=$(sed -n 's/.*unknown key "no-such-key"[^(]*(\(.*\))$/\1/p' <<<"$err" | tr -d ',')
        [[ -n $keys ]] || { echo "FAIL: no key list in: $err" >&2; exit 1; }
        for k in $keys; do
                need "configuration key" "lockwarden.json(5)" "$text5" ".B $k"
        done
done

# The completion, as bash runs it.
if [[ -r /usr/share/bash-completion/bash_completion ]]; then
        complete_words() { # the words of the command line; the last one is being completed
                bash -c '
                        source /usr/share/bash-completion/bash_completion
                        source "$0"
                        COMP_WORDS=("$@")
                        COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
                        COMP_LINE="${COMP_WORDS[*]}"
                        COMP_POINT=${#COMP_LINE}
                        _lockwarden lockwarden "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
                        printf "%s\n" "${COMPREPLY[@]}"' "$completion" "$@"
        }
        expect() { # WANT WORDS...
                local want=$1 got
                shift
                got=$(complete_words "$@" | sort | tr '\n' ' ')
                if [[ "$got" != "$want " ]]; then
                        echo "FAIL: completing '$*': got '$got', want '$want '" >&2
                        fail=1
                fi
        }
        expect "run" lockwarden ru
        expect "status" lockwarden sta
        expect "--backend=" lockwarden run --back
        expect "fanotify" lockwarden run --backend fan
        expect "--all" lockwarden locks --a
        expect "--follow" lockwarden events --fo
        expect "--fix" lockwarden scan --fi
        expect "metrics" lockwarden met
        expect "--metrics-file" lockwarden run --metr
        expect "auto report" lockwarden run --cleanup ""
else
        echo "bash-completion is not installed: the completion itself is not driven" >&2
fi
exit $fail
