/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lock-facts.c: one lock's facts from its folder and /proc, for the daemon and scan alike. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "lock-facts.h"
#include "macro.h"

int lock_facts_read(int dirfd, const char *name, uint64_t fsid, LockRead *ret) {
        LockRead r = {};
        int k;

        k = payload_read_at(dirfd, name, fsid, &r.buf, &r.len, &r.st, &r.fid);
        if (k < 0 && k != -EFBIG)
                return k;
        if (k == -EFBIG) {
                /* Too large to be a payload: judged malformed, and never removed (there are no
                 * bytes to compare it with at removal). */
                payload_parse("", 0, &r.payload);
                snprintf(r.payload.error, sizeof(r.payload.error), "payload larger than %d bytes", PAYLOAD_MAX);
        } else
                payload_parse(r.buf, r.len, &r.payload);
        *ret = r;
        return k;
}

void lock_read_done(LockRead *r) {
        free(r->buf);
        r->buf = NULL;
}

OwnerNs lock_facts_resolve_owner(const LockPayload *p, pid_t creator_pid, pid_t creator_ns_pid,
                                 const TrackedFile *file, pid_t *ret_host) {
        pid_t cands[1 + 8], ns[1 + 8];
        size_t n = 0;

        /* A creator gone before its creation was read: its pid in its namespace is past
         * knowing, but a payload naming its pid here names it (its own, in the host's
         * namespace; or, in another namespace, a pid equal to its own: the same dead creator
         * either way, as the protocol has the creator write its own pid). */
        if (creator_pid > 0 && creator_ns_pid < 0 && p->pid == creator_pid) {
                *ret_host = creator_pid;
                return OWNER_NS_HOST;
        }
        if (creator_pid > 0) {
                cands[n] = creator_pid;
                ns[n++] = creator_ns_pid;
        }
        for (unsigned i = 0; file && i < file->n_holders && n < ELEMENTSOF(cands); i++) {
                cands[n] = file->holders[i];
                ns[n++] = 0;
        }
        return proc_resolve_pid(p->pid, cands, ns, n, p->has_starttime, p->starttime, ret_host);
}

void lock_facts_probe_owner(pid_t pid, OwnerProbe *ret) {
        OwnerProbe o = { .pid = pid };
        bool alive = false;

        o.have_starttime = pid > 0 && proc_starttime_alive(pid, &o.starttime, &alive) >= 0;
        o.exited = !o.have_starttime || !alive;
        o.fds_visible = proc_fds_visible(pid);
        *ret = o;
}

void lock_facts_gather(const LockFactsSource *src, LockFacts *ret) {
        const LockPayload *p = src->payload;
        const TrackedFile *file = src->file;
        const OwnerProbe *o = src->owner;
        LockFacts f = {
                .payload_valid = p->valid,
                .payload_error = p->error[0] ? p->error : NULL,
                .owner_pid = p->pid,
                .owner_ns = src->owner_ns,
                .owner_host_pid = o ? o->pid : 0,
                .has_payload_starttime = p->has_starttime,
                .payload_starttime = p->starttime,
                .n_holders = file ? file->n_holders : 0,
                .some_holder = file && file->n_holders > 0 ? file->holders[0] : 0,
                .unheld_since_ns = src->unheld_since_ns,
                .now_ns = src->now_ns,
                .grace_ns = src->grace_ns,
        };

        if (p->valid && o) {
                f.owner = o->exited ? OWNER_DEAD : OWNER_ALIVE;
                f.owner_starttime = o->starttime;
                if (f.owner == OWNER_ALIVE && !o->have_starttime)
                        f.has_payload_starttime = false;
                /* An owner whose fds we may not read (another user's process, seen without
                 * privilege) is taken to hold its lock while it lives and has the payload's start
                 * time: only its exit or a recycled pid makes the lock stale then, never a leak
                 * we cannot see. (The start time decides first: a recycled pid holds nothing.) */
                f.owner_holds = file && tracked_file_has_holder(file, o->pid);
                f.owner_holds_assumed = !f.owner_holds && f.owner == OWNER_ALIVE && !o->fds_visible &&
                                        src->owner_ns != OWNER_NS_UNVERIFIED &&
                                        !(f.has_payload_starttime && f.owner_starttime != f.payload_starttime);
                f.owner_holds = f.owner_holds || f.owner_holds_assumed;
        }
        *ret = f;
}

json_t *lock_facts_json(const LockFacts *f) {
        bool owned = f->payload_valid && f->owner != OWNER_UNKNOWN;

        return json_pack("{s:b, s:o, s:o, s:s?, s:o, s:o, s:b, s:b, s:I}",
                         "payload_valid", f->payload_valid,
                         "owner_pid", f->payload_valid ? json_integer(f->owner_pid) : json_null(),
                         "owner_host_pid", owned ? json_integer(f->owner_host_pid) : json_null(),
                         "owner_ns", f->payload_valid ? owner_ns_to_string(f->owner_ns) : NULL,
                         "owner_alive", owned ? json_boolean(f->owner == OWNER_ALIVE) : json_null(),
                         "owner_starttime", owned && f->owner == OWNER_ALIVE && f->has_payload_starttime
                                 ? json_integer((json_int_t) f->owner_starttime) : json_null(),
                         "owner_holds", f->owner_holds,
                         "owner_holds_assumed", f->owner_holds_assumed,
                         "holders", (json_int_t) f->n_holders);
}
