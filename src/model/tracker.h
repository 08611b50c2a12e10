/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* tracker.h: turns kernel events on the files of a sessions folder into holder-map updates,
 * lock lifecycles and session (race) hooks: files created, removed and renamed (applied to the
 * exact file the event names, or resynced with the disk when it names none), opens and closes
 * (each close confirmed for its pid against /proc), writes. The work an event batch causes is
 * done once, at the end of the batch (flush). */
#pragma once

#include <stdint.h>

#include "fs-event.h"
#include "holder-map.h"

typedef struct Model Model;
typedef struct Node Node;

void tracker_scan(Model *m, Node *n, uint64_t now_ns);
/* After lost events: bring every name of N in line with the disk (nobody is credited with
 * what changed). The caller then re-reads who holds what, once for all folders. */
void tracker_resync(Model *m, Node *n, uint64_t now_ns);
void tracker_on_event(Model *m, Node *n, const FsEvent *ev, uint64_t now_ns);
/* Forget a lock file's name without reporting (we removed it ourselves). Frees its lock. */
void tracker_detach_file(Model *m, TrackedFile *f);
/* The folder is gone: drop its files and locks. */
void tracker_forget_folder(Model *m, Node *n);
/* End of a batch: confirm holders, judge dirty locks, free forgotten files. */
void tracker_flush(Model *m);
/* Before an answer that lists transcripts' holders: confirm every transcript close that is
 * still taken on trust (see confirm_lazily in tracker.c). */
void tracker_settle_holders(Model *m);

/* A lock moved aside under HIDDEN in N during a removal, its NAME taken again meanwhile: put
 * back when NAME frees (tracker_name_freed). */
void tracker_strand(Model *m, Node *n, const char *name, const char *hidden);
/* A removal put a new lock back under NAME by a hard link (cleanup.h): NAME is read again. */
void tracker_name_put_back(Model *m, Node *n, const char *name, uint64_t now_ns);
/* NAME in N is free now (removed or renamed away): put back a lock stranded from it, and
 * track it again. */
void tracker_name_freed(Model *m, Node *n, const char *name, uint64_t now_ns);
