/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Idle means asleep: with no watchdog and nothing happening for 2 s, the daemon's event loop
 * does not turn at all, even while it guards a live lock whose owner is alive. Measured with
 * the daemon's own counter (sd-event loop iterations, reported by SIGUSR1's monitor.dump):
 * two dumps 2 s apart differ by exactly what a dump costs. No polling interval exists. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "lwtest.h"

static long long iterations(LwDaemon *d) {
        kill(d->pid, SIGUSR1);
        json_t *dump = lw_expect(d, LW_TIMEOUT_MS, "monitor.dump", NULL, NULL);
        CHECK(json_is_integer(json_object_get(dump, "loop_iterations")), "no loop_iterations");
        return jint(dump, "loop_iterations");
}

int main(void) {
        unsetenv("WATCHDOG_USEC");
        unsetenv("NOTIFY_SOCKET");
        LwEnv e;
        lw_env_start(&e, "200", NULL);
        char *lock = lw_path(e.sessions, "s.jsonl.lock");
        pid_t h = lw_holder_start(lock, NULL);
        lw_expect(e.d, LW_TIMEOUT_MS, "lock.acquired", "lock", lock);

        /* What one dump costs, back to back. */
        long long a = iterations(e.d);
        long long b = iterations(e.d);
        long long per_dump = b - a;
        CHECK(per_dump > 0, "the counter does not move: the test cannot fail");

        /* The idle stretch measured: 2 s of nothing (the one wait on time in this suite that is
         * the measure itself, not a guess at how long something takes). */
        struct timespec idle = { .tv_sec = 2 };
        while (nanosleep(&idle, &idle) < 0 && errno == EINTR)
                ;
        long long c = iterations(e.d);
        CHECK(lw_count(e.d, "lock.stale", NULL, NULL) == 0, "a live lock was called stale while idle");
        CHECK(c - b == per_dump, "the loop turned %lld times while idle", c - b - per_dump);

        /* A hangup does not stop it (exit status checked below), and real work does turn the
         * loop: the measure can see a wake-up. */
        kill(e.d->pid, SIGHUP);
        lw_kill_wait(h, SIGKILL);
        lw_expect(e.d, LW_TIMEOUT_MS, "lock.cleaned", "lock", lock);
        CHECK(iterations(e.d) - c > per_dump, "work did not show in the counter");
        CHECK(lw_daemon_stop(e.d) == 0, "exit status");
        return 0;
}
