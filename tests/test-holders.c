/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The holder map, not the payload, decides who holds a lock, and holding is a write
 * descriptor:
 *  - a dead owner's lock that a reader has open (a contender polling the payload, `cat`) is
 *    stale at once and removed: readers hold nothing, and `holders` lists them as readers;
 *  - a dead owner's lock that a forked child holds through the inherited write descriptor (no
 *    open event ever named it) is kept while the child lives, saying who holds it, and cleaned
 *    when the child exits;
 *  - a live owner's lock removed by another process is reported as lock.removed naming both,
 *    with the owner alive and still holding it. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
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
        /* `holders` shows the reader as a reader, next to the holder. */
        char out[8192], me[32];
        const char *hargs[] = { "holders", "--json", "--socket", e.d->socket, lock, NULL };
        CHECK(lw_run(hargs, -1, out, sizeof(out), NULL, 0) == 0, "holders");
        snprintf(me, sizeof(me), "\"pid\": %d", (int) getpid());
        CHECK(strstr(out, me) && strstr(out, "\"reader\": true") && strstr(out, "\"mode\": \"r\""),
              "holders does not list the reader: %s", out);
        /* A reader is no holder: the owner dead, the lock is stale at once and removed while
         * the reader still has it open (the removal's read lease allows readers). */
        lw_kill_wait(h, SIGKILL);
        json_t *c = lw_expect(e.d, LW_TIMEOUT_MS, "lock.cleaned", "lock", lock);
        CHECK(strcmp(jstr(c, "reason"), "dead-pid") == 0, "reason %s", jstr(c, "reason"));
        CHECK(!lw_exists(lock), "not cleaned");
        close(fd);

        /* A forked child holds the owner's descriptor: no open event names it, and the parent's
         * death closes no file (the child's copy stays), so only its pidfd tells of it.
         * (valgrind 3.19 has no pidfd_open: skipped under it.) Orphaned when its parent dies,
         * the child becomes our child (subreaper) so that we can reap it. */
        const char *wrapper = getenv("LW_DAEMON_WRAPPER");
        if (!wrapper || !strstr(wrapper, "valgrind")) {
                CHECK(prctl(PR_SET_CHILD_SUBREAPER, 1) == 0, "subreaper");
                char *forked = lw_path(e.sessions, "forked.jsonl.lock"), *pidfile = lw_path(e.state, "child.pid");
                const char *fork_args[] = { "--mode=fork", "--child-pid-file", pidfile, NULL };
                pid_t parent = lw_holder_start(forked, fork_args);
                pid_t child = lw_read_pid(pidfile);
                lw_expect(e.d, LW_TIMEOUT_MS, "lock.acquired", "lock", forked);
                lw_kill_wait(parent, SIGKILL);
                if (lw_attributed()) {
                        /* fanotify saw the parent's open only: the removal's lease finds the child. */
                        json_t *k = lw_expect(e.d, LW_TIMEOUT_MS, "lock.kept", "lock", forked);
                        char want[64];
                        snprintf(want, sizeof(want), "held open for writing by pid %d", (int) child);
                        CHECK(strstr(jstr(k, "why"), want), "why %s (child %d)", jstr(k, "why"), (int) child);
                } else {
                        /* inotify's /proc walk may have found the child already: busy, not stale. A
                         * leaked lock taken after the kill, cleaned after its grace, is the barrier. */
                        char *leak = lw_path(e.sessions, "barrier.jsonl.lock");
                        const char *leak_args[] = { "--mode=leak", NULL };
                        pid_t l = lw_holder_start(leak, leak_args);
                        lw_expect(e.d, LW_TIMEOUT_MS, "lock.cleaned", "lock", leak);
                        lw_kill_wait(l, SIGTERM);
                }
                CHECK(lw_exists(forked), "removed while the forked child holds it");
                CHECK(lw_count(e.d, "lock.cleaned", "lock", forked) == 0, "cleaned while held");
                uint64_t killing = lw_mono_ns();
                lw_kill_wait(child, SIGTERM);
                json_t *cf = lw_expect(e.d, LW_TIMEOUT_MS, "lock.cleaned", "lock", forked);
                CHECK(lw_count(e.d, "lock.stale", "lock", forked) == 1, "stale other than once, after the child");
                CHECK((uint64_t) jint(cf, "mono_ns") > killing, "cleaned before the child exited");
                CHECK(!lw_exists(forked), "not cleaned after the child exited");
        }

        /* One request names at most 64 paths (each may cost a walk of /proc). */
        const char *many[72] = { "holders", "--socket", e.d->socket };
        char *some = lw_path(e.sessions, "some.jsonl");
        lw_write_file(some, "{}\n", 3);
        for (int i = 0; i < 65; i++)
                many[3 + i] = some;
        char errs[4096];
        CHECK(lw_run(many, -1, out, sizeof(out), errs, sizeof(errs)) != 0 && strstr(errs, "at most 64"),
              "65 paths: %s", errs);

        /* A truncate by path writes without a descriptor: no holder is made of it (else the
         * lock would stay busy for good once its owner dies). */
        char *cut = lw_path(e.sessions, "cut.jsonl.lock");
        pid_t hc = lw_holder_start(cut, NULL);
        lw_expect(e.d, LW_TIMEOUT_MS, "lock.acquired", "lock", cut);
        CHECK(truncate(cut, 0) == 0, "truncate");
        lw_kill_wait(hc, SIGKILL);
        lw_expect(e.d, LW_TIMEOUT_MS, "lock.cleaned", "lock", cut);

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
