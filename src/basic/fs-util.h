/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fs-util.h: small file-descriptor helpers shared by the observers and the actions. */
#pragma once

#include <dirent.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* A DIR stream over the folder DIRFD names, without disturbing DIRFD's own offset or
 * re-resolving any path. NULL with errno set on failure. */
DIR *opendir_at(int dirfd);

/* PATH made absolute (against the working directory) with "." and repeated or trailing
 * slashes removed; ".." and symlinks are kept as they are. NULL on ENOMEM. */
char *path_absolute(const char *path);
/* Is PATH (normalized) DIR itself or inside it, by components? */
bool path_is_under(const char *path, const char *dir);

/* Reads FD from offset 0 to EOF or until MAX bytes are in BUF (which holds MAX). Returns the
 * byte count or -errno. */
ssize_t read_all_at(int fd, char *buf, size_t max);

/* Reads the regular file NAME below DIRFD (not following a symlink, not blocking on a fifo)
 * whole into a new NUL-terminated buffer: 0, -ENOENT, -EBADFD (not a regular file), -EFBIG
 * (over MAX bytes), -EAGAIN (it grew while read: being rewritten), or another -errno. */
int read_file_at(int dirfd, const char *name, size_t max, char **ret_buf, size_t *ret_len);
/* The same for the open FD (a regular file, read from offset 0). */
int read_file_fd(int fd, size_t max, char **ret_buf, size_t *ret_len);
