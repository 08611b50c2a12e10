/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* proc.c: /proc readers. Every read is bounded, and a process that vanishes mid-read is an
 * ordinary outcome, not an error. */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "escape.h"
#include "fs-util.h"
#include "macro.h"
#include "proc.h"

static int read_small_file(const char *path, char *buf, size_t size, size_t *ret_len) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        ssize_t n;

        if (fd < 0)
                return negative_errno();
        n = read(fd, buf, size - 1);
        if (n < 0)
                return negative_errno();
        buf[n] = '\0';
        if (ret_len)
                *ret_len = (size_t) n;
        return 0;
}

/* Returns a pointer to the fields after "pid (comm) ", i.e. starting at the state. */
static int read_stat(pid_t pid, char *buf, size_t size, char **ret_after_comm) {
        char path[64], *p;
        int r;

        snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
        r = read_small_file(path, buf, size, NULL);
        if (r < 0)
                return r == -ENOENT ? -ESRCH : r;
        /* comm may contain spaces and parentheses: the last ')' ends it. */
        p = strrchr(buf, ')');
        if (!p || p[1] != ' ')
                return -EIO;
        *ret_after_comm = p + 2;
        return 0;
}

int proc_state(pid_t pid, char *ret) {
        char buf[1024], *p;
        int r = read_stat(pid, buf, sizeof(buf), &p);

        if (r < 0)
                return r;
        *ret = *p;
        return 0;
}

bool proc_alive(pid_t pid) {
        char state;

        return pid > 0 && proc_state(pid, &state) >= 0 && state != 'Z' && state != 'X';
}

int proc_starttime(pid_t pid, uint64_t *ret) {
        return proc_starttime_alive(pid, ret, NULL);
}

int proc_starttime_alive(pid_t pid, uint64_t *ret, bool *ret_alive) {
        char buf[1024], *p, *end;
        int r = read_stat(pid, buf, sizeof(buf), &p);

        if (r < 0)
                return r;
        if (ret_alive)
                *ret_alive = *p != 'Z' && *p != 'X';
        /* p is field 3 (state); starttime is field 22: skip 19 fields. */
        for (int i = 0; i < 19; i++) {
                p = strchr(p, ' ');
                if (!p)
                        return -EIO;
                p++;
        }
        errno = 0;
        unsigned long long v = strtoull(p, &end, 10);
        if (errno != 0 || end == p)
                return -EIO;
        *ret = v;
        return 0;
}

void proc_comm(pid_t pid, char buf[static COMM_MAX]) {
        char path[64], raw[17];
        size_t n = 0;

        snprintf(path, sizeof(path), "/proc/%d/comm", (int) pid);
        if (read_small_file(path, raw, sizeof(raw), &n) < 0 || n == 0) {
                memcpy(buf, "?", 2);
                return;
        }
        if (raw[n - 1] == '\n')
                raw[n - 1] = '\0';
        escape_into(raw, buf, COMM_MAX);
}

void proc_exe(pid_t pid, char *buf, size_t size) {
        char path[64], raw[PATH_MAX];
        ssize_t n;

        snprintf(path, sizeof(path), "/proc/%d/exe", (int) pid);
        n = readlink(path, raw, sizeof(raw) - 1);
        if (n <= 0) {
                snprintf(buf, size, "?");
                return;
        }
        raw[n] = '\0';
        escape_into(raw, buf, size);
}

static bool is_unit_name(const char *s, size_t n) {
        static const char *const suffixes[] = { ".service", ".scope" };

        for (size_t i = 0; i < ELEMENTSOF(suffixes); i++) {
                size_t k = strlen(suffixes[i]);
                if (n > k && memcmp(s + n - k, suffixes[i], k) == 0)
                        return true;
        }
        return false;
}

int proc_unit(pid_t pid, char *buf, size_t size) {
        char path[64], data[4096], *line, *save = NULL;
        const char *best = NULL;
        size_t best_len = 0;
        int r;

        snprintf(path, sizeof(path), "/proc/%d/cgroup", (int) pid);
        r = read_small_file(path, data, sizeof(data), NULL);
        if (r < 0)
                return r;
        for (line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                const char *p;

                /* cgroup v2 ("0::/path"), or the v1 hierarchy systemd names. */
                if (strncmp(line, "0::", 3) == 0)
                        p = line + 3;
                else if ((p = strstr(line, ":name=systemd:")))
                        p += strlen(":name=systemd:");
                else
                        continue;
                /* The innermost unit is the last path component that names one. */
                while (*p) {
                        const char *e;

                        while (*p == '/')
                                p++;
                        e = strchrnul(p, '/');
                        if (is_unit_name(p, (size_t) (e - p))) {
                                best = p;
                                best_len = (size_t) (e - p);
                        }
                        p = e;
                }
                if (best)
                        break;
        }
        if (!best || best_len + 1 > sizeof(data))
                return -ENOENT;
        memmove(data, best, best_len);
        data[best_len] = '\0';
        escape_into(data, buf, size);
        return 0;
}

