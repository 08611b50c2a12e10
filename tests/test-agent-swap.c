/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* An agent folder keeps no descriptor once its sessions/ is guarded: where the daemon needs
 * it again it opens agents/<id> by name, and must get that agent's folder or nothing. Here
 * nobody, who owns agents/, swaps the name at exactly that moment: the test build of the
 * daemon stops itself (SIGSTOP) right before the reopen (node-reopen) and right after it
 * (node-reopened), in the resync after a queue overflow. Between the two stops nobody moves
 * agents/A away and puts under its name
 *   - another folder X of its own, with a sessions/ and a dead owner's lock, which it takes
 *     out of agents/ again at the second stop: the daemon must not take X for A (only the
 *     file id tells them apart), so never guard X, track or touch its lock;
 *   - a symlink to where it moved A: not followed (O_NOFOLLOW), although it leads to A.
 * Either way A is let go as a folder found gone in a resync is (monitor.folder-removed,
 * "gone"), and nothing is cleaned. */
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lwtest.h"

#define NOBODY 65534

static void own(const char *path) {
        CHECK(chown(path, NOBODY, NOBODY) == 0, "chown %s: %s", path, strerror(errno));
}

/* FN(A, B) (rename, symlink) done by nobody. */
static void as_nobody(const char *what, int (*fn)(const char *, const char *), const char *a, const char *b) {
        pid_t p = fork();

        CHECK(p >= 0, "fork");
        if (p == 0) {
                gid_t g = NOBODY;
                if (setgroups(1, &g) < 0 || setgid(NOBODY) < 0 || setuid(NOBODY) < 0)
                        _exit(2);
                _exit(fn(a, b) == 0 ? 0 : 1);
        }
        int st = lw_wait_exit(p, LW_TIMEOUT_MS);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "as nobody: %s", what);
}

static void run(bool symlink_swap) {
        char *tmp = lw_tmpdir();
        CHECK(chmod(tmp, 0755) == 0, "chmod");
        char *state = lw_path(tmp, "state"), *agents = lw_path(state, "agents");
        char *a = lw_path(agents, "A"), *as = lw_path(a, "sessions");
        char *outside = lw_path(tmp, "outside"), *away = lw_path(outside, "A-away");
        char *x = lw_path(outside, "X"), *xs = lw_path(x, "sessions");
        char *xlock = lw_path(xs, "x.jsonl.lock"), *as_xlock = lw_path(as, "x.jsonl.lock");
        char *canary = lw_path(tmp, "canary");

        lw_mkdir_p(as);
        lw_mkdir_p(xs);
        lw_mkdir_p(canary);
        own(agents), own(a), own(as), own(outside), own(x), own(xs);
        /* X's lock names an owner that is gone: stale wherever it is guarded. */
        pid_t dead = lw_spawn_sleeper();
        lw_kill_wait(dead, SIGKILL);
        char payload[64];
        int n = snprintf(payload, sizeof(payload), "{\"pid\": %d}\n", (int) dead);
        lw_write_file(xlock, payload, (size_t) n);
        own(xlock);
        struct stat before;
        CHECK(stat(xlock, &before) == 0, "stat");

        /* The canary folder is guarded on its own (--watch): its fd is kept, never reopened. */
        const char *env[] = { "LOCKWARDEN_TEST_STOP_AT=node-reopen,node-reopened", NULL };
        const char *args[] = { "--state-dir", state, "--watch", canary, "--leak-grace-ms", "200", NULL };
        LwDaemon *d = lw_daemon_start(lw_hooked_bin(), args, env);
        json_t *ready = lw_daemon_ready(d);
        CHECK(lw_array_has(json_object_get(ready, "dirs"), as), "%s not guarded", as);

        /* Lost events: the resync opens A again (A is the only agent: two stops). */
        lw_overflow_stopped(d, as);
        kill(d->pid, SIGCONT);
        lw_wait_stopped(d->pid, LW_TIMEOUT_MS * 4);
        as_nobody("move A away", rename, a, away);
        if (symlink_swap)
                as_nobody("symlink to A", symlink, away, a);
        else
                as_nobody("X in A's place", rename, x, a);
        kill(d->pid, SIGCONT);
        lw_wait_stopped(d->pid, LW_TIMEOUT_MS);
        if (!symlink_swap)
                as_nobody("X out again", rename, a, x);
        kill(d->pid, SIGCONT);

        json_t *gone = lw_expect(d, LW_TIMEOUT_MS * 4, "monitor.folder-removed", "path", as);
        CHECK(strcmp(jstr(gone, "how"), "gone") == 0, "%s: how %s", symlink_swap ? "symlink" : "folder",
              jstr(gone, "how"));
        /* Whatever the daemon would do with what it read, it has done by the canary's report. */
        lw_expect_none_after_grace(d, canary, "lock.cleaned", NULL, NULL);
        CHECK(lw_count(d, "monitor.folder-added", "path", as) == 0, "%s guarded again after the swap (%s)", as,
              symlink_swap ? "symlink followed" : "another folder taken for A");
        CHECK(lw_count(d, "lock.stale", "lock", as_xlock) == 0, "X's lock judged as %s", as_xlock);
        CHECK(lw_count(d, "lock.acquired", "lock", as_xlock) == 0, "X's lock tracked as %s", as_xlock);
        struct stat after;
        CHECK(stat(xlock, &after) == 0 && after.st_ino == before.st_ino && after.st_size == before.st_size,
              "X's lock touched");
        if (symlink_swap)
                lw_expect(d, LW_TIMEOUT_MS, "monitor.error", "path", a); /* the symlink, said as today */
        CHECK(lw_daemon_stop(d) == 0, "exit status");
}

int main(void) {
        lw_require_root();
        lw_require_fanotify();
        run(false);
        run(true);
        return 0;
}
