/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* race.h: the decision "is what just happened to a session a takeover race, and which one".
 * Pure, like verdict.h: session.c gathers a snapshot of facts about one kernel event on a
 * session's transcript or lock, this returns the race it is (or none). No syscalls. */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <sys/types.h>

typedef enum RaceKind {
        RACE_LOCK_STOLEN,       /* lock unlinked/renamed away by a non-owner while held */
        RACE_DOUBLE_HOLDER,     /* new lock while the previous owner still holds the old one */
        RACE_UNLOCKED_WRITE,    /* transcript written while no lock existed */
        RACE_FOREIGN_WRITE,     /* transcript written by a pid other than the lock owner */
        RACE_SESSION_REPLACED,  /* transcript renamed over / unlinked behind the lock */
        RACE_LOCK_TAMPERED,     /* held lock's payload rewritten by a non-owner */
        _RACE_KIND_MAX,
        _RACE_KIND_INVALID = -EINVAL,  /* also: "no race" */
} RaceKind;

/* What happened, as seen in one kernel event. */
typedef enum SessionOp {
        SESSION_OP_TRANSCRIPT_WRITE,     /* FAN_MODIFY, or FAN_CLOSE_WRITE that changed it */
        SESSION_OP_TRANSCRIPT_REPLACED,  /* the name now holds another file */
        SESSION_OP_TRANSCRIPT_GONE,      /* the name was unlinked or renamed away */
        SESSION_OP_LOCK_WRITE,           /* the lock file was written */
        SESSION_OP_LOCK_GONE,            /* the lock's name was unlinked, renamed away or over */
        SESSION_OP_LOCK_NEW,             /* a lock file appeared for the session */
        _SESSION_OP_MAX,
        _SESSION_OP_INVALID = -EINVAL,
} SessionOp;

typedef struct RaceFacts {
        SessionOp op;
        pid_t actor;                 /* who did it (0: nobody, e.g. found by a scan) */
        /* The event names no process (inotify): races that need the actor are not judged,
         * those that do not (see ARCHITECTURE.md) are reported without one. */
        bool unattributed;
        /* The session's current lock (for *_GONE and LOCK_WRITE: the lock concerned). */
        bool lock_present;
        pid_t owner_pid;             /* named by its payload; 0 when unknown */
        pid_t creator_pid;           /* created it while we watched; 0 when unknown */
        bool owner_alive;
        bool owner_holds;            /* the owner has that lock inode open right now */
        bool actor_holds_lock;       /* the actor has it open (holder map) */
        /* The actor took a lock for this session and has not been seen releasing it. When
         * lockwarden lags, the kernel merges a process's lock create and delete into one
         * record; its writes in between then cannot be ordered against them and get the
         * benefit of the doubt (see ARCHITECTURE.md, "Races"). */
        bool actor_is_locker;
        /* SESSION_OP_LOCK_NEW: the lock before this one, if it went away while held. */
        pid_t prev_owner_pid;
        bool prev_owner_holds_prev;  /* ... and its owner still has that inode open */
} RaceFacts;

/* Returns the race, or _RACE_KIND_INVALID when this is not one. */
RaceKind race_judge(const RaceFacts *f);

/* Is the actor the lock's owner (payload pid or creator)? Cheap; callers use it to skip
 * gathering the /proc facts that only matter for a non-owner. */
bool race_actor_is_owner(const RaceFacts *f);

const char *race_kind_to_string(RaceKind k);
RaceKind race_kind_from_string(const char *s);
const char *session_op_to_string(SessionOp op);
