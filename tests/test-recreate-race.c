/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A new owner re-creates the lock between the verdict and the removal. The test build of the
 * daemon stops itself (SIGSTOP) at a named point inside the removal; the test, its parent,
 * sees the stop with waitpid, swaps the lock for a new owner's, and lets it continue. The new
 * lock must survive: at the first check (before-verify) and, harder, after verification but
 * before the quarantine rename (before-rename). Hardest (stranded): a second new owner takes
 * the name after the rename moved the first one's lock aside: the first lock can not be put
 * back at once, and must not be lost under the hidden name: it is put back the moment the
 * name frees. No .lockwarden-quarantine-* file is ever left behind. All of it again on a FUSE
 * mount (bindfs, as root) guarded with --remote-cleanup, where RENAME_NOREPLACE is EINVAL; and
 * there scan --fix keeps a dead owner's lock unless --remote-cleanup names the mount. */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lwtest.h"

/* The hooked daemon, stopping at POINTS, on a fresh state dir whose lock *RET_LOCK (in
 * *RET_SESSIONS) has just lost its owner (SIGKILL): the daemon is on its way to remove it. */
/* Where the state dirs go: a fresh temporary folder, or (fuse) a folder of the bindfs mount,
 * a filesystem without RENAME_NOREPLACE, guarded with --remote-cleanup. */
static const char *fuse_mnt;

static LwDaemon *start_with_dead_lock(const char *points, char **ret_sessions, char **ret_lock) {
        char env[128];
        snprintf(env, sizeof(env), "LOCKWARDEN_TEST_STOP_AT=%s", points);
        const char *envs[] = { env, NULL };
        static unsigned n;
        char name[32];
        snprintf(name, sizeof(name), "state%u", ++n);
        char *state = lw_path(fuse_mnt ? fuse_mnt : lw_tmpdir(), name);
        char *sessions = lw_path(state, "agents/main/sessions");
        lw_mkdir_p(sessions);
        char *lock = lw_path(sessions, "s1.jsonl.lock");
        const char *args[] = { "--state-dir", state, "--leak-grace-ms", "200",
                               fuse_mnt ? "--remote-cleanup" : NULL, fuse_mnt, NULL };
        LwDaemon *d = lw_daemon_start(lw_hooked_bin(), args, envs);
        lw_daemon_ready(d);
        pid_t old = lw_holder_start(lock, NULL);
        lw_expect(d, LW_TIMEOUT_MS, "lock.acquired", "lock", lock);
        lw_kill_wait(old, SIGKILL);
        *ret_sessions = sessions;
        *ret_lock = lock;
        return d;
}

static void run(const char *point) {
        char *sessions, *lock;
        LwDaemon *d = start_with_dead_lock(point, &sessions, &lock);

        /* The daemon judges the lock stale and stops itself inside the removal (lock.stale is
         * reported after the removal attempt, so as not to delay it). */
        lw_wait_stopped(d->pid, LW_TIMEOUT_MS);
        CHECK(unlink(lock) == 0, "unlink old lock");
        pid_t fresh = lw_holder_start(lock, NULL);
        kill(d->pid, SIGCONT);

        lw_expect(d, LW_TIMEOUT_MS, "lock.stale", "lock", lock);
        json_t *k = lw_expect(d, LW_TIMEOUT_MS, "lock.kept", "lock", lock);
        fprintf(stderr, "%s: kept because: %s\n", point, jstr(k, "why"));
        CHECK(strstr(jstr(k, "why"), strcmp(point, "before-verify") == 0 ? "replaced by another file" : "put back"),
              "%s: kept because: %s", point, jstr(k, "why"));
        CHECK(lw_exists(lock), "%s: the new owner's lock was removed", point);
        /* Put back by a hard link on bindfs, the lock is a new inode to the kernel: its
         * creator's events name another file, and the daemon reads the name again instead. */
        if (!fuse_mnt || strcmp(point, "before-rename") != 0)
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
        CHECK(lw_quarantined(sessions) == 0, "%s: a quarantine file left behind", point);
        CHECK(lw_daemon_stop(d) == 0, "exit status");
}

/* Between the verdict and the removal the lock is changed by someone who holds nothing: a
 * copy of the same bytes put in its place (another file: only its identity tells), or the
 * same file rewritten to name a live process (only its bytes tell). Either way it is kept. */
static void changed_unheld(bool copy) {
        char *sessions, *lock;
        LwDaemon *d = start_with_dead_lock("before-verify", &sessions, &lock);
        pid_t live = lw_spawn_sleeper();

        lw_wait_stopped(d->pid, LW_TIMEOUT_MS);
        if (copy) {
                char *tmp = lw_path(sessions, "copy.tmp"), cmd[8400];
                snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", lock, tmp);
                CHECK(system(cmd) == 0, "cp");
                CHECK(rename(tmp, lock) == 0, "rename the copy over the lock");
        } else {
                char payload[128];
                int n = snprintf(payload, sizeof(payload), "{\n  \"pid\": %d\n}\n", (int) live);
                int fd = open(lock, O_WRONLY | O_TRUNC | O_CLOEXEC);
                CHECK(fd >= 0 && write(fd, payload, (size_t) n) == n && close(fd) == 0, "rewrite the lock");
        }
        kill(d->pid, SIGCONT);
        json_t *k = lw_expect(d, LW_TIMEOUT_MS, "lock.kept", "lock", lock);
        const char *want = copy ? "replaced by another file" : "payload changed";
        CHECK(strstr(jstr(k, "why"), want), "%s: kept because: %s", copy ? "copy" : "rewritten", jstr(k, "why"));
        CHECK(lw_count(d, "lock.cleaned", NULL, NULL) == 0, "%s: removed", copy ? "copy" : "rewritten");
        CHECK(lw_exists(lock), "the changed lock is gone");
        lw_kill_wait(live, SIGKILL);
        /* Judged again on what it holds now (the hook stops the daemon on the way). */
        lw_wait_stopped(d->pid, LW_TIMEOUT_MS);
        kill(d->pid, SIGCONT);
        lw_expect(d, LW_TIMEOUT_MS, "lock.cleaned", "lock", lock);
        CHECK(lw_quarantined(sessions) == 0, "a quarantine file left behind");
        CHECK(lw_daemon_stop(d) == 0, "exit status");
}

