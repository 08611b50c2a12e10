/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A new owner re-creates the lock between the verdict and the removal. The test build of the
 * daemon stops itself (SIGSTOP) at a named point inside the removal; the test, its parent,
 * sees the stop with waitpid, swaps the lock for a new owner's, and lets it continue. The new
 * lock must survive: at the first check (before-verify) and, harder, after verification but
 * before the quarantine rename (before-rename). */
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lwtest.h"

static void run(const char *point) {
        char env[64], bin[4096];
        snprintf(env, sizeof(env), "LOCKWARDEN_TEST_STOP_AT=%s", point);
        snprintf(bin, sizeof(bin), "%s/src/lockwarden-hooked", lw_builddir());
        const char *envs[] = { env, NULL };
        char *state = lw_path(lw_tmpdir(), "state");
        char *sessions = lw_path(state, "agents/main/sessions");
        lw_mkdir_p(sessions);
        char *lock = lw_path(sessions, "s1.jsonl.lock");
        const char *args[] = { "--state-dir", state, "--leak-grace-ms", "200", NULL };
        LwDaemon *d = lw_daemon_start(bin, args, envs);
        lw_daemon_ready(d);
        pid_t old = lw_holder_start(lock, NULL);
        lw_expect(d, LW_TIMEOUT_MS, "lock.acquired", "lock", lock);
        lw_kill_wait(old, SIGKILL);

        /* The daemon judges the lock stale and stops itself inside the removal (lock.stale is
         * reported after the removal attempt, so as not to delay it). */
        lw_wait_stopped(d->pid, LW_TIMEOUT_MS);
        CHECK(unlink(lock) == 0, "unlink old lock");
        pid_t fresh = lw_holder_start(lock, NULL);
        kill(d->pid, SIGCONT);

        lw_expect(d, LW_TIMEOUT_MS, "lock.stale", "lock", lock);
        json_t *k = lw_expect(d, LW_TIMEOUT_MS, "lock.kept", "lock", lock);
        fprintf(stderr, "%s: kept because: %s\n", point, jstr(k, "why"));
        CHECK(lw_exists(lock), "%s: the new owner's lock was removed", point);
        lw_expect(d, LW_TIMEOUT_MS, "lock.acquired", "lock", lock);
        CHECK(lw_count(d, "lock.cleaned", NULL, NULL) == 0, "%s: cleaned something", point);

        /* The new lock is the new owner's: it is live, and when that owner dies it goes too.
         * (The hook stops the daemon again on the way; let it through.) */
        lw_kill_wait(fresh, SIGKILL);
        lw_wait_stopped(d->pid, LW_TIMEOUT_MS);
        kill(d->pid, SIGCONT);
        json_t *c = lw_expect(d, LW_TIMEOUT_MS, "lock.cleaned", "lock", lock);
        CHECK(jint(c, "owner_pid") == fresh, "cleaned owner %lld", jint(c, "owner_pid"));
        CHECK(!lw_exists(lock), "lock of the dead new owner still there");
        CHECK(lw_daemon_stop(d) == 0, "exit status");
}

int main(void) {
        lw_require_backend();
        run("before-verify");
        run("before-rename");
        return 0;
}
