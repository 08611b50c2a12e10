/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Idle means asleep: with no watchdog and nothing happening for 2 s, the daemon is never
 * scheduled (its context-switch counters in /proc do not move), even while it guards a live
 * lock whose owner is alive. No polling interval exists to wake it. */
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "lwtest.h"

/* Context switches of every task (thread) of PID: a wake-up of any of them counts. */
static unsigned long long switches(pid_t pid) {
        char path[320], line[256];
        unsigned long long total = 0, v;
        struct dirent *de;
        DIR *d;

        snprintf(path, sizeof(path), "/proc/%d/task", (int) pid);
        d = opendir(path);
        CHECK(d, "open %s", path);
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                snprintf(path, sizeof(path), "/proc/%d/task/%s/status", (int) pid, de->d_name);
                FILE *f = fopen(path, "re");
                if (!f)
                        continue;
                while (fgets(line, sizeof(line), f))
                        if (sscanf(line, "voluntary_ctxt_switches: %llu", &v) == 1 ||
                            sscanf(line, "nonvoluntary_ctxt_switches: %llu", &v) == 1)
                                total += v;
                fclose(f);
        }
        closedir(d);
        return total;
}

int main(void) {
        if (getenv("LW_DAEMON_WRAPPER") && *getenv("LW_DAEMON_WRAPPER")) {
                /* Under a tool (valgrind) the counters describe the tool's scheduling. */
                fprintf(stderr, "SKIP: idle wake-ups are measured on the bare daemon only\n");
                return LW_SKIP;
        }
        unsetenv("WATCHDOG_USEC");
        unsetenv("NOTIFY_SOCKET");
        LwEnv e;
        lw_env_start(&e, "200", NULL);
        char *lock = lw_path(e.sessions, "s.jsonl.lock");
        pid_t h = lw_holder_start(lock, NULL);
        lw_expect(e.d, LW_TIMEOUT_MS, "lock.acquired", "lock", lock);
        /* Let the aftermath of the acquisition settle: nothing must be pending. */
        lw_expect_none(e.d, 300, "lock.stale", NULL, NULL);

        unsigned long long before = switches(e.d->pid);
        lw_expect_none(e.d, 2000, "lock.stale", NULL, NULL);
        unsigned long long after = switches(e.d->pid);
        CHECK(after == before, "daemon woke %llu times while idle", after - before);

        /* A hangup does not stop it (exit status checked below). */
        kill(e.d->pid, SIGHUP);
        lw_kill_wait(h, SIGKILL);
        lw_expect(e.d, LW_TIMEOUT_MS, "lock.cleaned", "lock", lock);
        CHECK(switches(e.d->pid) > after, "counter does not move at all: the test cannot fail");
        CHECK(lw_daemon_stop(e.d) == 0, "exit status");
        return 0;
}