static void stranded(void) {
        char *sessions, *lock;
        /* Stops before the rename (A takes the name) and before the put-back (B takes it). */
        LwDaemon *d = start_with_dead_lock("before-rename,before-putback", &sessions, &lock);

        lw_wait_stopped(d->pid, LW_TIMEOUT_MS); /* before-rename */
        CHECK(unlink(lock) == 0, "unlink old lock");
        pid_t a = lw_holder_start(lock, NULL);
        kill(d->pid, SIGCONT);
        lw_wait_stopped(d->pid, LW_TIMEOUT_MS); /* before-putback: A's lock is aside */
        CHECK(!lw_exists(lock) && lw_quarantined(sessions) == 1, "A's lock was not moved aside");
        pid_t b = lw_holder_start(lock, NULL);
        kill(d->pid, SIGCONT);

        json_t *k = lw_expect(d, LW_TIMEOUT_MS, "lock.kept", "lock", lock);
        CHECK(strstr(jstr(k, "why"), "put back when the name frees"), "why %s", jstr(k, "why"));
        CHECK(lw_quarantined(sessions) == 1, "A's lock is not waiting aside");
        /* B lets go: its release frees the name, and A's lock is back under it at once. */
        lw_kill_wait(b, SIGTERM);
        json_t *p = lw_expect(d, LW_TIMEOUT_MS, "lock.kept", "reason", "stranded");
        CHECK(strstr(jstr(p, "why"), "put back from"), "why %s", jstr(p, "why"));
        CHECK(lw_exists(lock) && lw_quarantined(sessions) == 0, "A's lock was not put back");
        /* It is A's again, judged as any: A dies, it is cleaned (through the hook's stops). */
        lw_kill_wait(a, SIGKILL);
        lw_wait_stopped(d->pid, LW_TIMEOUT_MS);
        kill(d->pid, SIGCONT);
        json_t *c = lw_expect(d, LW_TIMEOUT_MS, "lock.cleaned", "lock", lock);
        CHECK(jint(c, "owner_pid") == a, "cleaned owner %lld, A is %d", jint(c, "owner_pid"), (int) a);
        CHECK(lw_quarantined(sessions) == 0, "a quarantine file left behind");
        CHECK(lw_daemon_stop(d) == 0, "exit status");
}

int main(void) {
        lw_require_backend();
        run("before-verify");
        run("before-rename");
        stranded();
        changed_unheld(true);
        changed_unheld(false);

        /* Again where the filesystem has no RENAME_NOREPLACE (EINVAL: NFS, 9p, FUSE servers
         * such as bindfs): the removal still removes, puts back and strands nothing. */
        char *dir = lw_tmpdir(), *src = lw_path(dir, "src"), *mnt = lw_path(dir, "mnt");
        lw_mkdir_p(src);
        lw_mkdir_p(mnt);
        if (lw_bindfs_mount(src, mnt, NULL) < 0) {
                fprintf(stderr, "the FUSE half is not run\n");
                return 0;
        }
        fuse_mnt = mnt;
        run("before-verify");
        run("before-rename");
        stranded();

        /* scan --fix applies the daemon's remote rule: kept, unless --remote-cleanup. */
        char out[65536], err[4096];
        char *state = lw_path(mnt, "scanned"), *sessions = lw_path(state, "agents/main/sessions");
        lw_mkdir_p(sessions);
        char *lock = lw_path(sessions, "s.jsonl.lock");
        lw_kill_wait(lw_holder_start(lock, NULL), SIGKILL);
        const char *fix[] = { "scan", "--fix", "--json", "--leak-grace-ms", "0", "--state-dir", state, NULL };
        int rc = lw_run(fix, -1, out, sizeof(out), err, sizeof(err));
        CHECK(rc == 1, "scan --fix: exit %d: %s%s", rc, out, err);
        CHECK(strstr(out, "on a remote filesystem (fuse)") && lw_exists(lock), "scan --fix on FUSE: %s", out);
        const char *fix_remote[] = { "scan", "--fix", "--json", "--leak-grace-ms", "0", "--state-dir", state,
                                     "--remote-cleanup", mnt, NULL };
        CHECK(lw_run(fix_remote, -1, out, sizeof(out), err, sizeof(err)) == 1, "scan --fix: %s", err);
        CHECK(strstr(out, "\"removed\"") && !lw_exists(lock), "scan --fix --remote-cleanup: %s", out);
        CHECK(lw_quarantined(sessions) == 0, "scan left a quarantine file");
        lw_bindfs_unmount();
        return 0;
}
