/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* throughput: a storm of open/append/close/create/unlink on transcripts in a guarded
 * sessions folder, from 2 processes, for SECONDS; consumed in turn, in the same run, by
 *   - nobody (the storm's own rate),
 *   - a minimal C fanotify reader (the same group flags and marks as lockwarden: the ceiling),
 *   - lockwarden (fanotify, default settings),
 *   - fatrace (fanotify mount mark, output discarded),
 *   - inotifywait -m (inotify, output discarded),
 * and reports for each: the storm's rate meanwhile, the events it consumed, whether its queue
 * overflowed, and its CPU seconds per million events.
 *
 *   throughput [SECONDS] [RESULTS.md] [RAW.tsv]          (root; LW_BUILDDIR) */
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

int main(int argc, char **argv) {
        int seconds = argc > 1 ? atoi(argv[1]) : 5;
        const char *results = argc > 2 ? argv[2] : NULL, *raw = argc > 3 ? argv[3] : NULL;
        char *tmp = lw_tmpdir(), state[4200], sock[4200], out[4200], cmd[13000], machine[512];
        Row rows[5];
        int nrows = 0;

        lw_require_root();
        lw_require_fanotify();
        snprintf(state, sizeof(state), "%s/state", tmp);
        snprintf(dir, sizeof(dir), "%.4000s/agents/main/sessions", state);
        lw_mkdir_p(dir);
        snprintf(sock, sizeof(sock), "%s/sock", tmp);
        snprintf(out, sizeof(out), "%s/consumer.out", tmp);

        /* 1. nobody */
        uint64_t t0 = lw_mono_ns(), c = storm(seconds);
        rows[nrows++] = (Row) { "nobody (the storm alone)", c, (lw_mono_ns() - t0) / 1e9, 0, -1, 0 };

        /* 2. the bare fanotify reader */
        int po[2], pr[2];
        CHECK(pipe(po) == 0 && pipe(pr) == 0, "pipe");
        pid_t b = bare_reader(po[1], pr[1]);
        char ok;
        CHECK(read(pr[0], &ok, 1) == 1, "bare reader");
        t0 = lw_mono_ns();
        c = storm(seconds);
        double secs = (lw_mono_ns() - t0) / 1e9, cpu = cpu_seconds(b);
        kill(b, SIGTERM);
        unsigned long long ev = 0;
        int of = 0;
        FILE *bf = fdopen(po[0], "r");
        CHECK(fscanf(bf, "%llu %d", &ev, &of) == 2, "bare reader result");
        waitpid(b, NULL, 0);
        rows[nrows++] = (Row) { "bare C fanotify reader (the ceiling)", c, secs, ev, of, cpu };

        /* 3. lockwarden */
        const char *args[] = { "--state-dir", state, "--socket", sock, NULL };
        LwDaemon *d = lw_daemon_start(NULL, args, NULL);
        lw_daemon_ready(d);
        json_t *s0 = status(sock);
        uint64_t e0 = (uint64_t) json_integer_value(json_object_get(json_object_get(s0, "counters"), "events"));
        double cpu0 = cpu_seconds(d->pid);
        t0 = lw_mono_ns();
        c = storm(seconds);
        secs = (lw_mono_ns() - t0) / 1e9;
        /* Everything queued is read before this answer (cleanup drains the queue). */
        snprintf(cmd, sizeof(cmd), "%s/src/lockwarden cleanup --socket '%s' >/dev/null", lw_builddir(), sock);
        CHECK(system(cmd) == 0, "cleanup");
        json_t *s1 = status(sock);
        json_t *cnt = json_object_get(s1, "counters");
        rows[nrows++] = (Row) { "lockwarden", c, secs, (uint64_t) json_integer_value(json_object_get(cnt, "events")) - e0,
                                json_integer_value(json_object_get(cnt, "overflows")) > 0, cpu_seconds(d->pid) - cpu0 };
        lw_daemon_stop(d);

        /* 4. fatrace: a mount mark from the storm's folder, everything written to a file. */
        snprintf(cmd, sizeof(cmd), "cd '%s' && exec fatrace -c -o '%s'", dir, out);
        rows[nrows++] = external("fatrace", cmd, out, seconds);

        /* 5. inotifywait -m on the folder. */
        snprintf(cmd, sizeof(cmd), "exec inotifywait -m -q -e open,close,modify,create,delete,move --format '%%e %%f' -o '%s' '%s'",
                 out, dir);
        rows[nrows++] = external("inotifywait -m", cmd, out, seconds);

        bench_machine(machine, sizeof(machine));
        FILE *r = results ? fopen(results, "we") : stdout;
        FILE *w = raw ? fopen(raw, "we") : NULL;
        fprintf(r, "# Event throughput\n\nMeasured by `make bench` (`bench/throughput %d`) on %s.\n", seconds, machine);
        fprintf(r, "A storm of open/append/close on 64 transcripts per process, every 8th unlinked, from 2\n"
                   "processes for %d s, against each consumer in turn (the storm and the consumer share the 2\n"
                   "CPUs). The comparable figures are the storm's rate while each consumer keeps up (a\n"
                   "consumer's CPU is taken from the storm's) and CPU per storm cycle: the event counts are\n"
                   "not alike (fanotify merges a process's queued events on one file into one record,\n"
                   "inotify folds only identical ones; fatrace and inotifywait count printed lines).\n\n",
                seconds);
        fprintf(r, "| consumer | storm cycles/s | vs bare reader | events consumed | events/s | overflow | CPU s | "
                   "CPU s per 1M events | CPU s per 1M storm cycles |\n"
                   "|---|---:|---:|---:|---:|---|---:|---:|---:|\n");
        for (int i = 0; i < nrows; i++) {
                Row *x = &rows[i];
                char per[32] = "-", per_cycle[32] = "-", ratio[32] = "-";
                if (x->events)
                        snprintf(per, sizeof(per), "%.2f", x->cpu / ((double) x->events / 1e6));
                if (i > 0)
                        snprintf(per_cycle, sizeof(per_cycle), "%.2f", x->cpu / ((double) x->cycles / 1e6));
                if (i > 0)
                        snprintf(ratio, sizeof(ratio), "%.0f%%", 100.0 * (x->cycles / x->seconds) /
                                                                   (rows[1].cycles / rows[1].seconds));
                fprintf(r, "| %s | %.0f | %s | %llu | %.0f | %s | %.2f | %s | %s |\n", x->who, x->cycles / x->seconds,
                        ratio, (unsigned long long) x->events, x->events / x->seconds,
                        x->overflow < 0 ? (i == 0 ? "-" : "unknown") : x->overflow ? "**yes**" : "no", x->cpu, per,
                        per_cycle);
                if (w)
                        fprintf(w, "%s\t%llu\t%.3f\t%llu\t%d\t%.3f\n", x->who, (unsigned long long) x->cycles, x->seconds,
                                (unsigned long long) x->events, x->overflow, x->cpu);
        }
        if (w)
                fclose(w);
        if (results)
                fclose(r);
        return 0;
}
