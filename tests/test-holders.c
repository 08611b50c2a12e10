/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The holder map, not the payload, decides who holds a lock:
 *  - a dead owner's lock that another process still holds open (a reader, a forked child) is
 *    left alone while it is open, and cleaned the moment that process closes it;
 *  - a live owner's lock removed by another process is reported as lock.removed naming both,
 *    with the owner alive and still holding it. */
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include "lwtest.h"

int main(void) {
        LwEnv e;
        lw_env_start(&e, "200", NULL);
        char *lock = lw_path(e.sessions, "busy.jsonl.lock");

        pid_t h = lw_holder_start(lock, NULL);
        lw_expect(e.d, LW_TIMEOUT_MS, "lock.acquired", "lock", lock);
        int fd = open(lock, O_RDONLY | O_CLOEXEC);
        CHECK(fd >= 0, "open for reading");
        lw_kill_wait(h, SIGKILL);
        /* Five graces with the lock open by us: nothing may happen to it. */
        lw_expect_none(e.d, 1000, "lock.stale", "lock", lock);
        CHECK(lw_exists(lock), "removed while held open by another process");
        uint64_t closing = lw_mono_ns(); /* before close(): the cleanup may follow at once */
        close(fd);
        json_t *c = lw_expect(e.d, LW_TIMEOUT_MS, "lock.cleaned", "lock", lock);
        CHECK(strcmp(jstr(c, "reason"), "dead-pid") == 0, "reason %s", jstr(c, "reason"));
        CHECK((uint64_t) jint(c, "mono_ns") > closing, "cleaned before our close");
        CHECK(!lw_exists(lock), "not cleaned after the close");

        char *lock2 = lw_path(e.sessions, "stolen.jsonl.lock");
        pid_t owner = lw_holder_start(lock2, NULL);
        lw_expect(e.d, LW_TIMEOUT_MS, "lock.acquired", "lock", lock2);
        CHECK(unlink(lock2) == 0, "unlink");
        json_t *r = lw_expect(e.d, LW_TIMEOUT_MS, "lock.removed", "lock", lock2);
        lw_check_actor(r, "pid", getpid());
        CHECK(jint(r, "owner_pid") == owner, "owner %lld", jint(r, "owner_pid"));
        CHECK(json_is_true(json_object_get(r, "owner_alive")), "owner_alive");
        CHECK(json_is_true(json_object_get(r, "owner_holds")), "owner_holds");
        lw_kill_wait(owner, SIGTERM);
        CHECK(lw_count(e.d, "lock.released", "lock", lock2) == 0, "released after it was removed");
        CHECK(lw_daemon_stop(e.d) == 0, "exit status");
        return 0;
}
