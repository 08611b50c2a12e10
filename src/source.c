/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* source.c: the backend switch. */
#include <errno.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "fanotify-source.h"
#include "log.h"
#include "macro.h"
#include "source.h"

static int fanotify_error(int r) {
        if (r == -EPERM)
                return log_error_errno(r, "fanotify needs CAP_SYS_ADMIN in the initial user namespace: "
                                          "run lockwarden as root, or use --backend=inotify (or auto), "
                                          "which needs no privilege");
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
                *ret_why = r == -EPERM ? "fanotify needs CAP_SYS_ADMIN in the initial user namespace"
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
        /* Aligned for inotify's records; fanotify's are copied out record by record. */
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
        return 1;
}
