/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cleanup-latency: how long a dead owner's lock stays on disk.
 *
 * N times: a real holder (tests/lock-holder, taking the lock as PROTOCOL.md says) is SIGKILLed
 * while holding; we measure
 *   - since_read_us as the daemon reports it (evidence read → removal done; latency_us before),
 *   - kill → the lock's name gone, seen by an independent inotify observer,
 *   - kill → lock.cleaned report received.
 * References in the same run (the physical limit), both bare C waiters:
 *   - kill → the killed holder's own pidfd readable, polled by this program next to the
 *     observer's inotify fd (the limit for that very death: a holder is an exec'd program
 *     holding a lock, and takes longer to die than a bare fork),
 *   - kill → pidfd readable for a forked child that only pause()s (the kernel's floor).
 *
 * Goals (issue 17): kill → lock gone, median ≤ 1.5× the killed holder's own pidfd (same
 * samples), p99 ≤ 1 ms; each verdict goes to the results and to GOALS.tsv.
 *
 *   cleanup-latency [N] [RESULTS.md] [RAW.tsv] [GOALS.tsv]
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench-util.h"
#include "lwtest.h"

/* Waits for IN_DELETE/IN_MOVED_FROM of NAME on the inotify fd; returns the time seen, and in
 * *T_PIDFD the time PFD (the killed holder's pidfd) was first seen readable. */
static uint64_t wait_gone(int ifd, const char *name, int pfd, uint64_t *t_pidfd) {
        uint64_t deadline = lw_mono_ns() + LW_TIMEOUT_MS * 1000000ull;
        char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));

        *t_pidfd = 0;
        for (;;) {
                struct pollfd p[2] = { { .fd = ifd, .events = POLLIN }, { .fd = *t_pidfd ? -1 : pfd, .events = POLLIN } };
                uint64_t now = lw_mono_ns();
                CHECK(now < deadline, "observer never saw %s go", name);
                if (poll(p, 2, (int) ((deadline - now) / 1000000) + 1) < 1)
                        continue;
                uint64_t t = lw_mono_ns();
                if (p[1].revents & POLLIN)
                        *t_pidfd = t;
                if (!(p[0].revents & POLLIN))
                        continue;
                ssize_t n = read(ifd, buf, sizeof(buf));
                for (char *q = buf; n > 0 && q < buf + n;) {
                        struct inotify_event *ev = (struct inotify_event *) q;
                        if (ev->len && strcmp(ev->name, name) == 0 && (ev->mask & (IN_DELETE | IN_MOVED_FROM))) {
                                CHECK(*t_pidfd, "%s went before its owner died", name);
                                return t;
                        }
                        q += sizeof(*ev) + ev->len;
                }
        }
}

static uint64_t bare_pidfd_once(void) {
        pid_t pid = fork();
        CHECK(pid >= 0, "fork");
        if (pid == 0) {
                for (;;)
                        pause();
        }
        int pfd = (int) syscall(SYS_pidfd_open, pid, 0);
        CHECK(pfd >= 0, "pidfd_open");
        struct pollfd p = { .fd = pfd, .events = POLLIN };
        uint64_t t0 = lw_mono_ns();
        kill(pid, SIGKILL);
        CHECK(poll(&p, 1, LW_TIMEOUT_MS) == 1, "pidfd");
        uint64_t t1 = lw_mono_ns();
        close(pfd);
        waitpid(pid, NULL, 0);
        return (t1 - t0) / 1000;
}

int main(int argc, char **argv) {
        size_t n = argc > 1 ? (size_t) atoi(argv[1]) : 100;
        const char *out = argc > 2 ? argv[2] : "bench/results-cleanup.md";
        const char *raw = argc > 3 ? argv[3] : NULL, *goals = argc > 4 ? argv[4] : NULL;
        uint64_t *reported = calloc(n, 8), *gone = calloc(n, 8), *report = calloc(n, 8), *bare = calloc(n, 8),
                 *own = calloc(n, 8);

        LwEnv e;
        lw_env_start(&e, "1000", NULL);
        int ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
        CHECK(ifd >= 0 && inotify_add_watch(ifd, e.sessions, IN_DELETE | IN_MOVED_FROM) >= 0, "inotify");

        for (size_t i = 0; i < n; i++) {
                char name[64];
                snprintf(name, sizeof(name), "bench-%zu.jsonl.lock", i);
                char *lock = lw_path(e.sessions, name);
                pid_t h = lw_holder_start(lock, NULL);
                lw_expect(e.d, LW_TIMEOUT_MS, "lock.acquired", "lock", lock);

                int pfd = (int) syscall(SYS_pidfd_open, h, 0);
                CHECK(pfd >= 0, "pidfd_open");
                uint64_t t_pidfd, t_kill = lw_mono_ns();
                kill(h, SIGKILL);
                uint64_t t_gone = wait_gone(ifd, name, pfd, &t_pidfd);
                close(pfd);
                json_t *c = lw_expect(e.d, LW_TIMEOUT_MS, "lock.cleaned", "lock", lock);
                CHECK(strcmp(jstr(c, "reason"), "dead-pid") == 0, "reason %s", jstr(c, "reason"));
                reported[i] = (uint64_t) jint(c, json_object_get(c, "since_read_us") ? "since_read_us" : "latency_us");
                gone[i] = (t_gone - t_kill) / 1000;
                own[i] = (t_pidfd - t_kill) / 1000;
                report[i] = ((uint64_t) jint(c, "mono_ns") - t_kill) / 1000;
                waitpid(h, NULL, 0);
                bare[i] = bare_pidfd_once();
                free(lock);
        }
        CHECK(lw_daemon_stop(e.d) == 0, "daemon exit");
        double wake = bench_wake_us(); /* right after the samples, on the same machine state */

        Stats sr = bench_stats(reported, n), sg = bench_stats(gone, n), sp = bench_stats(report, n),
              sb = bench_stats(bare, n), so = bench_stats(own, n);
        char machine[1024];
        bench_machine(machine, sizeof(machine));

        FILE *o = fopen(out, "we");
        CHECK(o, "cannot write %s", out);
        fprintf(o, "# Stale-lock cleanup latency\n\n"
                   "Measured by `make bench` (`bench/cleanup-latency %zu`) on %s.\n"
                   "Each sample: a real holder taking the lock as in PROTOCOL.md is SIGKILLed while it\n"
                   "holds the lock; the daemon runs with its defaults (cleanup=auto, grace 1000 ms).\n\n"
                   "| measure (µs) | median | p99 | max | median ratio to the holder's pidfd | to the bare fork's |\n"
                   "|---|---:|---:|---:|---:|---:|\n",
                n, machine);
#define ROW(what, st) fprintf(o, "| %s | %.0f | %.0f | %.0f | %.1f× | %.1f× |\n", what, st.median, st.p99, st.max, \
                              st.median / (so.median ? so.median : 1), st.median / (sb.median ? sb.median : 1))
        ROW("bare pidfd waiter, the killed holder itself: kill → its pidfd readable (the limit)", so);
        ROW("bare pidfd waiter, a forked child that only pause()s: kill → pidfd readable", sb);
        ROW("`since_read_us` reported (stale evidence read → removal done)", sr);
        ROW("kill → lock name gone (independent inotify observer)", sg);
        ROW("kill → `lock.cleaned` event received", sp);
