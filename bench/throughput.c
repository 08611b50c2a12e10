/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* throughput: a storm of open/append/close/create/unlink on transcripts in a guarded
 * sessions folder, from 2 processes, for SECONDS; consumed in turn, in the same run, by
 *   - nobody (the storm's own rate),
 *   - a minimal C fanotify reader (the same group flags and marks as lockwarden: the ceiling),
 *   - lockwarden (fanotify, default settings),
 *   - fatrace (fanotify mount mark, output to a file),
 *   - inotifywait -m (inotify, output to a file),
 * ROUNDS times, in an order rotated each round, and reports for each the medians (and the
 * rounds' range): the storm's rate meanwhile, the events it consumed, whether its queue
 * overflowed, and its CPU seconds per million events and per million storm cycles.
 *
 *   throughput [SECONDS] [RESULTS.md] [RAW.tsv] [ROUNDS]          (root; LW_BUILDDIR) */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench-util.h"
#include "lwtest.h"

static char dir[4300];

/* One storm: 2 processes, each cycling over 64 names: open(O_APPEND|O_CREAT), one write,
 * close; every 8th cycle the file is unlinked. Returns the cycles done. */
static uint64_t storm(int seconds) {
        uint64_t *counts = mmap(NULL, 2 * sizeof(uint64_t), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        pid_t p[2];

        for (int w = 0; w < 2; w++) {
                p[w] = fork();
                if (p[w] == 0) {
                        uint64_t end = lw_mono_ns() + (uint64_t) seconds * 1000000000ull, n = 0;
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

static double cpu_seconds(pid_t pid) {
        char path[64], buf[2048], *p;
        unsigned long long ut = 0, st = 0;
        FILE *f;
        size_t n;

        snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
        f = fopen(path, "re");
        if (!f)
                return -1;
        n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[n] = '\0';
        p = strrchr(buf, ')');
        /* fields 14 and 15 (utime, stime), counted from the state (field 3) */
        if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
                return -1;
        return (double) (ut + st) / (double) sysconf(_SC_CLK_TCK);
}

/* The minimal fanotify reader, in a child: counts records until SIGTERM, then writes the
 * count and whether it overflowed to OUT. */
static pid_t bare_reader(int out, int ready) {
        pid_t pid = fork();

        if (pid != 0)
                return pid;
        int fd = fanotify_init(FAN_CLASS_NOTIF | FAN_CLOEXEC | FAN_UNLIMITED_MARKS | FAN_REPORT_DFID_NAME | FAN_REPORT_FID,
                               O_RDONLY | O_CLOEXEC | O_LARGEFILE);
        uint64_t mask = FAN_OPEN | FAN_CLOSE | FAN_MODIFY | FAN_CREATE | FAN_DELETE | FAN_MOVED_FROM | FAN_MOVED_TO |
                        FAN_EVENT_ON_CHILD | FAN_ONDIR;
        if (fd < 0 || fanotify_mark(fd, FAN_MARK_ADD, mask, AT_FDCWD, dir) < 0)
                _exit(1);
        sigset_t ss;
        sigemptyset(&ss);
        sigaddset(&ss, SIGTERM);
        sigprocmask(SIG_BLOCK, &ss, NULL);
        if (write(ready, "r", 1) != 1)
                _exit(1);
        uint64_t events = 0;
        int overflow = 0;
        char buf[65536] __attribute__((aligned(8)));
        for (;;) {
                struct pollfd pf = { .fd = fd, .events = POLLIN };
                siginfo_t si;
                struct timespec zero = { 0, 0 };
                if (sigtimedwait(&ss, &si, &zero) == SIGTERM)
                        break;
                if (poll(&pf, 1, 20) <= 0)
                        continue;
                ssize_t n = read(fd, buf, sizeof(buf));
                for (struct fanotify_event_metadata *m = (void *) buf; n > 0 && FAN_EVENT_OK(m, n); m = FAN_EVENT_NEXT(m, n)) {
                        events++;
                        if (m->mask & FAN_Q_OVERFLOW)
                                overflow = 1;
                }
        }
        dprintf(out, "%llu %d\n", (unsigned long long) events, overflow);
        _exit(0);
}

typedef struct Row {
        const char *who;
        uint64_t cycles;
        double seconds;
        uint64_t events;
        int overflow;          /* -1: cannot tell */
        double cpu;
} Row;

static json_t *status(const char *sock) {
        char cmd[4300], out[65536];
        snprintf(cmd, sizeof(cmd), "%s/src/lockwarden status --json --socket '%s'", lw_builddir(), sock);
        FILE *f = popen(cmd, "r");
        size_t n = f ? fread(out, 1, sizeof(out) - 1, f) : 0;
        if (f)
                pclose(f);
        out[n] = '\0';
        return json_loads(out, 0, NULL);
}

static uint64_t count_lines(const char *path) {
        FILE *f = fopen(path, "re");
        uint64_t n = 0;
        int c;
        while (f && (c = getc(f)) != EOF)
                n += c == '\n';
        if (f)
                fclose(f);
        return n;
}

/* Runs a consumer command (sh -c) writing its events to FILE, after a settle delay. */
static pid_t spawn_sh(const char *cmd) {
        pid_t pid = fork();
        if (pid == 0) {
                execl("/bin/sh", "sh", "-c", cmd, (char *) NULL);
                _exit(127);
        }
        return pid;
}

/* A consumer that is another program (sh -c CMD), printing one line per event into OUT. */
static Row external(const char *who, const char *cmd, const char *out, int seconds) {
        uint64_t t0, c;
        double cpu0, secs, cpu;
        pid_t p;

        unlink(out);
        p = spawn_sh(cmd);
        usleep(500000); /* neither says when its marks or watches are set: let it start */
        cpu0 = cpu_seconds(p);
        t0 = lw_mono_ns();
        c = storm(seconds);
        secs = (lw_mono_ns() - t0) / 1e9;
        usleep(500000); /* and let it read what is queued */
        cpu = cpu_seconds(p) - cpu0;
        kill(p, SIGINT);
        waitpid(p, NULL, 0);
        return (Row) { who, c, secs, count_lines(out), -1, cpu };
}

static char state[4200], sock[4200], out[4200];

static Row run_nobody(int seconds) {
        uint64_t t0 = lw_mono_ns(), c = storm(seconds);
        return (Row) { "nobody (the storm alone)", c, (lw_mono_ns() - t0) / 1e9, 0, -1, 0 };
}

static Row run_bare(int seconds) {
        int po[2], pr[2];
        CHECK(pipe(po) == 0 && pipe(pr) == 0, "pipe");
        pid_t b = bare_reader(po[1], pr[1]);
        char ok;
        CHECK(read(pr[0], &ok, 1) == 1, "bare reader");
        uint64_t t0 = lw_mono_ns(), c = storm(seconds);
        double secs = (lw_mono_ns() - t0) / 1e9, cpu = cpu_seconds(b);
        kill(b, SIGTERM);
        unsigned long long ev = 0;
        int of = 0;
        FILE *bf = fdopen(po[0], "r");
        CHECK(fscanf(bf, "%llu %d", &ev, &of) == 2, "bare reader result");
        fclose(bf);
        close(po[1]);
        close(pr[0]);
        close(pr[1]);
        waitpid(b, NULL, 0);
        return (Row) { "bare C fanotify reader (the ceiling)", c, secs, ev, of, cpu };
}

static Row run_lockwarden(int seconds) {
        char cmd[9000];
        const char *args[] = { "--state-dir", state, "--socket", sock, NULL };
        LwDaemon *d = lw_daemon_start(NULL, args, NULL);
        lw_daemon_ready(d);
        json_t *s0 = status(sock);
        uint64_t e0 = (uint64_t) json_integer_value(json_object_get(json_object_get(s0, "counters"), "events"));
        double cpu0 = cpu_seconds(d->pid);
        uint64_t t0 = lw_mono_ns(), c = storm(seconds);
        double secs = (lw_mono_ns() - t0) / 1e9;
        /* Everything queued is read before this answer (cleanup drains the queue). */
        snprintf(cmd, sizeof(cmd), "%s/src/lockwarden cleanup --socket '%s' >/dev/null", lw_builddir(), sock);
        CHECK(system(cmd) == 0, "cleanup");
        json_t *s1 = status(sock);
        json_t *cnt = json_object_get(s1, "counters");
        Row row = { "lockwarden", c, secs, (uint64_t) json_integer_value(json_object_get(cnt, "events")) - e0,
                    json_integer_value(json_object_get(cnt, "overflows")) > 0, cpu_seconds(d->pid) - cpu0 };
        json_decref(s0);
        json_decref(s1);
        lw_daemon_stop(d);
        return row;
}

static Row run_fatrace(int seconds) {
        char cmd[13000];
        /* A mount mark from the storm's folder, everything written to a file. */
        snprintf(cmd, sizeof(cmd), "cd '%s' && exec fatrace -c -o '%s'", dir, out);
        return external("fatrace", cmd, out, seconds);
}

static Row run_inotifywait(int seconds) {
        char cmd[13000];
        snprintf(cmd, sizeof(cmd), "exec inotifywait -m -q -e open,close,modify,create,delete,move --format '%%e %%f' -o '%s' '%s'",
                 out, dir);
        return external("inotifywait -m", cmd, out, seconds);
}

#define N_CONSUMERS 5
#define MAX_ROUNDS 9

static int cmp_double(const void *a, const void *b) {
        double x = *(const double *) a, y = *(const double *) b;
        return (x > y) - (x < y);
}

static double median(double *v, int n) {
        qsort(v, (size_t) n, sizeof(double), cmp_double);
        return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv) {
        int seconds = argc > 1 ? atoi(argv[1]) : 5;
        const char *results = argc > 2 ? argv[2] : NULL, *raw = argc > 3 ? argv[3] : NULL;
        int rounds = argc > 4 ? atoi(argv[4]) : 3;
        char *tmp = lw_tmpdir(), machine[512];
        Row (*const run[N_CONSUMERS])(int) = { run_nobody, run_bare, run_lockwarden, run_fatrace, run_inotifywait };
        static Row rows[MAX_ROUNDS][N_CONSUMERS];

        lw_require_root();
        lw_require_fanotify();
        CHECK(rounds >= 1 && rounds <= MAX_ROUNDS, "rounds: 1 to %d", MAX_ROUNDS);
        snprintf(state, sizeof(state), "%s/state", tmp);
        snprintf(dir, sizeof(dir), "%.4000s/agents/main/sessions", state);
        lw_mkdir_p(dir);
        snprintf(sock, sizeof(sock), "%s/sock", tmp);
        snprintf(out, sizeof(out), "%s/consumer.out", tmp);

        /* Rounds, each consumer once per round, in an order rotated by the round (a 2-CPU VM
         * drifts over a minute: no consumer always goes first or last). */
        for (int k = 0; k < rounds; k++)
                for (int j = 0; j < N_CONSUMERS; j++) {
                        int i = (j + k) % N_CONSUMERS;
                        rows[k][i] = run[i](seconds);
                }

        bench_machine(machine, sizeof(machine));
        FILE *r = results ? fopen(results, "we") : stdout;
        FILE *w = raw ? fopen(raw, "we") : NULL;
        fprintf(r, "# Event throughput\n\nMeasured by `make bench` (`bench/throughput %d`, %d rounds) on %s.\n", seconds,
                rounds, machine);
        fprintf(r, "A storm of open/append/close on 64 transcripts per process, every 8th unlinked, from 2\n"
                   "processes for %d s, against each consumer in turn (the storm and the consumer share the 2\n"
                   "CPUs), %d rounds with the order rotated each round; each figure is the median over the\n"
                   "rounds, with the rounds' range. The comparable figures are the storm's rate while each\n"
                   "consumer keeps up (a consumer's CPU is taken from the storm's) and CPU per storm cycle:\n"
                   "the event counts are not alike (fanotify merges a process's queued events on one file\n"
                   "into one record, inotify folds only identical ones; fatrace and inotifywait count printed\n"
                   "lines).\n\n",
                seconds, rounds);
        fprintf(r, "| consumer | storm cycles/s | vs bare reader (rounds) | events/s | overflow | "
                   "CPU s per 1M events | CPU s per 1M storm cycles (rounds) |\n"
                   "|---|---:|---:|---:|---|---:|---:|\n");
        if (w)
                fprintf(w, "round\tconsumer\tcycles\tseconds\tevents\toverflow\tcpu_s\n");
        for (int i = 0; i < N_CONSUMERS; i++) {
                double rate[MAX_ROUNDS], ratio[MAX_ROUNDS], evs[MAX_ROUNDS], per_ev[MAX_ROUNDS], per_cyc[MAX_ROUNDS];
                int overflow = 0, unknown = 0;
                for (int k = 0; k < rounds; k++) {
                        Row *x = &rows[k][i];
                        rate[k] = x->cycles / x->seconds;
                        ratio[k] = 100.0 * rate[k] / (rows[k][1].cycles / rows[k][1].seconds);
                        evs[k] = x->events / x->seconds;
                        per_ev[k] = x->events ? x->cpu / ((double) x->events / 1e6) : 0;
                        per_cyc[k] = x->cpu / ((double) x->cycles / 1e6);
                        overflow |= x->overflow > 0;
                        unknown |= x->overflow < 0;
                        if (w)
                                fprintf(w, "%d\t%s\t%llu\t%.3f\t%llu\t%d\t%.3f\n", k, x->who, (unsigned long long) x->cycles,
                                        x->seconds, (unsigned long long) x->events, x->overflow, x->cpu);
                }
                double lo_r = 1e300, hi_r = 0, lo_c = 1e300, hi_c = 0;
                for (int k = 0; k < rounds; k++) {
                        lo_r = ratio[k] < lo_r ? ratio[k] : lo_r;
                        hi_r = ratio[k] > hi_r ? ratio[k] : hi_r;
                        lo_c = per_cyc[k] < lo_c ? per_cyc[k] : lo_c;
                        hi_c = per_cyc[k] > hi_c ? per_cyc[k] : hi_c;
                }
                if (i == 0)
                        fprintf(r, "| %s | %.0f | - | - | - | - | - |\n", rows[0][i].who, median(rate, rounds));
                else
                        fprintf(r, "| %s | %.0f | %.0f%% (%.0f–%.0f%%) | %.0f | %s | %.2f | %.2f (%.2f–%.2f) |\n", rows[0][i].who,
                                median(rate, rounds), median(ratio, rounds), lo_r, hi_r, median(evs, rounds),
                                overflow ? "**yes**" : unknown ? "unknown" : "no", median(per_ev, rounds),
                                median(per_cyc, rounds), lo_c, hi_c);
        }
        if (w)
                fclose(w);
        if (results)
                fclose(r);
        return 0;
}
