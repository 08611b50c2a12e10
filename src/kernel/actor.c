/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* actor.c: facts about acting processes, read once and kept with a pidfd (actor.h).
 *
 * A kept entry is checked at use by polling its pidfd (one syscall, no /proc): while the
 * process lives, its facts stand. Once it has exited, the pid is asked for again: if another
 * process has it now, that one's facts are read; if none has, the event was the dead process's
 * own, read late, and the facts kept from when it lived are the right ones (better than "?"). */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "actor.h"
#include "hashmap.h"
#include "macro.h"

static void lru_unlink(ActorCache *c, ActorInfo *a) {
        if (a->lru_prev)
                a->lru_prev->lru_next = a->lru_next;
        else
                c->lru_head = a->lru_next;
        if (a->lru_next)
                a->lru_next->lru_prev = a->lru_prev;
        else
                c->lru_tail = a->lru_prev;
        a->lru_prev = a->lru_next = NULL;
}

static void lru_push(ActorCache *c, ActorInfo *a) {
        a->lru_prev = NULL;
        a->lru_next = c->lru_head;
        if (c->lru_head)
                c->lru_head->lru_prev = a;
        else
                c->lru_tail = a;
        c->lru_head = a;
}

static void facts_clear(ActorInfo *a) {
        free(a->exe);
        free(a->unit);
        a->exe = a->unit = NULL;
}

static void facts_read(ActorCache *c, ActorInfo *a) {
        char buf[PATH_MAX], unit[256];

        facts_clear(a);
        a->have_nspid = false;
        proc_comm(a->pid, a->comm);
        proc_exe(a->pid, buf, sizeof(buf));
        a->exe = strdup(buf);
        if (proc_unit(a->pid, unit, sizeof(unit)) >= 0)
                a->unit = strdup(unit);
        c->n_reads++;
}

static void actor_free(ActorCache *c, ActorInfo *a) {
        lru_unlink(c, a);
        hashmap_remove(c->by_pid, &a->pid);
        if (a->pidfd >= 0)
                close(a->pidfd);
        facts_clear(a);
        free(a);
}

static bool exited(const ActorInfo *a) {
        struct pollfd p = { .fd = a->pidfd, .events = POLLIN };

        return poll(&p, 1, 0) != 0; /* readable (exited), or the pidfd is in error: ask again */
}

int actor_cache_init(ActorCache *c) {
        *c = (ActorCache) {};
        c->by_pid = HASHMAP_NEW(&pid_hash_ops, ActorInfo, pid);
        return c->by_pid ? 0 : -ENOMEM;
}

void actor_cache_done(ActorCache *c) {
        while (c->lru_head)
                actor_free(c, c->lru_head);
        c->by_pid = hashmap_free(c->by_pid);
}

/* A new entry for PID, facts read; NULL if it cannot be kept (no pidfd: it would not know
 * when the process goes). */
static ActorInfo *actor_add(ActorCache *c, pid_t pid) {
        ActorInfo *a;
        int pidfd = (int) syscall(SYS_pidfd_open, pid, 0);

        if (pidfd < 0)
                return NULL;
        a = calloc(1, sizeof(*a));
        if (!a) {
                close(pidfd);
                return NULL;
        }
        *a = (ActorInfo) { .pid = pid, .pidfd = pidfd };
        if (hashmap_put(c->by_pid, a) < 0) {
                close(pidfd);
                free(a);
                return NULL;
        }
        if (hashmap_size(c->by_pid) > ACTOR_CACHE_MAX)
                actor_free(c, c->lru_tail);
        lru_push(c, a);
        /* Read after the pidfd: the facts are of the process the pidfd names, or of none. */
        facts_read(c, a);
        return a;
}

void actor_cache_note(ActorCache *c, pid_t pid) {
        if (pid > 0 && c->by_pid && !hashmap_get(c->by_pid, &pid))
                (void) actor_add(c, pid);
}

int actor_cache_nspid(ActorCache *c, pid_t pid, pid_t *ret) {
        ActorInfo *a = c->by_pid ? hashmap_get(c->by_pid, &pid) : NULL;
        unsigned depth;
        int r;

        /* Kept only while the pidfd says the process lives: a dead one's pid ties nothing. */
        if (!a || exited(a)) {
                c->n_reads++;
                return proc_nspid(pid, ret, &depth);
        }
        if (!a->have_nspid) {
                c->n_reads++;
                r = proc_nspid(pid, &a->nspid, &depth);
                if (r < 0)
                        a->nspid = r;
                a->have_nspid = true;
        }
        if (a->nspid < 0)
                return a->nspid;
        *ret = a->nspid;
        return 0;
}

const ActorInfo *actor_cache_get(ActorCache *c, pid_t pid) {
        static ActorInfo scratch = { .pidfd = -1 };
        ActorInfo *a = c->by_pid ? hashmap_get(c->by_pid, &pid) : NULL;

        if (a && exited(a)) {
                int pidfd = (int) syscall(SYS_pidfd_open, pid, 0);

                if (pidfd < 0) {
                        /* Nobody has the pid: the event was the dead process's own. */
                        lru_unlink(c, a);
                        lru_push(c, a);
                        return a;
                }
                /* Another process has the pid now: its facts. */
                close(a->pidfd);
                a->pidfd = pidfd;
                facts_read(c, a);
        }
        if (!a)
                a = actor_add(c, pid);
        if (a) {
                lru_unlink(c, a);
                lru_push(c, a);
                return a;
        }
        /* Not kept (no pidfds here, or out of memory): read for this one use. */
        scratch.pid = pid;
        facts_read(c, &scratch);
        return &scratch;
}
