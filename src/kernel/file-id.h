/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* file-id.h: the kernel's identity of a file as fanotify reports it: filesystem id plus file
 * handle. Unlike a name it survives renames and unlinks, so an event on an already-unlinked
 * lock still names the exact inode. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "hashmap.h"

#define FILE_ID_MAX_HANDLE 128
/* The type of an id made of (dev, inode) where the filesystem has no file handles. Such an
 * id does not tell a reused inode number from the old file. */
#define FILE_ID_TYPE_INODE 0x7fff0001

typedef struct FileId {
        uint64_t fsid;
        int32_t type;
        uint32_t len;
        unsigned char bytes[FILE_ID_MAX_HANDLE];
} FileId;

/* Its size as stored: the header and LEN bytes of handle (ids are kept, copied, compared and
 * hashed at that size, never at sizeof(FileId)). */
static inline size_t file_id_size(const FileId *id) {
        return offsetof(FileId, bytes) + id->len;
}

/* The id of the filesystem FD is on (statfs f_fsid), as fanotify reports it. */
int file_id_fsid(int fd, uint64_t *ret);
/* Identity of NAME relative to DIRFD (not following a final symlink), or of DIRFD itself when
 * NAME is "". FSID is that of DIRFD's filesystem: a folder's entries share it, so callers
 * pass the folder's rather than asking the kernel again. */
int file_id_at(int dirfd, const char *name, uint64_t fsid, FileId *ret);
/* Identity of what PATH leads to, following symlinks: through /proc/PID/fd/N, the open file
 * itself, even unlinked. */
int file_id_follow(const char *path, uint64_t fsid, FileId *ret);
bool file_id_equal(const FileId *a, const FileId *b);
/* Same file? Device and inode must match, and the file handles too when both are known: they
 * carry the inode generation, so a file that got a reused inode number is told apart. */
bool file_same(dev_t a_dev, ino_t a_ino, const FileId *a_fid, dev_t b_dev, ino_t b_ino,
               const FileId *b_fid);
FileId *file_id_dup(const FileId *id);

extern const HashOps file_id_hash_ops; /* key: const FileId * */
