/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cleanup.h: removing a lock that was judged stale, safely, in a folder other users may
 * write. Everything is relative to the folder fd, nothing follows a symlink, and the lock is
 * removed only if it is still the exact inode and the exact bytes that were judged. */
#pragma once

#include <stddef.h>
#include <sys/types.h>

#include "file-id.h"

typedef enum CleanupResult {
        CLEANUP_REMOVED,
        CLEANUP_KEPT,      /* it changed under us; *why says how; nothing was removed */
} CleanupResult;

/* Returns CLEANUP_REMOVED or CLEANUP_KEPT (why filled), or -errno (why filled) when an
 * operation failed; in every case a lock that is not the judged one is left in place. */
int cleanup_remove_lock(int dirfd, const char *name, dev_t dev, ino_t ino, const FileId *fid,
                        const char *payload, size_t payload_len, char *why, size_t why_size);
