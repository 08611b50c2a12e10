/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* race-latency: how soon a takeover race is reported after the syscall that made it, next to
 * how soon a bare fanotify reader running at the same time learns of that same syscall.
 *
 * N times each, with real holders (tests/lock-holder) and this program as the offender:
 *   race.lock-stolen      unlink() of a held lock                       (bare reader: FAN_DELETE)
 *   race.double-holder    the O_EXCL create of a new lock while the robbed holder holds the old
 *                                                                       (bare reader: FAN_CREATE)
 *   race.foreign-write    write() to the transcript of a session another process holds
 *                                                                       (bare reader: FAN_MODIFY)
 *   race.unlocked-write   write() to a transcript with no lock           (bare reader: FAN_MODIFY)
 * Each sample is a pair: time just before the syscall → mono_ns of the daemon's report (its
 * clock at emission), and → the CLOCK_MONOTONIC time the bare reader's read() returned the
 * record of that syscall (its kind, this program's pid, the file's name). The bare reader has
 * lockwarden's own group flags, marks the daemon's sessions folder and runs concurrently with
 * the daemon from before the first sample. Writes are measured with --race-coalesce-ms 0
 * (report every write at once); a last series shows the default 250 ms coalescing window.
 *
 *   race-latency [N] [RESULTS.md] [RAW.tsv] [GOALS.tsv]
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/fanotify.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bench-util.h"
#include "lwtest.h"

enum { STOLEN, DOUBLE, FOREIGN, UNLOCKED, COALESCED, _KINDS };

static const char *const kind_name[_KINDS] = {
        "race.lock-stolen", "race.double-holder", "race.foreign-write", "race.unlocked-write",
        "race.unlocked-write (default 250 ms coalescing)",
};
static const char *const kind_syscall[_KINDS] = {
        "`unlink()` (FAN_DELETE)", "the `O_EXCL` create (FAN_CREATE)", "`write()` (FAN_MODIFY)", "`write()` (FAN_MODIFY)", "`write()`",
};

/* What the bare reader says of each record: when its read() returned, the kind, the pid, the
 * name in the folder. */
typedef struct Record {
        uint64_t t, mask;
        int32_t pid;
        char name[68];
} Record;

/* The reference: a minimal reader with lockwarden's own group flags and mark on DIR, in a
 * child; every record goes to OUT as a Record. */
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
                for (struct fanotify_event_metadata *m = (void *) buf; n > 0 && FAN_EVENT_OK(m, n); m = FAN_EVENT_NEXT(m, n)) {
                        Record r = { .t = t, .mask = m->mask, .pid = m->pid };
                        /* The name follows the parent's handle in the DFID_NAME record. */
                        for (char *p = (char *) (m + 1); p < (char *) m + m->event_len;) {
                                struct fanotify_event_info_fid *info = (void *) p;
                                if (info->hdr.len == 0)
                                        break;
                                if (info->hdr.info_type == FAN_EVENT_INFO_TYPE_DFID_NAME) {
                                        struct file_handle *fh = (void *) info->handle;
                                        snprintf(r.name, sizeof(r.name), "%s", (char *) fh->f_handle + fh->handle_bytes);
                                }
                                p += info->hdr.len;
                        }
                        if (write(out, &r, sizeof(r)) != sizeof(r))
                                _exit(1);
                }
        }
}

static int bare_out = -1;

/* The bare reader's first record of MASK on NAME by this process, read after T0 (records
 * before it, or of other files, kinds or processes, are passed over). Bounded. */
static uint64_t bare_since(uint64_t mask, const char *path, uint64_t t0) {
        const char *name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
        uint64_t deadline = lw_mono_ns() + LW_TIMEOUT_MS * 1000000ull;
        Record r;

        for (;;) {
                struct pollfd p = { .fd = bare_out, .events = POLLIN };
                uint64_t now = lw_mono_ns();
                CHECK(now < deadline, "the bare reader never reported %s", name);
                if (poll(&p, 1, (int) ((deadline - now) / 1000000) + 1) < 1)
                        continue;
                CHECK(read(bare_out, &r, sizeof(r)) == sizeof(r), "bare reader");
                if ((r.mask & mask) && r.pid == getpid() && r.t >= t0 && strcmp(r.name, name) == 0)
                        return r.t - t0;
        }
}

