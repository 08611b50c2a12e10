/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Folders that come and go while guarded: a sessions folder renamed away (no longer guarded:
 * a dead owner's lock in it is left alone) and back (guarded again: that lock is cleaned at
 * once); a whole agent folder deleted under a live holder and re-created; a sessions folder
 * replaced by a symlink (reported once, never followed: a dead lock behind it stays) and then
 * by a real folder again. No crash, one error in all, and the daemon exits cleanly. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "lwtest.h"

/* Everything queued before this is applied: a lock taken in the barrier folder is reported. */
static void barrier(LwDaemon *d, const char *folder) {
        static int n;
        char name[64];

        snprintf(name, sizeof(name), "barrier-%d.jsonl.lock", n++);
        char *lock = lw_path(folder, name);
        pid_t b = lw_holder_start(lock, NULL);
        lw_expect(d, LW_TIMEOUT_MS, "lock.acquired", "lock", lock);
        lw_kill_wait(b, SIGTERM);
        lw_expect(d, LW_TIMEOUT_MS, "lock.released", "lock", lock);
        free(lock);
}

static void run(const char *cmd) {
        CHECK(system(cmd) == 0, "%s", cmd);
}

int main(void) {
        LwEnv e;
        lw_env_start(&e, "200", NULL);
        char *bfolder = lw_path(e.state, "agents/b/sessions");
        lw_mkdir_p(bfolder);
        barrier(e.d, bfolder); /* the new agent b is guarded */
        char *cmd;

        /* 1. Renamed away, then back. */
        char *moved = lw_path(e.state, "agents/main/sessions.old");
        CHECK(rename(e.sessions, moved) == 0, "rename away");
        barrier(e.d, bfolder);
        char *away_lock = lw_path(moved, "s.jsonl.lock");
        pid_t h = lw_holder_start(away_lock, NULL);
        lw_kill_wait(h, SIGKILL);
        barrier(e.d, bfolder);
        CHECK(lw_exists(away_lock), "a lock in a folder no longer guarded was touched");
        CHECK(lw_count(e.d, "lock.stale", NULL, NULL) == 0, "judged a lock in an unguarded folder");
        CHECK(rename(moved, e.sessions) == 0, "rename back");
        char *back_lock = lw_path(e.sessions, "s.jsonl.lock");
        json_t *c = lw_expect(e.d, LW_TIMEOUT_MS, "lock.cleaned", "lock", back_lock);
        CHECK(strcmp(jstr(c, "reason"), "dead-pid") == 0, "reason %s", jstr(c, "reason"));

        /* 2. A whole agent folder deleted under a live holder, then re-created. */
        char *a1 = lw_path(e.state, "agents/a1"), *a1s = lw_path(e.state, "agents/a1/sessions");
        lw_mkdir_p(a1s);
        char *a1lock = lw_path(a1s, "x.jsonl.lock");
        pid_t live = lw_holder_start(a1lock, NULL);
        lw_expect(e.d, LW_TIMEOUT_MS, "lock.acquired", "lock", a1lock);
        CHECK(asprintf(&cmd, "rm -rf '%s'", a1) > 0, "asprintf");
        run(cmd);
        barrier(e.d, bfolder);
        lw_mkdir_p(a1s);
        barrier(e.d, bfolder);
        char *a1lock2 = lw_path(a1s, "y.jsonl.lock");
        h = lw_holder_start(a1lock2, NULL);
        lw_expect(e.d, LW_TIMEOUT_MS, "lock.acquired", "lock", a1lock2);
        lw_kill_wait(h, SIGKILL);
        lw_expect(e.d, LW_TIMEOUT_MS, "lock.cleaned", "lock", a1lock2);
        lw_kill_wait(live, SIGTERM);

        /* 3. Replaced by a symlink to a folder elsewhere, then by a real folder. */
        char *elsewhere = lw_path(lw_tmpdir(), "elsewhere");
        lw_mkdir_p(elsewhere);
        char *behind = lw_path(elsewhere, "z.jsonl.lock");
        h = lw_holder_start(behind, NULL);
        lw_kill_wait(h, SIGKILL);
        free(cmd);
        CHECK(asprintf(&cmd, "rm -rf '%s' && ln -s '%s' '%s'", e.sessions, elsewhere, e.sessions) > 0, "asprintf");
        run(cmd);
        json_t *err = lw_expect(e.d, LW_TIMEOUT_MS, "monitor.error", "path", e.sessions);
        CHECK(strstr(jstr(err, "error"), "symlink") && strstr(jstr(err, "error"), "not followed"),
              "error %s", jstr(err, "error"));
        barrier(e.d, bfolder);
        CHECK(lw_exists(behind), "a lock behind a symlinked folder was removed");
        CHECK(unlink(e.sessions) == 0, "remove the symlink");
        lw_mkdir_p(e.sessions);
        barrier(e.d, bfolder);
        char *last = lw_path(e.sessions, "w.jsonl.lock");
        h = lw_holder_start(last, NULL);
        lw_expect(e.d, LW_TIMEOUT_MS, "lock.acquired", "lock", last);
        lw_kill_wait(h, SIGKILL);
        lw_expect(e.d, LW_TIMEOUT_MS, "lock.cleaned", "lock", last);

        CHECK(lw_count(e.d, "monitor.error", NULL, NULL) == 1, "%zu errors, expected the symlink one",
              lw_count(e.d, "monitor.error", NULL, NULL));
        CHECK(lw_count(e.d, "lock.cleaned", NULL, NULL) == 3, "%zu cleanups, expected 3",
              lw_count(e.d, "lock.cleaned", NULL, NULL));
        CHECK(lw_daemon_stop(e.d) == 0, "exit status");
        return 0;
}
