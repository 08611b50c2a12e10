/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* throughput: a storm of open/append/close/create/unlink on transcripts in a guarded
 * sessions folder, from 2 processes, for SECONDS (may be fractional); consumed in turn, in
 * the same run, by
 *   - nobody (the storm's own rate),
 *   - a minimal C fanotify reader (the same group flags and marks as lockwarden: the ceiling),
 *   - lockwarden (fanotify, default settings),
 *   - fatrace (fanotify mount mark, output to a file),
 *   - inotifywait -m (inotify, output to a file),
 * in ROUNDS short rounds, the order reversed every other round (A B C D E, E D C B A, ...):
 * a VM's capacity swings over a minute, and short interleaved rounds put every consumer under
 * the same swings. Each figure is the median over the rounds with its range; each comparison
 * with the bare reader is made within a round (the ratio per round, then its median), and
 * each goal of issue 17 gets a verdict with the number of rounds where it held.
 *
 *   throughput [SECONDS] [RESULTS.md] [RAW.tsv] [ROUNDS] [GOALS.tsv]   (root; LW_BUILDDIR) */
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
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench-util.h"
#include "lwtest.h"

static char dir[4300];

static uint64_t storm(double seconds) {
        return bench_storm(dir, seconds);
}

/* PID's CPU time: the scheduler's own sum (/proc/PID/sched, nanoseconds; the consumers are one
 * thread each), or else utime + stime in clock ticks (10 ms: too coarse for short rounds). */
static double cpu_seconds(pid_t pid) {
        char path[64], buf[2048], *p;
        unsigned long long ut = 0, st = 0;
        FILE *f;
        size_t n;

        snprintf(path, sizeof(path), "/proc/%d/sched", (int) pid);
        f = fopen(path, "re");
        if (f) {
                char line[256];
                double ms = -1;
                while (fgets(line, sizeof(line), f))
                        if (strncmp(line, "se.sum_exec_runtime", 19) == 0 && (p = strchr(line, ':'))) {
                                ms = strtod(p + 1, NULL);
                                break;
                        }
                fclose(f);
                if (ms >= 0)
                        return ms / 1000.0;
        }
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

static volatile sig_atomic_t bare_stop;

static void bare_on_term(int sig) {
        (void) sig;
        bare_stop = 1;
}

/* The minimal fanotify reader, in a child: one blocking read() per batch, counting records.
 * On SIGTERM (no SA_RESTART: a blocked read returns EINTR; the parent repeats the signal
 * until it answers, so one that lands just before the read is not lost) it reads what is
 * still queued until the queue stays empty for 20 ms, then writes the count, whether it
 * overflowed and its own CPU seconds (getrusage: microseconds) to OUT. */
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
        struct sigaction sa = { .sa_handler = bare_on_term };
        sigemptyset(&sa.sa_mask);
        if (sigaction(SIGTERM, &sa, NULL) < 0 || write(ready, "r", 1) != 1)
                _exit(1);
        uint64_t events = 0;
        int overflow = 0;
        char buf[65536] __attribute__((aligned(8)));
        for (;;) {
                if (bare_stop) {
                        struct pollfd pf = { .fd = fd, .events = POLLIN };
                        if (poll(&pf, 1, 20) <= 0)
                                break;
                }
                ssize_t n = read(fd, buf, sizeof(buf));
                for (struct fanotify_event_metadata *m = (void *) buf; n > 0 && FAN_EVENT_OK(m, n); m = FAN_EVENT_NEXT(m, n)) {
                        events++;
                        if (m->mask & FAN_Q_OVERFLOW)
                                overflow = 1;
                }
        }
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        dprintf(out, "%llu %d %.6f\n", (unsigned long long) events, overflow,
                (double) (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
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
                /* SIGINT stops it, whatever the caller's shell did: a non-interactive shell
                 * starts background jobs with SIGINT and SIGQUIT ignored, and an ignored
                 * signal stays ignored across exec (the run then waited for ever). */
                sigset_t none;
                sigemptyset(&none);
                sigprocmask(SIG_SETMASK, &none, NULL);
                signal(SIGINT, SIG_DFL);
                signal(SIGQUIT, SIG_DFL);
                execl("/bin/sh", "sh", "-c", cmd, (char *) NULL);
                _exit(127);
        }
        return pid;
}

/* Does FILE contain NEEDLE? (a consumer's output, read whole: it is at most a few MB) */
static bool file_has(const char *path, const char *needle) {
        FILE *f = fopen(path, "re");
        char line[8192];
        bool found = false;

        while (f && !found && fgets(line, sizeof(line), f))
                found = strstr(line, needle) != NULL;
        if (f)
                fclose(f);
        return found;
}

/* Touches NAME in the storm's folder until the consumer writing OUT has printed it (within
 * TIMEOUT_MS): before the storm, that its marks or watches are set; after, that it has read
 * everything the storm queued (each reads its queue in order). Neither program says so
 * itself. */
static void wait_consumer(const char *out, const char *name, int timeout_ms) {
        char path[4400];
        uint64_t deadline = lw_mono_ns() + (uint64_t) timeout_ms * 1000000ull;

        snprintf(path, sizeof(path), "%s/%s", dir, name);
        for (;;) {
                lw_write_file(path, "x", 1);
                unlink(path);
                if (file_has(out, name))
                        return;
                CHECK(lw_mono_ns() < deadline, "the consumer writing %s never printed %s", out, name);
                usleep(10000);
        }
}

/* A consumer that is another program (sh -c CMD, exec'd), printing one line per event into
 * OUT. */
static Row external(const char *who, const char *cmd, const char *out, double seconds) {
        static unsigned marker;
        char name[64];
        uint64_t t0, c;
        double cpu0, secs, cpu;
        pid_t p;

        unlink(out);
        p = spawn_sh(cmd);
        snprintf(name, sizeof(name), "ready-%u.marker", ++marker);
        wait_consumer(out, name, LW_TIMEOUT_MS);
        cpu0 = cpu_seconds(p);
        t0 = lw_mono_ns();
        c = storm(seconds);
        secs = (lw_mono_ns() - t0) / 1e9;
        snprintf(name, sizeof(name), "drained-%u.marker", marker);
        /* A slow consumer catching up is what is measured (fatrace took over 5 s once). */
        wait_consumer(out, name, 120000);
        cpu = cpu_seconds(p) - cpu0;
        lw_kill_wait(p, SIGINT); /* bounded */
        return (Row) { who, c, secs, count_lines(out), -1, cpu };
}

static char state[4200], sock[4200], out[4200];

static Row run_nobody(double seconds) {
        uint64_t t0 = lw_mono_ns(), c = storm(seconds);
        return (Row) { "nobody (the storm alone)", c, (lw_mono_ns() - t0) / 1e9, 0, -1, 0 };
}

static Row run_bare(double seconds) {
        int po[2], pr[2];
        CHECK(pipe(po) == 0 && pipe(pr) == 0, "pipe");
        pid_t b = bare_reader(po[1], pr[1]);
        char ok;
        CHECK(read(pr[0], &ok, 1) == 1, "bare reader");
        uint64_t t0 = lw_mono_ns(), c = storm(seconds);
        double secs = (lw_mono_ns() - t0) / 1e9;
        /* SIGTERM until it answers (bounded). */
        uint64_t deadline = lw_mono_ns() + LW_TIMEOUT_MS * 1000000ull;
        for (struct pollfd pf = { .fd = po[0], .events = POLLIN }; poll(&pf, 1, 0) <= 0; pf.revents = 0) {
                CHECK(lw_mono_ns() < deadline, "the bare reader does not stop");
                kill(b, SIGTERM);
                poll(&pf, 1, 100);
                if (pf.revents & POLLIN)
                        break;
        }
        unsigned long long ev = 0;
        int of = 0;
        double cpu = 0;
        FILE *bf = fdopen(po[0], "r");
        /* It answers once it has read everything queued (its queue then empty for 20 ms). */
        CHECK(fscanf(bf, "%llu %d %lf", &ev, &of, &cpu) == 3, "bare reader result");
        fclose(bf);
        close(po[1]);
        close(pr[0]);
        close(pr[1]);
        waitpid(b, NULL, 0);
        return (Row) { "bare C fanotify reader (the ceiling)", c, secs, ev, of, cpu };
}

static Row run_lockwarden(double seconds) {
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
        double cpu = cpu_seconds(d->pid) - cpu0;
        json_t *s1 = status(sock);
        json_t *cnt = json_object_get(s1, "counters");
        Row row = { "lockwarden", c, secs, (uint64_t) json_integer_value(json_object_get(cnt, "events")) - e0,
                    json_integer_value(json_object_get(cnt, "overflows")) > 0, cpu };
        json_decref(s0);
        json_decref(s1);
        lw_daemon_stop(d);
        return row;
}

static Row run_fatrace(double seconds) {
        char cmd[13000];
        /* A mount mark from the storm's folder, everything written to a file. */
        snprintf(cmd, sizeof(cmd), "cd '%s' && exec fatrace -c -o '%s'", dir, out);
        return external("fatrace", cmd, out, seconds);
}

static Row run_inotifywait(double seconds) {
        char cmd[13000];
        snprintf(cmd, sizeof(cmd), "exec inotifywait -m -q -e open,close,modify,create,delete,move --format '%%e %%f' -o '%s' '%s'",
                 out, dir);
        return external("inotifywait -m", cmd, out, seconds);
}

enum { NOBODY, BARE, LOCKWARDEN, FATRACE, INOTIFYWAIT, N_CONSUMERS };
#define MAX_ROUNDS 64

static Row rows[MAX_ROUNDS][N_CONSUMERS];

static double rate(int k, int i) {
        return (double) rows[k][i].cycles / rows[k][i].seconds;
}

/* CPU seconds per million storm cycles. */
static double per_cycle(int k, int i) {
        return rows[k][i].cpu / ((double) rows[k][i].cycles / 1e6);
}

/* Median, min and max of V (N values; V is sorted). */
typedef struct Spread {
        double median, lo, hi;
} Spread;

static Spread spread(double *v, int n) {
        double m = bench_median_d(v, (size_t) n);
        return (Spread) { m, v[0], v[n - 1] };
}

static bool have(const char *program) {
        char cmd[256];
        snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", program);
        return system(cmd) == 0;
}

int main(int argc, char **argv) {
        double seconds = argc > 1 ? strtod(argv[1], NULL) : 1.5;
        const char *results = argc > 2 ? argv[2] : NULL, *raw = argc > 3 ? argv[3] : NULL;
        int rounds = argc > 4 ? (int) strtol(argv[4], NULL, 10) : 10;
        const char *goals = argc > 5 ? argv[5] : NULL;
        char *tmp = lw_tmpdir(), machine[1024];
        Row (*const run[N_CONSUMERS])(double) = { run_nobody, run_bare, run_lockwarden, run_fatrace, run_inotifywait };

        lw_require_root();
        lw_require_fanotify();
        CHECK(rounds >= 1 && rounds <= MAX_ROUNDS, "rounds: 1 to %d", MAX_ROUNDS);
        CHECK(seconds > 0, "seconds: more than 0");
        CHECK(have("fatrace") && have("inotifywait"), "fatrace and inotifywait are needed (Debian: fatrace, inotify-tools)");
        snprintf(state, sizeof(state), "%s/state", tmp);
        snprintf(dir, sizeof(dir), "%.4000s/agents/main/sessions", state);
        lw_mkdir_p(dir);
        snprintf(sock, sizeof(sock), "%s/sock", tmp);
        snprintf(out, sizeof(out), "%s/consumer.out", tmp);

        /* Each consumer once per round, the order reversed every other round: A B C D E,
         * E D C B A, ... (each is as often early as late, and next to the same neighbours). */
        FILE *w = raw ? fopen(raw, "we") : NULL;
        CHECK(!raw || w, "cannot write %s", raw);
        if (w)
                fprintf(w, "round\tposition\tconsumer\tcycles\tseconds\tevents\toverflow\tcpu_s\n");
        for (int k = 0; k < rounds; k++)
                for (int j = 0; j < N_CONSUMERS; j++) {
                        int i = k % 2 ? N_CONSUMERS - 1 - j : j;
                        Row *x = &rows[k][i];
                        *x = run[i](seconds);
                        if (w)
                                fprintf(w, "%d\t%d\t%s\t%llu\t%.3f\t%llu\t%d\t%.3f\n", k, j, x->who, (unsigned long long) x->cycles,
                                        x->seconds, (unsigned long long) x->events, x->overflow, x->cpu);
                        fprintf(stderr, "round %d: %s: %.0f cycles/s, %.2f CPU s per 1M cycles\n", k, x->who, rate(k, i),
                                i == NOBODY ? 0 : per_cycle(k, i));
                }
        if (w)
                fclose(w);

        bench_machine(machine, sizeof(machine));
        FILE *r = results ? fopen(results, "we") : stdout;
        CHECK(r, "cannot write %s", results);
        fprintf(r, "# Event throughput\n\nMeasured by `make bench` (`bench/throughput %g`, %d rounds) on %s.\n\n", seconds,
                rounds, machine);
        fprintf(r, "A storm of open/append/close on 64 transcripts per process, every 8th unlinked, from 2\n"
                   "processes for %g s, against each consumer in turn (the storm and the consumer share the\n"
                   "CPUs), in %d short rounds, the order reversed every other round (A B C D E, E D C B A,\n"
                   "...). Each figure is the median over the rounds, with the rounds' range; a comparison with\n"
                   "the bare reader is made within each round, then its median taken. The comparable figures\n"
                   "are the storm's rate while each consumer keeps up (a consumer's CPU is taken from the\n"
                   "storm's) and CPU per storm cycle: the event counts are not alike (fanotify merges a\n"
                   "process's queued events on one file into one record, inotify folds only identical ones;\n"
                   "fatrace and inotifywait count printed lines). A consumer's CPU is the scheduler's sum\n"
                   "(/proc/PID/sched, ns) once it has read everything queued; the bare reader's, its getrusage(). Raw rows: `bench/raw/throughput.tsv`.\n\n",
                seconds, rounds);
        fprintf(r, "| consumer | storm cycles/s | vs beside the bare reader | events/s | rounds with overflow | "
                   "CPU s per 1M events | CPU s per 1M storm cycles | vs the bare reader's |\n"
                   "|---|---:|---:|---:|---|---:|---:|---:|\n");
        for (int i = 0; i < N_CONSUMERS; i++) {
                double rt[MAX_ROUNDS], ratio[MAX_ROUNDS], evs[MAX_ROUNDS], per_ev[MAX_ROUNDS], per_cyc[MAX_ROUNDS],
                        cpu_ratio[MAX_ROUNDS];
                int overflow = 0, unknown = 0;
                for (int k = 0; k < rounds; k++) {
                        Row *x = &rows[k][i];
                        rt[k] = rate(k, i);
                        ratio[k] = 100.0 * rt[k] / rate(k, BARE);
                        evs[k] = x->events / x->seconds;
                        per_ev[k] = x->events ? x->cpu / ((double) x->events / 1e6) : 0;
                        per_cyc[k] = per_cycle(k, i);
                        cpu_ratio[k] = per_cycle(k, BARE) > 0 ? per_cyc[k] / per_cycle(k, BARE) : 0;
                        overflow += x->overflow > 0;
                        unknown |= x->overflow < 0;
                }
                Spread sr = spread(rt, rounds), sq = spread(ratio, rounds), sc = spread(per_cyc, rounds),
                       sx = spread(cpu_ratio, rounds);
                char of[32];
                snprintf(of, sizeof(of), overflow ? "**%d**" : "%d", overflow);
                if (i == NOBODY)
                        fprintf(r, "| %s | %.0f (%.0f–%.0f) | - | - | - | - | - | - |\n", rows[0][i].who, sr.median, sr.lo, sr.hi);
                else
                        fprintf(r, "| %s | %.0f (%.0f–%.0f) | %.0f%% (%.0f–%.0f%%) | %.0f | %s | %.2f | %.2f (%.2f–%.2f) | %.2f× (%.2f–%.2f) |\n",
                                rows[0][i].who, sr.median, sr.lo, sr.hi, sq.median, sq.lo, sq.hi,
                                bench_median_d(evs, (size_t) rounds), unknown ? "unknown (prints no overflow)" : of,
                                bench_median_d(per_ev, (size_t) rounds), sc.median, sc.lo, sc.hi, sx.median, sx.lo, sx.hi);
        }

        /* The goals (issue 17), each judged round by round. */
        double cpu_ratio[MAX_ROUNDS], rate_ratio[MAX_ROUNDS], lw[MAX_ROUNDS], bare[MAX_ROUNDS], fa[MAX_ROUNDS],
                in[MAX_ROUNDS];
        int cpu_held = 0, below_both = 0, rate_held = 0, lw_overflows = 0;
        for (int k = 0; k < rounds; k++) {
                lw[k] = per_cycle(k, LOCKWARDEN);
                bare[k] = per_cycle(k, BARE);
                fa[k] = per_cycle(k, FATRACE);
                in[k] = per_cycle(k, INOTIFYWAIT);
                cpu_ratio[k] = bare[k] > 0 ? lw[k] / bare[k] : 1e9;
                rate_ratio[k] = rate(k, LOCKWARDEN) / rate(k, BARE);
                cpu_held += cpu_ratio[k] <= 1.25;
                below_both += lw[k] < fa[k] && lw[k] < in[k];
                rate_held += rate_ratio[k] >= 0.90;
                lw_overflows += rows[k][LOCKWARDEN].overflow > 0;
        }
        double m_cpu = bench_median_d(cpu_ratio, (size_t) rounds), m_rate = bench_median_d(rate_ratio, (size_t) rounds);
        double m_lw = bench_median_d(lw, (size_t) rounds), m_bare = bench_median_d(bare, (size_t) rounds),
               m_fa = bench_median_d(fa, (size_t) rounds), m_in = bench_median_d(in, (size_t) rounds);
        bool ok_cpu = m_cpu <= 1.25, ok_below = below_both == rounds, ok_rate = m_rate >= 0.90, ok_of = lw_overflows == 0;
        char fig[256], ref[256];
        FILE *g = goals ? fopen(goals, "we") : NULL;
        CHECK(!goals || g, "cannot write %s", goals);

        fprintf(r, "\n| goal (issue 17) | target | this run | met |\n|---|---|---|---|\n");
        snprintf(fig, sizeof(fig), "%.2f× (median of the rounds' ratios; held in %d of %d rounds)", m_cpu, cpu_held, rounds);
        snprintf(ref, sizeof(ref), "lockwarden %.2f, bare reader %.2f CPU s per 1M storm cycles (medians)", m_lw, m_bare);
        fprintf(r, "| CPU per storm cycle, lockwarden / the bare fanotify reader | ≤ 1.25× | %s; %s | %s |\n", fig, ref,
                ok_cpu ? "yes" : "**no**");
        bench_goal(g, "throughput: CPU per storm cycle vs the bare fanotify reader", "≤ 1.25× (median)", fig, ref, ok_cpu);

        snprintf(fig, sizeof(fig), "below both in %d of %d rounds", below_both, rounds);
        snprintf(ref, sizeof(ref), "fatrace %.2f, inotifywait %.2f CPU s per 1M storm cycles (medians)", m_fa, m_in);
        fprintf(r, "| CPU per storm cycle below fatrace's and inotifywait's | every round | %s; %s | %s |\n", fig, ref,
                ok_below ? "yes" : "**no**");
        bench_goal(g, "throughput: CPU per storm cycle below fatrace and inotifywait", "every round", fig, ref, ok_below);

        snprintf(fig, sizeof(fig), "%.0f%% (median of the rounds' ratios; ≥ 90%% in %d of %d rounds)", 100 * m_rate, rate_held,
                 rounds);
        snprintf(ref, sizeof(ref), "the storm's rate beside the bare reader, same round");
        fprintf(r, "| the storm's rate beside lockwarden / beside the bare reader | ≥ 90%% | %s; %s | %s |\n", fig, ref,
                ok_rate ? "yes" : "**no**");
        bench_goal(g, "throughput: the storm's rate beside lockwarden vs beside the bare reader", "≥ 90% (median)", fig, ref,
                   ok_rate);

        snprintf(fig, sizeof(fig), "%d of %d rounds overflowed", lw_overflows, rounds);
        fprintf(r, "| lockwarden's queue overflows under the storm | 0 | %s | %s |\n", fig, ok_of ? "yes" : "**no**");
        bench_goal(g, "throughput: lockwarden's queue overflows", "0", fig, "`status` counters.overflows", ok_of);
        if (g)
                fclose(g);
        if (results)
                fclose(r);
        return 0;
}
