/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* verdict.h: the decision "is this lock stale, and why". Pure: it takes a snapshot of facts
 * gathered by the observers (holder map, owner pidfds, payload) and returns a verdict. No
 * syscalls, no clock reads, so it is unit-tested exhaustively. */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "macro.h"
#include "proc.h"

typedef enum Verdict {
        VERDICT_LIVE,     /* the owner named by the payload holds the lock open */
        VERDICT_BUSY,     /* someone else holds it open: wait for their close, never remove */
        VERDICT_PENDING,  /* nobody holds it; wait until the grace ends (deadline_ns) */
        VERDICT_STALE,    /* remove it (or report it, in report mode) */
        _VERDICT_MAX,
        _VERDICT_INVALID = -EINVAL,
} Verdict;

typedef enum StaleReason {
        STALE_DEAD_PID,
        STALE_RECYCLED_PID,
        STALE_LEAKED,
        STALE_MALFORMED,
        _STALE_REASON_MAX,
        _STALE_REASON_INVALID = -EINVAL,
} StaleReason;

typedef enum OwnerState {
        OWNER_UNKNOWN,    /* no valid payload yet */
        OWNER_ALIVE,
        OWNER_DEAD,       /* no such process, or it exited (zombie) */
        _OWNER_STATE_MAX,
        _OWNER_STATE_INVALID = -EINVAL,
} OwnerState;

typedef enum AgedReason {
        AGED_HOLD_EXCEEDED,  /* older than the holder's own maxHoldMs */
        AGED_TOO_OLD,        /* older than 30 minutes */
        _AGED_REASON_MAX,
        _AGED_REASON_INVALID = -EINVAL,
} AgedReason;

#define AGED_TOO_OLD_MS (30 * 60 * 1000)
#define DEFAULT_MAX_HOLD_MS 300000

typedef struct LockFacts {
        bool payload_valid;
        const char *payload_error;      /* why not valid, for the detail */
        pid_t owner_pid;                /* from the payload */
        OwnerNs owner_ns;               /* how it was tied to a process here */
        pid_t owner_host_pid;           /* ... that process's pid here */
        OwnerState owner;
        bool has_payload_starttime;
        uint64_t payload_starttime;
        uint64_t owner_starttime;       /* of the live process with that pid, if alive */
        bool owner_holds;               /* the owner has this file open for writing */
        bool owner_holds_assumed;       /* ... taken so: its open files cannot be read (another
                                         * user's process, seen without privilege), and it is
                                         * alive with the payload's start time */
        unsigned n_holders;             /* processes with it open for writing, owner included */
        pid_t some_holder;              /* one of them, for the detail */
        uint64_t unheld_since_ns;       /* monotonic; when n_holders last became 0 */
        uint64_t now_ns;
        uint64_t grace_ns;
} LockFacts;

typedef struct LockJudgement {
        Verdict verdict;
        StaleReason reason;             /* when VERDICT_STALE */
        uint64_t deadline_ns;           /* when VERDICT_PENDING (no detail: verdict_why() says it) */
        const char *rule;               /* which question of verdict.c's order answered (a
                                         * static name: "owner-holds", "other-holder", ...) */
        char detail[256];
} LockJudgement;

void verdict_judge(const LockFacts *f, LockJudgement *ret);

/* The application's restart recovery (2026.2 – 2026.7): at start-up a gateway sweeps the stale
 * locks of each sessions folder and resumes every running main session whose lock was among
 * them. A stale lock of a dead gateway is that evidence: removing it first makes the
 * application lose the interrupted turn. */
typedef struct RecoveryFacts {
        StaleReason reason;
        Tristate owner_gateway;  /* the owner was a gateway by the application's argv rule
                                  * (UNKNOWN: it was gone before lockwarden could read it) */
        Tristate store_wants;    /* sessions.json holds that session as running (UNKNOWN:
                                  * unreadable, malformed, too large, being rewritten) */
} RecoveryFacts;

/* Keep the stale lock for the application's own recovery? Only a lock whose owner is gone
 * (dead-pid, recycled-pid, or a malformed one) and may have been a gateway, in a folder whose
 * sessions.json names its session as running or cannot be read (on doubt, kept). */
bool verdict_keep_for_recovery(const RecoveryFacts *f);
/* The owner is gone (the reasons the recovery reads). */
bool stale_reason_owner_gone(StaleReason r);
const char *owner_ns_to_string(OwnerNs n);

/* Information-only aging of a live lock. Given its creation time, the holder's maxHoldMs
 * and the reasons already reported (bit mask of 1 << AgedReason), returns the first reason
 * that has passed and is not yet reported (or _AGED_REASON_INVALID), and the realtime at
 * which the next unreported one will pass (or INT64_MAX) in *ret_next_us. */
AgedReason verdict_aged(int64_t created_at_us, uint64_t max_hold_ms, unsigned reported,
                        int64_t now_us, int64_t *ret_next_us);

/* J's why in words: its detail, or for a pending lock how long the grace still runs at NOW_NS
 * (said only when asked: every release passes through pending). BUF: at least 128 bytes. */
const char *verdict_why(const LockJudgement *j, uint64_t now_ns, char *buf, size_t size);
const char *verdict_to_string(Verdict v);
const char *stale_reason_to_string(StaleReason r);
StaleReason stale_reason_from_string(const char *s);
const char *aged_reason_to_string(AgedReason r);
