/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* file-id.h: the kernel's identity of a file as fanotify reports it: filesystem id plus file
 * handle. Unlike a name it survives renames and unlinks, so an event on an already-unlinked
 * lock still names the exact inode. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "hashmap.h"

#define FILE_ID_MAX_HANDLE 128

typedef struct FileId {
        uint64_t fsid;
        int32_t type;
        uint32_t len;
        unsigned char bytes[FILE_ID_MAX_HANDLE];
} FileId;

/* Identity of NAME relative to DIRFD (not following a final symlink), or of DIRFD itself when
 * NAME is "". */
int file_id_at(int dirfd, const char *name, FileId *ret);
FileId *file_id_dup(const FileId *id);

extern const HashOps file_id_hash_ops; /* key: const FileId * */
