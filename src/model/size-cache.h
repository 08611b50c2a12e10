/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* size-cache.h: the size and mtime of written transcripts, read through a kept O_PATH
 * descriptor to each (statx on the descriptor: no path walk per read, and no server round trip
 * on FUSE or NFS: AT_STATX_DONT_SYNC). At most SIZE_CACHE_MAX descriptors, the least recently
 * used one reused; a file's is closed when the file is forgotten. The descriptor names the
 * inode, so a rename does not matter and a replaced name is never read by mistake. */
#pragma once

#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "file-id.h"

#define SIZE_CACHE_MAX 128

/* The cache knows a file by the slot number it keeps for it (TrackedFile.size_slot, which the
 * holder map passes in: holder-map.h includes this header, not the other way round), and by
 * its identity. */
typedef struct SizeCacheEntry {
        uint16_t *slot;           /* the file's own slot number; NULL: free */
        int fd;
        uint16_t prev, next;      /* 1 + index, 0: none (most recently used first) */
} SizeCacheEntry;

typedef struct SizeCache {
        SizeCacheEntry e[SIZE_CACHE_MAX];
        uint16_t head, tail, n;
        unsigned long n_opens;    /* path walks (monitor.dump) */
} SizeCache;

void size_cache_init(SizeCache *c);
/* The size and mtime now of the file whose slot number is *SLOT (1 + its entry, 0: none yet)
 * and whose identity is DEV, INO, FID (it is named NAME in the folder DIRFD when it has no
 * descriptor yet). 0, or -errno (-ESTALE: NAME is not that file any more). */
int size_cache_stat(SizeCache *c, uint16_t *slot, dev_t dev, ino_t ino, const FileId *fid,
                    int dirfd, const char *name, struct statx *ret);
/* The file is forgotten: its descriptor closed (*SLOT becomes 0). */
void size_cache_forget(SizeCache *c, uint16_t *slot);
void size_cache_done(SizeCache *c);
