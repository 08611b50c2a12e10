/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* inotify-source.h: the unprivileged event source. One watch per guarded folder; events are
 * decoded into the same FsEvent values as fanotify's, with the folder's identity looked up
 * from the watch descriptor and the actor unknown (PID_UNKNOWN): inotify does not say who. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "fs-event.h"
#include "hashmap.h"

typedef struct InotifySource {
        int fd;
        Hashmap *watches;   /* wd → Watch (the folder's FileId) until IN_IGNORED */
} InotifySource;

int inotify_source_open(InotifySource *s);
void inotify_source_close(InotifySource *s);
/* Watches folder DIRFD, whose identity is FID, for MASK (FS_MASK_*). A folder watched twice
 * keeps one watch with both masks. -ENOSPC: the per-user limit (fs.inotify.max_user_watches)
 * is reached. */
int inotify_source_watch(InotifySource *s, int dirfd, const FileId *fid, uint64_t mask, int *ret_wd);
void inotify_source_unwatch(InotifySource *s, int wd);
/* Decodes one read() worth of events; returns how many were delivered. */
size_t inotify_source_decode(InotifySource *s, const void *buf, size_t len, FsEventCallback cb,
                             void *userdata);
