/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fs-event.h: one kernel file event, as both backends decode it. The mask uses the FAN_*
 * names; inotify's IN_* bits have the same values (checked in inotify-source.c). */
#pragma once

#include <stdint.h>
#include <sys/fanotify.h>
#include <sys/types.h>

#include "file-id.h"

/* The acting process is not known: inotify does not say. Negative, so every "pid > 0" test
 * treats it as nobody; the race decision tells it apart from a scan (pid 0). */
#define PID_UNKNOWN ((pid_t) -1)

/* Events on a guarded sessions folder and its children. */
#define FS_MASK_SESSIONS (FAN_OPEN | FAN_CLOSE_WRITE | FAN_CLOSE_NOWRITE | FAN_MODIFY | \
                          FAN_CREATE | FAN_DELETE | FAN_MOVED_FROM | FAN_MOVED_TO | \
                          FAN_DELETE_SELF | FAN_MOVE_SELF | FAN_EVENT_ON_CHILD | FAN_ONDIR)
/* Events on a folder on the way to sessions folders (state dir, agents/, an agent, or an
 * ancestor of a folder that does not exist yet): only entries appearing and disappearing. */
#define FS_MASK_TREE (FAN_CREATE | FAN_DELETE | FAN_MOVED_FROM | FAN_MOVED_TO | \
                      FAN_DELETE_SELF | FAN_MOVE_SELF | FAN_ONDIR)

typedef struct FsEvent {
        uint64_t mask;           /* FAN_* bits; FAN_ONDIR when the object is a directory;
                                  * FAN_Q_OVERFLOW alone when events were lost */
        pid_t pid;               /* acting process; PID_UNKNOWN (inotify) */
        const FileId *dir;       /* folder the entry is in (or the object itself, self events) */
        const char *name;        /* entry name, NULL for self events and overflow */
        const FileId *object;    /* the file itself when the kernel reports it (fanotify: open,
                                  * close, modify; with FAN_REPORT_TARGET_FID also the file
                                  * created, removed or moved), else NULL */
} FsEvent;

typedef void (*FsEventCallback)(const FsEvent *ev, void *userdata);
