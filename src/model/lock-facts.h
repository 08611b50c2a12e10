/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lock-facts.h: a lock's facts, gathered by one piece of code for every consumer: the daemon
 * (lock.c, which `explain` asks), and `scan`. They differ only in where the history comes
 * from: the daemon follows holders by kernel events and owners by pidfd; scan reads /proc
 * once. Every fact both read from the disk or /proc (the payload, which process here the pid
 * names, whether it lives and since when, who holds the lock) is read here, and the verdict's
 * snapshot is put together here (lock_facts_gather), so the two cannot judge one lock apart.
 * Deciding stays in verdict.c. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "file-id.h"
#include "holder-map.h"
#include "payload.h"
#include "proc.h"
#include "verdict.h"

/* A lock file as read from its folder. */
typedef struct LockRead {
        char *buf;               /* the payload's bytes (NUL-terminated); NULL: too large to
                                  * verify, and then payload says so */
        size_t len;
        struct stat st;          /* of the file read */
        FileId fid;              /* its handle (len 0: the filesystem has none) */
        LockPayload payload;
} LockRead;

/* Reads and parses the lock NAME below DIRFD (FSID: DIRFD's filesystem) without following a
 * symlink and without blocking (payload_read_at). 0; or -EFBIG for a file over the cap, with
 * st, fid and the payload (invalid, saying so) set and buf NULL; or another -errno (-ENOENT:
 * gone), *ret untouched. */
int lock_facts_read(int dirfd, const char *name, uint64_t fsid, LockRead *ret);
void lock_read_done(LockRead *r);

/* Which process here the payload's pid names (proc_resolve_pid): the lock's creator
 * (CREATOR_PID, its pid in its own namespace CREATOR_NS_PID: 0 unknown, -1 it was gone when
 * asked; 0 and 0 when nobody saw the creation), then FILE's writers (may be NULL). */
OwnerNs lock_facts_resolve_owner(const LockPayload *p, pid_t creator_pid, pid_t creator_ns_pid,
                                 const TrackedFile *file, pid_t *ret_host);

/* The owner process as the verdict needs it. */
typedef struct OwnerProbe {
        pid_t pid;               /* here */
        bool exited;             /* no such process, exited, or a zombie */
        bool have_starttime;
        uint64_t starttime;      /* field 22 of /proc/PID/stat */
        bool fds_visible;        /* we may see its open files (proc_fds_visible) */
} OwnerProbe;

/* PID as /proc shows it now. (The daemon's Owner reads the same at its first sight, then
 * learns of the exit from its pidfd.) */
void lock_facts_probe_owner(pid_t pid, OwnerProbe *ret);

/* Where the facts come from. */
typedef struct LockFactsSource {
        const LockPayload *payload;
        OwnerNs owner_ns;          /* how payload->pid was tied to OWNER */
        const OwnerProbe *owner;   /* the process it names here (NULL: none, e.g. invalid
                                    * payload, or the daemon could not watch it) */
        const TrackedFile *file;   /* who holds the lock open for writing (NULL: nobody known) */
        uint64_t unheld_since_ns;  /* monotonic: when the last writer let go */
        uint64_t now_ns;
        uint64_t grace_ns;
} LockFactsSource;

/* The verdict's snapshot of one lock. */
void lock_facts_gather(const LockFactsSource *src, LockFacts *ret);

/* The facts as `scan --json` and `explain --json` print them (the same fields, so that they
 * can be compared). */
json_t *lock_facts_json(const LockFacts *f);
