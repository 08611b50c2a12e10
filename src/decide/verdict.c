/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* verdict.c: facts in, verdict out.
 *
 * The order of the questions is the safety argument:
 *   1. Does the owner named in the payload hold the lock open for writing? Then it is live,
 *      however old. (Holding means a write descriptor: readers, such as contenders polling
 *      the payload, never hold a lock.)
 *   2. Does anybody else hold it open for writing? Then leave it alone until they close it: a
 *      forked child that inherited the descriptor, a process it was passed to.
 *   3. Nobody holds it. A dead or recycled owner makes it stale at once; an alive owner that
 *      let go, a payload without a usable pid, or a pid that no process here accounts for
 *      (another pid namespace's?) makes it stale after the grace (which covers the normal
 *      close → unlink gap of a release).
 * Whether a stale lock is then kept for the application's own restart recovery is a second
 * question (verdict_keep_for_recovery), asked only of a stale lock. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "macro.h"
#include "verdict.h"

static const char *const verdict_table[_VERDICT_MAX] = {
        [VERDICT_LIVE] = "live",
        [VERDICT_BUSY] = "busy",
        [VERDICT_PENDING] = "pending",
        [VERDICT_STALE] = "stale",
};

static const char *const stale_reason_table[_STALE_REASON_MAX] = {
        [STALE_DEAD_PID] = "dead-pid",
        [STALE_RECYCLED_PID] = "recycled-pid",
        [STALE_LEAKED] = "leaked",
        [STALE_MALFORMED] = "malformed",
};

static const char *const owner_ns_table[_OWNER_NS_MAX] = {
        [OWNER_NS_HOST] = "host",
        [OWNER_NS_MAPPED] = "container",
        [OWNER_NS_STARTTIME] = "host-by-starttime",
        [OWNER_NS_UNVERIFIED] = "unverified",
};

const char *owner_ns_to_string(OwnerNs n) {
        return n >= 0 && n < _OWNER_NS_MAX ? owner_ns_table[n] : NULL;
}

static const char *const aged_reason_table[_AGED_REASON_MAX] = {
        [AGED_HOLD_EXCEEDED] = "hold-exceeded",
        [AGED_TOO_OLD] = "too-old",
};

const char *verdict_to_string(Verdict v) {
        return v >= 0 && v < _VERDICT_MAX ? verdict_table[v] : NULL;
}

const char *stale_reason_to_string(StaleReason r) {
        return r >= 0 && r < _STALE_REASON_MAX ? stale_reason_table[r] : NULL;
}

StaleReason stale_reason_from_string(const char *s) {
        for (size_t i = 0; i < ELEMENTSOF(stale_reason_table); i++)
                if (s && strcmp(s, stale_reason_table[i]) == 0)
                        return (StaleReason) i;
        return _STALE_REASON_INVALID;
}

const char *aged_reason_to_string(AgedReason r) {
        return r >= 0 && r < _AGED_REASON_MAX ? aged_reason_table[r] : NULL;
}

static void stale(LockJudgement *j, StaleReason reason) {
        j->verdict = VERDICT_STALE;
        j->reason = reason;
}

