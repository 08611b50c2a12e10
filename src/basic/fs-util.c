/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fs-util.c */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

char *path_absolute(const char *path) {
        _cleanup_free_ char *abs = NULL;
        char *out, *o;

        if (path[0] != '/') {
                _cleanup_free_ char *cwd = getcwd(NULL, 0);
                if (!cwd || asprintf(&abs, "%s/%s", cwd, path) < 0)
                        return NULL;
        } else if (!(abs = strdup(path)))
                return NULL;

        out = malloc(strlen(abs) + 2);
        if (!out)
                return NULL;
        o = out;
        for (const char *p = abs; *p;) {
                while (*p == '/')
                        p++;
                if (!*p)
                        break;
                size_t k = strcspn(p, "/");
                if (!(k == 1 && p[0] == '.')) {
                        *o++ = '/';
                        memcpy(o, p, k);
                        o += k;
                }
                p += k;
        }
        if (o == out)
                *o++ = '/';
        *o = '\0';
        return out;
}

bool path_is_under(const char *path, const char *dir) {
        size_t n = strlen(dir);

        if (strcmp(dir, "/") == 0)
                return true;
        return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

int read_file_fd(int fd, size_t max, char **ret_buf, size_t *ret_len) {
        _cleanup_free_ char *buf = NULL;
        struct stat st;
        ssize_t n;

        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (!S_ISREG(st.st_mode))
                return -EBADFD;
        if ((uint64_t) st.st_size > max)
                return -EFBIG;
        /* One byte more than its size tells a file that grew meanwhile (being rewritten). */
        buf = malloc((size_t) st.st_size + 2);
        if (!buf)
                return -ENOMEM;
        n = read_all_at(fd, buf, (size_t) st.st_size + 1);
        if (n < 0)
                return (int) n;
        if (n > st.st_size)
                return -EAGAIN;
        buf[n] = '\0';
        *ret_buf = TAKE_PTR(buf);
        *ret_len = (size_t) n;
        return 0;
}

int read_file_at(int dirfd, const char *name, size_t max, char **ret_buf, size_t *ret_len) {
        _cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);

        if (fd < 0)
                return errno == ELOOP ? -EBADFD : negative_errno();
        return read_file_fd(fd, max, ret_buf, ret_len);
}
