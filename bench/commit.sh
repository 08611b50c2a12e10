#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# commit.sh SRCDIR: the commit a benchmark measures, as `git describe --always --dirty` says
# it, except that the files a benchmark run writes itself (bench/results*.md, bench/raw/,
# bench/scale.png, README.md, ARCHITECTURE.md, docs/) do not make it "-dirty": a second
# `make bench` after the first measures the same code. "unknown" outside a git checkout.
set -uo pipefail
src=${1:-.}
rev=$(git -C "$src" describe --always 2>/dev/null) || { echo unknown; exit 0; }
changed=$(git -C "$src" status --porcelain --untracked-files=no -- . ':(exclude)bench/results*.md' \
        ':(exclude)bench/raw' ':(exclude)bench/scale.png' ':(exclude)README.md' ':(exclude)ARCHITECTURE.md' ':(exclude)docs' 2>/dev/null)
[[ -z $changed ]] || rev+=-dirty
echo "$rev"