typedef struct HoldsQuery {
        dev_t dev;
        ino_t ino;
        const FileId *fid;
        unsigned flags;
        int fd;
} HoldsQuery;

bool proc_fd_is(pid_t pid, int fd, const FileId *fid) {
        char path[64];
        FileId id;

        if (!fid)
                return true;
        snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int) pid, fd);
        /* No handle to compare (the fd is gone already): the inode matched, keep that. */
        return file_id_follow(path, fid->fsid, &id) < 0 || file_id_equal(&id, fid);
}

static int holds_cb(pid_t pid, int fd, dev_t dev, ino_t ino, void *userdata) {
        HoldsQuery *q = userdata;

        if (dev != q->dev || (!(q->flags & PROC_FD_BY_HANDLE) && ino != q->ino))
                return 0;
        if (q->flags & (PROC_FD_FOR_WRITE | PROC_FD_BY_HANDLE)) {
                /* Positive evidence only (this answer accuses someone of a race): an fd closed
                 * while we look at it is not the holding fd, nor is one open for reading only
                 * when a writer is asked for. */
                char path[64];
                FileId id;

                if (q->flags & PROC_FD_FOR_WRITE) {
                        if (proc_fd_access_of(pid, fd, ino, q->fid) != PROC_FD_WRITE)
                                return 0;
                } else {
                        snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int) pid, fd);
                        if (q->fid && (file_id_follow(path, q->fid->fsid, &id) < 0 || !file_id_equal(&id, q->fid)))
                                return 0;
                }
        } else if (!proc_fd_is(pid, fd, q->fid))
                return 0; /* the inode number, but another (newer) file */
        q->fd = fd;
        return -ECANCELED; /* found: stop the walk */
}

