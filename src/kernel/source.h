/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* source.h: where kernel file events come from. fanotify when privileged: every event names
 * the acting process ("attribution: pid"). inotify otherwise: no privilege needed, events
 * name no process, and holders are found by scanning /proc ("attribution: holder-scan").
 * Both deliver the same FsEvent values; the rest of the daemon asks source_attribution(). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fs-event.h"
#include "inotify-source.h"

/* Which kernel interface: --backend, and what source_open() opened. */
typedef enum BackendKind {
        BACKEND_AUTO,
        BACKEND_FANOTIFY,
        BACKEND_INOTIFY,
        _BACKEND_MAX,
        _BACKEND_INVALID = -22,
} BackendKind;

typedef struct Source {
        BackendKind backend;    /* BACKEND_FANOTIFY or BACKEND_INOTIFY once open */
        int fd;                 /* the fd to poll */
        bool target_fid;        /* entry events name the exact file (fanotify, Linux 5.17+) */
        InotifySource ino;
} Source;

/* Opens the backend WANT (auto: fanotify when permitted, else inotify). On failure logs why
 * and returns -errno. With auto, *ret_why says why inotify was chosen (NULL: it was not). */
int source_open(Source *s, BackendKind want, const char **ret_why);
void source_close(Source *s);

/* Events carry the acting pid. */
static inline bool source_attribution(const Source *s) {
        return s->backend == BACKEND_FANOTIFY;
}

/* Guards the folder DIRFD (identity FID) for MASK (FS_MASK_*). *ret_wd is the inotify watch
 * (-1 with fanotify). -ENOSPC: the inotify watch limit is reached. */
int source_watch(Source *s, int dirfd, const FileId *fid, uint64_t mask, int *ret_wd);
void source_unwatch(Source *s, int dirfd, int wd);

/* Bytes waiting in the queue (FIONREAD); -errno when the kernel cannot say. */
int source_pending(Source *s);

/* One read() of the queue, dispatched to CB. > 0: the bytes read; 0: the queue is empty;
 * -errno on failure. */
int source_read(Source *s, FsEventCallback cb, void *userdata);
