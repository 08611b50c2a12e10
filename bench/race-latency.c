/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* race-latency: how soon a takeover race is reported after the syscall that made it.
 *
 * N times each, with real holders (tests/lock-holder) and this program as the offender:
 *   race.lock-stolen      unlink() of a held lock
 *   race.double-holder    the O_EXCL create of a new lock while the robbed holder holds the old
 *   race.foreign-write    write() to the transcript of a session another process holds
 *   race.unlocked-write   write() to a transcript with no lock
 * and, as the reference in the same run, unlink() → a bare fanotify reader's read() returning.
 * Latency: time just before the syscall → mono_ns of the report (the daemon's clock at
 * emission; same CLOCK_MONOTONIC). Writes are measured with --race-coalesce-ms 0 (report every
 * write at once); a last series shows the default 250 ms coalescing window.
 *
 *   race-latency [N] [RESULTS.md] [RAW.tsv]
 */
#include <fcntl.h>
#include <signal.h>
#include <sys/fanotify.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bench-util.h"
#include "lwtest.h"

enum { BARE, STOLEN, DOUBLE, FOREIGN, UNLOCKED, COALESCED, _KINDS };

static const char *const kind_name[_KINDS] = {
        "reference: bare fanotify reader, unlink() → its read() returns the record",
        "race.lock-stolen", "race.double-holder", "race.foreign-write", "race.unlocked-write",
        "race.unlocked-write (default 250 ms coalescing)",
};

/* The reference: a minimal reader with lockwarden's own group flags and mark, in a child; for
 * each FAN_DELETE it writes the CLOCK_MONOTONIC time its read() returned to OUT. */
static pid_t bare_reader(const char *dir, int out, int ready) {
        pid_t pid = fork();

        CHECK(pid >= 0, "fork");
        if (pid != 0)
                return pid;
        int fd = fanotify_init(FAN_CLASS_NOTIF | FAN_CLOEXEC | FAN_UNLIMITED_MARKS | FAN_REPORT_DFID_NAME | FAN_REPORT_FID,
                               O_RDONLY | O_CLOEXEC | O_LARGEFILE);
        if (fd < 0 || fanotify_mark(fd, FAN_MARK_ADD, FAN_OPEN | FAN_CLOSE | FAN_MODIFY | FAN_CREATE | FAN_DELETE |
                                                          FAN_MOVED_FROM | FAN_MOVED_TO | FAN_EVENT_ON_CHILD,
                                    AT_FDCWD, dir) < 0)
                _exit(1);
        if (write(ready, "r", 1) != 1)
                _exit(1);
        char buf[8192] __attribute__((aligned(8)));
        for (;;) {
                ssize_t n = read(fd, buf, sizeof(buf));
                uint64_t t = lw_mono_ns();
                for (struct fanotify_event_metadata *m = (void *) buf; n > 0 && FAN_EVENT_OK(m, n); m = FAN_EVENT_NEXT(m, n))
                        if ((m->mask & FAN_DELETE) && write(out, &t, sizeof(t)) != sizeof(t))
                                _exit(1);
        }
}

static uint64_t since(json_t *ev, uint64_t t0) {
        return ((uint64_t) jint(ev, "mono_ns") - t0) / 1000;
}

static void append(const char *path) {
        int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        CHECK(fd >= 0 && write(fd, "{}\n", 3) == 3 && close(fd) == 0, "append %s", path);
}