static int walk_one(pid_t pid, int proc_fd, ProcFdCallback cb, void *userdata) {
        _cleanup_close_ int dfd = -1;
        char path[32];
        DIR *d;
        struct dirent *de;
        int r = 0;

        snprintf(path, sizeof(path), "%s%d/fd", proc_fd == AT_FDCWD ? "/proc/" : "", (int) pid);
        dfd = openat(proc_fd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return errno == ENOENT || errno == ESRCH ? 0 : negative_errno();
        d = fdopendir(dfd);
        if (!d)
                return errno == ENOENT || errno == ESRCH ? 0 : negative_errno(); /* it exited */
        dfd = -1; /* owned by d now */

        for (errno = 0; (de = readdir(d)); errno = 0) {
                struct statx stx;
                char *end;
                long fd;

                if (de->d_name[0] == '.')
                        continue;
                fd = strtol(de->d_name, &end, 10);
                if (*end)
                        continue;
                /* stat() through the magic link reaches the open file itself, even unlinked. With
                 * AT_STATX_DONT_SYNC its filesystem is not asked (cached attributes do): a file
                 * on a FUSE or NFS mount whose server stalled must not hang the daemon, whatever
                 * process holds it. Only the device and inode number are wanted. */
                if (statx(dirfd(d), de->d_name, AT_STATX_DONT_SYNC, STATX_INO, &stx) < 0)
                        continue;
                /* < 0 ends the whole walk, > 0 only this process's. */
                r = cb(pid, (int) fd, makedev(stx.stx_dev_major, stx.stx_dev_minor), stx.stx_ino, userdata);
                if (r != 0)
                        break;
        }
        /* The process exited while we read its fds: what it held is closed, a complete answer. */
        if (!de && errno != 0 && errno != ENOENT && errno != ESRCH)
                r = negative_errno();
        closedir(d);
        return r < 0 ? r : 0;
}

/* Every process's fds. *RET_HIDDEN (may be NULL) is set when some live process's fds could not
 * be read (no privilege); such processes are skipped. */
static int walk_all(ProcFdCallback cb, void *userdata, bool *ret_hidden) {
        _cleanup_close_ int proc_fd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        pid_t self = getpid();
        bool hidden = false;
        struct dirent *de;
        DIR *d;
        int r = 0;

        if (proc_fd < 0)
                return negative_errno();
        d = opendir_at(proc_fd);
        if (!d)
                return negative_errno();
        while ((de = readdir(d))) {
                char *end;
                long pid = strtol(de->d_name, &end, 10);

                /* Our own descriptors (a payload being read, the transcripts' O_PATH ones of
                 * size-cache.h) hold nothing. */
                if (*end || pid <= 0 || (pid_t) pid == self)
                        continue;
                r = walk_one((pid_t) pid, proc_fd, cb, userdata);
                /* Not ours to see: the unprivileged backend lives with that; a caller that
                 * must know asks (a zombie's fds are gone with it: only a live process hides). */
                if (ret_hidden && (r == -EACCES || r == -EPERM || (r >= 0 && !proc_fds_visible((pid_t) pid))) &&
                    proc_alive((pid_t) pid))
                        hidden = true;
                if (r == -EACCES || r == -EPERM)
                        r = 0;
                if (r < 0)
                        break;
        }
        closedir(d);
        if (ret_hidden)
                *ret_hidden = hidden;
        return r;
}

int proc_walk_fds(pid_t only_pid, ProcFdCallback cb, void *userdata) {
        /* One process (a close to confirm, on the event path): its folder by absolute path,
         * without opening /proc itself first. */
        if (only_pid > 0)
                return walk_one(only_pid, AT_FDCWD, cb, userdata);
        return walk_all(cb, userdata, NULL);
}

int proc_pid_find_fd(pid_t pid, dev_t dev, ino_t ino, const FileId *fid, unsigned flags, int *ret_fd) {
        HoldsQuery q = { .dev = dev, .ino = ino, .fid = fid, .flags = flags, .fd = -1 };
        int r;

        /* By handle alone, a missing handle would match any file of the device. */
        if ((flags & PROC_FD_BY_HANDLE) && !fid)
                return -EINVAL;
        r = proc_walk_fds(pid, holds_cb, &q);
        if (r < 0 && r != -ECANCELED)
                return r;
        if (ret_fd)
                *ret_fd = q.fd;
        return q.fd >= 0;
}

/* The open flags of PID's fd FD, and the inode number and mount of the file it is open on (0
 * where this kernel's fdinfo does not say), from one read of /proc/PID/fdinfo/FD. */
typedef struct FdInfo {
        unsigned long flags;
        unsigned long long ino;
        long mnt_id;
} FdInfo;

static int fd_info(pid_t pid, int fd, FdInfo *ret) {
        char path[64], buf[256], *p;
        int r;

        snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", (int) pid, fd);
        r = read_small_file(path, buf, sizeof(buf), NULL);
        if (r < 0)
                return r;
        if (!(p = strstr(buf, "flags:")))
                return -EIO;
        *ret = (FdInfo) { .flags = strtoul(p + strlen("flags:"), NULL, 8) };
        if ((p = strstr(buf, "\nmnt_id:")))
                ret->mnt_id = strtol(p + strlen("\nmnt_id:"), NULL, 10);
        if ((p = strstr(buf, "\nino:")))
                ret->ino = strtoull(p + strlen("\nino:"), NULL, 10);
        return 0;
}

static int fd_flags(pid_t pid, int fd, unsigned long *ret) {
        FdInfo i;
        int r = fd_info(pid, fd, &i);

        if (r >= 0)
                *ret = i.flags;
        return r;
}

int proc_fd_access_of(pid_t pid, int fd, ino_t ino, const FileId *fid) {
        FdInfo before, after;
        int r;

        r = fd_info(pid, fd, &before);
        if (r < 0)
                return r;
        if (before.ino != 0 && before.ino != (unsigned long long) ino)
                return 0;
        if (fid) {
                char path[64];
                FileId id;

                snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int) pid, fd);
                r = file_id_follow(path, fid->fsid, &id);
                if (r < 0)
                        return r;
                if (!file_id_equal(&id, fid))
                        return 0;
        }
        if (proc_fd_access_between)
                proc_fd_access_between(pid, fd);
        /* Still the open file whose flags we read? A holder that releases closes its lock,
         * re-opens it read-only to compare, and takes the next one for writing: all on the
         * same fd number, between any two of our reads. */
        r = fd_info(pid, fd, &after);
        if (r < 0)
                return r;
        if (after.ino != before.ino || after.mnt_id != before.mnt_id ||
            (after.flags & O_ACCMODE) != (before.flags & O_ACCMODE))
                return 0;
        return (before.flags & O_ACCMODE) == O_RDONLY ? PROC_FD_READ : PROC_FD_WRITE;
}

const char *proc_fd_mode(pid_t pid, int fd) {
        unsigned long flags;

        if (fd_flags(pid, fd, &flags) < 0)
                return "?";
        switch (flags & O_ACCMODE) {
        case O_RDONLY:
                return "r";
        case O_WRONLY:
                return "w";
        case O_RDWR:
                return "rw";
        default:
                return "?";
        }
}

