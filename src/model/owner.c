/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* owner.c: pidfd per owner. Exit is seen when the pidfd polls readable: the kernel signals it
 * when the process exits (as a zombie already), before anyone reaps it. */
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>

#include "fs-type.h"
#include "fs-util.h"

#include "hashmap.h"
#include "macro.h"
#include "openclaw.h"
#include "owner.h"
#include "time-util.h"

void owner_mark_exited(Owner *o, uint64_t now_ns) {
        if (o->exited)
                return;
        o->exited = true;
        o->exited_ns = now_ns;
        o->source = sd_event_source_disable_unref(o->source);
        if (o->pidfd >= 0)
                close(o->pidfd);
        o->pidfd = -1;
        /* A new process may get this pid: the table is for live owners only. */
        if (o->in_table) {
                hashmap_remove(o->table->by_pid, &o->pid);
                o->in_table = false;
        }
}

int owner_get(OwnerTable *t, pid_t pid, Owner **ret) {
        Owner *o = hashmap_get(t->by_pid, &pid);
        int r;

        if (o) {
                *ret = owner_ref(o);
                return 0;
        }

        o = calloc(1, sizeof(*o));
        if (!o)
                return -ENOMEM;
        o->table = t;
        o->pid = pid;
        o->n_ref = 1;
        o->pidfd = (int) syscall(SYS_pidfd_open, pid, 0);
        if (o->pidfd < 0 && errno != ENOSYS) {
                if (errno != ESRCH) {
                        r = negative_errno();
                        free(o);
                        return r;
                }
                o->exited = true;
                o->exited_ns = now_mono_ns();
                *ret = o;
                return 0;
        }
        /* Read after pidfd_open: if this pid is still the same process now, the pidfd is for
         * it. If the read fails, the process is already gone. */
        if (proc_starttime(pid, &o->starttime) >= 0)
                o->have_starttime = true;
        proc_comm(pid, o->comm);
        o->fds_visible = proc_fds_visible(pid);
        o->gateway = TRISTATE_UNKNOWN;
        if (o->have_starttime) {
                /* Its argv now, while it lives: after its death only this tells whether the
                 * application's restart recovery will want its stale locks. */
                char argv[4096];
                size_t n;

                if (proc_cmdline(pid, argv, sizeof(argv), &n) >= 0 && n > 0)
                        o->gateway = openclaw_argv_is_gateway(argv, n) ? TRISTATE_YES : TRISTATE_NO;
        }

        /* Without pidfds (ENOSYS: valgrind, or a kernel without them) there is no source: the
         * owner is re-checked in /proc at each judgment (owner_refresh); its exit still shows
         * up as the close events of its fds, and the grace timer re-judges after that. */
        if (o->pidfd >= 0) {
                r = sd_event_add_io(t->event, &o->source, o->pidfd, EPOLLIN, t->on_exit, o);
                if (r < 0) {
                        close(o->pidfd);
                        free(o);
                        return r;
                }
                (void) sd_event_source_set_description(o->source, "owner-pidfd");
        }
        r = hashmap_put(t->by_pid, o);
        if (r < 0) {
                sd_event_source_disable_unref(o->source);
                if (o->pidfd >= 0)
                        close(o->pidfd);
                free(o);
                return r;
        }
        o->in_table = true;
        if (!o->have_starttime)
                owner_mark_exited(o, now_mono_ns());
        *ret = o;
        return 0;
}

void owner_refresh(Owner *o, uint64_t now_ns) {
        uint64_t st;
        bool alive = false;

        /* With a pidfd, its handler tells us, after the events queued before the exit have
         * been read: decisions about those events (was this removal the owner's release?)
         * are made with the owner as it was then. Asking the pidfd here would judge them
         * with a death that came later. */
        if (o->exited || o->pidfd >= 0)
                return;
        if (proc_starttime_alive(o->pid, &st, &alive) < 0 || st != o->starttime || !alive)
                owner_mark_exited(o, now_ns);
}

Owner *owner_ref(Owner *o) {
        if (o)
                o->n_ref++;
        return o;
}

Owner *owner_unref(Owner *o) {
        if (!o || --o->n_ref > 0)
                return NULL;
        if (o->in_table)
                hashmap_remove(o->table->by_pid, &o->pid);
        sd_event_source_disable_unref(o->source);
        if (o->pidfd >= 0)
                close(o->pidfd);
        free(o);
        return NULL;
}

int owner_read_version(Owner *o, char *ret, size_t size) {
        return o->exited ? -ESRCH : owner_version_of_pid(o->pid, ret, size);
}

/* Does PID's mount namespace have a network or FUSE filesystem mounted anywhere (by
 * /proc/PID/mountinfo)? Then look-ups on its behalf must not cross mount points: a stalled
 * server would hang the daemon in one. Unreadable: assumed so. */
