/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fanotify-source.h: the fanotify group (FID mode) and the decoding of its records into
 * plain FsEvent values. No policy lives here: what an event means is decided elsewhere. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/fanotify.h>
#include <sys/types.h>

#include "file-id.h"

/* Events on a guarded sessions folder and its children. */
#define FS_MASK_SESSIONS (FAN_OPEN | FAN_CLOSE_WRITE | FAN_CLOSE_NOWRITE | FAN_MODIFY | \
                          FAN_CREATE | FAN_DELETE | FAN_MOVED_FROM | FAN_MOVED_TO | \
                          FAN_DELETE_SELF | FAN_MOVE_SELF | FAN_EVENT_ON_CHILD | FAN_ONDIR)
/* Events on a folder on the way to sessions folders (state dir, agents/, an agent, or an
 * ancestor of a folder that does not exist yet): only entries appearing and disappearing. */
#define FS_MASK_TREE (FAN_CREATE | FAN_DELETE | FAN_MOVED_FROM | FAN_MOVED_TO | \
                      FAN_DELETE_SELF | FAN_MOVE_SELF | FAN_ONDIR)

typedef struct FsEvent {
        uint64_t mask;           /* FAN_* bits; FAN_ONDIR when the object is a directory */
        pid_t pid;               /* acting process */
        const FileId *dir;       /* folder the entry is in (or the object itself, self events) */
        const char *name;        /* entry name, NULL for self events and overflow */
        const FileId *object;    /* the file itself when the kernel reports it (open, close,
                                  * modify; with FAN_REPORT_TARGET_FID also the file created,
                                  * removed or moved), else NULL */
} FsEvent;

/* 0 and the fd, -EPERM when the caller lacks CAP_SYS_ADMIN, -EINVAL/-ENOSYS on kernels
 * without FID reporting. *ret_target_fid tells whether entry events name their file. */
int fanotify_source_open(int *ret_fd, bool *ret_target_fid);
int fanotify_source_mark(int fan_fd, int dirfd, uint64_t mask);
int fanotify_source_unmark(int fan_fd, int dirfd);

typedef void (*FsEventCallback)(const FsEvent *ev, void *userdata);
/* Decodes one read() worth of records; returns the number of events delivered. Records that
 * are malformed or of a kind we do not use are skipped. */
size_t fanotify_source_decode(const void *buf, size_t len, FsEventCallback cb, void *userdata);
