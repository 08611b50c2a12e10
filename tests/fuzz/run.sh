#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# make fuzz: builds each libFuzzer target (tests/fuzz/fuzz-*.c) with clang, the daemon's
# sources instrumented alongside (-fsanitize=fuzzer-no-link,address,undefined), and runs each
# for FUZZ_SECONDS (default 60) from its seed corpus (tests/fuzz/corpus/NAME, copied: the
# source tree is not written). A crash fails the run; the input is kept under
# OUT/crashes-NAME/ and belongs in tests/fuzz/corpus/NAME as a regression input, which the
# test suite replays in every build (tests/fuzz/replay.c).
#   run.sh SRCDIR OUT SOURCES...
set -euo pipefail
src=$1 out=$2
shift 2
seconds=${FUZZ_SECONDS:-60}
cc=${FUZZ_CC:-clang}
command -v "$cc" >/dev/null || { echo "fuzz: $cc is not installed (apt-get install clang)" >&2; exit 77; }
mkdir -p "$out/obj"
flags=(-g -O1 -std=gnu11 -fsanitize=address,undefined -fno-sanitize-recover=all -D_GNU_SOURCE
       -I"$out/.." $(pkg-config --cflags libsystemd libcap jansson))
for d in "$src"/src/*/; do flags+=(-I"$d"); done    # a folder per layer (ARCHITECTURE.md)
libs=($(pkg-config --libs libsystemd libcap jansson))
objs=()
for f in "$@"; do
        [[ $f == *.c ]] || continue
        o=$out/obj/$(basename "$f" .c).o
        "$cc" "${flags[@]}" -fsanitize=fuzzer-no-link -c "$src/$f" -o "$o"
        objs+=("$o")
done
status=0
for t in "$src"/tests/fuzz/fuzz-*.c; do
        name=$(basename "$t" .c)
        name=${name#fuzz-}
        "$cc" "${flags[@]}" -fsanitize=fuzzer "$t" "${objs[@]}" "${libs[@]}" -o "$out/fuzz-$name"
        rm -rf "$out/corpus-$name" "$out/crashes-$name"
        mkdir -p "$out/corpus-$name" "$out/crashes-$name"
        cp "$src/tests/fuzz/corpus/$name/"* "$out/corpus-$name/"
        echo "fuzz-$name: $seconds s"
        if ! "$out/fuzz-$name" -max_total_time="$seconds" -max_len=70000 -timeout=10 -rss_limit_mb=2048 \
                -artifact_prefix="$out/crashes-$name/" "$out/corpus-$name" >"$out/fuzz-$name.log" 2>&1; then
                echo "FAIL: fuzz-$name found a crash: $(ls "$out/crashes-$name")" >&2
                tail -30 "$out/fuzz-$name.log" >&2
                status=1
        fi
        grep -E '^(#[0-9]+\s+DONE|Done [0-9]+ runs)' "$out/fuzz-$name.log" | tail -1 || true
done
exit $status
