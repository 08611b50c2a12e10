/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* tracker.h: turns kernel events on the files of a sessions folder into holder-map updates and
 * lock lifecycles: names appearing and disappearing (resynced with fstatat, never inferred from
 * event order), opens and closes (each close confirmed for its pid against /proc), payload
 * writes. The work an event batch causes is done once, at the end of the batch (flush). */
#pragma once

#include <stdint.h>

#include "fanotify-source.h"
#include "holder-map.h"

typedef struct Manager Manager;
typedef struct Node Node;

void tracker_scan(Manager *m, Node *n, uint64_t now_ns);
void tracker_on_event(Manager *m, Node *n, const FsEvent *ev, uint64_t now_ns);
/* Forget a lock file's name without reporting (we removed it ourselves). Frees its lock. */
void tracker_detach_file(Manager *m, TrackedFile *f);
/* The folder is gone: drop its files and locks. */
void tracker_forget_folder(Manager *m, Node *n);
/* End of a batch: confirm holders, judge dirty locks, free forgotten files. */
void tracker_flush(Manager *m);
