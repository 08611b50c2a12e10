/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* model.h: the model's context: what the tree, the tracker, the locks and the sessions know
 * (the guarded folders, the holder map, the live owners, the locks, the sessions and their
 * windows, the events of a batch waiting for /proc) and the few things of the daemon they use,
 * given as plain values and pointers that the manager sets (its loop, its event source, its
 * reporter, its options, the handlers of the model's own timers). Embedded in the Manager
 * (Manager.model); nothing here knows the Manager. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/fanotify.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "actor.h"
#include "file-id.h"
#include "hashmap.h"
#include "holder-map.h"
#include "owner.h"
#include "report.h"
#include "settings.h"
#include "source.h"

typedef struct Lock Lock;
typedef struct Node Node;
typedef struct Root Root;
typedef struct Session Session;
typedef struct Burst Burst;

/* A lock that was gone (or replaced) before lockwarden read its creation: it is never tracked,
 * but who created it and who removed it are still in the queue, so a steal of it can still be
 * told (tracker.c). */
typedef struct UnseenLock {
        Node *folder;
        char name[256];
        FileId fid;
        pid_t creator;
        pid_t remover;           /* 0: its removal not read yet */
        uint64_t drain_gen;      /* the model's, when its creation was read */
        bool released_first;     /* the creator's close came before the removal, in order */
        bool closed_unordered;   /* a close of the creator's, of unknown order, came before it */
} UnseenLock;

/* A lock a removal moved aside and could not put back, its name taken again meanwhile
 * (cleanup.h, CLEANUP_STRANDED): put back the moment its name frees (tracker.c). */
typedef struct StrandedLock {
        Node *folder;
        char name[256];
        char hidden[64];
} StrandedLock;

/* One process's open fds, as one walk of /proc/PID/fd listed them (tracker.c). */
typedef struct OpenFd {
        dev_t dev;
        ino_t ino;
        int fd;
} OpenFd;

typedef struct FdList {
        OpenFd *v;
        size_t n, alloc;
} FdList;

typedef struct Confirm {
        TrackedFile *file;
        pid_t pid;
        uint64_t ns;
        bool wrote;              /* a close of a write descriptor (see holder_map_confirm_with) */
        bool order_unknown;      /* see close_order_unknown() */
} Confirm;

/* A close of a lock's write descriptor merged by the kernel into the same process's record of
 * its open or writes sits where that first event was: it may have come after records queued
 * behind it. The protocol's release re-reads the lock after the close (a read-only open and
 * close, merged into the same record): with that in the record the close came before
 * anything that followed the re-read's open, i.e. before the name went. Without it, the
 * order is unknown. */
static inline bool close_order_unknown(uint64_t mask) {
        return (mask & FAN_CLOSE_WRITE) && (mask & (FAN_OPEN | FAN_MODIFY)) && !(mask & FAN_CLOSE_NOWRITE);
}

typedef struct Model {
        /* The daemon's, set by the manager: the model reads them, never owns them. */
        const RunOptions *opts;       /* the effective options (a reload changes them in place) */
        sd_event *event;              /* the loop the model's timers are sources on */
        Source *source;               /* fanotify or inotify */
        Reporter *reporter;
        /* The handlers of the model's own sources (manager.c): the loop is driven from the top.
         * Each drains the queue, has the model take up what woke it, and flushes. */
        sd_event_time_handler_t on_lock_deadline;  /* a lock's grace (userdata: Lock) */
        sd_event_time_handler_t on_race_deadline;  /* windows and bursts (userdata: below) */
        void *userdata;               /* the daemon's, for on_race_deadline */
        pid_t self_pid;
        bool started;                 /* start-up done: what is found now is news */
        bool adopting;                /* folders added while running (a reload) are read: their
                                       * locks were there before, not acquired now (lock.c) */
        bool discovering;             /* roots added now are discovery's (discovery.c) */
        bool lost_events;             /* queue overflow: resync when it is drained */
        uint64_t drain_gen;           /* counts the times the queue was read empty */
        uint64_t batch_ns;            /* when the current read of the queue returned */
        uint64_t busy_since_ns;       /* when the loop last woke up with nothing left to do before */

        uint64_t *remote_warned;      /* fsids of remote filesystems warned about */
        size_t n_remote_warned;

        Root **roots;
        size_t n_roots;
        Hashmap *nodes_by_fid;        /* FileId → Node (head of its same_dir list) */
        Node *graveyard;
        size_t n_guarded;

        HolderMap holders;
        OwnerTable owners;            /* pid → Owner, live owners only (owner.h) */
        ActorCache actors;            /* pid → comm, exe, unit of processes seen acting */
        Lock *locks;
        size_t n_locks;
        Lock *dirty_locks;

        Session *sessions;            /* every session of every folder */
        size_t n_sessions;
        Session *sessions_unsettled;  /* with lock takers not yet settled (session.h) */
        Session *sessions_size_pending; /* whose window's actor wrote since its size was read */
        Session *sessions_gc;         /* that may have nothing left to watch */
        Session *windows, *windows_tail; /* open coalescing windows, by deadline (session.c) */
        Burst *bursts, *bursts_tail;  /* reports of one actor in one folder being folded */
        Hashmap *bursts_by_key;       /* (folder, actor) → Burst */
        sd_event_source *race_timer;  /* one timer for every window and burst deadline */
        uint64_t timer_usec;          /* when it is armed for (0: off) */
        uint64_t n_session_visits;    /* sessions and bursts visited by settles and timers */

        Confirm *confirms;
        size_t n_confirms, n_confirms_alloc;
        Confirm *lazy;                /* transcript closes, confirmed when their holders matter */
        size_t n_lazy, n_lazy_alloc;
        bool lazy_unnamed;            /* ... and a file with some lost its name */
        FdList confirm_fds;           /* scratch for confirming them */
        HolderScan *scans;            /* inotify: locks opened or closed in this batch */
        size_t n_scans, n_scans_alloc;
        TrackedFile **orphans;
        size_t n_orphans, n_orphans_alloc;
        UnseenLock *unseen;
        size_t n_unseen, n_unseen_alloc;
        StrandedLock *stranded;
        size_t n_stranded, n_stranded_alloc;

        bool present_failed;          /* a name could not be looked at (out of descriptors):
                                       * said once (tracker.c) */
        uint64_t n_stale, n_cleaned, n_races;
} Model;

/* Did PID close a write descriptor of F earlier in this batch (waiting for its /proc
 * confirmation at the end of the batch)? In event order such a holder may no longer have held
 * F then. ORDERED: a close at its place in the queue. UNORDERED: only a close whose order is
 * unknown (close_order_unknown()): whether it came first nobody can tell. An open or a write
 * waiting for its confirmation ends no hold, nor does the close of a read descriptor. */
typedef enum PendingClose {
        PENDING_NONE,
        PENDING_UNORDERED,
        PENDING_ORDERED,
} PendingClose;

static inline PendingClose model_pending_close(const Model *m, const TrackedFile *f, pid_t pid) {
        PendingClose r = PENDING_NONE;

        for (size_t i = 0; i < m->n_confirms; i++)
                if (m->confirms[i].file == f && m->confirms[i].pid == pid && m->confirms[i].wrote)
                        r = m->confirms[i].order_unknown && r != PENDING_ORDERED ? PENDING_UNORDERED : PENDING_ORDERED;
        return r;
}

/* How long the loop had been busy without a pause at the moment NOW (an evidence's time): how
 * far behind its inputs (the kernel's queue, pidfds, timers) the daemon may have been when
 * it took that evidence up. 0 when it was waiting for events. */
static inline uint64_t model_lag_ns(const Model *m, uint64_t now_ns) {
        return now_ns > m->busy_since_ns ? now_ns - m->busy_since_ns : 0;
}
