/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* session.h: one conversation in a guarded folder, X.jsonl and its lock X.jsonl.lock, as the
 * race detector sees it. Keeps the last kernel events on the pair (for forensics), who took
 * the lock in the events not yet settled, the transcript's size, the previous lock if it went
 * away while held, and the open coalescing window of unlocked or foreign writes. The tracker
 * calls the session_on_*() hooks as it applies kernel events; each gathers facts, asks
 * race.c, and reports. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "holder-map.h"
#include "race.h"

typedef struct Model Model;
typedef struct Node Node;
typedef struct Lock Lock;
typedef struct Session Session;

#define SESSION_RECENT_MAX 8

/* The session NAME (a transcript or lock name) belongs to in folder N, created if needed.
 * NULL when races are off or out of memory. */
Session *session_get(Model *m, Node *n, const char *name, FileKind kind);

/* Every kernel event on the session's two names, in the order read, before it is applied. */
void session_record(Session *s, FileKind kind, uint64_t mask, pid_t pid, uint64_t now_ns);

/* A transcript appeared or was found: its size and mtime to compare later writes with.
 * CREATED: we saw it created (so it started empty), rather than found or moved in. No
 * Session is made for it: one is made when an event on its names comes. */
void session_transcript_baseline(TrackedFile *f, const struct stat *st, bool created);

/* The hooks. ACTOR is the pid of the kernel event (0 when a scan found it). */
/* The transcript lost its name (REPLACED: the name now holds another file). */
void session_on_transcript_gone(Session *s, pid_t actor, uint64_t mask, bool replaced);
void session_on_transcript_write(Session *s, TrackedFile *f, pid_t actor, uint64_t mask,
                                 uint64_t now_ns);
void session_on_lock_new(Session *s, Lock *l, pid_t actor);
/* Called while L still has its name, before it is freed. */
void session_on_lock_gone(Session *s, Lock *l, pid_t actor);
void session_on_lock_write(Session *s, Lock *l, pid_t actor);
/* PID released the lock past its maxHoldMs: the holder's own watchdog, while its run goes on. */
void session_on_watchdog_release(Session *s, pid_t pid);
/* A lock lockwarden never read (gone before its creation was read: UnseenLock) was removed
 * by ACTOR while CREATOR, alive, still held it open: judged as a removal of a held lock. */
void session_on_unseen_lock_gone(Session *s, pid_t creator, pid_t actor);

/* The fanotify queue was read empty: every event up to now is applied, so what the session
 * knows from names on disk is exact again. Forgets the unsettled lock takers. */
void session_settle(Model *m);
/* End of a batch, before its reports: read the size of transcripts whose window's actor wrote
 * on in it (one read per transcript per batch, not one per write). */
void session_sizes_read(Model *m);
/* The folder is going away: report open windows, detach its sessions. */
void session_forget_folder(Model *m, Node *n);
/* End of a batch: free sessions with nothing left to watch. */
void session_gc(Model *m);
/* The one timer for windows' and bursts' deadlines fired (the manager's handler): it is off,
 * so that what the drain after this applies may arm it again. */
void session_timer_fired(Model *m);
/* ... and after the drain: report the windows and bursts whose deadline passed by NOW_NS,
 * and arm the timer for the next. */
void session_deadlines_passed(Model *m, uint64_t now_ns);
/* Shutting down: report every open window. */
void session_flush_all(Model *m);
void session_free_all(Model *m);
