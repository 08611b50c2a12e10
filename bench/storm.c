/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* storm: the throughput benchmark's load on its own, for profiling (bench/profile.sh):
 * bench_storm(), 2 processes cycling over 64 transcripts in DIR (open with O_APPEND|O_CREAT,
 * one write, close; every 8th unlinked). Prints the cycles done after SECONDS.
 *
 *   storm DIR SECONDS */
#include <stdio.h>
#include <stdlib.h>

#include "bench-util.h"

int main(int argc, char **argv) {
        if (argc != 3) {
                fprintf(stderr, "usage: storm DIR SECONDS\n");
                return 2;
        }
        printf("%llu\n", (unsigned long long) bench_storm(argv[1], atof(argv[2])));
        return 0;
}
