/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A user's symlink does not redirect root. The operator guards --state-dir HOME/.openclaw,
 * HOME belonging to a user (here nobody); a root-only folder elsewhere holds a dead owner's
 * lock that lockwarden would remove if it guarded it. The user (as nobody) replaces
 * .openclaw with a symlink to that folder, before the daemon starts and while it runs:
 * each time monitor.error says the symlink is not followed and the folder is NOT guarded,
 * and the root-only lock stays. `scan --fix` refuses the same way (exit 2). When the user puts
 * a real folder back, it is guarded again. The same in a folder root owns that anyone may write
 * (sticky, as /tmp). A symlink in a folder only root writes is the
 * operator's own: followed. */
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lwtest.h"

#define NOBODY 65534

/* Runs "ln -s TARGET LINK" (TARGET NULL: "mkdir -p LINK/agents/main/sessions"), or with
 * OLD "mv LINK OLD" first, as nobody. */
static void as_nobody(const char *old, const char *target, const char *link) {
        pid_t pid = fork();
        CHECK(pid >= 0, "fork");
        if (pid == 0) {
                if (setgroups(0, NULL) < 0 || setgid(NOBODY) < 0 || setuid(NOBODY) < 0)
                        _exit(99);
                if (old && rename(link, old) < 0)
                        _exit(1);
                if (target) {
                        if (symlink(target, link) < 0)
                                _exit(2);
                } else {
                        char p[4096];
                        snprintf(p, sizeof(p), "%s/agents", link);
                        if (mkdir(link, 0755) < 0 || mkdir(p, 0755) < 0)
                                _exit(3);
                        snprintf(p, sizeof(p), "%s/agents/main", link);
                        if (mkdir(p, 0755) < 0)
                                _exit(3);
                        snprintf(p, sizeof(p), "%s/agents/main/sessions", link);
                        if (mkdir(p, 0755) < 0)
                                _exit(3);
                }
                _exit(0);
        }
        CHECK(lw_wait_exit(pid, LW_TIMEOUT_MS) == 0, "the user's change failed");
}

static void refused(LwDaemon *d, const char *state, const char *secret_lock) {
        json_t *e = lw_expect(d, LW_TIMEOUT_MS, "monitor.error", "path", state);
        CHECK(strstr(jstr(e, "error"), "not followed") && strstr(jstr(e, "error"), "NOT guarded"), "error %s",
              jstr(e, "error"));
        /* Nothing of the root-only folder was judged, read or removed. */
        CHECK(lw_exists(secret_lock), "the root-only lock was removed");
        CHECK(lw_count(d, "lock.", "lock", secret_lock) == 0, "the root-only lock was judged");
}

int main(void) {
        char out[65536], err[4096];
        lw_require_root();
        lw_require_backend();
        char *dir = lw_tmpdir();
        CHECK(chmod(dir, 0755) == 0, "chmod");
        /* The root-only folder, with a dead owner's lock in it. */
        char *secret = lw_path(dir, "secret"), *secret_sessions = lw_path(secret, "agents/main/sessions");
        lw_mkdir_p(secret_sessions);
        CHECK(chmod(secret, 0700) == 0, "chmod secret");
        char *secret_lock = lw_path(secret_sessions, "s.jsonl.lock");
        lw_kill_wait(lw_holder_start(secret_lock, NULL), SIGKILL);
        lw_write_file(lw_path(secret_sessions, "s.jsonl"), "{}\n", 3);
        /* The user's home. */
        char *home = lw_path(dir, "home"), *state = lw_path(home, ".openclaw"), *old = lw_path(home, "old");
        lw_mkdir_p(home);
        CHECK(chown(home, NOBODY, NOBODY) == 0, "chown home");

        /* Planted before the start. */
        as_nobody(NULL, secret, state);
        const char *args[] = { "--state-dir", state, "--leak-grace-ms", "200", NULL };
        LwDaemon *d = lw_daemon_start(NULL, args, NULL);
        lw_daemon_ready(d);
        refused(d, state, secret_lock);

        /* A real folder again: guarded (a lock taken there is seen). */
        CHECK(unlink(state) == 0, "unlink the symlink");
        as_nobody(NULL, NULL, state);
        char *lock = lw_path(state, "agents/main/sessions/t.jsonl.lock");
        pid_t h = lw_holder_start(lock, NULL);
        lw_expect(d, LW_TIMEOUT_MS, "lock.acquired", "lock", lock);

        /* Swapped for a symlink while guarded. */
        size_t errors = lw_count(d, "monitor.error", "path", state);
        as_nobody(old, secret, state);
        refused(d, state, secret_lock);
        CHECK(lw_count(d, "monitor.error", "path", state) == errors + 1, "the refusal was not reported once more");
        lw_kill_wait(h, SIGTERM);
        CHECK(lw_daemon_stop(d) == 0, "exit status");

        /* scan refuses it too. */
        const char *scan[] = { "scan", "--fix", "--state-dir", state, NULL };
        CHECK(lw_run(scan, -1, out, sizeof(out), err, sizeof(err)) == 2, "scan exit: %s", err);
        CHECK(strstr(err, "not followed"), "scan said: %s", err);
        CHECK(lw_exists(secret_lock), "scan --fix removed the root-only lock");

        /* A folder root owns but anyone may write (sticky, as /tmp): not root's alone. */
        char *shared = lw_path(dir, "shared"), *state2 = lw_path(shared, ".openclaw");
        lw_mkdir_p(shared);
        CHECK(chmod(shared, 01777) == 0, "chmod shared");
        as_nobody(NULL, secret, state2);
        const char *args3[] = { "--state-dir", state2, "--leak-grace-ms", "200", NULL };
        d = lw_daemon_start(NULL, args3, NULL);
        lw_daemon_ready(d);
        refused(d, state2, secret_lock);
        CHECK(lw_daemon_stop(d) == 0, "exit status");

        /* The operator's own symlink (in a folder only root writes) is followed. */
        char *link = lw_path(dir, "link");
        CHECK(symlink(secret, link) == 0, "symlink");
        const char *args2[] = { "--state-dir", link, "--leak-grace-ms", "200", NULL };
        d = lw_daemon_start(NULL, args2, NULL);
        lw_daemon_ready(d);
        char *via = lw_path(link, "agents/main/sessions/s.jsonl.lock");
        json_t *c = lw_expect(d, LW_TIMEOUT_MS, "lock.cleaned", NULL, NULL);
        CHECK(strcmp(jstr(c, "lock"), via) == 0, "cleaned %s, expected %s", jstr(c, "lock"), via);
        CHECK(!lw_exists(secret_lock), "the operator's folder was not guarded");
        CHECK(lw_daemon_stop(d) == 0, "exit status");
        return 0;
}
