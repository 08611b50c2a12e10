/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* No false alarms on the happy path: 4 processes contend for one session and run 10,000
 * normal lock / append / release cycles between them (create O_EXCL, payload, append to the
 * transcript, close, re-read, unlink). Not one race may be reported, including any still
 * coalescing when the daemon stops. The cycle count can be raised with LW_HAPPY_CYCLES. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "lwtest.h"

#define PROCS 4

int main(void) {
        const char *env_cycles = getenv("LW_HAPPY_CYCLES");
        long total = env_cycles ? atol(env_cycles) : 10000;
        char per[32];
        LwEnv e;

        lw_env_start(&e, "1000", NULL);
        char *lock = lw_path(e.sessions, "happy.jsonl.lock"), *t = lw_path(e.sessions, "happy.jsonl");
        snprintf(per, sizeof(per), "%ld", total / PROCS);
        const char *args[] = { "--cycles", per, "--transcript", t, lock, NULL };

        pid_t p[PROCS];
        for (int i = 0; i < PROCS; i++)
                p[i] = lw_spawn("tests/lock-holder", args);
        for (int i = 0; i < PROCS; i++) {
                int status = lw_wait_exit_pumping(e.d, p[i], 120000);
                CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "cycler %d failed", (int) p[i]);
        }

        /* Every cycle appended one line under its lock. */
        FILE *f = fopen(t, "re");
        long lines = 0;
        char buf[256];
        CHECK(f, "no transcript");
        while (fgets(buf, sizeof(buf), f))
                lines++;
        fclose(f);
        CHECK(lines == total / PROCS * PROCS, "transcript has %ld lines", lines);

        CHECK(lw_daemon_stop(e.d) == 0, "exit status");
        size_t races = 0;
        const char *kinds[] = { "race.lock-stolen", "race.double-holder", "race.unlocked-write",
                                "race.foreign-write", "race.session-replaced", "race.lock-tampered" };
        for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
                size_t n = lw_count(e.d, kinds[k], NULL, NULL);
                if (n)
                        fprintf(stderr, "%zu x %s\n", n, kinds[k]);
                races += n;
        }
        if (races) {
                json_t *r = NULL;
                for (size_t k = 0; !r && k < sizeof(kinds) / sizeof(kinds[0]); k++)
                        if (lw_count(e.d, kinds[k], NULL, NULL))
                                r = lw_expect(e.d, 0, kinds[k], NULL, NULL);
                char *s = json_dumps(r, JSON_COMPACT);
                fprintf(stderr, "first: %s\n", s);
        }
        CHECK(races == 0, "%zu false alarms in %ld normal cycles", races, total);
        CHECK(lw_count(e.d, "lock.stale", NULL, NULL) == 0, "a normal lock was called stale");
        CHECK(lw_count(e.d, "monitor.error", NULL, NULL) == 0, "the daemon reported an error (queue overflow?)");
        return 0;
}
