/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The same guard on a tmpfs mounted by the test (in a mount namespace of its own): a local
 * filesystem, so no warning; a dead owner's lock is cleaned, a live one kept, and an unlocked
 * write is a race. Then an overlayfs on it, which has no file handles (no nfs_export):
 * fanotify cannot guard it and says so (suggesting inotify) rather than guard it in name
 * only; inotify guards it. The other tests run on the machine's root filesystem. */
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/mount.h>
#include <unistd.h>

#include "lwtest.h"

int main(void) {
        lw_require_backend();
        if (geteuid() != 0 || unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
                fprintf(stderr, "SKIP: mounting a tmpfs needs root and a mount namespace\n");
                return LW_SKIP;
        }
        char *mnt = lw_tmpdir();
        CHECK(mount("lockwarden-test", mnt, "tmpfs", MS_NOSUID | MS_NODEV, "size=16m,mode=0755") == 0,
              "mount tmpfs: %s", strerror(errno));
        char *state = lw_path(mnt, "state"), *sessions = lw_path(state, "agents/main/sessions");
        lw_mkdir_p(sessions);

        const char *args[] = { "--state-dir", state, "--leak-grace-ms", "200", "--race-coalesce-ms", "0", NULL };
        LwDaemon *d = lw_daemon_start(NULL, args, NULL);
        json_t *ready = lw_daemon_ready(d);
        CHECK(json_array_size(json_object_get(ready, "dirs")) == 1, "sessions folder on tmpfs not guarded");

        char *dead = lw_path(sessions, "d.jsonl.lock"), *live = lw_path(sessions, "l.jsonl.lock");
        pid_t hd = lw_holder_start(dead, NULL), hl = lw_holder_start(live, NULL);
        lw_expect(d, LW_TIMEOUT_MS, "lock.acquired", "lock", dead);
        lw_expect(d, LW_TIMEOUT_MS, "lock.acquired", "lock", live);
        lw_kill_wait(hd, SIGKILL);
        lw_expect(d, LW_TIMEOUT_MS, "lock.cleaned", "lock", dead);
        CHECK(!lw_exists(dead), "dead owner's lock still on the tmpfs");

        char *t = lw_path(sessions, "u.jsonl");
        const char *append[] = { "append", t, "1", "{}\n", NULL };
        pid_t a = lw_actor_start(append);
        lw_expect(d, LW_TIMEOUT_MS, "race.unlocked-write", "session", t);

        CHECK(lw_exists(live), "live lock removed");
        CHECK(lw_count(d, "monitor.warning", NULL, NULL) == 0, "tmpfs taken for a remote filesystem");
        CHECK(lw_count(d, "monitor.error", NULL, NULL) == 0, "errors on tmpfs");
        lw_kill_wait(a, SIGTERM);
        lw_kill_wait(hl, SIGTERM);
        CHECK(lw_daemon_stop(d) == 0, "exit status");

        /* overlayfs without file handles. */
        char *ovl = lw_path(mnt, "ovl");
        const char *dirs[] = { "lower", "upper", "work", "merged" };
        for (size_t i = 0; i < LW_ELEMENTSOF(dirs); i++)
                lw_mkdir_p(lw_path(ovl, dirs[i]));
        char *opts, *merged = lw_path(ovl, "merged");
        CHECK(asprintf(&opts, "lowerdir=%s/lower,upperdir=%s/upper,workdir=%s/work", ovl, ovl, ovl) > 0, "opts");
        CHECK(mount("overlay", merged, "overlay", 0, opts) == 0, "mount overlay: %s", strerror(errno));
        char *ostate = lw_path(merged, "state"), *osessions = lw_path(ostate, "agents/main/sessions");
        lw_mkdir_p(osessions);

        const char *fan[] = { "--state-dir", ostate, "--backend=fanotify", NULL };
        d = lw_daemon_start(NULL, fan, NULL);
        ready = lw_daemon_ready(d);
        CHECK(json_array_size(json_object_get(ready, "dirs")) == 0, "fanotify claims to guard an overlayfs");
        json_t *err = lw_expect(d, LW_TIMEOUT_MS, "monitor.error", NULL, NULL);
        CHECK(strstr(jstr(err, "error"), "file handles") && strstr(jstr(err, "error"), "--backend=inotify"),
              "error %s", jstr(err, "error"));
        CHECK(lw_daemon_stop(d) == 0, "exit status");

        const char *ino[] = { "--state-dir", ostate, "--backend=inotify", "--leak-grace-ms", "200", NULL };
        d = lw_daemon_start(NULL, ino, NULL);
        ready = lw_daemon_ready(d);
        CHECK(json_array_size(json_object_get(ready, "dirs")) == 1, "inotify does not guard the overlayfs");
        char *olock = lw_path(osessions, "o.jsonl.lock");
        hd = lw_holder_start(olock, NULL);
        lw_expect(d, LW_TIMEOUT_MS, "lock.acquired", "lock", olock);
        lw_kill_wait(hd, SIGKILL);
        lw_expect(d, LW_TIMEOUT_MS, "lock.cleaned", "lock", olock);
        CHECK(!lw_exists(olock), "dead owner's lock still on the overlayfs");
        CHECK(lw_count(d, "monitor.error", NULL, NULL) == 0, "errors on overlayfs with inotify");
        CHECK(lw_daemon_stop(d) == 0, "exit status");
        umount2(merged, MNT_DETACH);
        umount2(mnt, MNT_DETACH);
        return 0;
}
