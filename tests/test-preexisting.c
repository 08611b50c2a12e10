/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A lock taken before lockwarden starts is known live from the /proc seed (no cleanup for
 * several grace periods), and is cleaned the moment its owner is killed. A dead owner's lock
 * left from before start-up is cleaned right after monitor.ready. A lock leaked long before
 * the start gets its whole grace from when the daemon first saw it. */
#include <signal.h>
#include <sys/time.h>
#include <time.h>

#include "lwtest.h"

int main(void) {
        lw_require_backend();
        char *state = lw_path(lw_tmpdir(), "state");
        char *sessions = lw_path(state, "agents/main/sessions");
        lw_mkdir_p(sessions);
        char *live = lw_path(sessions, "live.jsonl.lock");
        char *dead = lw_path(sessions, "dead.jsonl.lock");
        char *transcript = lw_path(sessions, "live.jsonl");
        lw_write_file(transcript, "{}\n", 3);

        pid_t h = lw_holder_start(live, NULL);
        pid_t gone = lw_holder_start(dead, NULL);
        lw_kill_wait(gone, SIGKILL);

        const char *args[] = { "--state-dir", state, "--leak-grace-ms", "200", NULL };
        LwDaemon *d = lw_daemon_start(NULL, args, NULL);
        json_t *ready = lw_daemon_ready(d);
        CHECK(jint(ready, "locks") == 2, "ready.locks = %lld", jint(ready, "locks"));
        CHECK(jint(ready, "sessions") == 1, "ready.sessions = %lld", jint(ready, "sessions"));
        CHECK(strcmp(jstr(ready, "backend"), lw_attributed() ? "fanotify" : "inotify") == 0, "backend");
        CHECK(json_array_size(json_object_get(ready, "dirs")) == 1, "dirs");
        CHECK(json_array_size(json_object_get(ready, "waiting_for")) == 0, "waiting_for");

        json_t *c = lw_expect(d, LW_TIMEOUT_MS, "lock.cleaned", "lock", dead);
        CHECK(strcmp(jstr(c, "reason"), "dead-pid") == 0, "reason %s", jstr(c, "reason"));

        lw_expect_none_after_grace(d, sessions, "lock.stale", "lock", live);
        CHECK(lw_exists(live), "live pre-existing lock removed");

        lw_kill_wait(h, SIGKILL);
        c = lw_expect(d, LW_TIMEOUT_MS, "lock.cleaned", "lock", live);
        CHECK(strcmp(jstr(c, "reason"), "dead-pid") == 0, "reason %s", jstr(c, "reason"));
        CHECK(!lw_exists(live), "lock still there");
        CHECK(lw_exists(transcript), "transcript touched");
        CHECK(lw_daemon_stop(d) == 0, "exit status");

        /* A lock leaked long before the start (its owner alive, holding nothing; written an
         * hour ago) gets the whole grace from when the daemon first saw it: with a 60 s grace
         * it is not stale when a lock taken after the start is reported. */
        char *leaked = lw_path(sessions, "leaked.jsonl.lock");
        const char *leak_args[] = { "--mode=leak", NULL };
        pid_t hl = lw_holder_start(leaked, leak_args);
        struct timeval old[2] = { { .tv_sec = time(NULL) - 3600 }, { .tv_sec = time(NULL) - 3600 } };
        CHECK(utimes(leaked, old) == 0, "utimes");
        const char *args2[] = { "--state-dir", state, "--leak-grace-ms", "60000", NULL };
        d = lw_daemon_start(NULL, args2, NULL);
        lw_daemon_ready(d);
        char *barrier = lw_path(sessions, "barrier.jsonl.lock");
        pid_t b = lw_holder_start(barrier, NULL);
        lw_expect(d, LW_TIMEOUT_MS, "lock.acquired", "lock", barrier);
        CHECK(lw_count(d, "lock.stale", "lock", leaked) == 0, "a lock leaked before the start was stale at once");
        CHECK(lw_exists(leaked), "the leaked lock was removed before its grace");
        lw_kill_wait(b, SIGTERM);
        lw_kill_wait(hl, SIGTERM);
        CHECK(lw_daemon_stop(d) == 0, "exit status");
        return 0;
}
