/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A resync whose /proc walk is cut short (out of descriptors) changes nothing: the holder map
 * stays as it was, never half-built. The test build of the daemon makes its first resync's
 * walk fail at once with EMFILE (LOCKWARDEN_TEST_FAIL_RESEED=1). A dead owner's lock is held
 * by its forked child through the inherited write descriptor: only /proc tells of the child.
 * After a queue overflow the resync's walk fails: monitor.error says so, the child is still in the holder map (SIGUSR1 dump), and the lock is judged no more (a
 * half-built map would call it stale again and try to remove it). The next event retries the
 * resync, which then completes. (valgrind 3.19 has no pidfd_open: skipped under it.) */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "lwtest.h"

static bool dump_has_holder(LwDaemon *d, const char *lock, pid_t pid) {
        kill(d->pid, SIGUSR1);
        json_t *dump = lw_expect(d, LW_TIMEOUT_MS, "monitor.dump", NULL, NULL);
        json_t *locks = json_object_get(dump, "locks"), *l;
        size_t i;

        json_array_foreach(locks, i, l) {
                if (strcmp(jstr(l, "lock"), lock) != 0)
                        continue;
                json_t *have = json_object_get(l, "holders");
                for (size_t j = 0; j < json_array_size(have); j++)
                        if (json_integer_value(json_array_get(have, j)) == pid)
                                return true;
        }
        return false;
}

int main(void) {
        lw_require_backend();
        const char *wrapper = getenv("LW_DAEMON_WRAPPER");
        if (wrapper && strstr(wrapper, "valgrind"))
                return 77;
        CHECK(prctl(PR_SET_CHILD_SUBREAPER, 1) == 0, "subreaper");
        char *state = lw_path(lw_tmpdir(), "state"), *sessions = lw_path(state, "agents/main/sessions");
        lw_mkdir_p(sessions);
        const char *envs[] = { "LOCKWARDEN_TEST_FAIL_RESEED=1", NULL };
        const char *args[] = { "--state-dir", state, "--leak-grace-ms", "200", NULL };
        LwDaemon *d = lw_daemon_start(lw_hooked_bin(), args, envs);
        lw_daemon_ready(d);

        char *forked = lw_path(sessions, "forked.jsonl.lock"), *pidfile = lw_path(state, "child.pid");
        const char *fork_args[] = { "--mode=fork", "--child-pid-file", pidfile, NULL };
        pid_t parent = lw_holder_start(forked, fork_args);
        pid_t child = lw_read_pid(pidfile);
        lw_expect(d, LW_TIMEOUT_MS, "lock.acquired", "lock", forked);
        lw_kill_wait(parent, SIGKILL);
        if (lw_attributed())
                lw_expect(d, LW_TIMEOUT_MS, "lock.kept", "lock", forked); /* the lease found the child */
        else {
                /* inotify's /proc walks found the child at its open; a leaked lock taken after the
                 * kill, stale after its grace, is the barrier. */
                char *leak = lw_path(sessions, "first-leak.jsonl.lock");
                const char *leak_args[] = { "--mode=leak", NULL };
                pid_t l = lw_holder_start(leak, leak_args);
                lw_expect(d, LW_TIMEOUT_MS, "lock.stale", "lock", leak);
                lw_kill_wait(l, SIGKILL);
        }
        CHECK(dump_has_holder(d, forked, child), "the child is not in the map before the overflow");
        size_t stale = lw_count(d, "lock.stale", "lock", forked), kept = lw_count(d, "lock.kept", "lock", forked);

        lw_overflow_stopped(d, sessions);
        kill(d->pid, SIGCONT);
        lw_expect(d, LW_TIMEOUT_MS * 4, "monitor.overflow", NULL, NULL);
        json_t *err = lw_expect(d, LW_TIMEOUT_MS * 4, "monitor.error", "path", "/proc");
        CHECK(strstr(jstr(err, "error"), "holders kept"), "error %s", jstr(err, "error"));
        CHECK(dump_has_holder(d, forked, child), "a failed resync dropped the child from the map");
        CHECK(lw_count(d, "lock.stale", "lock", forked) == stale && lw_count(d, "lock.kept", "lock", forked) == kept,
              "the held lock was judged stale again after the failed resync");

        /* An event after the failure retries the resync (the flood's own last events may have
         * already); a leaked lock taken now, stale after its grace, is the barrier. */
        char *leak = lw_path(sessions, "leak.jsonl.lock");
        const char *leak_args[] = { "--mode=leak", NULL };
        pid_t hk = lw_holder_start(leak, leak_args);
        lw_expect(d, LW_TIMEOUT_MS * 4, "monitor.resync", NULL, NULL);
        lw_expect(d, LW_TIMEOUT_MS * 4, "lock.stale", "lock", leak);
        CHECK(lw_exists(forked), "the held lock was removed");
        CHECK(dump_has_holder(d, forked, child), "the child is not in the map after the resync");

        lw_kill_wait(child, SIGTERM);
        lw_expect(d, LW_TIMEOUT_MS, "lock.cleaned", "lock", forked);
        lw_kill_wait(hk, SIGKILL);
        CHECK(lw_daemon_stop(d) == 0, "exit status");
        return 0;
}
