/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* time-util.h: the two clocks lockwarden reasons with. Monotonic nanoseconds order events and
 * measure latencies; realtime microseconds date reports and lock payloads. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define NSEC_PER_USEC UINT64_C(1000)
#define NSEC_PER_MSEC UINT64_C(1000000)
#define NSEC_PER_SEC UINT64_C(1000000000)
#define USEC_PER_MSEC INT64_C(1000)
#define USEC_PER_SEC INT64_C(1000000)

uint64_t now_mono_ns(void);
/* A file time as one number (signed: before 1970 is negative), exact until 2262. */
static inline int64_t timespec_ns(const struct timespec *ts) {
        return (int64_t) ts->tv_sec * (int64_t) NSEC_PER_SEC + (int64_t) ts->tv_nsec;
}
int64_t now_realtime_us(void);

/* "2026-05-28T04:22:01.123456Z" (27 chars; room for any year). */
#define ISO_TS_MAX 64
char *format_iso_ts(int64_t realtime_us, char buf[static ISO_TS_MAX]);

/* Parses the ISO-8601 UTC form written by JavaScript's Date.toISOString() (and any number
 * of fractional digits, or none). Returns 0 and the time in microseconds, or -EINVAL. */
int parse_iso_ts(const char *s, int64_t *ret_us);

/* "850ms", "12s", "3m12s", "2h05m", "3d04h"; "-" when negative. */
void format_age(long long ms, char *buf, size_t size);
/* "30s", "5m", "2h", "1d", "250ms", or plain seconds. -EINVAL when not a duration. */
int parse_duration_ms(const char *s, long long *ret);
