#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The bash completion as bash runs it: the command line is split the way readline splits it
# (blanks, and each of COMP_WORDBREAKS' '=' and ':' a word of its own), COMP_WORDS, COMP_CWORD,
# COMP_LINE and COMP_POINT set, the completion function called, COMPREPLY checked. Covers the
# "--opt=" forms, the values of each enumerated option, the event types (every one in the
# catalog), and every option each verb's --help names. Needs bash-completion (./dev.sh
# installs it); skipped (77) without it.
set -euo pipefail
src=${LW_SRCDIR:-${srcdir:-..}}
bin=${LW_BUILDDIR:-.}/src/lockwarden
completion=$(realpath "$src/contrib/bash-completion/lockwarden")
framework=/usr/share/bash-completion/bash_completion
fail=0

if [[ ! -r $framework ]]; then
        echo "SKIP: bash-completion is not installed ($framework)" >&2
        exit 77
fi

# COMPREPLY for the command line LINE with the cursor at its end, one word per line.
complete_line() {
        bash -c '
                source "$0"
                source "$1"
                compopt() { :; } # only valid while bash itself completes
                line=$2
                words=()
                w=""
                for ((i = 0; i < ${#line}; i++)); do
                        c=${line:i:1}
                        case $c in
                        " ")
                                [[ -n $w ]] && words+=("$w")
                                w=""
                                ;;
                        "=" | ":")
                                [[ -n $w ]] && words+=("$w")
                                words+=("$c")
                                w=""
                                ;;
                        *) w+=$c ;;
                        esac
                done
                words+=("$w")
                COMP_WORDS=("${words[@]}")
                COMP_CWORD=$((${#words[@]} - 1))
                COMP_LINE=$line
                COMP_POINT=${#line}
                COMP_TYPE=9
                _lockwarden lockwarden "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
                printf "%s\n" "${COMPREPLY[@]}"' "$framework" "$completion" "$1"
}

expect() { # WANT LINE
        local got
        got=$(complete_line "$2" | LC_ALL=C sort | tr '\n' ' ')
        if [[ "$got" != "$1 " ]]; then
                echo "FAIL: completing '$2': got '$got', want '$1 '" >&2
                fail=1
        fi
}

# The "=" forms, and the same values after a blank.
expect "auto report" "lockwarden run --cleanup="
expect "report" "lockwarden run --cleanup=r"
expect "off report" "lockwarden run --races="
expect "inotify" "lockwarden run --backend=ino"
expect "auto fanotify inotify" "lockwarden run --backend="
expect "fanotify" "lockwarden run --backend fa"
expect "auto report" "lockwarden run --cleanup "
# Option names: the enumerated ones offered with their "=".
expect "--cleanup=" "lockwarden run --clea"
expect "--backend=" "lockwarden run --back"
expect "--race-coalesce-ms --races=" "lockwarden run --rac"
# events: its options and the event types, as "--type X" and "--type=X".
expect "--type" "lockwarden events --ty"
expect "--lines" "lockwarden events --li"
expect "--follow --full" "lockwarden events --f"
expect "race.lock-stolen race.lock-tampered" "lockwarden events --type=race.lock"
expect "lock.stale" "lockwarden events --type lock.st"
expect "15m 1d 1h 1m 30s 5m" "lockwarden events --since="
expect "--all --full --help --json --no-legend --socket" "lockwarden locks --"
expect "locks" "lockwarden --json loc"
# A glob offered is not expanded against files in the current folder.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
touch "$tmp/race.x"
got=$(cd "$tmp" && complete_line "lockwarden events --type race" | tr '\n' ' ')
[[ $got == *"race.* "* && $got != *race.x* ]] || { echo "FAIL: --type race: '$got'" >&2; fail=1; }

# Every event type in the catalog is offered for --type.
types=$(grep -oE '^Subject: .*\(([a-z]+\.[a-z-]+)\)$' "$src/contrib/lockwarden.catalog" | grep -oE '\([a-z.-]+\)$' | tr -d '()')
offered=$(complete_line "lockwarden events --type=")
for t in $types; do
        grep -qxF -- "$t" <<<"$offered" || { echo "FAIL: event type $t is not offered for --type" >&2; fail=1; }
done

# Every option a verb's --help names is offered after that verb.
for verb in run status locks holders explain events cleanup reload scan; do
        offered=$(complete_line "lockwarden $verb --" | sed 's/=$//')
        for o in $("$bin" "$verb" --help | sed -n '/^Options/,$p' | grep -oE -- '--[a-z][a-z-]+' | sort -u); do
                grep -qxF -- "$o" <<<"$offered" || { echo "FAIL: $verb: $o is in its --help, not offered" >&2; fail=1; }
        done
done
exit $fail
