/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit test of the decision table, including the safety rules: a holding owner is live at any
 * age; anybody holding it open means hands off; grace applies to leaked and malformed only. */
#include <string.h>

#include "lwtest.h"
#include "verdict.h"

#define MS 1000000ull

static LockJudgement judge(LockFacts f) {
        LockJudgement j;
        verdict_judge(&f, &j);
        return j;
}

static LockFacts base(void) {
        return (LockFacts) {
                .payload_valid = true, .owner_pid = 42, .owner = OWNER_ALIVE,
                .has_payload_starttime = true, .payload_starttime = 100, .owner_starttime = 100,
                .unheld_since_ns = 1000 * MS, .now_ns = 1000 * MS, .grace_ns = 1000 * MS,
        };
}

int main(void) {
        LockFacts f;
        LockJudgement j;

        /* Owner holds it: live, even if dead/recycled flags were wrong (holding wins). */
        f = base();
        f.owner_holds = true;
        f.n_holders = 1;
        CHECK(judge(f).verdict == VERDICT_LIVE, "holding owner not live");
        f.owner_starttime = 7;
        CHECK(judge(f).verdict == VERDICT_LIVE, "holding owner with odd starttime not live");

        /* Held by assumption (its files unreadable): live, and the detail says it is assumed. */
        f = base();
        f.owner_holds = f.owner_holds_assumed = true;
        j = judge(f);
        CHECK(j.verdict == VERDICT_LIVE && strstr(j.detail, "assumed held"), "assumed: %s", j.detail);

        /* Someone else holds it: busy, whatever the owner state. */
        f = base();
        f.n_holders = 1;
        f.some_holder = 9;
        f.owner = OWNER_DEAD;
        CHECK(judge(f).verdict == VERDICT_BUSY, "held by other not busy");
        f.payload_valid = false;
        CHECK(judge(f).verdict == VERDICT_BUSY, "malformed but held not busy");

        /* Dead owner, nobody holding: stale at once, no grace. */
        f = base();
        f.owner = OWNER_DEAD;
        j = judge(f);
        CHECK(j.verdict == VERDICT_STALE && j.reason == STALE_DEAD_PID, "dead not stale");
        CHECK(strstr(j.detail, "42"), "detail lacks pid: %s", j.detail);

        /* Recycled: alive, different starttime, nobody holding: stale at once. */
        f = base();
        f.owner_starttime = 555;
        j = judge(f);
        CHECK(j.verdict == VERDICT_STALE && j.reason == STALE_RECYCLED_PID, "recycled");
        /* Without a starttime in the payload we cannot tell: not recycled. */
        f.has_payload_starttime = false;
        CHECK(judge(f).verdict == VERDICT_PENDING, "no starttime must not mean recycled");

        /* Alive, not holding: pending until the grace, leaked after. */
        f = base();
        j = judge(f);
        CHECK(j.verdict == VERDICT_PENDING && j.deadline_ns == 2000 * MS, "pending deadline");
        f.now_ns = 2000 * MS - 1;
        CHECK(judge(f).verdict == VERDICT_PENDING, "leaked before grace");
        f.now_ns = 2000 * MS;
        j = judge(f);
        CHECK(j.verdict == VERDICT_STALE && j.reason == STALE_LEAKED, "leaked at grace");

        /* Malformed: same grace rule. */
        f = base();
        f.payload_valid = false;
        f.payload_error = "not JSON";
        f.owner = OWNER_UNKNOWN;
        CHECK(judge(f).verdict == VERDICT_PENDING, "malformed before grace");
        f.now_ns += 1000 * MS;
        j = judge(f);
        CHECK(j.verdict == VERDICT_STALE && j.reason == STALE_MALFORMED, "malformed after grace");
        CHECK(strstr(j.detail, "not JSON"), "detail %s", j.detail);

        /* Zero grace: immediate. */
        f = base();
        f.grace_ns = 0;
        CHECK(judge(f).verdict == VERDICT_STALE, "zero grace");

        /* A pid nothing here accounts for (another pid namespace's?): never judged by the
         * number alone. Dead or recycled by the host's view waits for the grace like a leak. */
        f = base();
        f.owner_ns = OWNER_NS_UNVERIFIED;
        f.owner = OWNER_DEAD;
        CHECK(judge(f).verdict == VERDICT_PENDING, "unverified dead judged at once");
        f.now_ns += 1000 * MS;
        j = judge(f);
        CHECK(j.verdict == VERDICT_STALE && j.reason == STALE_DEAD_PID, "unverified dead after the grace");
        CHECK(strstr(j.detail, "namespace"), "detail lacks the namespace: %s", j.detail);
        f = base();
        f.owner_ns = OWNER_NS_UNVERIFIED;
        f.owner_starttime = 555;
        CHECK(judge(f).verdict == VERDICT_PENDING, "unverified recycled judged at once");
        f.now_ns += 1000 * MS;
        CHECK(judge(f).reason == STALE_RECYCLED_PID, "unverified recycled after the grace");
        /* ... but a writer holding it still makes it busy, and the owner holding it live. */
        f = base();
        f.owner_ns = OWNER_NS_UNVERIFIED;
        f.n_holders = 1;
        f.now_ns += 5000 * MS;
        CHECK(judge(f).verdict == VERDICT_BUSY, "unverified but held not busy");
        /* A container's owner (mapped through its pid namespace) that exited: at once. */
        f = base();
        f.owner_ns = OWNER_NS_MAPPED;
        f.owner_pid = 1;
        f.owner_host_pid = 4321;
        f.owner = OWNER_DEAD;
        j = judge(f);
        CHECK(j.verdict == VERDICT_STALE && j.reason == STALE_DEAD_PID && strstr(j.detail, "4321"),
              "mapped dead: %s", j.detail);

        /* Restart recovery keeps a gone gateway's lock when its session runs, or on doubt. */
        RecoveryFacts rf = { .reason = STALE_DEAD_PID, .owner_gateway = TRISTATE_YES, .store_wants = TRISTATE_YES };
        CHECK(verdict_keep_for_recovery(&rf), "gateway's running session not kept");
        rf.store_wants = TRISTATE_UNKNOWN;
        CHECK(verdict_keep_for_recovery(&rf), "unreadable store not kept on doubt");
        rf.store_wants = TRISTATE_NO;
        CHECK(!verdict_keep_for_recovery(&rf), "kept with no running session");
        rf = (RecoveryFacts) { .reason = STALE_DEAD_PID, .owner_gateway = TRISTATE_NO, .store_wants = TRISTATE_YES };
        CHECK(!verdict_keep_for_recovery(&rf), "a non-gateway's lock kept");
        rf.owner_gateway = TRISTATE_UNKNOWN;
        CHECK(verdict_keep_for_recovery(&rf), "an unknown owner's lock not kept on doubt");
        rf = (RecoveryFacts) { .reason = STALE_RECYCLED_PID, .owner_gateway = TRISTATE_YES, .store_wants = TRISTATE_YES };
        CHECK(verdict_keep_for_recovery(&rf), "recycled not kept");
        rf.reason = STALE_MALFORMED;
        CHECK(verdict_keep_for_recovery(&rf), "malformed not kept");
        rf.reason = STALE_LEAKED;
        CHECK(!verdict_keep_for_recovery(&rf), "a live owner's leak kept: no restart comes");

        /* Tables. */
        for (int r = 0; r < _STALE_REASON_MAX; r++)
                CHECK(stale_reason_from_string(stale_reason_to_string(r)) == r, "reason table");
        CHECK(strcmp(stale_reason_to_string(STALE_DEAD_PID), "dead-pid") == 0, "dead-pid name");
        CHECK(strcmp(stale_reason_to_string(STALE_RECYCLED_PID), "recycled-pid") == 0, "recycled name");
        CHECK(stale_reason_to_string(_STALE_REASON_MAX) == NULL, "out of range");

        /* Aging: once per reason, next deadline. */
        int64_t created = 1000000, next;
        unsigned reported = 0;
        CHECK(verdict_aged(created, 300000, reported, created + 1000, &next) < 0, "not aged yet");
        CHECK(next == created + 300000 * 1000LL, "next is hold-exceeded");
        AgedReason a = verdict_aged(created, 300000, reported, created + 300000 * 1000LL, &next);
        CHECK(a == AGED_HOLD_EXCEEDED, "hold exceeded");
        reported |= 1u << a;
        CHECK(next == created + 30 * 60 * 1000000LL, "next is too-old");
        a = verdict_aged(created, 300000, reported, created + 31 * 60 * 1000000LL, &next);
        CHECK(a == AGED_TOO_OLD && next == INT64_MAX, "too old");
        reported |= 1u << a;
        CHECK(verdict_aged(created, 300000, reported, INT64_MAX / 2, &next) < 0 && next == INT64_MAX, "all reported");
        /* Both due at once: one now, the other at once after. */
        a = verdict_aged(created, 1, 0, created + 31 * 60 * 1000000LL, &next);
        CHECK(a == AGED_HOLD_EXCEEDED && next == created + 31 * 60 * 1000000LL, "both due");
        return 0;
}
