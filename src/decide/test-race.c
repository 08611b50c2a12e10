/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit test of the race table (race.c): each race kind fires on its facts, and none of the
 * normal lifecycle steps do: the owner writing, releasing, re-creating; a stale lock being
 * reclaimed; a lock nobody can be named for; the benefit of the doubt for a lock taker. */
#include <string.h>

#include "lwtest.h"
#include "race.h"

#define OWNER 100
#define OTHER 200

static RaceFacts held(SessionOp op, pid_t actor) {
        return (RaceFacts) {
                .op = op, .actor = actor, .lock_present = true, .owner_pid = OWNER,
                .creator_pid = OWNER, .owner_alive = true, .owner_holds = true,
        };
}

int main(void) {
        RaceFacts f;

        /* Writes to the transcript. */
        f = held(SESSION_OP_TRANSCRIPT_WRITE, OWNER);
        CHECK(race_judge(&f) < 0, "owner's own write is a race");
        f.actor = OTHER;
        CHECK(race_judge(&f) == RACE_FOREIGN_WRITE, "other pid's write not foreign");
        f.actor_holds_lock = true;
        CHECK(race_judge(&f) < 0, "a process holding the lock open (e.g. other pid namespace) is not foreign");
        f = held(SESSION_OP_TRANSCRIPT_WRITE, OTHER);
        f.actor_is_locker = true;
        CHECK(race_judge(&f) < 0, "a lock taker in the unsettled events gets the benefit of the doubt");
        f = held(SESSION_OP_TRANSCRIPT_WRITE, OTHER);
        f.owner_pid = 0;
        f.creator_pid = 0;
        CHECK(race_judge(&f) < 0, "a lock with no nameable owner cannot make a write foreign");
        f.creator_pid = OWNER;
        CHECK(race_judge(&f) == RACE_FOREIGN_WRITE, "creator known, payload not yet: foreign");
        f = held(SESSION_OP_TRANSCRIPT_WRITE, OWNER);
        f.lock_present = false;
        CHECK(race_judge(&f) == RACE_UNLOCKED_WRITE, "write without a lock not unlocked-write");
        f.actor = 0;
        CHECK(race_judge(&f) < 0, "no actor, no race");
        f = held(SESSION_OP_TRANSCRIPT_WRITE, OWNER);
        f.lock_present = false;
        f.actor_is_locker = true;
        CHECK(race_judge(&f) < 0, "merged create+delete of its own lock: benefit of the doubt");
        /* A stale lock (owner dead) does not make other writers legitimate. */
        f = held(SESSION_OP_TRANSCRIPT_WRITE, OTHER);
        f.owner_alive = false;
        f.owner_holds = false;
        CHECK(race_judge(&f) == RACE_FOREIGN_WRITE, "write under a stale lock by a non-owner");

        /* The transcript replaced. */
        f = held(SESSION_OP_TRANSCRIPT_REPLACED, OTHER);
        CHECK(race_judge(&f) == RACE_SESSION_REPLACED, "rename over a held session not replaced");
        f.lock_present = false;
        CHECK(race_judge(&f) == RACE_SESSION_REPLACED, "rename over while unlocked not replaced");
        f = held(SESSION_OP_TRANSCRIPT_REPLACED, OWNER);
        CHECK(race_judge(&f) < 0, "the owner rewriting its transcript under its lock is a race");
        f = held(SESSION_OP_TRANSCRIPT_GONE, OTHER);
        CHECK(race_judge(&f) == RACE_SESSION_REPLACED, "unlink under a held lock not replaced");
        f.owner_holds = false;
        CHECK(race_judge(&f) < 0, "unlink under a lock nobody holds is a race");
        f.lock_present = false;
        CHECK(race_judge(&f) < 0, "pruning an unlocked transcript is a race");
        f = held(SESSION_OP_TRANSCRIPT_GONE, OWNER);
        CHECK(race_judge(&f) < 0, "owner removing its own transcript is a race");

        /* The lock's payload written. */
        f = held(SESSION_OP_LOCK_WRITE, OWNER);
        CHECK(race_judge(&f) < 0, "owner writing its payload is a race");
        f.actor = OTHER;
        CHECK(race_judge(&f) == RACE_LOCK_TAMPERED, "other pid rewriting a held lock not tampered");
        f.owner_alive = false;
        CHECK(race_judge(&f) < 0, "rewriting a dead owner's lock is tampering with nothing held");
        f = held(SESSION_OP_LOCK_WRITE, OTHER);
        f.owner_pid = 0;
        f.creator_pid = 0;
        CHECK(race_judge(&f) < 0, "no nameable owner: no tampering");
        f = held(SESSION_OP_LOCK_WRITE, OTHER);
        f.owner_pid = 300; /* payload names another pid (e.g. a namespace pid): creator counts */
        f.creator_pid = OTHER;
        CHECK(race_judge(&f) < 0, "the creator writing its own payload is tampering");

        /* The lock removed. */
        f = held(SESSION_OP_LOCK_GONE, OWNER);
        CHECK(race_judge(&f) < 0, "release by the owner is a race");
        f.actor = OTHER;
        CHECK(race_judge(&f) == RACE_LOCK_STOLEN, "removal by other while held not stolen");
        f.owner_holds = false;
        CHECK(race_judge(&f) < 0, "removal of a lock its owner no longer holds (leaked) is a race");
        f = held(SESSION_OP_LOCK_GONE, OTHER);
        f.owner_alive = false;
        f.owner_holds = false;
        CHECK(race_judge(&f) < 0, "reclaiming a dead owner's lock is a race");
        f = held(SESSION_OP_LOCK_GONE, 0);
        CHECK(race_judge(&f) < 0, "no actor, no race");

        /* A new lock. */
        f = (RaceFacts) { .op = SESSION_OP_LOCK_NEW, .actor = OTHER };
        CHECK(race_judge(&f) < 0, "first lock is a race");
        f.prev_owner_pid = OWNER;
        CHECK(race_judge(&f) < 0, "previous owner let go: not double");
        f.prev_owner_holds_prev = true;
        CHECK(race_judge(&f) == RACE_DOUBLE_HOLDER, "previous owner still holding: double");
        f.actor = OWNER;
        CHECK(race_judge(&f) < 0, "the same process twice is not two holders");

        /* Without the actor (inotify): only what needs no actor is judged. */
        f = held(SESSION_OP_TRANSCRIPT_WRITE, 0);
        f.unattributed = true;
        CHECK(race_judge(&f) < 0, "unattributed: a write under a lock cannot be called foreign");
        f.owner_alive = f.owner_holds = false;
        CHECK(race_judge(&f) < 0, "unattributed: a write under a stale lock cannot be called foreign");
        f.lock_present = false;
        CHECK(race_judge(&f) == RACE_UNLOCKED_WRITE, "unattributed: a write with no lock is unlocked-write");
        f = held(SESSION_OP_TRANSCRIPT_REPLACED, 0);
        f.unattributed = true;
        CHECK(race_judge(&f) == RACE_SESSION_REPLACED, "unattributed: a rename over a held session");
        f.lock_present = false;
        CHECK(race_judge(&f) == RACE_SESSION_REPLACED, "unattributed: a rename over an unlocked session");
        f = held(SESSION_OP_TRANSCRIPT_GONE, 0);
        f.unattributed = true;
        CHECK(race_judge(&f) == RACE_SESSION_REPLACED, "unattributed: a transcript removed under a held lock");
        f.owner_holds = false;
        CHECK(race_judge(&f) < 0, "unattributed: pruning a transcript whose lock nobody holds");
        f = held(SESSION_OP_LOCK_GONE, 0);
        f.unattributed = true;
        CHECK(race_judge(&f) == RACE_LOCK_STOLEN, "unattributed: a held lock removed");
        f.owner_holds = false;
        CHECK(race_judge(&f) < 0, "unattributed: a released (closed) lock removed, maybe by its owner");
        f.owner_holds = true;
        f.owner_alive = false;
        CHECK(race_judge(&f) < 0, "unattributed: a dead owner's lock removed");
        f = held(SESSION_OP_LOCK_NEW, 0);
        f.unattributed = true;
        f.prev_owner_pid = OWNER;
        f.prev_owner_holds_prev = true;
        CHECK(race_judge(&f) == RACE_DOUBLE_HOLDER, "unattributed: a new lock while the old owner holds the old one");
        f.prev_owner_holds_prev = false;
        CHECK(race_judge(&f) < 0, "unattributed: a new lock after the old owner let go");
        f.prev_owner_pid = 0;
        f.prev_owner_holds_prev = true;
        CHECK(race_judge(&f) < 0, "unattributed: a new lock with no previous owner");
        f = held(SESSION_OP_LOCK_WRITE, 0);
        f.unattributed = true;
        CHECK(race_judge(&f) < 0, "unattributed: a lock rewrite cannot be called tampering");

        /* Names. */
        CHECK(strcmp(race_kind_to_string(RACE_LOCK_STOLEN), "race.lock-stolen") == 0, "name");
        CHECK(race_kind_from_string("race.double-holder") == RACE_DOUBLE_HOLDER, "from name");
        CHECK(race_kind_from_string("unlocked-write") == RACE_UNLOCKED_WRITE, "short name");
        CHECK(race_kind_from_string("nope") < 0, "unknown name");
        CHECK(race_kind_to_string(_RACE_KIND_MAX) == NULL, "out of range");
        for (int k = 0; k < _RACE_KIND_MAX; k++)
                CHECK(race_kind_from_string(race_kind_to_string(k)) == k, "round trip %d", k);
        for (int op = 0; op < _SESSION_OP_MAX; op++)
                CHECK(session_op_to_string(op), "op %d has a name", op);
        return 0;
}
