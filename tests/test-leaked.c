/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The owner closes its lock fd but never unlinks, and stays alive: after the grace the lock is
 * leaked, and removed. The removal comes no earlier than the grace after the close. */
#include <signal.h>

#include "lwtest.h"

int main(void) {
        LwEnv e;
        lw_env_start(&e, "300", NULL);
        char *lock = lw_path(e.sessions, "s1.jsonl.lock");
        const char *args[] = { "--mode=leak", NULL };

        uint64_t before = lw_mono_ns();
        pid_t h = lw_holder_start(lock, args);
        json_t *st = lw_expect(e.d, LW_TIMEOUT_MS, "lock.stale", "lock", lock);
        CHECK(strcmp(jstr(st, "reason"), "leaked") == 0, "reason %s", jstr(st, "reason"));
        CHECK(jint(st, "owner_pid") == h, "owner %lld", jint(st, "owner_pid"));
        CHECK((uint64_t) jint(st, "mono_ns") >= before + 300ull * 1000000, "stale before the grace ended");
        json_t *c = lw_expect(e.d, LW_TIMEOUT_MS, "lock.cleaned", "lock", lock);
        CHECK(strcmp(jstr(c, "reason"), "leaked") == 0, "reason %s", jstr(c, "reason"));
        CHECK(!lw_exists(lock), "leaked lock still on disk");
        CHECK(kill(h, 0) == 0, "owner should still be alive");
        lw_kill_wait(h, SIGTERM);
        CHECK(lw_daemon_stop(e.d) == 0, "exit status");
        return 0;
}
