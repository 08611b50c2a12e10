/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lock.h: one session lock on disk, from the moment it is seen until it is released or
 * cleaned. Gathers the facts for the verdict (payload, owner, holders), asks verdict.c, and
 * acts on the answer: report, arm a one-shot grace timer, or remove it via cleanup.c. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <jansson.h>
#include <systemd/sd-event.h>

#include "holder-map.h"
#include "list.h"
#include <sys/stat.h>

#include "payload.h"
#include "verdict.h"

typedef struct Model Model;
typedef struct Owner Owner;

struct Lock {
        Model *model;
        TrackedFile *file;
        LIST_FIELDS(Lock, locks);
        LIST_FIELDS(Lock, dirty);
        LIST_FIELDS(Lock, owner);

        bool dirty;                   /* facts changed: judge again at the end of the batch */
        uint64_t evidence_ns;         /* when the kernel told us of the last change */
        uint64_t evidence_lag_ns;     /* how long the loop had been busy then (model_lag_ns) */

        bool payload_dirty;
        bool payload_settled;         /* the file read (its size and ctime below), last changed a
                                       * second or more before the read (lock_resynced) */
        int64_t payload_size;
        int64_t payload_ctime_ns;
        int64_t payload_read_ns;      /* CLOCK_REALTIME of that read */
        char *payload_buf;
        size_t payload_len;
        LockPayload payload;

        Owner *owner;                 /* the process payload.pid names, when the payload is valid:
                                       * owner->pid is its pid here (see owner_ns) */
        OwnerNs owner_ns;             /* how payload.pid was tied to owner->pid */
        pid_t owner_for_pid;          /* ... the payload.pid it was tied for */

        pid_t creator_pid;            /* who created it, if we saw that (else 0) */
        pid_t creator_ns_pid;         /* ... and its pid in its own pid namespace (-1: it was
                                       * gone when we asked, 0: no creator) */
        bool creator_opened;          /* its creating open was seen (a holder at once; its
                                       * later opens, re-reads maybe, are asked of /proc) */
        uint64_t seen_ns;             /* when we first saw it */
        bool acquired_reported;
        bool stale_handled;           /* reported stale for the current facts */
        bool kept_by_setting;         /* ... and kept for its folder's settings (report only,
                                       * remote filesystem) or for the application's restart
                                       * recovery */
        bool stale_reported;          /* lock.stale went out for the current facts */
        bool doubt_reported;          /* ... and lock.kept for a removal kept on doubt */
        uint8_t doubt_retries;        /* removals kept on doubt in a row, each tried again
                                       * after a backoff (lock_act_stale) */
        Verdict verdict;
        /* The last judgement, for locks and explain (lock_why()): kept small, most locks are
         * live and say little (the detail on the heap, NULL when empty). */
        StaleReason judged_reason;
        const char *judged_rule;
        uint64_t judged_deadline_ns;
        char *judged_detail;
        const char *kept_reason;      /* stale but kept (lock.kept): its reason and why */
        char *kept_why;               /* (heap; NULL unless kept) */
        sd_event_source *grace_timer;
        sd_event_source *age_timer;
        unsigned aged_reported;       /* 1 << AgedReason */
        pid_t tampered_by;            /* reported as race.lock-tampered by this writer */
};

/* created_pid > 0 when we saw the creation as it happened. */
int lock_new(Model *m, TrackedFile *f, pid_t creator_pid, uint64_t now_ns, Lock **ret);
void lock_free(Lock *l);

void lock_mark_dirty(Lock *l, uint64_t now_ns);
/* O exited (its pidfd turned readable): so are its holds gone, whatever close events are
 * still to come, and its locks are to be judged again. */
void lock_owner_gone(Owner *o, uint64_t now_ns);
void lock_mark_payload_dirty(Lock *l, uint64_t now_ns);
/* After lost events (the resync): judged again, and the payload read again unless the file is
 * the one read and has not changed since (a statx, no open). Each read is an open, and each
 * open one more event in the daemon's own queue: reading every lock again overflowed that
 * queue again once there were more locks than it holds, and the resyncs never ended. */
void lock_resynced(Lock *l, uint64_t now_ns);
/* The folder's settings changed (a reload): judge again, and act again on a stale lock that
 * its old settings kept. */
void lock_settings_changed(Lock *l, uint64_t now_ns);

/* Re-read the payload now if events said it changed (also used by the race detector, which
 * must know the owner at the moment of an event). False if the name no longer holds it. */
bool lock_load_payload(Lock *l);
/* The lock's path, and its transcript's (the name without ".lock"), as reports give them. */
json_t *lock_path_json(Lock *l);
json_t *lock_session_json(Lock *l);
/* The owner's pid on this host (payload.pid seen through its pid namespace), or the creator's
 * when the payload names nobody; 0 if neither is known. */
pid_t lock_owner_pid(Lock *l);
/* How long it has been held, in ms: since we saw it created, or since its payload's
 * createdAt for a lock that predates us. */
int64_t lock_held_ms(Lock *l);
/* Why L's last verdict is what it is: the pending lock's time left, or the judgement's detail
 * (BUF holds the former). A stale lock kept says why it stays instead when KEPT. */
const char *lock_why(const Lock *l, bool kept, uint64_t now_ns, char *buf, size_t size);

/* The verdict's facts now (lock-facts.h): the payload as last read, the owner as its pidfd
 * follows it, the holders as the holder map has them. What lock_refresh judges, and what
 * explain shows. */
void lock_gather_facts(Lock *l, LockFacts *ret);

/* What a removal leaves for the tracker to do with the lock's name (lock_refresh). */
typedef enum LockAfterKind {
        LOCK_AFTER_NONE,
        LOCK_AFTER_REMOVED,   /* removed: forget the file (which frees the lock); a lock left
                               * aside under a hidden name until its name freed goes back now */
        LOCK_AFTER_STRANDED,  /* a new owner's lock moved aside, under HIDDEN until the name
                               * frees */
        LOCK_AFTER_PUT_BACK,  /* a new owner's lock put back: a new inode to the kernel, the
                               * name is read again */
} LockAfterKind;

typedef struct LockAfter {
        LockAfterKind what;
        TrackedFile *file;       /* the lock's, still named: its folder and name say where */
        char hidden[64];         /* STRANDED: the hidden name the new owner's lock waits under */
        uint64_t ns;
} LockAfter;

/* Re-read what is dirty, judge, act; *AFTER says what the action leaves for the tracker
 * (LOCK_AFTER_NONE: nothing). */
void lock_refresh(Lock *l, LockAfter *after);

/* The lock's name went away (unlink or rename by PID). Reports and frees the lock. What it
 * means for its session (a stolen lock, a watchdog's release) the caller tells the session:
 * its race first, as a stolen lock's report quotes the events up to the removal. Returns true
 * when the owner released it past its maxHoldMs (its own watchdog let it go). */
bool lock_on_unlinked(Lock *l, pid_t pid);
