/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* time-util.c: clock reads and ISO-8601 formatting/parsing. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <time.h>

#include "macro.h"
#include "time-util.h"

uint64_t now_mono_ns(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * NSEC_PER_SEC + (uint64_t) ts.tv_nsec;
}

int64_t now_realtime_us(void) {
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t) ts.tv_sec * USEC_PER_SEC + ts.tv_nsec / 1000;
}

char *format_iso_ts(int64_t us, char buf[static ISO_TS_MAX]) {
        time_t sec = (time_t) (us / USEC_PER_SEC);
        long frac = (long) (us % USEC_PER_SEC);
        struct tm tm;

        if (frac < 0) {
                frac += USEC_PER_SEC;
                sec--;
        }
        gmtime_r(&sec, &tm);
        snprintf(buf, ISO_TS_MAX, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ",
                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                 tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
        return buf;
}

static int parse_digits(const char **p, int n, int *ret) {
        int v = 0;

        for (int i = 0; i < n; i++) {
                if ((*p)[i] < '0' || (*p)[i] > '9')
                        return -EINVAL;
                v = v * 10 + ((*p)[i] - '0');
        }
        *p += n;
        *ret = v;
        return 0;
}

int parse_iso_ts(const char *s, int64_t *ret_us) {
        int year, mon, day, hour, min, sec;
        int64_t frac_us = 0;
        struct tm tm = {};
        const char *p = s;

        if (parse_digits(&p, 4, &year) < 0 || *p++ != '-' ||
            parse_digits(&p, 2, &mon) < 0 || *p++ != '-' ||
            parse_digits(&p, 2, &day) < 0 || *p++ != 'T' ||
            parse_digits(&p, 2, &hour) < 0 || *p++ != ':' ||
            parse_digits(&p, 2, &min) < 0 || *p++ != ':' ||
            parse_digits(&p, 2, &sec) < 0)
                return -EINVAL;
        if (*p == '.') {
                int64_t scale = 100000;

                p++;
                if (*p < '0' || *p > '9')
                        return -EINVAL;
                for (; *p >= '0' && *p <= '9'; p++) {
                        frac_us += (*p - '0') * scale;
                        scale /= 10;
                }
        }
        if (p[0] != 'Z' || p[1] != '\0')
                return -EINVAL;
        if (mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60)
                return -EINVAL;

        tm.tm_year = year - 1900;
        tm.tm_mon = mon - 1;
        tm.tm_mday = day;
        tm.tm_hour = hour;
        tm.tm_min = min;
        tm.tm_sec = sec;
        time_t t = timegm(&tm);
        if (t == (time_t) -1)
                return -EINVAL;
        *ret_us = (int64_t) t * USEC_PER_SEC + frac_us;
        return 0;
}

void format_age(long long ms, char *buf, size_t size) {
        long long s = ms / 1000;

        if (ms < 0)
                snprintf(buf, size, "-");
        else if (ms < 1000)
                snprintf(buf, size, "%lldms", ms);
        else if (s < 60)
                snprintf(buf, size, "%llds", s);
        else if (s < 3600)
                snprintf(buf, size, "%lldm%02llds", s / 60, s % 60);
        else if (s < 86400)
                snprintf(buf, size, "%lldh%02lldm", s / 3600, s % 3600 / 60);
        else
                snprintf(buf, size, "%lldd%02lldh", s / 86400, s % 86400 / 3600);
}

int parse_duration_ms(const char *s, long long *ret) {
        static const struct {
                const char *suffix;
                long long ms;
        } units[] = { { "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 }, { "d", 86400000 }, { "", 1000 } };
        char *end;
        long long v;

        if (!s || !*s || *s == '-')
                return -EINVAL;
        errno = 0;
        v = strtoll(s, &end, 10);
        if (errno || end == s)
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(units); i++)
                if (strcmp(end, units[i].suffix) == 0) {
                        if (v > INT64_MAX / units[i].ms)
                                return -EINVAL;
                        *ret = v * units[i].ms;
                        return 0;
                }
        return -EINVAL;
}
