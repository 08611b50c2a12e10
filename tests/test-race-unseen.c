/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* race.lock-stolen for a lock lockwarden never read. With the daemon stopped (SIGSTOP), a
 * holder takes a lock and a thief unlinks it while the holder still holds it open: when the
 * daemon reads the lock's creation, the lock is gone already. The queue still says who created
 * it and who removed it, and the creator still holds it: a steal, reported with
 * "lock_read": false. In the same stopped stretch, two removals that are no steal: a holder
 * that released its own lock, and a lock whose creator had closed it (leaked) before a
 * second process removed it. Each session is reported once or not at all. Needs the acting
 * pid (fanotify). */
#include <signal.h>
#include <string.h>

#include "lwtest.h"

int main(void) {
        LwEnv e;
        lw_require_attribution("who created and who removed an unseen lock come from the events' pids");
        lw_env_start(&e, "200", NULL);
        char *stolen = lw_path(e.sessions, "stolen.jsonl.lock"), *released = lw_path(e.sessions, "released.jsonl.lock"),
             *leaked = lw_path(e.sessions, "leaked.jsonl.lock");

        kill(e.d->pid, SIGSTOP);
        lw_wait_stopped(e.d->pid, LW_TIMEOUT_MS);

        pid_t h = lw_holder_start(stolen, NULL);
        const char *unlink_stolen[] = { "unlink", stolen, NULL };
        pid_t thief = lw_actor_start(unlink_stolen);
        CHECK(!lw_exists(stolen), "the thief did not unlink the lock");

        pid_t r = lw_holder_start(released, NULL);
        lw_kill_wait(r, SIGTERM); /* its own release: close, re-read, unlink */
        CHECK(!lw_exists(released), "the holder did not release its lock");

        const char *leak[] = { "--mode=leak", NULL };
        pid_t l = lw_holder_start(leaked, leak);
        const char *unlink_leaked[] = { "unlink", leaked, NULL };
        pid_t reclaimer = lw_actor_start(unlink_leaked);

        kill(e.d->pid, SIGCONT);

        json_t *st = lw_expect(e.d, LW_TIMEOUT_MS, "race.lock-stolen", "lock", stolen);
        lw_check_actor(st, "actor_pid", thief);
        CHECK(jint(st, "owner_pid") == h, "owner_pid %lld, holder %d", jint(st, "owner_pid"), (int) h);
        CHECK(strcmp(jstr(st, "owner_comm"), "lock-holder") == 0, "owner_comm %s", jstr(st, "owner_comm"));
        CHECK(json_is_false(json_object_get(st, "lock_read")), "lock_read is not false");
        CHECK(json_is_true(json_object_get(st, "owner_alive")), "owner_alive is not true");

        /* A barrier: a lock on another session, reported after everything before it. */
        pid_t b = lw_barrier(&e, LW_TIMEOUT_MS);
        CHECK(lw_count(e.d, "race.lock-stolen", NULL, NULL) == 1, "race.lock-stolen not reported exactly once");
        CHECK(lw_count(e.d, "race.lock-stolen", "lock", released) == 0, "an owner's own release reported as a steal");
        CHECK(lw_count(e.d, "race.lock-stolen", "lock", leaked) == 0, "a leaked lock's removal reported as a steal");

        lw_kill_wait(b, SIGTERM);
        lw_kill_wait(h, SIGTERM);
        lw_kill_wait(l, SIGTERM);
        lw_kill_wait(thief, SIGTERM);
        lw_kill_wait(reclaimer, SIGTERM);
        CHECK(lw_daemon_stop(e.d) == 0, "exit status");
        free(stolen);
        free(released);
        free(leaked);
        return 0;
}
