/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Folders that appear after start-up are guarded without a restart: a state dir that does not
 * exist yet, then its agents/, a new agent and its sessions/ folder, and a --watch folder
 * created later. A sessions folder deleted and re-created is guarded again. */
#include <signal.h>
#include <unistd.h>

#include "lwtest.h"

static void kill_and_expect_clean(LwDaemon *d, const char *sessions) {
        char *lock = lw_path(sessions, "s.jsonl.lock");
        pid_t h = lw_holder_start(lock, NULL);
        lw_expect(d, LW_TIMEOUT_MS, "lock.acquired", "lock", lock);
        lw_kill_wait(h, SIGKILL);
        lw_expect(d, LW_TIMEOUT_MS, "lock.cleaned", "lock", lock);
        CHECK(!lw_exists(lock), "%s not cleaned", lock);
        free(lock);
}

int main(void) {
        lw_require_backend();
        char *base = lw_tmpdir();
        char *state = lw_path(base, "not/yet/state");
        char *watch = lw_path(base, "plain/sessions");
        const char *args[] = { "--state-dir", state, "--watch", watch, "--leak-grace-ms", "200", NULL };
        LwDaemon *d = lw_daemon_start(NULL, args, NULL);
        json_t *ready = lw_daemon_ready(d);
        CHECK(json_array_size(json_object_get(ready, "dirs")) == 0, "nothing to guard yet");
        json_t *waiting = json_object_get(ready, "waiting_for");
        CHECK(json_array_size(waiting) == 2 &&
              strcmp(json_string_value(json_array_get(waiting, 0)), state) == 0 &&
              strcmp(json_string_value(json_array_get(waiting, 1)), watch) == 0, "waiting_for");

        char *s1 = lw_path(state, "agents/a1/sessions");
        lw_mkdir_p(s1);
        kill_and_expect_clean(d, s1);

        char *s2 = lw_path(state, "agents/a2/sessions");
        lw_mkdir_p(s2);
        kill_and_expect_clean(d, s2);

        lw_mkdir_p(watch);
        kill_and_expect_clean(d, watch);

        /* Gone and back. */
        CHECK(rmdir(s1) == 0, "rmdir");
        lw_mkdir_p(s1);
        kill_and_expect_clean(d, s1);

        CHECK(lw_count(d, "monitor.error", NULL, NULL) == 0, "errors");
        CHECK(lw_daemon_stop(d) == 0, "exit status");
        return 0;
}
