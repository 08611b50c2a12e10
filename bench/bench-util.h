/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bench-util.h: what every benchmark reports the same way: percentiles of samples, the
 * machine they were taken on, how fast that machine is, and the commit measured. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct Stats {
        double median, p99, max;
} Stats;

Stats bench_stats(const uint64_t *v, size_t n);
/* The median of N doubles (V is sorted in place); 0 when N is 0. */
double bench_median_d(double *v, size_t n);
/* The machine, the date, the commit measured and the machine's speed, measured now (see
 * bench_speed): "2026-11-25 10:40 UTC, kernel Linux 6.1.0, 2 CPUs (model name); commit
 * 9a0e859; machine speed: getppid() 61 ns, empty daemon start → monitor.ready 4.1 ms (medians
 * of 5)". Every results file carries it. */
void bench_machine(char *buf, size_t size);
/* The throughput storm in DIR for SECONDS (see bench-util.c); returns the cycles done. */
uint64_t bench_storm(const char *dir, double seconds);
/* The commit measured: $BENCH_COMMIT (make bench takes it once, before any result is
 * written: bench/commit.sh), else `git describe --always --dirty` here, else "unknown". */
const char *bench_commit(void);
/* How fast this machine is, measured now, so that two machines' figures can be compared:
 * "getppid() 61 ns; empty daemon exec → monitor.ready 4.1 ms (medians of 5), a process
 * asleep on the other CPU woken in 8 µs (median of 101)". Starts the
 * daemon of LW_BUILDDIR five times. */
void bench_speed(char *buf, size_t size);
/* How long this machine takes to wake a process asleep in poll() on the other CPU (on the
 * same one with a single CPU), in µs: the median of 101 pipe writes, each after 1 ms idle.
 * Whoever learns of something from another process pays it once per hop. */
double bench_wake_us(void);
/* One goal's verdict, one row of bench/raw/goals-PART.tsv, which bench/goals.sh gathers into
 * bench/results-goals.md: goal, target, this run's figure, its reference, met (yes/no). */
void bench_goal(FILE *f, const char *goal, const char *target, const char *figure, const char *reference, bool met);
