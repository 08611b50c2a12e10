/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* race.lock-tampered: a held lock's payload is rewritten by a process other than its owner.
 * The owner writing its own payload (at acquisition) is not. */
#include <signal.h>
#include <string.h>

#include "lwtest.h"

int main(void) {
        lw_require_attribution("whether a lock rewriter is its owner cannot be told without the writer");
        LwEnv e;
        lw_env_start(&e, "200", NULL);
        char *lock = lw_path(e.sessions, "t.jsonl.lock");

        pid_t h = lw_holder_start(lock, NULL);
        lw_expect(e.d, LW_TIMEOUT_MS, "lock.acquired", "lock", lock);

        const char *args[] = { "tamper", lock, "{\"pid\": 1, \"createdAt\": \"2026-01-01T00:00:00Z\"}\n", NULL };
        pid_t a = lw_actor_start(args);
        json_t *r = lw_expect(e.d, LW_TIMEOUT_MS, "race.lock-tampered", "lock", lock);
        CHECK(jint(r, "actor_pid") == a, "actor_pid %lld, writer %d", jint(r, "actor_pid"), (int) a);
        CHECK(jint(r, "owner_pid") == h, "owner_pid %lld, holder %d", jint(r, "owner_pid"), (int) h);
        CHECK(strcmp(jstr(r, "owner_comm"), "lock-holder") == 0, "owner_comm");
        const LwRecent seq[] = { { "lock", "create", h }, { "lock", "modify", h }, { "lock", "open", a },
                                 { "lock", "modify", a } };
        CHECK(lw_recent_has(r, seq, 4), "recent");

        /* The rewritten lock names pid 1, which holds nothing: it is never removed while the
         * holder keeps it open. */
        pid_t b = lw_barrier(&e, LW_TIMEOUT_MS);
        CHECK(lw_count(e.d, "race.lock-tampered", NULL, NULL) == 1, "lock-tampered not reported once");
        CHECK(lw_exists(lock), "a held lock was removed");
        lw_kill_wait(b, SIGTERM);
        lw_kill_wait(a, SIGTERM);
        lw_kill_wait(h, SIGTERM);
        CHECK(lw_daemon_stop(e.d) == 0, "exit status");
        return 0;
}
