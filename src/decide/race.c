/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* race.c: takeover races, decided from facts. The table in ARCHITECTURE.md ("Races") is this
 * file in words; test-race.c checks every row. */
#include <string.h>

#include "macro.h"
#include "race.h"

static const char *const race_kind_table[_RACE_KIND_MAX] = {
        [RACE_LOCK_STOLEN]      = "race.lock-stolen",
        [RACE_DOUBLE_HOLDER]    = "race.double-holder",
        [RACE_UNLOCKED_WRITE]   = "race.unlocked-write",
        [RACE_FOREIGN_WRITE]    = "race.foreign-write",
        [RACE_SESSION_REPLACED] = "race.session-replaced",
        [RACE_LOCK_TAMPERED]    = "race.lock-tampered",
};

static const char *const session_op_table[_SESSION_OP_MAX] = {
        [SESSION_OP_TRANSCRIPT_WRITE]    = "transcript-write",
        [SESSION_OP_TRANSCRIPT_REPLACED] = "transcript-replaced",
        [SESSION_OP_TRANSCRIPT_GONE]     = "transcript-gone",
        [SESSION_OP_LOCK_WRITE]          = "lock-write",
        [SESSION_OP_LOCK_GONE]           = "lock-gone",
        [SESSION_OP_LOCK_NEW]            = "lock-new",
};

const char *race_kind_to_string(RaceKind k) {
        return k >= 0 && k < _RACE_KIND_MAX ? race_kind_table[k] : NULL;
}

RaceKind race_kind_from_string(const char *s) {
        for (size_t i = 0; s && i < ELEMENTSOF(race_kind_table); i++)
                if (strcmp(s, race_kind_table[i]) == 0 ||
                    strcmp(s, race_kind_table[i] + strlen("race.")) == 0)
                        return (RaceKind) i;
        return _RACE_KIND_INVALID;
}

const char *session_op_to_string(SessionOp op) {
        return op >= 0 && op < _SESSION_OP_MAX ? session_op_table[op] : NULL;
}

bool race_actor_is_owner(const RaceFacts *f) {
        return f->actor > 0 && (f->actor == f->owner_pid || f->actor == f->creator_pid);
}

/* The lock is held: its owner is alive and has it open. */
static bool lock_held(const RaceFacts *f) {
        return f->lock_present && f->owner_alive && f->owner_holds;
}

/* Without the actor only what needs no actor is judged: a write while no lock existed, a
 * transcript replaced, a lock removed or re-created while its owner still holds the old one
 * open for writing (an owner releasing closes first). Whether a writer or a lock's rewriter
 * is its owner cannot be told: foreign writes and tampering are not judged. */
static RaceKind judge_unattributed(const RaceFacts *f) {
        switch (f->op) {
        case SESSION_OP_TRANSCRIPT_WRITE:
                return f->lock_present ? _RACE_KIND_INVALID : RACE_UNLOCKED_WRITE;
        case SESSION_OP_TRANSCRIPT_REPLACED:
                return RACE_SESSION_REPLACED;
        case SESSION_OP_TRANSCRIPT_GONE:
                return lock_held(f) ? RACE_SESSION_REPLACED : _RACE_KIND_INVALID;
        case SESSION_OP_LOCK_GONE:
                return lock_held(f) ? RACE_LOCK_STOLEN : _RACE_KIND_INVALID;
        case SESSION_OP_LOCK_NEW:
                return f->prev_owner_pid > 0 && f->prev_owner_holds_prev ? RACE_DOUBLE_HOLDER
                                                                          : _RACE_KIND_INVALID;
        default:
                return _RACE_KIND_INVALID;
        }
}

RaceKind race_judge(const RaceFacts *f) {
        if (f->unattributed)
                return judge_unattributed(f);
        /* Nobody to blame (a scan found it) or a process that holds the session lock itself:
         * never a race. */
        if (f->actor <= 0)
                return _RACE_KIND_INVALID;

        switch (f->op) {
        case SESSION_OP_TRANSCRIPT_WRITE:
                if (f->actor_is_locker)
                        return _RACE_KIND_INVALID;
                if (!f->lock_present)
                        return RACE_UNLOCKED_WRITE;
                if (race_actor_is_owner(f) || f->actor_holds_lock)
                        return _RACE_KIND_INVALID;
                /* A lock nobody can be named for (unreadable payload, found at start-up): we
                 * cannot say the writer is not its owner. */
                if (f->owner_pid <= 0 && f->creator_pid <= 0)
                        return _RACE_KIND_INVALID;
                return RACE_FOREIGN_WRITE;

        case SESSION_OP_TRANSCRIPT_REPLACED:
                /* A rename over the transcript voids any fingerprint, lock or not: the
                 * EmbeddedAttemptSessionTakeoverError case when it happens while the lock is
                 * released. Only the lock's own holder may do it under its lock. */
                if (f->actor_is_locker || (f->lock_present && (race_actor_is_owner(f) || f->actor_holds_lock)))
                        return _RACE_KIND_INVALID;
                return RACE_SESSION_REPLACED;

        case SESSION_OP_TRANSCRIPT_GONE:
                /* Removing an old transcript while nobody holds its lock is housekeeping
                 * (pruning); doing it under someone else's held lock is a takeover. */
                if (f->actor_is_locker || race_actor_is_owner(f) || f->actor_holds_lock)
                        return _RACE_KIND_INVALID;
                return lock_held(f) ? RACE_SESSION_REPLACED : _RACE_KIND_INVALID;

        case SESSION_OP_LOCK_WRITE:
                if (race_actor_is_owner(f) || (f->owner_pid <= 0 && f->creator_pid <= 0))
                        return _RACE_KIND_INVALID;
                return lock_held(f) ? RACE_LOCK_TAMPERED : _RACE_KIND_INVALID;

        case SESSION_OP_LOCK_GONE:
                if (race_actor_is_owner(f))
                        return _RACE_KIND_INVALID;
                /* A dead or recycled owner's lock is stale: reclaiming it is the protocol. */
                return lock_held(f) ? RACE_LOCK_STOLEN : _RACE_KIND_INVALID;

        case SESSION_OP_LOCK_NEW:
                if (f->prev_owner_pid > 0 && f->prev_owner_pid != f->actor && f->prev_owner_holds_prev)
                        return RACE_DOUBLE_HOLDER;
                return _RACE_KIND_INVALID;

        default:
                return _RACE_KIND_INVALID;
        }
}
