/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* discovery.c: finding the host's gateways when no folder is configured (discovery.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <sys/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "capability.h"
#include "chase.h"
#include "discovery.h"
#include "escape.h"
#include "event-util.h"
#include "file-id.h"
#include "fs-util.h"
#include "macro.h"
#include "model.h"
#include "openclaw.h"
#include "proc.h"
#include "report.h"
#include "source.h"
#include "time-util.h"
#include "tree.h"

#define CMDLINE_MAX (16 * 1024)
#define ENVIRON_MAX (256 * 1024)
#define WARNED_MAX 64          /* distinct refusals said; any user can make more */
#define ENTRY_DIRS_MAX 64
#define ENTRY_DIRS_PER_UID_MAX 8  /* one user's processes must not take every slot: the
                                   * folders of other users' gateways would go unwatched */
#define FOUND_PER_UID_MAX 16   /* every state dir costs descriptors and marks: a user's processes
                                * naming thousands of them must not use up the daemon's */
#define WALK_GAP_USEC (1000 * 1000)  /* inotify: at most one /proc walk a second */
#define SEEN_MAX 128           /* gateway processes looked at lately: each once */

typedef struct Found {
        char *path;        /* the state dir, as added with tree_add_root */
        char *how;
        uid_t uid;         /* of the gateway or local user it was found for */
} Found;

/* A folder holding a gateway's entry script: its opens are watched. */
typedef struct EntryDir {
        FileId *fid;
        int dirfd;
        int wd;
        char *path;
        char **names;      /* entry script names in it */
        size_t n_names;
        uid_t uid;         /* of the gateway it was watched for */
} EntryDir;

struct Discovery {
        Found *found;
        size_t n_found;
        EntryDir *dirs;
        size_t n_dirs;
        char **warned;
        size_t n_warned;
        sd_event_source *walk_timer;  /* inotify: the next walk, when one is due */
        uint64_t last_walk_usec;
        /* Gateway processes (pid, start time) already looked at: what a process names does not
         * change, and a process opening the entry script in a loop must not make the daemon
         * read its environment and the mount table each time. A reload forgets them. */
        struct { pid_t pid; uint64_t start; } seen[SEEN_MAX];
        size_t seen_next;
};

/* Was PID (this very process) looked at already? If not, it is from now on. */
static bool seen_before(Discovery *d, pid_t pid) {
        uint64_t start;

        if (proc_starttime(pid, &start) < 0)
                return true; /* gone: nothing to look at */
        for (size_t i = 0; i < SEEN_MAX; i++)
                if (d->seen[i].pid == pid && d->seen[i].start == start)
                        return true;
        d->seen[d->seen_next].pid = pid;
        d->seen[d->seen_next].start = start;
        d->seen_next = (d->seen_next + 1) % SEEN_MAX;
        return false;
}

bool discovery_enabled(DiscoveryHost *m) {
        return m->discovery != NULL;
}

/* A refusal, said once per PATH and REASON (a gateway that restarts is not news; WHY, the
 * text, names its pid). */
static void warn_once(DiscoveryHost *m, const char *path, const char *reason, const char *why) {
        Discovery *d = m->discovery;
        _cleanup_free_ char *key = NULL;

        if (asprintf(&key, "%s\n%s", path, reason) < 0)
                return;
        for (size_t i = 0; i < d->n_warned; i++)
                if (strcmp(d->warned[i], key) == 0)
                        return;
        if (d->n_warned >= WARNED_MAX)
                return;
        char **w = realloc(d->warned, (d->n_warned + 1) * sizeof(char *));
        if (!w)
                return;
        d->warned = w;
        d->warned[d->n_warned++] = TAKE_PTR(key);
        report_emit(m->host->reporter, EVENT_MONITOR_WARNING,
                    json_pack("{s:o, s:o}", "path", json_path(NULL, path), "warning", json_text(why)));
}

