#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# readme-section.sh FILE NAME CONTENT: replaces what stands between the lines
# "<!-- NAME:begin -->" and "<!-- NAME:end -->" in FILE with the file CONTENT (its first
# heading dropped), so that figures and output in the docs are written by the run that made
# them, never copied by hand. Fails if the markers are missing.
set -euo pipefail
file=$1 name=$2 content=$3
grep -q "^<!-- $name:begin -->\$" "$file" && grep -q "^<!-- $name:end -->\$" "$file" ||
        { echo "readme-section: no <!-- $name:begin/end --> markers in $file" >&2; exit 1; }
tmp=$(mktemp)
awk -v name="$name" -v content="$content" '
        $0 == "<!-- " name ":begin -->" { print; first = 1; while ((getline line < content) > 0) { if (!(first && line ~ /^# /)) print line; first = 0 }; skip = 1; next }
        $0 == "<!-- " name ":end -->" { skip = 0 }
        !skip { print }
' "$file" >"$tmp"
cat "$tmp" >"$file"
rm -f "$tmp"
