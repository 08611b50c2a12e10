/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bench-util.h: what every benchmark reports the same way: percentiles of samples and the
 * machine they were taken on. */
#pragma once

#include <stddef.h>
#include <stdint.h>

typedef struct Stats {
        double median, p99, max;
} Stats;

Stats bench_stats(const uint64_t *v, size_t n);
/* "2026-11-25 10:40 UTC, kernel Linux 6.1.0, 2 CPUs (model name)" */
void bench_machine(char *buf, size_t size);
