/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Descriptors. Every guarded folder costs one and every lock owner a pidfd, and any user can
 * make agent folders by the thousand: the daemon raises its soft limit to the hard one at
 * start (monitor.ready says how many it has). And when it does run out, a name it cannot look
 * at is not "gone": it says so (monitor.error, once) and concludes nothing from it. */
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lwtest.h"

#define NOBODY 65534

/* Starts the daemon on STATE under `prlimit --nofile=LIMITS`. */
static LwDaemon *start_limited(const char *state, const char *limits) {
        const char *args[] = { "--state-dir", state, "--leak-grace-ms", "200", NULL };
        char w[64];

        snprintf(w, sizeof(w), "prlimit --nofile=%s", limits);
        return lw_daemon_start_under(w, args);
}

int main(void) {
        lw_require_backend();
        if (system("prlimit --version >/dev/null 2>&1") != 0) {
                fprintf(stderr, "prlimit (util-linux) is needed\n");
                return LW_SKIP;
        }
        const char *w = getenv("LW_DAEMON_WRAPPER");
        if (w && strstr(w, "valgrind")) {
                fprintf(stderr, "valgrind keeps descriptors of its own and fakes the limit: skipped under it\n");
                return LW_SKIP;
        }

        /* The soft limit raised to the hard one. */
        char *state = lw_path(lw_tmpdir(), "state");
        lw_mkdir_p(lw_path(state, "agents/main/sessions"));
        LwDaemon *d = start_limited(state, "256:4096");
        json_t *ready = lw_daemon_ready(d);
        CHECK(jint(ready, "nofile") == 4096, "nofile %lld", jint(ready, "nofile"));
        CHECK(lw_daemon_stop(d) == 0, "exit status");

        /* Out of descriptors: a user (nobody, in its own state dir) makes agent folders until
         * none is left. */
        char *tmp = lw_tmpdir();
        state = lw_path(tmp, "state");
        char *sessions = lw_path(state, "agents/main/sessions"), *agents = lw_path(state, "agents");
        lw_mkdir_p(sessions);
        if (geteuid() == 0)
                CHECK(chmod(tmp, 0755) == 0 && chown(state, NOBODY, NOBODY) == 0 && chown(agents, NOBODY, NOBODY) == 0,
                      "give the state dir to nobody");
        d = start_limited(state, "48:48");
        lw_daemon_ready(d);
        pid_t u = fork();
        CHECK(u >= 0, "fork");
        if (u == 0) {
                if (geteuid() == 0 && (setgroups(0, NULL) < 0 || setgid(NOBODY) < 0 || setuid(NOBODY) < 0))
                        _exit(2);
                for (int i = 0; i < 40; i++) {
                        char dir[4200];
                        snprintf(dir, sizeof(dir), "%s/a%d", agents, i);
                        if (mkdir(dir, 0755) < 0)
                                _exit(1);
                        snprintf(dir, sizeof(dir), "%s/a%d/sessions", agents, i);
                        if (mkdir(dir, 0755) < 0)
                                _exit(1);
                }
                _exit(0);
        }
        CHECK(lw_wait_exit(u, LW_TIMEOUT_MS) == 0, "the user could not make its folders");
        char *lock = lw_path(sessions, "s1.jsonl.lock");
        pid_t h = lw_holder_start(lock, NULL);
        json_t *e = lw_expect(d, LW_TIMEOUT_MS, "monitor.error", "path", lock);
        CHECK(strstr(jstr(e, "error"), "Too many open files") && strstr(jstr(e, "error"), "stands"),
              "error %s", jstr(e, "error"));
        lw_kill_wait(h, SIGKILL);
        CHECK(lw_daemon_stop(d) == 0, "exit status");
        return 0;
}
