/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* size-cache.h: the size and mtime of written transcripts, read through a kept O_PATH
 * descriptor to each (statx on the descriptor: no path walk per read, and no server round trip
 * on FUSE or NFS: AT_STATX_DONT_SYNC). At most SIZE_CACHE_MAX descriptors, the least recently
 * used one reused; a file's is closed when the file is forgotten. The descriptor names the
 * inode, so a rename does not matter and a replaced name is never read by mistake. */
#pragma once

#include <stdint.h>
#include <sys/stat.h>

#define SIZE_CACHE_MAX 128

struct TrackedFile;

typedef struct SizeCacheEntry {
        struct TrackedFile *file; /* NULL: free */
        int fd;
        uint16_t prev, next;      /* 1 + index, 0: none (most recently used first) */
} SizeCacheEntry;

typedef struct SizeCache {
        SizeCacheEntry e[SIZE_CACHE_MAX];
        uint16_t head, tail, n;
        unsigned long n_opens;    /* path walks (monitor.dump) */
} SizeCache;

void size_cache_init(SizeCache *c);
/* F's size and mtime now (F is named NAME in the folder DIRFD when it has no descriptor yet).
 * 0, or -errno (-ESTALE: NAME is not F any more). */
int size_cache_stat(SizeCache *c, struct TrackedFile *f, int dirfd, const char *name, struct statx *ret);
/* F is forgotten: its descriptor closed. */
void size_cache_forget(SizeCache *c, struct TrackedFile *f);
void size_cache_done(SizeCache *c);