static bool mounts_remote(pid_t pid) {
        static const char *const remote[] = { "fuse", "nfs", "cifs", "smb3", "9p", "ceph", "afs", "gfs2", "glusterfs", "lustre" };
        _cleanup_free_ char *buf = NULL;
        _cleanup_close_ int fd = -1;
        char path[64];
        ssize_t n;

        snprintf(path, sizeof(path), "/proc/%d/mountinfo", (int) pid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        buf = malloc(256u << 10);
        if (fd < 0 || !buf)
                return true;
        n = read_all_at(fd, buf, (256u << 10) - 1);
        if (n <= 0 || n >= (ssize_t) (256u << 10) - 1)
                return true;
        buf[n] = '\0';
        /* Each line: "... - FSTYPE SOURCE OPTIONS". */
        for (char *l = buf; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
                char *t = strstr(l, " - ");
                char *nl = strchr(l, '\n');

                if (!t || (nl && t > nl))
                        continue;
                t += 3;
                for (size_t i = 0; i < ELEMENTSOF(remote); i++)
                        if (strncmp(t, remote[i], strlen(remote[i])) == 0)
                                return true;
        }
        return false;
}

/* PATH below BASE, resolved as if BASE were the root: no symlink or ".." leads out of it, no
 * /proc magic link is followed, and, with NO_XDEV, no mount point is crossed (BASE's own
 * filesystem was checked to be a local one). */
static int open_in_root(int base, const char *path, uint64_t flags, bool no_xdev) {
        struct open_how how = { .flags = flags | O_CLOEXEC,
                                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | (no_xdev ? RESOLVE_NO_XDEV : 0) };
        int fd = (int) syscall(SYS_openat2, base, path, &how, sizeof(how));

        return fd < 0 ? negative_errno() : fd;
}

/* package.json is small (OpenClaw's: ~10 KiB); a larger one is not OpenClaw's. */
#define PACKAGE_JSON_MAX (256u << 10)

int owner_version_of_pid(pid_t pid, char *ret, size_t size) {
        char argv[4096], proc[64], path[PATH_MAX], target[PATH_MAX];
        _cleanup_close_ int root = -1, cwd = -1;
        const char *script;
        size_t n;
        int base, r;

        r = proc_cmdline(pid, argv, sizeof(argv), &n);
        if (r < 0)
                return r;
        /* Only an OpenClaw entry script (or launcher): nothing else is worth reading for. */
        script = openclaw_argv_script(argv, n);
        if (!script || !openclaw_script_is_entry(script))
                return -ENOENT;
        /* In the process's own view of the filesystem, and never out of it: its root (for an
         * absolute path) or its working directory (for a relative one) is the root of every
         * look-up below. The process chose its argv; a container's symlinks stay inside. */
        snprintf(proc, sizeof(proc), "/proc/%d/root", (int) pid);
        root = open(proc, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (root < 0)
                return negative_errno();
        if (script[0] != '/') {
                snprintf(proc, sizeof(proc), "/proc/%d/cwd", (int) pid);
                cwd = open(proc, O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (cwd < 0)
                        return negative_errno();
        }
        base = script[0] == '/' ? root : cwd;
        /* Never into a network or FUSE filesystem: its server could stall us. Where the process
         * has any mounted, the look-ups stay on BASE's own (local) filesystem. */
        FsType fs;
        if (fs_type_of(base, &fs) < 0 || fs.remote)
                return -EREMOTE;
        bool no_xdev = mounts_remote(pid);
        if (snprintf(path, sizeof(path), "%s", script) >= (int) sizeof(path))
                return -ENAMETOOLONG;
        /* An installed launcher is a symlink to the package's openclaw.mjs: follow it once. */
        {
                _cleanup_close_ int link = open_in_root(base, path, O_PATH | O_NOFOLLOW, no_xdev);
                ssize_t k = link >= 0 ? readlinkat(link, "", target, sizeof(target) - 1) : -1;

                if (k > 0) {
                        char *slash = strrchr(path, '/');
                        target[k] = '\0';
                        if (target[0] == '/') {
                                if (fs_type_of(root, &fs) < 0 || fs.remote)
                                        return -EREMOTE;
                                base = root;
                                snprintf(path, sizeof(path), "%s", target);
                        } else if (snprintf(slash ? slash + 1 : path, sizeof(path) - (size_t) (slash ? slash + 1 - path : 0),
                                            "%s", target) < 0)
                                return -ENAMETOOLONG;
                }
        }
        /* Up from the script's folder: the first package.json whose name is "openclaw" (8
         * levels at most: dist/ lies one below the package). Read without blocking, bounded. */
        for (int level = 0; level < 8; level++) {
                char *slash = strrchr(path, '/'), pj[PATH_MAX + 16];
                _cleanup_close_ int fd = -1;
                _cleanup_free_ char *buf = NULL;
                size_t len;

                if (!slash)
                        snprintf(path, sizeof(path), ".");
                else if (slash == path)
                        path[1] = '\0'; /* "/" */
                else
                        *slash = '\0';
                snprintf(pj, sizeof(pj), "%s/package.json", path);
                fd = open_in_root(base, pj, O_RDONLY | O_NONBLOCK | O_NOCTTY, no_xdev);
                if (fd >= 0 && read_file_fd(fd, PACKAGE_JSON_MAX, &buf, &len) >= 0 &&
                    openclaw_package_version(buf, len, ret, size) >= 0)
                        return 0;
                if (strcmp(path, "/") == 0 || strcmp(path, ".") == 0)
                        break;
        }
        return -ENOENT;
}
