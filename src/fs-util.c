/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fs-util.c */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "fs-util.h"
#include "macro.h"

DIR *opendir_at(int dirfd) {
        int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR *d;

        if (fd < 0)
                return NULL;
        d = fdopendir(fd);
        if (!d)
                closep(&fd);
        return d;
}

ssize_t read_all_at(int fd, char *buf, size_t max) {
        size_t n = 0;

        /* To EOF, not to st_size: the file may grow while we read. */
        while (n < max) {
                ssize_t k = pread(fd, buf + n, max - n, (off_t) n);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                if (k == 0)
                        break;
                n += (size_t) k;
        }
        return (ssize_t) n;
}
