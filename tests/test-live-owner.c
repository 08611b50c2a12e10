/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* An owner alive and holding its lock for three times the leak grace: nothing is removed and
 * nothing is called stale, even with a maxHoldMs and createdAt long past. Then it releases
 * normally: lock.released, and still no stale report. */
#include <signal.h>
#include <sys/wait.h>

#include "lwtest.h"

int main(void) {
        LwEnv e;
        lw_env_start(&e, "200", NULL);
        char *lock = lw_path(e.sessions, "s1.jsonl.lock");
        const char *args[] = { "--max-hold-ms", "1", "--created-at", "2020-01-01T00:00:00.000Z", NULL };

        pid_t h = lw_holder_start(lock, args);
        lw_expect(e.d, LW_TIMEOUT_MS, "lock.acquired", "lock", lock);
        /* Old and over its own maxHoldMs: information only, once per reason. */
        json_t *aged = lw_expect(e.d, LW_TIMEOUT_MS, "lock.aged", "lock", lock);
        CHECK(jint(aged, "age_ms") > 0, "age_ms");

        lw_expect_none_after_grace(e.d, e.sessions, "lock.stale", NULL, NULL);
        CHECK(lw_exists(lock), "live lock removed");
        CHECK(lw_count(e.d, "lock.cleaned", "lock", lock) == 0, "cleaned a live lock");
        CHECK(lw_count(e.d, "lock.aged", "reason", "hold-exceeded") == 1, "hold-exceeded not reported exactly once");
        CHECK(lw_count(e.d, "lock.aged", "reason", "too-old") == 1, "too-old not reported exactly once");

        int status = lw_kill_wait(h, SIGTERM);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "holder release failed");
        json_t *rel = lw_expect(e.d, LW_TIMEOUT_MS, "lock.released", "lock", lock);
        lw_check_actor(rel, "pid", h);
        CHECK(jint(rel, "held_ms") >= 0, "held_ms");
        lw_expect_none_after_grace(e.d, e.sessions, "lock.stale", NULL, NULL);
        CHECK(lw_daemon_stop(e.d) == 0, "exit status");
        return 0;
}
