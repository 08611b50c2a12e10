/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fs-util.h: small file-descriptor helpers shared by the observers and the actions. */
#pragma once

#include <dirent.h>
#include <stddef.h>
#include <sys/types.h>

/* A DIR stream over the folder DIRFD names, without disturbing DIRFD's own offset or
 * re-resolving any path. NULL with errno set on failure. */
DIR *opendir_at(int dirfd);

/* Reads FD from offset 0 to EOF or until MAX bytes are in BUF (which holds MAX). Returns the
 * byte count or -errno. */
ssize_t read_all_at(int fd, char *buf, size_t max);