int proc_nspid(pid_t pid, pid_t *ret_inner, unsigned *ret_depth) {
        char path[64], buf[4096], *line, *end;
        unsigned depth = 0;
        long last = -1;
        int r;

        snprintf(path, sizeof(path), "/proc/%d/status", (int) pid);
        r = read_small_file(path, buf, sizeof(buf), NULL);
        if (r < 0)
                return r == -ENOENT ? -ESRCH : r;
        line = strstr(buf, "\nNSpid:");
        if (!line)
                return -ENODATA; /* a kernel before 4.1 */
        line += strlen("\nNSpid:");
        for (;;) {
                long v;

                while (*line == ' ' || *line == '\t')
                        line++;
                if (*line < '0' || *line > '9')
                        break;
                errno = 0;
                v = strtol(line, &end, 10);
                if (errno != 0 || v <= 0)
                        return -EIO;
                if (last >= 0)
                        depth++;
                last = v;
                line = end;
        }
        if (last <= 0)
                return -EIO;
        *ret_inner = (pid_t) last;
        *ret_depth = depth;
        return 0;
}

int proc_cmdline(pid_t pid, char *buf, size_t size, size_t *ret_len) {
        char path[64];

        snprintf(path, sizeof(path), "/proc/%d/cmdline", (int) pid);
        return read_small_file(path, buf, size, ret_len);
}

bool proc_fds_visible(pid_t pid) {
        char path[32], buf[PATH_MAX];

        /* Listing /proc/PID/fd needs only read access to the folder (root's
         * cap_dac_read_search passes), but following its links needs ptrace access, as does
         * /proc/PID/exe: ask that one. A process gone or without an executable (a zombie, a
         * kernel thread) holds nothing we could miss. */
        snprintf(path, sizeof(path), "/proc/%d/exe", (int) pid);
        return readlink(path, buf, sizeof(buf)) >= 0 || (errno != EACCES && errno != EPERM);
}

typedef struct WritersQuery {
        dev_t dev;
        ino_t ino;
        const FileId *fid;
        pid_t *pids, *reader_pids;
        size_t max, n, readers, max_readers;
} WritersQuery;

static int writers_cb(pid_t pid, int fd, dev_t dev, ino_t ino, void *userdata) {
        WritersQuery *q = userdata;
        int r;

        if (dev != q->dev || ino != q->ino)
                return 0;
        r = proc_fd_access_of(pid, fd, ino, q->fid);
        if (r == 0)
                return 0; /* the inode number, but another (newer) file */
        if (r != PROC_FD_WRITE) {
                /* (a process with two read fds counts twice: only "any" matters) */
                if (q->reader_pids && q->readers < q->max_readers)
                        q->reader_pids[q->readers] = pid;
                q->readers++;
                return 0;
        }
        if (q->n < q->max)
                q->pids[q->n] = pid;
        q->n++;
        return 1; /* this process is counted once: go on with the next */
}

int proc_find_writers(dev_t dev, ino_t ino, const FileId *fid, pid_t *ret, size_t max, pid_t *readers,
                      size_t max_readers, size_t *ret_readers, bool *ret_hidden) {
        WritersQuery q = { .dev = dev, .ino = ino, .fid = fid, .pids = ret, .max = max,
                           .reader_pids = readers, .max_readers = max_readers };
        int r = walk_all(writers_cb, &q, ret_hidden);

        if (r < 0)
                return r;
        *ret_readers = q.readers;
        return (int) q.n;
}

OwnerNs proc_resolve_pid(pid_t want, const pid_t *candidates, const pid_t *ns_pids, size_t n,
                         bool has_starttime, uint64_t starttime, pid_t *ret_host) {
        uint64_t st;

        for (size_t i = 0; i < n; i++) {
                pid_t host = candidates[i], inner = ns_pids ? ns_pids[i] : 0;
                unsigned depth = 0;

                if (host <= 0 || inner < 0)
                        continue; /* -1: it was gone when we could have asked */
                if (inner == 0 && proc_nspid(host, &inner, &depth) < 0)
                        continue; /* gone: its number alone ties nothing */
                if (inner != want)
                        continue;
                *ret_host = host;
                return host == want && depth == 0 ? OWNER_NS_HOST : OWNER_NS_MAPPED;
        }
        *ret_host = want;
        if (has_starttime && proc_starttime(want, &st) >= 0 && st == starttime)
                return OWNER_NS_STARTTIME;
        return OWNER_NS_UNVERIFIED;
}
