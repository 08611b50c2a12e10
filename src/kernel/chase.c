/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* chase.c */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chase.h"
#include "fs-util.h"
#include "macro.h"

#define CHASE_LINKS_MAX 40 /* as the kernel's own MAXSYMLINKS */

int chase_dir_is_safe(int dirfd) {
        struct stat st;

        if (fstat(dirfd, &st) < 0)
                return negative_errno();
        return st.st_uid == 0 && (st.st_mode & (S_IWGRP | S_IWOTH)) == 0;
}

/* The path of NAME in the folder reached so far, for the report. */
static char *join(const char *done, const char *name) {
        char *p;

        if (asprintf(&p, "%s/%s", strcmp(done, "/") == 0 ? "" : done, name) < 0)
                return NULL;
        return p;
}

/* Is the mount with id ID (statx's stx_mnt_id, mountinfo's first field) a FUSE filesystem?
 * Read from /proc/self/mountinfo, which asks no filesystem. Unknown: yes. */
static bool mount_is_fuse(uint64_t id) {
        _cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
        _cleanup_free_ char *line = NULL;
        size_t alloc = 0;

        if (!f)
                return true;
        while (getline(&line, &alloc, f) > 0) {
                char type[64], *end;
                const char *sep = strstr(line, " - ");
                unsigned long long mid;

                errno = 0;
                mid = strtoull(line, &end, 10);
                if (errno != 0 || end == line || *end != ' ' || mid != id)
                        continue;
                return !sep || sscanf(sep + 3, "%63s", type) != 1 || strncmp(type, "fuse", 4) == 0;
        }
        return true;
}

int chase_dir(const char *path, char **ret_unsafe) {
        return chase_dir_flags(path, 0, ret_unsafe);
}

int chase_dir_flags(const char *path, unsigned flags, char **ret_unsafe) {
        _cleanup_free_ char *todo = NULL;
        char done[PATH_MAX] = "/"; /* where the links led so far: for the report only */
        _cleanup_close_ int fd = -1;
        unsigned links = 0;
        uint64_t local_mnt = UINT64_MAX; /* a mount found to be no FUSE: not looked up again */
        char *p;

        if (!path || !*path)
                return -EINVAL;
        todo = path_absolute(path);
        if (!todo)
                return -ENOMEM;
        fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();

        p = todo;
        for (;;) {
                char *name, *next;
                struct stat st;
                int nfd, r;

                while (*p == '/')
                        p++;
                if (!*p)
                        break;
                name = p;
                next = strchr(p, '/');
                if (next)
                        *next++ = '\0';
                p = next ? next : name + strlen(name);

                if (strcmp(name, ".") == 0)
                        continue;
                if (strcmp(name, "..") == 0) {
                        /* Up from where the links led, as the kernel goes. */
                        nfd = openat(fd, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
                        if (nfd < 0)
                                return negative_errno();
                        closep(&fd);
                        fd = nfd;
                        char *slash = strrchr(done, '/');
                        if (slash && slash != done)
                                *slash = '\0';
                        else
                                strcpy(done, "/");
                        continue;
                }

                if (flags & CHASE_NO_FUSE) {
                        /* Cached attributes only: a FUSE server is not asked, even for the
                         * root of its mount (a stat of its mount point). */
                        struct statx stx;
                        if (statx(fd, name, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_STATX_DONT_SYNC,
                                  STATX_TYPE | STATX_MODE | STATX_MNT_ID, &stx) < 0)
                                return negative_errno();
                        /* The mount table once per mount crossed, not per component: a path
                         * of 2000 components costs no 2000 reads of it. */
                        if (!(stx.stx_mask & STATX_MNT_ID))
                                return -EREMOTE;
                        if (stx.stx_mnt_id != local_mnt) {
                                if (mount_is_fuse(stx.stx_mnt_id))
                                        return -EREMOTE;
                                local_mnt = stx.stx_mnt_id;
                        }
                        st.st_mode = stx.stx_mode;
                } else if (fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        return negative_errno();
                if (S_ISLNK(st.st_mode)) {
                        char target[PATH_MAX];
                        ssize_t n;
                        char *rest;

                        r = chase_dir_is_safe(fd);
                        if (r < 0)
                                return r;
                        if (r == 0) {
                                if (ret_unsafe)
                                        *ret_unsafe = join(done, name);
                                return -EPERM;
                        }
                        if (++links > CHASE_LINKS_MAX)
                                return -ELOOP;
                        n = readlinkat(fd, name, target, sizeof(target) - 1);
                        if (n < 0)
                                return negative_errno();
                        target[n] = '\0';
                        /* The rest of the path continues from the link's target. */
                        if (asprintf(&rest, "%s/%s", target, p) < 0)
                                return -ENOMEM;
                        free(todo);
                        todo = p = rest;
                        if (target[0] == '/') {
                                nfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
                                if (nfd < 0)
                                        return negative_errno();
                                closep(&fd);
                                fd = nfd;
                                strcpy(done, "/");
                        }
                        continue;
                }
                if (!S_ISDIR(st.st_mode))
                        return -ENOTDIR;
                /* Replaced by a symlink since the stat: O_NOFOLLOW makes that ENOTDIR/ELOOP. */
                nfd = openat(fd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (nfd < 0)
                        return negative_errno();
                closep(&fd);
                fd = nfd;
                /* A path longer than PATH_MAX is cut in the report only. */
                size_t len = strlen(done);
                snprintf(done + len, sizeof(done) - len, "%s%s", len == 1 ? "" : "/", name);
        }
        int rfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        return rfd < 0 ? negative_errno() : rfd;
}

void chase_error(int r, const char *unsafe, char *buf, size_t size) {
        if (r == -EPERM && unsafe)
                snprintf(buf, size, "symlink %s is in a folder a user other than root can write: not followed "
                         "(name the folder it points to instead)", unsafe);
        else if (r == -ELOOP)
                snprintf(buf, size, "too many symlinks");
        else if (r == -EREMOTE)
                snprintf(buf, size, "it is on a FUSE filesystem (its server could stall any lookup there)");
        else
                snprintf(buf, size, "%s", strerror(-r));
}