int main(int argc, char **argv) {
        size_t n = argc > 1 ? (size_t) atoi(argv[1]) : 100, n_coalesced = n < 10 ? n : 10;
        const char *out = argc > 2 ? argv[2] : "bench/results-races.md";
        const char *raw = argc > 3 ? argv[3] : NULL;
        uint64_t *lat[_KINDS];
        size_t count[_KINDS] = { n, n, n, n, n, n_coalesced };
        char name[96];

        for (int k = 0; k < _KINDS; k++)
                lat[k] = calloc(n, sizeof(uint64_t));

        const char *immediate[] = { "--race-coalesce-ms", "0", NULL };
        LwEnv e;
        lw_env_start(&e, "1000", immediate);
        for (size_t i = 0; i < n; i++) {
                snprintf(name, sizeof(name), "stolen-%zu.jsonl.lock", i);
                char *lock = lw_path(e.sessions, name);
                pid_t h = lw_holder_start(lock, NULL);
                lw_expect(e.d, LW_TIMEOUT_MS, "lock.acquired", "lock", lock);

                uint64_t t0 = lw_mono_ns();
                CHECK(unlink(lock) == 0, "unlink");
                lat[STOLEN][i] = since(lw_expect(e.d, LW_TIMEOUT_MS, "race.lock-stolen", "lock", lock), t0);

                t0 = lw_mono_ns();
                int fd = open(lock, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
                CHECK(fd >= 0, "create");
                lat[DOUBLE][i] = since(lw_expect(e.d, LW_TIMEOUT_MS, "race.double-holder", "lock", lock), t0);
                close(fd);
                unlink(lock);
                lw_kill_wait(h, SIGTERM);

                snprintf(name, sizeof(name), "foreign-%zu.jsonl.lock", i);
                char *flock = lw_path(e.sessions, name);
                snprintf(name, sizeof(name), "foreign-%zu.jsonl", i);
                char *ft = lw_path(e.sessions, name);
                h = lw_holder_start(flock, NULL);
                lw_expect(e.d, LW_TIMEOUT_MS, "lock.acquired", "lock", flock);
                t0 = lw_mono_ns();
                append(ft);
                lat[FOREIGN][i] = since(lw_expect(e.d, LW_TIMEOUT_MS, "race.foreign-write", "session", ft), t0);
                lw_kill_wait(h, SIGTERM);

                snprintf(name, sizeof(name), "unlocked-%zu.jsonl", i);
                char *ut = lw_path(e.sessions, name);
                t0 = lw_mono_ns();
                append(ut);
                lat[UNLOCKED][i] = since(lw_expect(e.d, LW_TIMEOUT_MS, "race.unlocked-write", "session", ut), t0);
                free(lock);
                free(flock);
                free(ft);
                free(ut);
        }
        CHECK(lw_daemon_stop(e.d) == 0, "daemon exit");

        /* The reference, in the same run: how soon any fanotify reader can know of an unlink. */
        {
                char *dir = lw_tmpdir();
                int po[2], pr[2];
                char ok;
                CHECK(pipe(po) == 0 && pipe(pr) == 0, "pipe");
                pid_t b = bare_reader(dir, po[1], pr[1]);
                CHECK(read(pr[0], &ok, 1) == 1, "the bare reader did not start");
                for (size_t i = 0; i < n; i++) {
                        char *f = lw_path(dir, "x.jsonl.lock");
                        uint64_t t0, t;
                        lw_write_file(f, "{}", 2);
                        t0 = lw_mono_ns();
                        CHECK(unlink(f) == 0, "unlink");
                        CHECK(read(po[0], &t, sizeof(t)) == sizeof(t), "bare reader");
                        lat[BARE][i] = (t - t0) / 1000;
                        free(f);
                }
                lw_kill_wait(b, SIGKILL);
        }

        LwEnv d;
        lw_env_start(&d, "1000", NULL);
        for (size_t i = 0; i < n_coalesced; i++) {
                snprintf(name, sizeof(name), "coalesced-%zu.jsonl", i);
                char *t = lw_path(d.sessions, name);
                uint64_t t0 = lw_mono_ns();
                append(t);
                lat[COALESCED][i] = since(lw_expect(d.d, LW_TIMEOUT_MS, "race.unlocked-write", "session", t), t0);
                free(t);
        }
        CHECK(lw_daemon_stop(d.d) == 0, "daemon exit");

        char machine[512];
        bench_machine(machine, sizeof(machine));
        FILE *o = fopen(out, "we");
        CHECK(o, "cannot write %s", out);
        fprintf(o, "# Takeover race detection latency\n\n"
                   "Measured by `make bench` (`bench/race-latency %zu`) on %s.\n"
                   "Each sample: the syscall that makes the race (by this program, against a real holder\n"
                   "taking locks as in PROTOCOL.md) → the race report's `mono_ns` (the daemon's clock when\n"
                   "it emitted the report). Writes with `--race-coalesce-ms 0`, except the last row. The\n"
                   "first row is the limit: a bare fanotify reader with the same flags, in the same run.\n\n"
                   "| race | samples | median µs | p99 µs | max µs |\n|---|---:|---:|---:|---:|\n",
                n, machine);
        for (int k = 0; k < _KINDS; k++) {
                Stats s = bench_stats(lat[k], count[k]);
                fprintf(o, "| `%s` | %zu | %.0f | %.0f | %.0f |\n", kind_name[k], count[k], s.median, s.p99, s.max);
                printf("%s: median %.0f µs, max %.0f µs\n", kind_name[k], s.median, s.max);
        }
        fprintf(o, "\nWith coalescing (the default), a burst of writes by one process is one report, sent\n"
                   "when no write came for 250 ms or a lock appeared: the last row is that wait plus\n"
                   "the detection itself.\n");
        fclose(o);

        if (raw) {
                FILE *r = fopen(raw, "we");
                CHECK(r, "cannot write %s", raw);
                fprintf(r, "kind\ti\tlatency_us\n");
                for (int k = 0; k < _KINDS; k++)
                        for (size_t i = 0; i < count[k]; i++)
                                fprintf(r, "%d\t%zu\t%llu\n", k, i, (unsigned long long) lat[k][i]);
                fclose(r);
        }
        return 0;
}
