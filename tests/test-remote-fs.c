/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Sessions folders on a network filesystem: monitor.warning once per filesystem (fs_type),
 * and a dead owner's lock there is reported (lock.stale) but kept (lock.kept: a pid in a lock
 * may be another host's), unless --remote-cleanup names a folder above it. The test build of
 * the daemon takes every filesystem for NFS (LOCKWARDEN_TEST_FS_TYPE=nfs): a real NFS server
 * is more than a test may set up. tests/test-tmpfs runs on a real tmpfs. */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "lwtest.h"

static LwDaemon *start(const char *state, const char *remote_cleanup) {
        const char *envs[] = { "LOCKWARDEN_TEST_FS_TYPE=nfs", NULL };
        const char *args[] = { "--state-dir", state, "--leak-grace-ms", "200",
                               remote_cleanup ? "--remote-cleanup" : NULL, remote_cleanup, NULL };

        LwDaemon *d = lw_daemon_start(lw_hooked_bin(), args, envs);
        lw_daemon_ready(d);
        return d;
}

int main(void) {
        lw_require_backend();
        char *state = lw_path(lw_tmpdir(), "state");
        char *s1 = lw_path(state, "agents/a1/sessions"), *s2 = lw_path(state, "agents/a2/sessions");
        lw_mkdir_p(s1);
        lw_mkdir_p(s2);

        /* Report only. */
        LwDaemon *d = start(state, NULL);
        CHECK(lw_count(d, "monitor.warning", NULL, NULL) == 1, "warned %zu times for one filesystem",
              lw_count(d, "monitor.warning", NULL, NULL));
        json_t *w = lw_expect(d, LW_TIMEOUT_MS, "monitor.warning", NULL, NULL);
        CHECK(strcmp(jstr(w, "fs_type"), "nfs") == 0, "fs_type %s", jstr(w, "fs_type"));
        CHECK(strcmp(jstr(w, "cleanup"), "report-only") == 0, "cleanup %s", jstr(w, "cleanup"));
        CHECK(strstr(jstr(w, "warning"), "other hosts"), "warning %s", jstr(w, "warning"));
        char *lock = lw_path(s1, "s.jsonl.lock");
        pid_t h = lw_holder_start(lock, NULL);
        lw_expect(d, LW_TIMEOUT_MS, "lock.acquired", "lock", lock);
        lw_kill_wait(h, SIGKILL);
        lw_expect(d, LW_TIMEOUT_MS, "lock.stale", "lock", lock);
        json_t *k = lw_expect(d, LW_TIMEOUT_MS, "lock.kept", "lock", lock);
        CHECK(strstr(jstr(k, "why"), "remote filesystem (nfs)") && strstr(jstr(k, "why"), "--remote-cleanup"),
              "why %s", jstr(k, "why"));
        CHECK(lw_exists(lock), "a lock on a remote filesystem was removed without opt-in");
        CHECK(lw_count(d, "lock.cleaned", NULL, NULL) == 0, "cleaned without opt-in");
        CHECK(lw_daemon_stop(d) == 0, "exit status");

        /* Opted in for a1 only: the lock left there is cleaned at start; a2's is kept. */
        char *a1 = lw_path(state, "agents/a1"), *lock2 = lw_path(s2, "t.jsonl.lock");
        h = lw_holder_start(lock2, NULL);
        lw_kill_wait(h, SIGKILL);
        d = start(state, a1);
        w = lw_expect(d, LW_TIMEOUT_MS, "monitor.warning", NULL, NULL);
        lw_expect(d, LW_TIMEOUT_MS, "lock.cleaned", "lock", lock);
        CHECK(!lw_exists(lock), "opted-in lock not removed");
        lw_expect(d, LW_TIMEOUT_MS, "lock.kept", "lock", lock2);
        CHECK(lw_exists(lock2), "a lock outside --remote-cleanup was removed");
        CHECK(lw_daemon_stop(d) == 0, "exit status");
        return 0;
}
