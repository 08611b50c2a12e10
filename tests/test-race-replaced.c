/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* race.session-replaced: while a holder holds the lock, another process writes X.jsonl.tmp
 * and renames it over X.jsonl; then one unlinks it. After the release, a rename over the
 * transcript with no lock is reported too (locked: false: the EmbeddedAttemptSessionTakeover
 * case), but pruning an unlocked transcript is not a race. */
#include <signal.h>
#include <string.h>

#include "lwtest.h"

int main(void) {
        LwEnv e;
        lw_env_start(&e, "200", NULL);
        char *lock = lw_path(e.sessions, "r.jsonl.lock"), *t = lw_path(e.sessions, "r.jsonl");
        const char *hargs[] = { "--transcript", t, NULL };

        pid_t h = lw_holder_start(lock, hargs);
        lw_expect(e.d, LW_TIMEOUT_MS, "lock.acquired", "lock", lock);
        /* The holder writes its transcript after taking the lock: lock.acquired may come from a
         * read before that. A barrier taken after it makes sure the transcript is known before
         * it is replaced (one created and replaced before the daemon reads its creation is
         * another case, not this test's). */
        pid_t b0 = lw_barrier(&e, LW_TIMEOUT_MS);
        lw_kill_wait(b0, SIGTERM);
        lw_expect(e.d, LW_TIMEOUT_MS, "lock.released", "lock", lw_path(e.sessions, "barrier.jsonl.lock"));

        const char *replace[] = { "replace", t, "{\"type\":\"forged\"}\n", NULL };
        pid_t a = lw_actor_start(replace);
        json_t *r = lw_expect(e.d, LW_TIMEOUT_MS, "race.session-replaced", "how", "renamed-over");
        lw_check_actor(r, "actor_pid", a);
        CHECK(jint(r, "owner_pid") == h, "owner_pid %lld, holder %d", jint(r, "owner_pid"), (int) h);
        CHECK(json_is_true(json_object_get(r, "locked")), "locked");
        CHECK(strcmp(jstr(r, "session"), t) == 0, "session");
        const LwRecent seq[] = { { "transcript", "modify", h }, { "transcript", "moved-to", a } };
        CHECK(lw_recent_has(r, seq, 2), "recent");

        const char *unlink_args[] = { "unlink", t, NULL };
        pid_t u = lw_actor_start(unlink_args);
        r = lw_expect(e.d, LW_TIMEOUT_MS, "race.session-replaced", "how", "unlinked");
        lw_check_actor(r, "actor_pid", u);
        CHECK(jint(r, "owner_pid") == h, "unlinked: owner_pid");

        lw_kill_wait(h, SIGTERM);
        lw_expect(e.d, LW_TIMEOUT_MS, "lock.released", "lock", lock);

        /* Unlocked: a rename over is a race, an unlink (pruning) is not. A transcript
         * written under its lock and released is the starting point. */
        char *lock2 = lw_path(e.sessions, "q.jsonl.lock"), *t2 = lw_path(e.sessions, "q.jsonl");
        const char *h2args[] = { "--transcript", t2, NULL };
        pid_t h2 = lw_holder_start(lock2, h2args);
        lw_expect(e.d, LW_TIMEOUT_MS, "lock.acquired", "lock", lock2);
        lw_kill_wait(h2, SIGTERM);
        lw_expect(e.d, LW_TIMEOUT_MS, "lock.released", "lock", lock2);
        const char *replace2[] = { "replace", t2, "{\"type\":\"again\"}\n", NULL };
        pid_t a2 = lw_actor_start(replace2);
        r = lw_expect(e.d, LW_TIMEOUT_MS, "race.session-replaced", "session", t2);
        lw_check_actor(r, "actor_pid", a2);
        CHECK(json_is_false(json_object_get(r, "locked")) && json_is_null(json_object_get(r, "lock")),
              "unlocked replacement claims a lock");
        CHECK(!json_object_get(r, "owner_pid"), "unlocked replacement names an owner");
        const char *prune[] = { "unlink", t2, NULL };
        pid_t p = lw_actor_start(prune);

        pid_t b = lw_barrier(&e, LW_TIMEOUT_MS);
        CHECK(lw_count(e.d, "race.session-replaced", NULL, NULL) == 3, "expected 3 replacements, got %zu",
              lw_count(e.d, "race.session-replaced", NULL, NULL));
        CHECK(lw_count(e.d, "race.unlocked-write", NULL, NULL) == 0, "a write of the tmp file counted");

        lw_kill_wait(b, SIGTERM);
        lw_kill_wait(a, SIGTERM);
        lw_kill_wait(u, SIGTERM);
        lw_kill_wait(a2, SIGTERM);
        lw_kill_wait(p, SIGTERM);
        CHECK(lw_daemon_stop(e.d) == 0, "exit status");
        return 0;
}
