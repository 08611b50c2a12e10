/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* race.foreign-write: a holder holds the lock (and appends, which is normal) while a second
 * process appends to the same transcript. One report, naming both, with the counts. */
#include <signal.h>
#include <string.h>

#include "lwtest.h"

#define LINE "{\"type\":\"spawn\"}\n"   /* 17 bytes */

int main(void) {
        lw_require_attribution("whether a writer is the lock owner cannot be told without the writer");
        LwEnv e;
        lw_env_start(&e, "200", NULL);
        char *lock = lw_path(e.sessions, "f.jsonl.lock"), *t = lw_path(e.sessions, "f.jsonl");
        const char *hargs[] = { "--transcript", t, NULL };

        pid_t h = lw_holder_start(lock, hargs);
        lw_expect(e.d, LW_TIMEOUT_MS, "lock.acquired", "lock", lock);

        const char *args[] = { "append", t, "4", LINE, NULL };
        pid_t a = lw_actor_start(args);
        json_t *r = lw_expect(e.d, LW_TIMEOUT_MS, "race.foreign-write", "session", t);
        CHECK(jint(r, "actor_pid") == a, "actor_pid %lld, writer %d", jint(r, "actor_pid"), (int) a);
        CHECK(jint(r, "owner_pid") == h, "owner_pid %lld, holder %d", jint(r, "owner_pid"), (int) h);
        CHECK(strcmp(jstr(r, "owner_comm"), "lock-holder") == 0, "owner_comm");
        CHECK(strcmp(jstr(r, "lock"), lock) == 0, "lock %s", jstr(r, "lock"));
        CHECK(jint(r, "bytes") == 4 * (long long) strlen(LINE), "bytes %lld", jint(r, "bytes"));
        CHECK(jint(r, "writes") >= 1, "writes");
        const LwRecent seq[] = { { "transcript", "modify", h }, { "transcript", "modify", a } };
        CHECK(lw_recent_has(r, seq, 2), "recent");

        /* The holder's normal release: no race, and the foreign writer was reported once. */
        lw_kill_wait(h, SIGTERM);
        lw_expect(e.d, LW_TIMEOUT_MS, "lock.released", "lock", lock);
        CHECK(lw_count(e.d, "race.foreign-write", NULL, NULL) == 1, "foreign-write not reported once");
        CHECK(lw_count(e.d, "race.unlocked-write", NULL, NULL) == 0, "the holder's own write called unlocked");
        CHECK(lw_count(e.d, "race.lock-stolen", NULL, NULL) == 0, "a release called stolen");
        lw_kill_wait(a, SIGTERM);
        CHECK(lw_daemon_stop(e.d) == 0, "exit status");
        return 0;
}
