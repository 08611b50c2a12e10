/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* source.c: the backend switch. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "fanotify-source.h"
#include "log.h"
#include "macro.h"
#include "source.h"

/* A small /proc file of ours into BUF (NUL-terminated); false if unreadable. */
static bool read_self(const char *path, char *buf, size_t size) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        ssize_t n = fd >= 0 ? read(fd, buf, size - 1) : -1;

        if (n < 0)
                return false;
        buf[n] = '\0';
        return true;
}

/* Why fanotify_init said EPERM, as far as we can tell: without CAP_SYS_ADMIN, in a user
 * namespace other than the initial one (where the capability does not count), or, with
 * both, a seccomp filter that denies the call. */
static const char *fanotify_eperm_why(void) {
        char status[4096], map[128], *eff, *p;
        unsigned long long caps;

        if (!read_self("/proc/self/status", status, sizeof(status)) || !(eff = strstr(status, "\nCapEff:")))
                return "fanotify needs CAP_SYS_ADMIN in the initial user namespace";
        caps = strtoull(eff + strlen("\nCapEff:"), NULL, 16);
        if (!(caps & (1ull << 21 /* CAP_SYS_ADMIN */)))
                return "fanotify needs CAP_SYS_ADMIN in the initial user namespace";
        /* The initial user namespace maps all of 0..2^32-2: "0 0 4294967295". */
        p = map;
        if (read_self("/proc/self/uid_map", map, sizeof(map)) &&
            (strtoul(p, &p, 10) != 0 || strtoul(p, &p, 10) != 0 || strtoul(p, &p, 10) != 4294967295ul))
                return "fanotify_init was refused: lockwarden runs in a user namespace (a container), where "
                       "its CAP_SYS_ADMIN does not allow fanotify";
        return "fanotify_init was refused (EPERM) although lockwarden holds CAP_SYS_ADMIN in the initial user "
               "namespace: a seccomp filter denies it (systemd's SystemCallFilter=, systemd-nspawn without "
               "--system-call-filter='fanotify_init fanotify_mark', a container runtime's profile)";
}

static int fanotify_error(int r) {
        if (r == -EPERM)
                return log_error_errno(r, "%s: run lockwarden as root and let it call fanotify_init, or use "
                                          "--backend=inotify (or auto), which needs no privilege",
                                       fanotify_eperm_why());
        if (r == -EINVAL || r == -ENOSYS)
                return log_error_errno(r, "this kernel's fanotify cannot report file handles and names "
                                          "(FAN_REPORT_DFID_NAME needs Linux 5.9 or later): use "
                                          "--backend=inotify");
        return log_error_errno(r, "cannot create the fanotify group: %m");
}

int source_open(Source *s, BackendKind want, const char **ret_why) {
        int r;

        *s = (Source) { .fd = -1, .ino = { .fd = -1 } };
        *ret_why = NULL;
        if (want != BACKEND_INOTIFY) {
                r = fanotify_source_open(&s->fd, &s->target_fid);
                if (r >= 0) {
                        s->backend = BACKEND_FANOTIFY;
                        return 0;
                }
                if (want == BACKEND_FANOTIFY || (r != -EPERM && r != -EINVAL && r != -ENOSYS))
                        return fanotify_error(r);
                *ret_why = r == -EPERM ? fanotify_eperm_why()
                                       : "this kernel's fanotify cannot report file handles and names";
        }
        r = inotify_source_open(&s->ino);
        if (r < 0)
                return log_error_errno(r, "cannot create the inotify instance: %m%s",
                                       r == -EMFILE ? " (the per-user limit fs.inotify.max_user_instances "
                                                      "is reached)" : "");
        s->backend = BACKEND_INOTIFY;
        s->fd = s->ino.fd;
        return 0;
}

void source_close(Source *s) {
        if (s->backend == BACKEND_INOTIFY)
                inotify_source_close(&s->ino); /* owns s->fd */
        else if (s->fd >= 0)
                close(s->fd);
        s->fd = -1;
}

int source_watch(Source *s, int dirfd, const FileId *fid, uint64_t mask, int *ret_wd) {
        *ret_wd = -1;
        if (s->backend == BACKEND_INOTIFY)
                return inotify_source_watch(&s->ino, dirfd, fid, mask, ret_wd);
        return fanotify_source_mark(s->fd, dirfd, mask);
}

void source_unwatch(Source *s, int dirfd, int wd) {
        if (s->backend == BACKEND_INOTIFY) {
                if (wd >= 0)
                        inotify_source_unwatch(&s->ino, wd);
        } else
                (void) fanotify_source_unmark(s->fd, dirfd);
}

int source_pending(Source *s) {
        int n;

        if (ioctl(s->fd, FIONREAD, &n) < 0)
                return negative_errno();
        return n;
}

int source_read(Source *s, FsEventCallback cb, void *userdata) {
        /* Aligned for inotify's records; fanotify's are copied out record by record. (Its
         * size places a batch's end: tests/test-race-late splits a queue on it.) */
        static char buf[64 * 1024] __attribute__((aligned(8)));
        ssize_t n = read(s->fd, buf, sizeof(buf));

        if (n < 0)
                return errno == EAGAIN ? 0 : negative_errno();
        if (n == 0)
                return 0;
        if (s->backend == BACKEND_INOTIFY)
                inotify_source_decode(&s->ino, buf, (size_t) n, cb, userdata);
        else
                fanotify_source_decode(buf, (size_t) n, cb, userdata);
        return (int) n;
}
