/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* actor.h: what a process that acts on guarded files is (comm, exe, systemd unit), read from
 * /proc once, at the first kernel event that names it, and kept with its pidfd while it lives.
 * A race report then costs no /proc read between the kernel's event and the report: the
 * facts are the process's as it was first seen. (A process that execs another program after
 * that is still named by the first: nothing tells of an exec.) */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "proc.h"

/* At most this many processes are kept (each holds a pidfd); the least recently used goes. */
#define ACTOR_CACHE_MAX 256

typedef struct ActorInfo ActorInfo;
struct ActorInfo {
        pid_t pid;
        int pidfd;                /* -1: none (no pidfds here): read again at each use */
        char comm[COMM_MAX];
        char *exe;                /* "?" if unreadable */
        char *unit;               /* NULL: none */
        bool have_nspid;          /* nspid read (actor_cache_nspid) */
        pid_t nspid;              /* its pid in its own pid namespace, or -errno */
        ActorInfo *lru_prev, *lru_next;
};

typedef struct ActorCache {
        struct Hashmap *by_pid;
        ActorInfo *lru_head, *lru_tail; /* most recently used first (as many as by_pid holds) */
        unsigned long n_reads;    /* /proc reads of facts and nspids (monitor.dump, the tests) */
} ActorCache;

int actor_cache_init(ActorCache *c);
void actor_cache_done(ActorCache *c);
/* A kernel event named PID: read its facts now if they are not kept yet. */
void actor_cache_note(ActorCache *c, pid_t pid);
/* PID's facts: kept ones while the process lives, else read now. Never NULL for pid > 0; the
 * pointer is valid until the next call into the cache. */
const ActorInfo *actor_cache_get(ActorCache *c, pid_t pid);
/* PID's pid in its own pid namespace (proc_nspid), read once per live process: 0, or -ESRCH
 * if it has exited (then its pid ties nothing), or another -errno. */
int actor_cache_nspid(ActorCache *c, pid_t pid, pid_t *ret);
