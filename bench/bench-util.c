/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bench-util.c */
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench-util.h"
#include "lwtest.h"

static int cmp_u64(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
        return (x > y) - (x < y);
}

static int cmp_double(const void *a, const void *b) {
        double x = *(const double *) a, y = *(const double *) b;
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

double bench_median_d(double *v, size_t n) {
        if (n == 0)
                return 0;
        qsort(v, n, sizeof(double), cmp_double);
        return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

const char *bench_commit(void) {
        static char commit[128];
        const char *env = getenv("BENCH_COMMIT");
        FILE *p;

        if (commit[0])
                return commit;
        if (env && *env) {
                snprintf(commit, sizeof(commit), "%s", env);
                return commit;
        }
        snprintf(commit, sizeof(commit), "unknown");
        /* bench/commit.sh's rule: what the benchmarks write themselves does not make it dirty. */
        p = popen("c=$(git describe --always 2>/dev/null) && { git diff --quiet HEAD -- "
                  "':(top,exclude)bench/results*.md' ':(top,exclude)bench/raw' ':(top,exclude)bench/*.png' "
                  "':(top,exclude)README.md' ':(top,exclude)ARCHITECTURE.md' ':(top,exclude)docs' "
                  "|| c=$c-dirty; } && echo $c", "r");
        if (p) {
                char line[128];
                if (fgets(line, sizeof(line), p) && line[0] != '\n') {
                        line[strcspn(line, "\n")] = '\0';
                        snprintf(commit, sizeof(commit), "%s", line);
                }
                pclose(p);
        }
        return commit;
}

static void pin_to(int cpu) {
        cpu_set_t set;

        CPU_ZERO(&set);
        CPU_SET(cpu, &set);
        (void) sched_setaffinity(0, sizeof(set), &set);
}

double bench_wake_us(void) {
        enum { N = 101 };
        int to[2], back[2], other = sysconf(_SC_NPROCESSORS_ONLN) > 1 ? 1 : 0;
        double v[N];
        cpu_set_t saved;
        pid_t pid;

        CHECK(pipe2(to, O_CLOEXEC) == 0 && pipe2(back, O_CLOEXEC) == 0, "pipe");
        CHECK(sched_getaffinity(0, sizeof(saved), &saved) == 0, "sched_getaffinity");
        pid = fork();
        CHECK(pid >= 0, "fork");
        if (pid == 0) {
                close(to[1]);
                close(back[0]);
                pin_to(other);
                for (;;) {
                        struct pollfd p = { .fd = to[0], .events = POLLIN };
                        uint64_t t0, d;

                        if (poll(&p, 1, -1) != 1 || read(to[0], &t0, sizeof(t0)) != sizeof(t0))
                                _exit(0);
                        d = lw_mono_ns() - t0;
                        if (write(back[1], &d, sizeof(d)) != sizeof(d))
                                _exit(0);
                }
        }
        close(to[0]);
        close(back[1]);
        pin_to(0);
        for (int i = 0; i < N; i++) {
                struct timespec idle = { 0, 1000000 };
                struct pollfd p = { .fd = back[0], .events = POLLIN };
                uint64_t t0, d = 0;

                nanosleep(&idle, NULL);
                t0 = lw_mono_ns();
                CHECK(write(to[1], &t0, sizeof(t0)) == sizeof(t0), "write");
                CHECK(poll(&p, 1, LW_TIMEOUT_MS) == 1 && read(back[0], &d, sizeof(d)) == sizeof(d), "no wake-up");
                v[i] = (double) d / 1000;
        }
        close(to[1]);
        close(back[0]);
        waitpid(pid, NULL, 0);
        (void) sched_setaffinity(0, sizeof(saved), &saved);
        return bench_median_d(v, N);
}

void bench_speed(char *buf, size_t size) {
        double syscall_ns[5], start_ms[5];
        enum { LOOPS = 200000 };

        /* The cost of the cheapest system call: what every event, read and walk pays. */
        for (int k = 0; k < 5; k++) {
                uint64_t t0 = lw_mono_ns();
                for (int i = 0; i < LOOPS; i++)
                        (void) syscall(SYS_getppid);
                syscall_ns[k] = (double) (lw_mono_ns() - t0) / LOOPS;
        }
        /* An empty daemon's start-up: fork, exec, its set-up, one empty folder marked, ready. */
        for (int k = 0; k < 5; k++) {
                char *state = lw_path(lw_tmpdir(), "state"), *sessions = lw_path(state, "agents/main/sessions");
                const char *args[] = { "--state-dir", state, NULL };
                lw_mkdir_p(sessions);
                uint64_t t0 = lw_mono_ns();
                LwDaemon *d = lw_daemon_start(NULL, args, NULL);
                json_t *ready = lw_daemon_ready(d);
                start_ms[k] = (double) ((uint64_t) jint(ready, "mono_ns") - t0) / 1e6;
                CHECK(lw_daemon_stop(d) == 0, "daemon exit");
                free(sessions);
                free(state);
        }
        snprintf(buf, size, "getppid() %.0f ns, empty daemon start → monitor.ready %.1f ms (medians of 5), "
                 "a process asleep on the other CPU woken in %.0f µs (median of 101)",
                 bench_median_d(syscall_ns, 5), bench_median_d(start_ms, 5), bench_wake_us());
}

void bench_machine(char *buf, size_t size) {
        char cpu[256] = "unknown", line[512], date[64], speed[256];
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
        bench_speed(speed, sizeof(speed));
        snprintf(buf, size, "%s, kernel %s %s, %ld CPUs (%s); commit %s; machine speed: %s", date, u.sysname, u.release,
                 sysconf(_SC_NPROCESSORS_ONLN), cpu, bench_commit(), speed);
}

void bench_goal(FILE *f, const char *goal, const char *target, const char *figure, const char *reference, bool met) {
        if (f)
                fprintf(f, "%s\t%s\t%s\t%s\t%s\n", goal, target, figure, reference, met ? "yes" : "no");
}

/* One storm in DIR: 2 processes, each cycling over 64 names: open(O_APPEND|O_CREAT), one write,
 * close; every 8th cycle the file is unlinked. Returns the cycles done. */
uint64_t bench_storm(const char *dir, double seconds) {
        uint64_t *counts = mmap(NULL, 2 * sizeof(uint64_t), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        pid_t p[2];

        for (int w = 0; w < 2; w++) {
                p[w] = fork();
                if (p[w] == 0) {
                        uint64_t end = lw_mono_ns() + (uint64_t) (seconds * 1e9), n = 0;
                        char name[4400];
                        while ((n & 63) || lw_mono_ns() < end) {
                                snprintf(name, sizeof(name), "%s/w%d-%02d.jsonl", dir, w, (int) (n & 63));
                                int fd = open(name, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
                                if (fd >= 0) {
                                        if (write(fd, "{\"storm\":true}\n", 15) != 15)
                                                _exit(1);
                                        close(fd);
                                }
                                if ((n & 7) == 7)
                                        unlink(name);
                                n++;
                        }
                        counts[w] = n;
                        _exit(0);
                }
        }
        for (int w = 0; w < 2; w++)
                waitpid(p[w], NULL, 0);
        uint64_t total = counts[0] + counts[1];
        munmap(counts, 2 * sizeof(uint64_t));
        return total;
}
