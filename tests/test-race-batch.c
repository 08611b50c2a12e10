/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What held when an event happened is judged in event order, closes included. An owner holds
 * its lock (the daemon knows it); then, while the daemon is stopped (a busy host reads late),
 * the owner lets go of it without removing it (a leak) and another process removes it. Both
 * come in one batch: the owner's close is still waiting for its /proc confirmation when the
 * removal is judged, and it must count: the lock was no longer held, nothing was stolen
 * (lock.removed, owner_holds false; no race).
 * The other way round: an owner's write to its lock, read in the same batch as the removal
 * and still waiting for its /proc confirmation, is no close: the owner held the lock when it
 * was removed (lock.removed, owner_holds true; race.lock-stolen).
 * And for a new lock after a stolen one: the robbed owner lets go of the old (unlinked) lock
 * in the same batch as the new lock's creation. Its close is still waiting for confirmation
 * when the creation is judged, and it counts: one holder, no race.double-holder. */
#include <sys/inotify.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lwtest.h"

int main(void) {
        LwEnv e;
        lw_env_start(&e, "200", NULL);
        lw_require_attribution("who removed the lock is the acting pid");
        char *lock = lw_path(e.sessions, "s.jsonl.lock");
        const char *args[] = { "--mode=hold-then-leak", NULL };
        pid_t h = lw_holder_start(lock, args);
        lw_expect(e.d, LW_TIMEOUT_MS, "lock.acquired", "lock", lock);
        /* Everything of the owner's taking is read (its payload write too): its close cannot
         * merge into an earlier record. */
        pid_t b0 = lw_barrier(&e, LW_TIMEOUT_MS);
        lw_kill_wait(b0, SIGTERM);

        kill(e.d->pid, SIGSTOP);
        lw_wait_stopped(e.d->pid, LW_TIMEOUT_MS);
        int closed = lw_watch(lock, IN_CLOSE_WRITE);
        kill(h, SIGTERM);
        lw_watch_wait(closed, LW_TIMEOUT_MS, "the owner's close of its lock"); /* its only writer */
        const char *unlink_args[] = { "unlink", lock, NULL };
        pid_t a = lw_actor_start(unlink_args);
        kill(e.d->pid, SIGCONT);

        json_t *r = lw_expect(e.d, LW_TIMEOUT_MS, "lock.removed", "lock", lock);
        lw_check_actor(r, "pid", a);
        CHECK(json_is_false(json_object_get(r, "owner_holds")), "owner_holds is not false: %s", json_dumps(r, 0));
        pid_t b = lw_barrier(&e, LW_TIMEOUT_MS);
        CHECK(lw_count(e.d, "race.", NULL, NULL) == 0, "a race was judged on a lock its owner had let go");
        lw_kill_wait(b, SIGTERM);
        lw_kill_wait(a, SIGTERM);
        lw_kill_wait(h, SIGTERM);

        char *lock2 = lw_path(e.sessions, "w.jsonl.lock");
        const char *write_args[] = { "--mode=hold-then-write", NULL };
        pid_t w = lw_holder_start(lock2, write_args);
        lw_expect(e.d, LW_TIMEOUT_MS, "lock.acquired", "lock", lock2);
        pid_t b1 = lw_barrier(&e, LW_TIMEOUT_MS);
        lw_kill_wait(b1, SIGTERM);
        kill(e.d->pid, SIGSTOP);
        lw_wait_stopped(e.d->pid, LW_TIMEOUT_MS);
        int written = lw_watch(lock2, IN_MODIFY);
        kill(w, SIGTERM);
        lw_watch_wait(written, LW_TIMEOUT_MS, "the owner's write of its lock");
        const char *unlink2_args[] = { "unlink", lock2, NULL };
        pid_t a2 = lw_actor_start(unlink2_args);
        kill(e.d->pid, SIGCONT);
        json_t *r2 = lw_expect(e.d, LW_TIMEOUT_MS, "lock.removed", "lock", lock2);
        lw_check_actor(r2, "pid", a2);
        CHECK(json_is_true(json_object_get(r2, "owner_holds")), "owner_holds is not true: %s", json_dumps(r2, 0));
        lw_expect(e.d, LW_TIMEOUT_MS, "race.lock-stolen", "lock", lock2);
        lw_kill_wait(a2, SIGTERM);
        lw_kill_wait(w, SIGTERM);

        char *lock3 = lw_path(e.sessions, "r.jsonl.lock");
        pid_t r3 = lw_holder_start(lock3, args); /* hold-then-leak */
        lw_expect(e.d, LW_TIMEOUT_MS, "lock.acquired", "lock", lock3);
        int closed3 = lw_watch(lock3, IN_CLOSE_WRITE); /* the inode's: it outlives the name */
        const char *unlink3_args[] = { "unlink", lock3, NULL };
        pid_t a3 = lw_actor_start(unlink3_args);
        lw_expect(e.d, LW_TIMEOUT_MS, "race.lock-stolen", "lock", lock3);
        pid_t b3 = lw_barrier(&e, LW_TIMEOUT_MS);
        lw_kill_wait(b3, SIGTERM);
        kill(e.d->pid, SIGSTOP);
        lw_wait_stopped(e.d->pid, LW_TIMEOUT_MS);
        kill(r3, SIGTERM); /* lets go of the old lock, alive */
        lw_watch_wait(closed3, LW_TIMEOUT_MS, "the robbed owner's close of its old lock");
        pid_t n3 = lw_holder_start(lock3, NULL);
        kill(e.d->pid, SIGCONT);
        lw_expect(e.d, LW_TIMEOUT_MS, "lock.acquired", "lock", lock3);
        pid_t b4 = lw_barrier(&e, LW_TIMEOUT_MS);
        CHECK(lw_count(e.d, "race.double-holder", NULL, NULL) == 0,
              "a double holder was reported after the robbed owner had let go");
        lw_kill_wait(b4, SIGTERM);
        lw_kill_wait(n3, SIGTERM);
        lw_kill_wait(a3, SIGTERM);
        lw_kill_wait(r3, SIGTERM);

        CHECK(lw_daemon_stop(e.d) == 0, "exit status");
        return 0;
}