static uint64_t since(json_t *ev, uint64_t t0) {
        return (uint64_t) jint(ev, "mono_ns") - t0;
}

static void append(const char *path) {
        int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        CHECK(fd >= 0 && write(fd, "{}\n", 3) == 3 && close(fd) == 0, "append %s", path);
}

int main(int argc, char **argv) {
        size_t n = argc > 1 ? (size_t) atoi(argv[1]) : 100, n_coalesced = n < 10 ? n : 10;
        const char *out = argc > 2 ? argv[2] : "bench/results-races.md";
        const char *raw = argc > 3 ? argv[3] : NULL, *goals = argc > 4 ? argv[4] : NULL;
        uint64_t *lat[_KINDS], *bare[_KINDS];
        size_t count[_KINDS] = { n, n, n, n, n_coalesced };
        char name[96];

        CHECK(n >= 1, "N: at least 1");
        for (int k = 0; k < _KINDS; k++) {
                lat[k] = calloc(n, sizeof(uint64_t));
                bare[k] = calloc(n, sizeof(uint64_t));
        }

        const char *immediate[] = { "--race-coalesce-ms", "0", NULL };
        LwEnv e;
        lw_env_start(&e, "1000", immediate);

        /* The reference, beside the daemon for every sample: a bare reader on the same folder. */
        int po[2], pr[2];
        char ok;
        CHECK(pipe2(po, O_CLOEXEC) == 0 && pipe2(pr, O_CLOEXEC) == 0, "pipe");
        (void) fcntl(po[1], F_SETPIPE_SZ, 1 << 20);
        pid_t b = bare_reader(e.sessions, po[1], pr[1]);
        CHECK(read(pr[0], &ok, 1) == 1, "the bare reader did not start");
        bare_out = po[0];

        for (size_t i = 0; i < n; i++) {
                snprintf(name, sizeof(name), "stolen-%zu.jsonl.lock", i);
                char *lock = lw_path(e.sessions, name);
                pid_t h = lw_holder_start(lock, NULL);
                lw_expect(e.d, LW_TIMEOUT_MS, "lock.acquired", "lock", lock);

                uint64_t t0 = lw_mono_ns();
                CHECK(unlink(lock) == 0, "unlink");
                lat[STOLEN][i] = since(lw_expect(e.d, LW_TIMEOUT_MS, "race.lock-stolen", "lock", lock), t0);
                bare[STOLEN][i] = bare_since(FAN_DELETE, lock, t0);

                t0 = lw_mono_ns();
                int fd = open(lock, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
                CHECK(fd >= 0, "create");
                lat[DOUBLE][i] = since(lw_expect(e.d, LW_TIMEOUT_MS, "race.double-holder", "lock", lock), t0);
                bare[DOUBLE][i] = bare_since(FAN_CREATE, lock, t0);
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
                bare[FOREIGN][i] = bare_since(FAN_MODIFY, ft, t0);
                lw_kill_wait(h, SIGTERM);

                snprintf(name, sizeof(name), "unlocked-%zu.jsonl", i);
                char *ut = lw_path(e.sessions, name);
                t0 = lw_mono_ns();
                append(ut);
                lat[UNLOCKED][i] = since(lw_expect(e.d, LW_TIMEOUT_MS, "race.unlocked-write", "session", ut), t0);
                bare[UNLOCKED][i] = bare_since(FAN_MODIFY, ut, t0);
                free(lock);
                free(flock);
                free(ft);
                free(ut);
        }
        lw_kill_wait(b, SIGKILL);
        CHECK(lw_daemon_stop(e.d) == 0, "daemon exit");

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

        char machine[1024];
        bench_machine(machine, sizeof(machine));
        FILE *o = fopen(out, "we");
        CHECK(o, "cannot write %s", out);
        FILE *g = goals ? fopen(goals, "we") : NULL;
        CHECK(!goals || g, "cannot write %s", goals);
        fprintf(o, "# Takeover race detection latency\n\n"
                   "Measured by `make bench` (`bench/race-latency %zu`) on %s.\n\n"
                   "Each sample: the syscall that makes the race (by this program, against a real holder\n"
                   "taking locks as in PROTOCOL.md) → the race report's `mono_ns` (the daemon's clock when\n"
                   "it emitted the report), and → the moment a bare fanotify reader (lockwarden's group\n"
                   "flags, marking the same folder, running beside the daemon for every sample) had the\n"
                   "record of that same syscall from its `read()`. Writes with `--race-coalesce-ms 0`,\n"
                   "except the last row. Raw pairs: `bench/raw/race-latency.tsv` (ns).\n\n"
                   "| race | the syscall (the bare reader's record) | samples | report median µs | p99 | max | "
                   "bare reader median µs | p99 | report / bare reader, median of the samples' ratios |\n"
                   "|---|---|---:|---:|---:|---:|---:|---:|---:|\n",
                n, machine);
        for (int k = 0; k < _KINDS; k++) {
                Stats s = bench_stats(lat[k], count[k]);
                if (k == COALESCED) {
                        fprintf(o, "| `%s` | %s | %zu | %.0f | %.0f | %.0f | - | - | - |\n", kind_name[k], kind_syscall[k],
                                count[k], s.median / 1e3, s.p99 / 1e3, s.max / 1e3);
                        continue;
                }
                Stats sb = bench_stats(bare[k], count[k]);
                double *ratio = calloc(count[k], sizeof(double));
                for (size_t i = 0; i < count[k]; i++)
                        ratio[i] = bare[k][i] ? (double) lat[k][i] / (double) bare[k][i] : 1e9;
                double mr = bench_median_d(ratio, count[k]);
                size_t held = 0;
                for (size_t i = 0; i < count[k]; i++)
                        held += ratio[i] <= 2.0;
                free(ratio);
                fprintf(o, "| `%s` | %s | %zu | %.0f | %.0f | %.0f | %.1f | %.1f | %.1f× |\n", kind_name[k], kind_syscall[k],
                        count[k], s.median / 1e3, s.p99 / 1e3, s.max / 1e3, sb.median / 1e3, sb.p99 / 1e3, mr);
                printf("%s: median %.0f µs (bare reader %.1f µs), median ratio %.1f×\n", kind_name[k], s.median / 1e3,
                       sb.median / 1e3, mr);
                char goal[128], fig[256], ref[256];
                snprintf(goal, sizeof(goal), "races: `%s` report vs the bare reader's record, concurrent", kind_name[k]);
                snprintf(fig, sizeof(fig), "%.1f× (median of %zu samples' ratios; ≤ 2× in %zu); report median %.0f µs, p99 %.0f µs",
                         mr, count[k], held, s.median / 1e3, s.p99 / 1e3);
                snprintf(ref, sizeof(ref), "bare fanotify reader, same syscalls: median %.1f µs, p99 %.1f µs", sb.median / 1e3,
                         sb.p99 / 1e3);
                bench_goal(g, goal, "≤ 2× (median)", fig, ref, mr <= 2.0);
        }
        if (g)
                fclose(g);
        fprintf(o, "\nWith coalescing (the default), a burst of writes by one process is one report, sent\n"
                   "when no write came for 250 ms or a lock appeared: the last row is that wait plus\n"
                   "the detection itself.\n");
        fclose(o);

        if (raw) {
                FILE *r = fopen(raw, "we");
                CHECK(r, "cannot write %s", raw);
                fprintf(r, "kind\ti\treport_ns\tbare_reader_ns\n");
                for (int k = 0; k < _KINDS; k++)
                        for (size_t i = 0; i < count[k]; i++)
                                fprintf(r, "%s\t%zu\t%llu\t%llu\n", kind_name[k], i, (unsigned long long) lat[k][i],
                                        (unsigned long long) bare[k][i]);
                fclose(r);
        }
        return 0;
}