void verdict_judge(const LockFacts *f, LockJudgement *ret) {
        LockJudgement j = { .reason = _STALE_REASON_INVALID };
        uint64_t deadline = f->unheld_since_ns + f->grace_ns;

        if (f->payload_valid && f->owner_holds) {
                j.verdict = VERDICT_LIVE;
                j.rule = f->owner_holds_assumed ? "owner-holds-assumed" : "owner-holds";
                if (f->owner_holds_assumed)
                        snprintf(j.detail, sizeof(j.detail), "pid %d is alive with the payload's start time; its "
                                 "open files are unreadable: assumed held", (int) f->owner_pid);
                else
                        snprintf(j.detail, sizeof(j.detail), "pid %d holds it open for writing", (int) f->owner_pid);
        } else if (f->n_holders > 0) {
                j.verdict = VERDICT_BUSY;
                j.rule = "other-holder";
                snprintf(j.detail, sizeof(j.detail), "held open for writing by pid %d%s", (int) f->some_holder,
                         f->payload_valid ? ", not the owner" : "");
        } else if (!f->payload_valid) {
                j.rule = "unusable-payload";
                if (f->now_ns >= deadline) {
                        stale(&j, STALE_MALFORMED);
                        snprintf(j.detail, sizeof(j.detail), "%s; nobody has held it open for %llu ms",
                                 f->payload_error ? f->payload_error : "unusable payload",
                                 (unsigned long long) ((f->now_ns - f->unheld_since_ns) / 1000000));
                } else {
                        j.verdict = VERDICT_PENDING;
                        j.deadline_ns = deadline;
                }
        } else if (f->owner_ns == OWNER_NS_UNVERIFIED) {
                j.rule = "unverified-pid";
                /* No process that created or holds it has that pid in any pid namespace, and
                 * the process with that number here is not the writer: the number may be
                 * another namespace's. Never judged by it alone: nobody holds the lock for
                 * writing, so it is stale once the grace has passed, under the reason the
                 * host's view gives. */
                if (f->now_ns >= deadline) {
                        bool alive = f->owner == OWNER_ALIVE;
                        stale(&j, !alive ? STALE_DEAD_PID : f->has_payload_starttime ? STALE_RECYCLED_PID : STALE_LEAKED);
                        snprintf(j.detail, sizeof(j.detail),
                                 "pid %d is not a process that created or holds it here (another pid "
                                 "namespace?)%s; nobody has held it open for writing for %llu ms",
                                 (int) f->owner_pid, !alive ? ", and no such pid here" : "",
                                 (unsigned long long) ((f->now_ns - f->unheld_since_ns) / 1000000));
                } else {
                        j.verdict = VERDICT_PENDING;
                        j.deadline_ns = deadline;
                }
        } else if (f->owner == OWNER_DEAD) {
                j.rule = "owner-dead";
                stale(&j, STALE_DEAD_PID);
                if (f->owner_ns == OWNER_NS_MAPPED)
                        snprintf(j.detail, sizeof(j.detail), "owner pid %d (pid %d here, in a container's pid namespace) exited",
                                 (int) f->owner_pid, (int) f->owner_host_pid);
                else
                        snprintf(j.detail, sizeof(j.detail), "owner pid %d exited", (int) f->owner_pid);
        } else if (f->owner == OWNER_ALIVE && f->has_payload_starttime &&
                   f->owner_starttime != f->payload_starttime) {
                j.rule = "owner-recycled";
                stale(&j, STALE_RECYCLED_PID);
                snprintf(j.detail, sizeof(j.detail),
                         "pid %d is alive but started at tick %llu, the payload says %llu",
                         (int) f->owner_pid, (unsigned long long) f->owner_starttime,
                         (unsigned long long) f->payload_starttime);
        } else if (f->now_ns >= deadline) {
                j.rule = "owner-let-go";
                stale(&j, STALE_LEAKED);
                snprintf(j.detail, sizeof(j.detail),
                         "owner pid %d is alive but nobody has held the lock open for writing for %llu ms",
                         (int) f->owner_pid,
                         (unsigned long long) ((f->now_ns - f->unheld_since_ns) / 1000000));
        } else {
                j.rule = "owner-let-go";
                j.verdict = VERDICT_PENDING;
                j.deadline_ns = deadline;
        }
        *ret = j;
}

const char *verdict_why(const LockJudgement *j, uint64_t now_ns, char *buf, size_t size) {
        if (j->verdict != VERDICT_PENDING)
                return j->detail;
        snprintf(buf, size, "nobody holds it open for writing: stale in %llu ms unless someone takes it "
                 "(leak grace)", (unsigned long long) (j->deadline_ns > now_ns ? (j->deadline_ns - now_ns + 999999) / 1000000 : 0));
        return buf;
}

bool stale_reason_owner_gone(StaleReason r) {
        return r == STALE_DEAD_PID || r == STALE_RECYCLED_PID || r == STALE_MALFORMED;
}

bool verdict_keep_for_recovery(const RecoveryFacts *f) {
        return stale_reason_owner_gone(f->reason) && f->owner_gateway != TRISTATE_NO &&
               f->store_wants != TRISTATE_NO;
}

AgedReason verdict_aged(int64_t created_at_us, uint64_t max_hold_ms, unsigned reported,
                        int64_t now_us, int64_t *ret_next_us) {
        int64_t at[_AGED_REASON_MAX] = {
                [AGED_HOLD_EXCEEDED] = created_at_us + (int64_t) (max_hold_ms ? max_hold_ms : DEFAULT_MAX_HOLD_MS) * 1000,
                [AGED_TOO_OLD] = created_at_us + (int64_t) AGED_TOO_OLD_MS * 1000,
        };
        AgedReason due = _AGED_REASON_INVALID;
        int64_t next = INT64_MAX;

        for (int r = 0; r < _AGED_REASON_MAX; r++) {
                if (reported & (1u << r))
                        continue;
                if (at[r] <= now_us) {
                        if (due < 0)
                                due = (AgedReason) r;
                } else if (at[r] < next)
                        next = at[r];
        }
        /* A due reason that is not returned now is returned by the next call, at once. */
        if (due >= 0) {
                for (int r = due + 1; r < _AGED_REASON_MAX; r++)
                        if (!(reported & (1u << r)) && at[r] <= now_us)
                                next = now_us;
        }
        *ret_next_us = next;
        return due;
}
