/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Descriptors. Every guarded folder costs one and every lock owner a pidfd, and any user can
 * make agent folders by the thousand: the daemon raises its soft limit to the hard one at
 * start (monitor.ready says how many it has). And when it does run out, a name it cannot look
 * at is not "gone": it says so (monitor.error, once) and concludes nothing from it. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "lwtest.h"

/* Starts the daemon on STATE under `prlimit --nofile=LIMITS` (and any wrapper already set). */
static LwDaemon *start_limited(const char *state, const char *limits) {
        const char *old = getenv("LW_DAEMON_WRAPPER");
        char *saved = old ? strdup(old) : NULL, *w = NULL;
        const char *args[] = { "--state-dir", state, "--leak-grace-ms", "200", NULL };
        LwDaemon *d;

        CHECK(asprintf(&w, "prlimit --nofile=%s%s%s", limits, old ? " " : "", old ? old : "") >= 0, "asprintf");
        setenv("LW_DAEMON_WRAPPER", w, 1);
        d = lw_daemon_start(NULL, args, NULL);
        if (saved)
                setenv("LW_DAEMON_WRAPPER", saved, 1);
        else
                unsetenv("LW_DAEMON_WRAPPER");
        free(w);
        free(saved);
        return d;
}

int main(void) {
        lw_require_backend();
        if (system("prlimit --version >/dev/null 2>&1") != 0) {
                fprintf(stderr, "prlimit (util-linux) is needed\n");
                return LW_SKIP;
        }

        /* The soft limit raised to the hard one. */
        char *state = lw_path(lw_tmpdir(), "state");
        lw_mkdir_p(lw_path(state, "agents/main/sessions"));
        LwDaemon *d = start_limited(state, "256:4096");
        json_t *ready = lw_daemon_ready(d);
        CHECK(jint(ready, "nofile") == 4096, "nofile %lld", jint(ready, "nofile"));
        CHECK(lw_daemon_stop(d) == 0, "exit status");

        /* Out of descriptors: a user makes agent folders until none is left. */
        state = lw_path(lw_tmpdir(), "state");
        char *sessions = lw_path(state, "agents/main/sessions");
        lw_mkdir_p(sessions);
        d = start_limited(state, "48:48");
        lw_daemon_ready(d);
        for (int i = 0; i < 40; i++) {
                char rel[64];
                snprintf(rel, sizeof(rel), "agents/a%d/sessions", i);
                lw_mkdir_p(lw_path(state, rel));
        }
        char *lock = lw_path(sessions, "s1.jsonl.lock");
        pid_t h = lw_holder_start(lock, NULL);
        json_t *e = lw_expect(d, LW_TIMEOUT_MS, "monitor.error", "path", lock);
        CHECK(strstr(jstr(e, "error"), "Too many open files") && strstr(jstr(e, "error"), "stands"),
              "error %s", jstr(e, "error"));
        lw_kill_wait(h, SIGKILL);
        CHECK(lw_daemon_stop(d) == 0, "exit status");
        return 0;
}