/* Guards PATH (absolute), found as HOW for UID, unless it is guarded already. */
static void found_add(DiscoveryHost *m, const char *path, const char *how, uid_t uid) {
        Discovery *d = m->discovery;
        _cleanup_free_ char *p = path_absolute(path);
        size_t n_uid = 0;
        Found *f;
        int r;

        if (!p || tree_has_root(m->host->model, p, NODE_STATE))
                return;
        for (size_t i = 0; i < d->n_found; i++)
                n_uid += d->found[i].uid == uid;
        if (n_uid >= FOUND_PER_UID_MAX) {
                char why[PATH_MAX + 160];
                snprintf(why, sizeof(why), "%s: uid %u has %d state dirs found already, the most discovery guards "
                         "for one user: it is NOT guarded (name it with --state-dir)", how, (unsigned) uid,
                         FOUND_PER_UID_MAX);
                warn_once(m, p, "too many", why);
                return;
        }
        f = realloc(d->found, (d->n_found + 1) * sizeof(Found));
        if (!f)
                return;
        d->found = f;
        m->host->model->discovering = true;
        r = tree_add_root(m->host->model, p, NODE_STATE);
        m->host->model->discovering = false;
        if (r < 0) {
                report_emit(m->host->reporter, EVENT_MONITOR_ERROR,
                            json_pack("{s:o, s:s}", "path", json_path(NULL, p), "error",
                                      "cannot guard a discovered state dir: out of memory"));
                return;
        }
        /* After start-up a discovery is news; at start-up monitor.ready lists them. */
        if (m->host->model->started)
                report_emit(m->host->reporter, EVENT_MONITOR_DISCOVERED,
                            json_pack("{s:o, s:o}", "state_dir", json_path(NULL, p), "how", json_text(how)));
        /* Out of memory for HOW: listed with "how": null. */
        d->found[d->n_found++] = (Found) { .path = TAKE_PTR(p), .how = strdup(how), .uid = uid };
}

/* /proc/PID/NAME whole (up to MAX - 1 bytes, NUL-terminated): its length, or -errno. */
static ssize_t read_proc(pid_t pid, const char *name, char *buf, size_t max) {
        char path[64];
        _cleanup_close_ int fd = -1;
        ssize_t n;

        snprintf(path, sizeof(path), "/proc/%d/%s", (int) pid, name);
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return negative_errno();
        n = read_all_at(fd, buf, max - 1);
        if (n >= 0)
                buf[n] = '\0';
        return n;
}

static const char *env_get(const char *env, size_t len, const char *key) {
        size_t k = strlen(key);

        for (size_t off = 0; off < len;) {
                const char *e = env + off;
                size_t n = strnlen(e, len - off);

                off += n + 1;
                if (n > k && memcmp(e, key, k) == 0 && e[k] == '=')
                        return e + k + 1;
        }
        return NULL;
}

/* The effective uid of PID (/proc/PID/status), and whether its real one is another (a setuid
 * program's process: its environment is its caller's). */
static int proc_euid(pid_t pid, uid_t *ret, bool *ret_setuid) {
        char buf[4096], *p, *end;
        unsigned long r, e;

        if (read_proc(pid, "status", buf, sizeof(buf)) < 0)
                return -ESRCH;
        /* "Uid:\treal\teffective\tsaved\tfs" */
        p = strstr(buf, "\nUid:");
        if (!p)
                return -EIO;
        errno = 0;
        r = strtoul(p + 5, &end, 10);
        e = strtoul(end, &p, 10);
        if (errno != 0 || p == end)
                return -EIO;
        *ret = (uid_t) e;
        *ret_setuid = r != e;
        return 0;
}

/* Does PID see the same mounts as we do, from the same root? Its paths may mean other
 * folders otherwise. */
static bool same_mount_ns(pid_t pid) {
        char path[64], a[64], b[64];
        ssize_t n, k;

        snprintf(path, sizeof(path), "/proc/%d/ns/mnt", (int) pid);
        n = readlink(path, a, sizeof(a) - 1);
        k = readlink("/proc/self/ns/mnt", b, sizeof(b) - 1);
        if (n <= 0 || k <= 0 || n != k || memcmp(a, b, (size_t) n) != 0)
                return false;
        snprintf(path, sizeof(path), "/proc/%d/root", (int) pid);
        n = readlink(path, a, sizeof(a) - 1);
        return n == 1 && a[0] == '/';
}

