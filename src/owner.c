/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* owner.c: pidfd per owner. Exit is seen when the pidfd polls readable: the kernel signals it
 * when the process exits (as a zombie already), before anyone reaps it. */
#include <stdlib.h>
#include <sys/syscall.h>

#include "hashmap.h"
#include "lock.h"
#include "macro.h"
#include "manager.h"
#include "owner.h"
#include "time-util.h"

static void owner_mark_exited(Owner *o, uint64_t now_ns) {
        if (o->exited)
                return;
        o->exited = true;
        o->exited_ns = now_ns;
        o->source = sd_event_source_disable_unref(o->source);
        if (o->pidfd >= 0)
                close(o->pidfd);
        o->pidfd = -1;
        /* A new process may get this pid: the table is for live owners only. */
        if (o->in_table) {
                hashmap_remove(o->manager->owners, &o->pid);
                o->in_table = false;
        }
}

/* The owner is gone: so are its holds, whatever close events are still to come. */
static void owner_gone(Owner *o, uint64_t now_ns) {
        Lock *l, *n;

        owner_mark_exited(o, now_ns);
        LIST_FOREACH_SAFE(owner, l, n, o->locks) {
                tracked_file_remove_holder(l->file, o->pid, now_ns);
                lock_mark_dirty(l, now_ns);
        }
}

static int on_pidfd(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Owner *o = userdata;
        uint64_t now_ns;

        (void) s;
        (void) fd;
        (void) revents;
        if (sd_event_now(o->manager->event, CLOCK_MONOTONIC, &now_ns) < 0)
                now_ns = now_mono_ns();
        else
                now_ns *= NSEC_PER_USEC;

        owner_ref(o);
        manager_drain_events(o->manager);
        owner_gone(o, now_ns);
        manager_flush(o->manager);
        owner_unref(o);
        return 0;
}

int owner_get(Manager *m, pid_t pid, Owner **ret) {
        Owner *o = hashmap_get(m->owners, &pid);
        int r;

        if (o) {
                *ret = owner_ref(o);
                return 0;
        }

        o = calloc(1, sizeof(*o));
        if (!o)
                return -ENOMEM;
        o->manager = m;
        o->pid = pid;
        o->n_ref = 1;
        o->pidfd = (int) syscall(SYS_pidfd_open, pid, 0);
        if (o->pidfd < 0 && errno != ENOSYS) {
                if (errno != ESRCH) {
                        r = negative_errno();
                        free(o);
                        return r;
                }
                o->exited = true;
                o->exited_ns = now_mono_ns();
                *ret = o;
                return 0;
        }
        /* Read after pidfd_open: if this pid is still the same process now, the pidfd is for
         * it. If the read fails, the process is already gone. */
        if (proc_starttime(pid, &o->starttime) >= 0)
                o->have_starttime = true;
        proc_comm(pid, o->comm);
        o->fds_visible = proc_fds_visible(pid);

        /* Without pidfds (ENOSYS: valgrind, or a kernel without them) there is no source: the
         * owner is re-checked in /proc at each judgment (owner_refresh); its exit still shows
         * up as the close events of its fds, and the grace timer re-judges after that. */
        if (o->pidfd >= 0) {
                r = sd_event_add_io(m->event, &o->source, o->pidfd, EPOLLIN, on_pidfd, o);
                if (r < 0) {
                        close(o->pidfd);
                        free(o);
                        return r;
                }
                (void) sd_event_source_set_description(o->source, "owner-pidfd");
        }
        r = hashmap_put(m->owners, o);
        if (r < 0) {
                sd_event_source_disable_unref(o->source);
                if (o->pidfd >= 0)
                        close(o->pidfd);
                free(o);
                return r;
        }
        o->in_table = true;
        if (!o->have_starttime)
                owner_mark_exited(o, now_mono_ns());
        *ret = o;
        return 0;
}

void owner_refresh(Owner *o, uint64_t now_ns) {
        uint64_t st;

        /* With a pidfd, its handler tells us, after the events queued before the exit have
         * been read: decisions about those events (was this removal the owner's release?)
         * are made with the owner as it was then. Asking the pidfd here would judge them
         * with a death that came later. */
        if (o->exited || o->pidfd >= 0)
                return;
        if (proc_starttime(o->pid, &st) < 0 || st != o->starttime || !proc_alive(o->pid))
                owner_mark_exited(o, now_ns);
}

Owner *owner_ref(Owner *o) {
        if (o)
                o->n_ref++;
        return o;
}

Owner *owner_unref(Owner *o) {
        if (!o || --o->n_ref > 0)
                return NULL;
        if (o->in_table)
                hashmap_remove(o->manager->owners, &o->pid);
        sd_event_source_disable_unref(o->source);
        if (o->pidfd >= 0)
                close(o->pidfd);
        free(o);
        return NULL;
}