#undef ROW
        /* The goals, on the same samples. */
        double ratio = sg.median / (so.median ? so.median : 1);
        bool ok_ratio = ratio <= 1.5, ok_p99 = sg.p99 <= 1000;
        char fig[256], ref[256];
        FILE *g = goals ? fopen(goals, "we") : NULL;
        CHECK(!goals || g, "cannot write %s", goals);
        fprintf(o, "\n| goal (issue 17) | target | this run | met |\n|---|---|---|---|\n");
        snprintf(fig, sizeof(fig), "%.2f× (kill → gone median %.0f µs)", ratio, sg.median);
        snprintf(ref, sizeof(ref), "the killed holder's own pidfd, same samples: median %.0f µs", so.median);
        fprintf(o, "| kill → lock gone, median, against the killed holder's own pidfd | ≤ 1.5× | %s; %s | %s |\n", fig, ref,
                ok_ratio ? "yes" : "**no**");
        bench_goal(g, "cleanup: kill → lock gone, median, vs the killed holder's own pidfd", "≤ 1.5×", fig, ref, ok_ratio);
        snprintf(fig, sizeof(fig), "%.0f µs (%zu samples)", sg.p99, n);
        snprintf(ref, sizeof(ref), "the holder's own pidfd p99 %.0f µs", so.p99);
        fprintf(o, "| kill → lock gone, p99 | ≤ 1 ms | %s; %s | %s |\n", fig, ref, ok_p99 ? "yes" : "**no**");
        bench_goal(g, "cleanup: kill → lock gone, p99", "≤ 1 ms", fig, ref, ok_p99);
        if (g)
                fclose(g);
        fprintf(o, "\nWhat the ratio is made of. The death reaches the daemon and the pidfd waiter at the same\n"
                   "moment (the holder's exit closes the lock, then makes its pidfd readable; both wake).\n"
                   "The observer then learns of the removal only from the daemon's rename: a second\n"
                   "wake-up, of a process asleep on another CPU, which the pidfd waiter never needs. This\n"
                   "machine takes %.0f µs for one (measured right after the samples, `bench_wake_us`).\n"
                   "1.5× the pidfd's %.0f µs would leave the daemon %.0f µs for its whole removal; it takes %.0f µs\n"
                   "from reading the death to the removal done (`since_read_us`, median: open, verify under a\n"
                   "lease, rename, unlink).\n",
                wake, so.median, so.median * 0.5 - wake, sr.median);
        fprintf(o, "\nThe holder is `tests/lock-holder`, an exec'd program holding the lock open: its death\n"
                   "becomes visible later than a bare fork's, so its own pidfd, polled next to the observer,\n"
                   "is the limit for the deaths measured here; the bare fork is the kernel's floor.\n");
        fprintf(o, "\nFor comparison: a cron sweep every 5 minutes leaves a dead owner's lock for 150 s on\n"
                   "average and 300 s at worst; OpenClaw's own contenders only reclaim it when they next try\n"
                   "to take the lock (retrying every 50 ms to 1 s for up to 60 s).\n");
        fclose(o);

        if (raw) {
                FILE *r = fopen(raw, "we");
                CHECK(r, "cannot write %s", raw);
                fprintf(r, "i\tlatency_us\tkill_to_gone_us\tkill_to_report_us\tbare_pidfd_us\tholder_pidfd_us\n");
                for (size_t i = 0; i < n; i++)
                        fprintf(r, "%zu\t%llu\t%llu\t%llu\t%llu\t%llu\n", i, (unsigned long long) reported[i],
                                (unsigned long long) gone[i], (unsigned long long) report[i], (unsigned long long) bare[i],
                                (unsigned long long) own[i]);
                fclose(r);
        }
        printf("latency_us median %.0f max %.0f; kill->gone median %.0f p99 %.0f max %.0f; holder pidfd median %.0f; bare pidfd median %.0f; wake-up %.0f\n",
               sr.median, sr.max, sg.median, sg.p99, sg.max, so.median, sb.median, wake);
        return 0;
}
