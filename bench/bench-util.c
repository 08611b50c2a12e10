/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bench-util.c */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "bench-util.h"

static int cmp_u64(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
        return (x > y) - (x < y);
}

Stats bench_stats(const uint64_t *v, size_t n) {
        uint64_t *s;
        Stats r = {};

        if (n == 0 || !(s = malloc(n * sizeof(*s))))
                return r;
        memcpy(s, v, n * sizeof(*s));
        qsort(s, n, sizeof(*s), cmp_u64);
        r = (Stats) {
                .median = n % 2 ? (double) s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2.0,
                .p99 = (double) s[(size_t) ((double) (n - 1) * 0.99 + 0.5)],
                .max = (double) s[n - 1],
        };
        free(s);
        return r;
}

void bench_machine(char *buf, size_t size) {
        char cpu[256] = "unknown", line[512], date[64];
        struct utsname u;
        time_t now = time(NULL);
        FILE *f = fopen("/proc/cpuinfo", "re");

        while (f && fgets(line, sizeof(line), f))
                if (strncmp(line, "model name", 10) == 0 && strchr(line, ':')) {
                        snprintf(cpu, sizeof(cpu), "%s", strchr(line, ':') + 2);
                        cpu[strcspn(cpu, "\n")] = '\0';
                        break;
                }
        if (f)
                fclose(f);
        uname(&u);
        strftime(date, sizeof(date), "%Y-%m-%d %H:%M UTC", gmtime(&now));
        snprintf(buf, size, "%s, kernel %s %s, %ld CPUs (%s)", date, u.sysname, u.release,
                 sysconf(_SC_NPROCESSORS_ONLN), cpu);
}
