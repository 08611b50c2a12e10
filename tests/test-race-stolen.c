/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* race.lock-stolen, then race.double-holder, as in the field: a holder keeps its lock open
 * while a second process unlinks it and takes its own. Both reports name the thief (actor;
 * null without attribution: inotify) and the holder (owner), and quote the kernel events that
 * led to them, in order. */
#include <signal.h>
#include <string.h>

#include "lwtest.h"

int main(void) {
        LwEnv e;
        lw_env_start(&e, "200", NULL);
        char *lock = lw_path(e.sessions, "s.jsonl.lock"), *transcript = lw_path(e.sessions, "s.jsonl");
        const char *hargs[] = { "--transcript", transcript, NULL };

        pid_t h = lw_holder_start(lock, hargs);
        lw_expect(e.d, LW_TIMEOUT_MS, "lock.acquired", "lock", lock);

        const char *steal[] = { "steal", lock, NULL };
        pid_t s = lw_actor_start(steal);

        json_t *st = lw_expect(e.d, LW_TIMEOUT_MS, "race.lock-stolen", "lock", lock);
        lw_check_actor(st, "actor_pid", s);
        CHECK(jint(st, "owner_pid") == h, "owner_pid %lld, holder %d", jint(st, "owner_pid"), (int) h);
        if (lw_attributed()) {
                CHECK(strcmp(jstr(st, "actor_comm"), "session-actor") == 0, "actor_comm %s", jstr(st, "actor_comm"));
                CHECK(strstr(jstr(st, "actor_exe"), "/tests/session-actor"), "actor_exe %s", jstr(st, "actor_exe"));
        }
        CHECK(strcmp(jstr(st, "owner_comm"), "lock-holder") == 0, "owner_comm %s", jstr(st, "owner_comm"));
        CHECK(json_is_integer(json_object_get(st, "owner_held_ms")) && jint(st, "owner_held_ms") >= 0, "owner_held_ms");
        CHECK(strcmp(jstr(st, "session"), transcript) == 0, "session %s", jstr(st, "session"));
        const LwRecent stolen_seq[] = {
                { "lock", "create", h }, { "transcript", "modify", h }, { "lock", "delete", s },
        };
        CHECK(lw_recent_has(st, stolen_seq, 3), "recent of race.lock-stolen");

        json_t *dh = lw_expect(e.d, LW_TIMEOUT_MS, "race.double-holder", "lock", lock);
        lw_check_actor(dh, "actor_pid", s);
        CHECK(jint(dh, "owner_pid") == h, "double-holder owner_pid %lld", jint(dh, "owner_pid"));
        CHECK(jint(dh, "mono_ns") >= jint(st, "mono_ns"), "double-holder reported before lock-stolen");
        const LwRecent double_seq[] = { { "lock", "delete", s }, { "lock", "create", s } };
        CHECK(lw_recent_has(dh, double_seq, 2), "recent of race.double-holder");

        /* The factual lifecycle event is there too, and each race was reported once. */
        json_t *rm = lw_expect(e.d, LW_TIMEOUT_MS, "lock.removed", "lock", lock);
        lw_check_actor(rm, "pid", s);
        CHECK(jint(rm, "owner_pid") == h, "lock.removed owner_pid");

        /* The old holder lets go (its release finds a file that is not its own and keeps it);
         * a barrier: a lock on another session, reported after everything before it. */
        lw_kill_wait(h, SIGTERM);
        pid_t b = lw_barrier(&e, LW_TIMEOUT_MS);
        CHECK(lw_count(e.d, "race.lock-stolen", NULL, NULL) == 1, "lock-stolen not reported once");
        CHECK(lw_count(e.d, "race.double-holder", NULL, NULL) == 1, "double-holder not reported once");
        CHECK(lw_exists(lock), "the thief's lock was removed while it holds it");

        lw_kill_wait(b, SIGTERM);
        lw_kill_wait(s, SIGTERM);
        CHECK(lw_daemon_stop(e.d) == 0, "exit status");
        return 0;
}