/* The user's entry in /etc/passwd, read as a file: getpwent's NSS may ask the network. */
static int passwd_home(uid_t uid, char **ret_home, char **ret_name) {
        _cleanup_fclose_ FILE *f = fopen("/etc/passwd", "re");
        struct passwd *pw;

        if (!f)
                return negative_errno();
        while ((pw = fgetpwent(f)))
                if (pw->pw_uid == uid) {
                        char *h = ret_home ? strdup(pw->pw_dir) : NULL, *n = ret_name ? strdup(pw->pw_name) : NULL;
                        if ((ret_home && !h) || (ret_name && !n)) {
                                free(h);
                                free(n);
                                return -ENOMEM;
                        }
                        if (ret_home)
                                *ret_home = h;
                        if (ret_name)
                                *ret_name = n;
                        return 0;
                }
        return -ENOENT;
}

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unoctal(char *s) {
        char *o = s;

        for (; *s; s++) {
                if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' && s[3] >= '0' &&
                    s[3] <= '7') {
                        *o++ = (char) ((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
                        s += 3;
                } else
                        *o++ = *s;
        }
        *o = '\0';
}

/* Does the walk to PATH (absolute, without "..") cross a FUSE filesystem, by the mount table
 * MOUNTINFO? A process names the path: a FUSE server of its user's could stall any lookup in
 * it, and nothing on the event path may wait. Any FUSE mount on PATH or above it counts, not
 * only the deepest: a folder mounted inside a FUSE mount is reached through it. Read from
 * /proc/.../mountinfo, which asks no filesystem. */
static bool mountinfo_on_fuse(const char *mountinfo, const char *path) {
        _cleanup_fclose_ FILE *f = fopen(mountinfo, "re");
        _cleanup_free_ char *line = NULL;
        size_t alloc = 0;

        if (!f)
                return true; /* cannot tell: do not go there */
        while (getline(&line, &alloc, f) > 0) {
                char mnt[PATH_MAX], type[64];
                const char *sep = strstr(line, " - ");

                /* id parent major:minor root mount-point ... - fstype source options */
                if (!sep || sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1 || sscanf(sep + 3, "%63s", type) != 1)
                        continue;
                unoctal(mnt);
                if (path_is_under(path, mnt) && strncmp(type, "fuse", 4) == 0)
                        return true;
        }
        return false;
}

static bool path_on_fuse(const char *path) {
        return mountinfo_on_fuse("/proc/self/mountinfo", path);
}

/* Has PATH (absolute) a ".." component? */
static bool path_has_dotdot(const char *path) {
        size_t n = strlen(path);
        return strstr(path, "/../") || (n >= 3 && strcmp(path + n - 3, "/..") == 0);
}

/* Is the folder FD what PATH names for PID, in its own mount namespace (lockwarden's unit has
 * mounts of its own: PrivateTmp, ProtectHome)? Looked up from PID's root without following
 * any symlink and not on a FUSE filesystem of its mounts: 1 yes, 0 no, -errno unknown. */
static int same_in_ns(pid_t pid, const char *path, int fd) {
        struct open_how how = {
                .flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
        };
        _cleanup_close_ int rfd = -1, pfd = -1;
        char p[64];
        struct stat a, b;

        /* Its mount table is matched against the path as written: ".." would lead elsewhere. */
        if (path_has_dotdot(path))
                return -EINVAL;
        snprintf(p, sizeof(p), "/proc/%d/mountinfo", (int) pid);
        if (mountinfo_on_fuse(p, path))
                return -EREMOTE;
        snprintf(p, sizeof(p), "/proc/%d/root", (int) pid);
        rfd = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (rfd < 0)
                return negative_errno();
        pfd = (int) syscall(SYS_openat2, rfd, path[1] ? path + 1 : ".", &how, sizeof(how));
        if (pfd < 0)
                return negative_errno();
        if (fstat(pfd, &a) < 0 || fstat(fd, &b) < 0)
                return negative_errno();
        return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* FD opened at PATH here: is it the folder PID means by PATH? PID 0: same mounts, yes. */
static int check_same(pid_t pid, const char *path, int fd, char *why, size_t size) {
        int r;

        if (pid == 0)
                return 0;
        r = same_in_ns(pid, path, fd);
        if (r > 0)
                return 0;
        if (r == 0)
                snprintf(why, size, "the gateway runs with other mounts (a container?), where this path is another folder");
        else if (r == -EREMOTE)
                snprintf(why, size, "the gateway runs with other mounts (a container?), where this path crosses a FUSE "
                         "filesystem (its server could stall any lookup there)");
        else if (r == -EINVAL)
                snprintf(why, size, "the gateway runs with other mounts (a container?), which a path with \"..\" cannot "
                         "be matched against");
        else
                snprintf(why, size, "the gateway runs with other mounts (a container?), where this path cannot be "
                         "looked up safely (%s)", strerror(-r));
        return r == 0 ? -EXDEV : r;
}

/* A state dir that does not exist yet (a gateway reads its entry script before it makes its
 * state dir): may it be waited for? Only if its nearest existing ancestor is UID's or root's
 * and nobody else may write it, so that whatever appears there was made by them. */
static int missing_check(const char *path, uid_t uid, pid_t ns_pid, char *why, size_t size) {
        _cleanup_free_ char *prefix = strdup(path);
        _cleanup_close_ int fd = -1;
        struct stat st;
        char *slash;

        if (!prefix)
                return -ENOMEM;
        for (;;) {
                slash = strrchr(prefix, '/');
                if (!slash || slash == prefix) {
                        snprintf(why, size, "it does not exist");
                        return -ENOENT;
                }
                *slash = '\0';
                fd = chase_dir_flags(prefix, CHASE_NO_FUSE, NULL);
                if (fd >= 0)
                        break;
                if (fd != -ENOENT) {
                        snprintf(why, size, "it does not exist, and %s cannot be opened: %s", prefix, strerror(-fd));
                        return fd;
                }
        }
        if (fstat(fd, &st) < 0)
                return negative_errno();
        if ((st.st_uid != uid && st.st_uid != 0) || (st.st_mode & (S_IWGRP | S_IWOTH))) {
                snprintf(why, size, "it does not exist yet, and %s, where it would appear, may be written by "
                         "others than the gateway's user (uid %u) and root", prefix, (unsigned) uid);
                return -EPERM;
        }
        return check_same(ns_pid, prefix, fd, why, size);
}

/* May a state dir at PATH be guarded for a gateway of UID? A directory (symlinks only as
 * chase.h allows), owned by UID or root, on no FUSE filesystem; or one that does not exist yet
 * where only they can make it (missing_check); and, for a gateway with other mounts (NS_PID;
 * 0: the same as ours), the folder it means. 0 or -errno with WHY. */
static int state_dir_check(const char *path, uid_t uid, pid_t ns_pid, char *why, size_t size) {
        _cleanup_free_ char *unsafe = NULL;
        _cleanup_close_ int fd = -1;
        struct stat st;

        if (path_on_fuse(path)) {
                snprintf(why, size, "it is on a FUSE filesystem");
                return -EREMOTE;
        }
        fd = chase_dir_flags(path, CHASE_NO_FUSE, &unsafe);
        if (fd == -ENOENT)
                return missing_check(path, uid, ns_pid, why, size);
        if (fd < 0) {
                chase_error(fd, unsafe, why, size);
                return fd;
        }
        if (fstat(fd, &st) < 0) {
                snprintf(why, size, "%s", strerror(errno));
                return negative_errno();
        }
        if (st.st_uid != uid && st.st_uid != 0) {
                snprintf(why, size, "it is owned by uid %u, not by the gateway's user (uid %u) or root",
                         (unsigned) st.st_uid, (unsigned) uid);
                return -EPERM;
        }
        /* Root's, and others may write it (/tmp, /dev/shm): no gateway's, and every file made
         * there by anyone would be an event for us. */
        if (st.st_uid != uid && (st.st_mode & (S_IWGRP | S_IWOTH))) {
                snprintf(why, size, "it is root's and may be written by others than root: not the state dir of "
                         "the gateway's user (uid %u)", (unsigned) uid);
                return -EPERM;
        }
        return check_same(ns_pid, path, fd, why, size);
}

static EntryDir *entry_dir_find(Discovery *d, const FileId *fid) {
        for (size_t i = 0; i < d->n_dirs; i++)
                if (file_id_equal(d->dirs[i].fid, fid))
                        return &d->dirs[i];
        return NULL;
}

/* Watch the folder of SCRIPT (absolute) for opens of it, when root or UID owns the folder. */
static void entry_watch(DiscoveryHost *m, const char *script, uid_t uid, pid_t ns_pid) {
        Discovery *d = m->discovery;
        _cleanup_free_ char *dir = strdup(script), *unsafe = NULL;
        _cleanup_close_ int fd = -1;
        char *slash, **names;
        const char *name;
        struct stat st;
        uint64_t fsid;
        FileId id;
        EntryDir *e;
        int wd;

        if (!dir || !(slash = strrchr(dir, '/')) || !slash[1])
                return;
        name = script + (slash - dir) + 1;
        *slash = '\0';
        if (!dir[0] || path_on_fuse(dir))
                return;
        fd = chase_dir_flags(dir, CHASE_NO_FUSE, &unsafe);
        if (fd < 0 || fstat(fd, &st) < 0 || (st.st_uid != 0 && st.st_uid != uid))
                return;
        /* The script must be there, a file: a process names any path it likes, and a folder of
         * root's that every process opens files in (/etc/openclaw.mjs, a library folder) would
         * make each of their opens an event for us. (One reached by a symlink is opened in the
         * folder the link leads to: this one would see nothing of it.) */
        struct stat sst;
        if (fstatat(fd, name, &sst, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(sst.st_mode))
                return;
        char why[128];
        if (check_same(ns_pid, dir, fd, why, sizeof(why)) < 0)
                return;
        if (file_id_fsid(fd, &fsid) < 0 || file_id_at(fd, "", fsid, &id) < 0)
                return;
        e = entry_dir_find(d, &id);
        if (!e) {
                size_t n_uid = 0;
                for (size_t i = 0; i < d->n_dirs; i++)
                        n_uid += d->dirs[i].uid == uid;
                if (d->n_dirs >= ENTRY_DIRS_MAX || n_uid >= ENTRY_DIRS_PER_UID_MAX)
                        return;
                e = realloc(d->dirs, (d->n_dirs + 1) * sizeof(EntryDir));
                if (!e)
                        return;
                d->dirs = e;
                e = &d->dirs[d->n_dirs];
                *e = (EntryDir) { .fid = file_id_dup(&id), .path = strdup(dir), .dirfd = -1, .wd = -1, .uid = uid };
                if (!e->fid || !e->path ||
                    source_watch(m->host->source, fd, &id, FAN_OPEN | FAN_EVENT_ON_CHILD, &wd) < 0) {
                        free(e->fid);
                        free(e->path);
                        return;
                }
                e->wd = wd;
                e->dirfd = TAKE_FD(fd);
                d->n_dirs++;
        }
        for (size_t i = 0; i < e->n_names; i++)
                if (strcmp(e->names[i], name) == 0)
                        return;
        names = realloc(e->names, (e->n_names + 1) * sizeof(char *));
        if (!names)
                return;
        e->names = names;
        if ((e->names[e->n_names] = strdup(name)))
                e->n_names++;
}

/* The entry script of a gateway's ARGV (absolute, against its working directory), or NULL.
 * An `openclaw` launcher is not one: its folder (/usr/bin) is opened by everything. */
static char *gateway_script(pid_t pid, const char *argv, size_t len) {
        for (size_t off = 0; off < len;) {
                const char *a = argv + off;
                size_t n = strnlen(a, len - off);
                char *s;

                off += n + 1;
                if (n == 0 || !openclaw_script_is_entry(a) || strcmp(a, "openclaw") == 0 ||
                    (n >= 9 && strcmp(a + n - 9, "/openclaw") == 0))
                        continue;
                if (a[0] == '/')
                        return path_absolute(a);
                char cwd_link[64], cwd[PATH_MAX];
                snprintf(cwd_link, sizeof(cwd_link), "/proc/%d/cwd", (int) pid);
                ssize_t k = readlink(cwd_link, cwd, sizeof(cwd) - 1);
                if (k <= 0 || cwd[0] != '/')
                        return NULL;
                cwd[k] = '\0';
                if (asprintf(&s, "%s/%s", cwd, a) < 0)
                        return NULL;
                char *abs = path_absolute(s);
                free(s);
                return abs;
        }
        return NULL;
}

/* Is PID a gateway? Then guard its state dir, if it may be, and watch its entry script.
 * VIA: how it came to be looked at ("gateway" at a walk, "entry script open by"). */
static void consider_pid(DiscoveryHost *m, pid_t pid, const char *via) {
        static char env[ENVIRON_MAX];
        char argv[CMDLINE_MAX], why[2 * PATH_MAX + 256], how[128];
        _cleanup_free_ char *state = NULL, *script = NULL, *home = NULL, *abs = NULL;
        const char *v, *source;
        size_t len = 0;
        ssize_t k;
        uid_t uid;
        bool setuid;

        if (pid == m->host->model->self_pid)
                return;
        if (proc_cmdline(pid, argv, sizeof(argv), &len) < 0 || len == 0 ||
            !openclaw_argv_is_gateway(argv, len))
                return;
        if (seen_before(m->discovery, pid) || proc_euid(pid, &uid, &setuid) < 0)
                return;
        script = gateway_script(pid, argv, len);
        /* Its paths are its own mounts': with other mounts than ours (lockwarden's unit has
         * some; a container), every folder is checked to be the same one seen from here. */
        pid_t ns_pid = same_mount_ns(pid) ? 0 : pid;
        k = read_proc(pid, "environ", env, sizeof(env));
        if (k < 0)
                k = 0; /* gone, or not ours to read: the passwd home */
        if ((v = env_get(env, (size_t) k, "OPENCLAW_STATE_DIR")) && v[0]) {
                source = "OPENCLAW_STATE_DIR";
                const char *h = env_get(env, (size_t) k, "HOME");
                if (v[0] == '~' && (v[1] == '/' || !v[1]) && h && h[0] == '/') {
                        if (asprintf(&state, "%s%s", h, v + 1) < 0)
                                state = NULL;
                } else if (v[0] == '/')
                        state = strdup(v);
                else {
                        char cwd_link[64], cwd[PATH_MAX];
                        snprintf(cwd_link, sizeof(cwd_link), "/proc/%d/cwd", (int) pid);
                        ssize_t c = readlink(cwd_link, cwd, sizeof(cwd) - 1);
                        if (c > 0 && cwd[0] == '/') {
                                cwd[c] = '\0';
                                if (asprintf(&state, "%s/%s", cwd, v) < 0)
                                        state = NULL;
                        }
                }
        } else if ((v = env_get(env, (size_t) k, "HOME")) && v[0] == '/') {
                source = "HOME";
                if (asprintf(&state, "%s/.openclaw", v) < 0)
                        state = NULL;
        } else {
                source = "passwd";
                if (passwd_home(uid, &home, NULL) >= 0 && home && home[0] == '/')
                        if (asprintf(&state, "%s/.openclaw", home) < 0)
                                state = NULL;
        }
        /* A setuid program's entry folder would be charged to its effective uid (root's slots):
         * none is watched for it (it is refused below). */
        if (script && !setuid)
                entry_watch(m, script, uid, ns_pid);
        if (!state)
                return;
        abs = path_absolute(state);
        if (!abs || tree_has_root(m->host->model, abs, NODE_STATE))
                return;
        /* Every check below is of the path as it is now; the tree resolves it again whenever a
         * folder on it comes or goes. Past a folder that does not exist yet, ".." leads where
         * no check looked: own/m/../../elsewhere was waited for as a folder in own, and was
         * elsewhere (another user's, a FUSE mount) once m was made. */
        /* A setuid program (su waiting for a password: euid 0) run by any user as
         * "…/openclaw.mjs -c gateway root", in that user's environment: the state dir it names
         * is that user's choice, and root's rules would apply to it. */
        if (setuid) {
                snprintf(why, sizeof(why), "pid %d names this state dir (%s) but runs with an effective uid (%u) "
                         "other than its real one (a setuid program, started by another user): it is NOT guarded",
                         (int) pid, source, (unsigned) uid);
                warn_once(m, abs, "setuid", why);
                return;
        }
        if (path_has_dotdot(abs)) {
                snprintf(why, sizeof(why), "gateway pid %d (uid %u) names this state dir (%s): it has \"..\" in it, "
                         "which may lead elsewhere once the folders before it change: it is NOT guarded",
                         (int) pid, (unsigned) uid, source);
                warn_once(m, abs, "..", why);
                return;
        }
        char reason[PATH_MAX + 64];
        if (state_dir_check(abs, uid, ns_pid, reason, sizeof(reason)) < 0) {
                snprintf(why, sizeof(why), "gateway pid %d (uid %u) names this state dir (%s): %s: it is NOT guarded",
                         (int) pid, (unsigned) uid, source, reason);
                warn_once(m, abs, reason, why);
                return;
        }
        snprintf(how, sizeof(how), "%s pid %d (%s)", via, (int) pid, source);
        found_add(m, abs, how, uid);
}

static void walk_proc(DiscoveryHost *m, const char *via) {
        DIR *dir = opendir("/proc");
        struct dirent *de;

        m->discovery->last_walk_usec = now_mono_ns() / NSEC_PER_USEC;
        if (!dir)
                return;
        while ((de = readdir(dir))) {
                char *end;
                long pid = strtol(de->d_name, &end, 10);

                if (*end || pid <= 0)
                        continue;
                consider_pid(m, (pid_t) pid, via);
        }
        closedir(dir);
}

/* Every local user's ~/.openclaw, existing or not yet: the tree waits for it. */
static void add_users(DiscoveryHost *m) {
        _cleanup_fclose_ FILE *f = fopen("/etc/passwd", "re");
        struct passwd *pw;

        if (!f)
                return;
        while ((pw = fgetpwent(f))) {
                _cleanup_free_ char *state = NULL, *how = NULL, *name = NULL;
                struct statx stx;

                if (!(pw->pw_uid == 0 || (pw->pw_uid >= 1000 && pw->pw_uid < 65534)))
                        continue;
                if (pw->pw_dir[0] != '/' || strcmp(pw->pw_dir, "/") == 0 || path_on_fuse(pw->pw_dir))
                        continue;
                /* Exists? Without waking an automounter or asking a network server. */
                if (statx(AT_FDCWD, pw->pw_dir, AT_NO_AUTOMOUNT | AT_STATX_DONT_SYNC, STATX_TYPE, &stx) < 0 ||
                    !S_ISDIR(stx.stx_mode))
                        continue;
                name = escape_terminal(pw->pw_name);
                if (asprintf(&state, "%s/.openclaw", pw->pw_dir) < 0 ||
                    asprintf(&how, "local user %s", name ? name : "?") < 0)
                        continue;
                found_add(m, state, how, pw->pw_uid);
        }
}

static int on_walk_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        DiscoveryHost *m = userdata;

        (void) s;
        (void) usec;
        if (m->discovery) {
                /* What the kernel queued first is taken up first (as every timer does). */
                m->host->drain(m->host->userdata);
                walk_proc(m, "entry script open by");
                m->host->flush(m->host->userdata);
        }
        return 0;
}

int discovery_start(DiscoveryHost *m) {
        /* Privileged only (root, or the unit's user with its capabilities): without them the
         * gateways' environment cannot be read nor other users' folders guarded. */
        if (!m->host->opts->discover || m->discovery || !caps_have(CAP_DAC_OVERRIDE) || !caps_have(CAP_SYS_PTRACE))
                return 0;
        m->discovery = calloc(1, sizeof(Discovery));
        if (!m->discovery)
                return -ENOMEM;
        /* Running gateways first: they say best how a state dir was found. */
        walk_proc(m, "gateway");
        add_users(m);
        return 0;
}

void discovery_dispatch(DiscoveryHost *m, const FsEvent *ev) {
        Discovery *d = m->discovery;
        EntryDir *e;
        bool match = false;

        if (!d || d->n_dirs == 0 || !(ev->mask & FAN_OPEN) || (ev->mask & FAN_ONDIR) || !ev->name || !ev->dir)
                return;
        e = entry_dir_find(d, ev->dir);
        for (size_t i = 0; e && i < e->n_names && !match; i++)
                match = strcmp(e->names[i], ev->name) == 0;
        if (!match)
                return;
        if (ev->pid > 0) {
                consider_pid(m, ev->pid, "entry script open by");
                return;
        }
        /* inotify names nobody: walk /proc now, or once a second has passed since the last
         * walk (one one-shot timer, armed only while a walk is due). */
        int enabled_state = SD_EVENT_OFF;
        if (d->walk_timer && sd_event_source_get_enabled(d->walk_timer, &enabled_state) >= 0 &&
            enabled_state != SD_EVENT_OFF)
                return;
        uint64_t now = now_mono_ns() / NSEC_PER_USEC;
        if (d->last_walk_usec == 0 || now >= d->last_walk_usec + WALK_GAP_USEC) {
                walk_proc(m, "entry script open by");
                return;
        }
        (void) event_arm_oneshot(m->host->event, &d->walk_timer, CLOCK_MONOTONIC, d->last_walk_usec + WALK_GAP_USEC,
                                 0, on_walk_timer, m, "discovery-walk");
}

void discovery_resync(DiscoveryHost *m) {
        if (m->discovery)
                walk_proc(m, "gateway");
}

static void discovery_drop(DiscoveryHost *m, bool unwatch) {
        Discovery *d = m->discovery;

        if (!d)
                return;
        for (size_t i = 0; i < d->n_found; i++) {
                free(d->found[i].path);
                free(d->found[i].how);
        }
        free(d->found);
        for (size_t i = 0; i < d->n_dirs; i++) {
                EntryDir *e = &d->dirs[i];
                /* A folder the tree guards too keeps its mark (the tree's bits are in it). */
                if (unwatch && !hashmap_get(m->host->model->nodes_by_fid, e->fid))
                        source_unwatch(m->host->source, e->dirfd, e->wd);
                closep(&e->dirfd);
                for (size_t j = 0; j < e->n_names; j++)
                        free(e->names[j]);
                free(e->names);
                free(e->path);
                free(e->fid);
        }
        free(d->dirs);
        for (size_t i = 0; i < d->n_warned; i++)
                free(d->warned[i]);
        free(d->warned);
        sd_event_source_disable_unref(d->walk_timer);
        free(d);
        m->discovery = NULL;
}

static bool configured(DiscoveryHost *m, const char *path) {
        for (size_t i = 0; i < m->host->opts->n_state_dirs; i++) {
                _cleanup_free_ char *p = path_absolute(m->host->opts->state_dirs[i]);
                if (p && strcmp(p, path) == 0)
                        return true;
        }
        return false;
}

bool discovery_reload(DiscoveryHost *m, json_t *removed) {
        Discovery *d = m->discovery;
        bool any = false;

        if (m->host->opts->discover) {
                if (!d)
                        return discovery_start(m), false;
                /* Additive: a state dir whose gateway exited stays guarded. Every gateway is
                 * looked at again (folders may have been made or fixed meanwhile). */
                memset(d->seen, 0, sizeof(d->seen));
                walk_proc(m, "gateway");
                add_users(m);
                return false;
        }
        if (!d)
                return false;
        for (size_t i = 0; i < d->n_found; i++) {
                const char *p = d->found[i].path;
                if (configured(m, p) || !tree_has_root(m->host->model, p, NODE_STATE))
                        continue;
                tree_remove_root(m->host->model, p, NODE_STATE);
                json_array_append_new(removed, json_path(NULL, p));
                any = true;
        }
        discovery_drop(m, true);
        return any;
}

json_t *discovery_json(DiscoveryHost *m) {
        Discovery *d = m->discovery;
        json_t *a = json_array();

        for (size_t i = 0; a && d && i < d->n_found; i++)
                json_array_append_new(a, json_pack("{s:o, s:o}", "state_dir", json_path(NULL, d->found[i].path),
                                                   "how", json_text(d->found[i].how)));
        return a;
}

void discovery_free(DiscoveryHost *m) {
        discovery_drop(m, false);
}
