/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* owner.h: the processes named as owners in lock payloads. One pidfd per live owner pid,
 * shared by all its locks; the pidfd turning readable is the exit signal (no polling). */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "hashmap.h"
#include "list.h"
#include "macro.h"
#include "proc.h"

typedef struct Lock Lock;

/* The live owners, by pid, and the loop their pidfds are sources on. */
typedef struct OwnerTable {
        Hashmap *by_pid;                 /* pid → Owner, live owners only */
        sd_event *event;
        sd_event_io_handler_t on_exit;   /* the daemon's handler of a readable pidfd (userdata:
                                          * the Owner): it drains, calls owner_gone(), flushes */
        void *userdata;                  /* the daemon's, for that handler */
} OwnerTable;

typedef struct Owner {
        OwnerTable *table;
        pid_t pid;
        int pidfd;
        sd_event_source *source;
        bool exited;              /* no such process, exited, or zombie */
        uint64_t exited_ns;       /* when we learnt it (monotonic) */
        bool have_starttime;
        uint64_t starttime;
        char comm[COMM_MAX];
        bool fds_visible;         /* we may read its fd table (without privilege: our own) */
        Tristate gateway;         /* a gateway by the application's argv rule, read while alive */
        bool release_tried;       /* its package.json was looked for (lock.c) */
        unsigned n_ref;
        Lock *locks;              /* locks whose payload names this owner */
        bool in_table;
} Owner;

/* Returns the live Owner for PID, creating it (and its pidfd) if needed. A pid with no process
 * gives an Owner that has exited. */
int owner_get(OwnerTable *t, pid_t pid, Owner **ret);
/* Without a pidfd (not available), re-check the owner in /proc. No-op otherwise. */
void owner_refresh(Owner *o, uint64_t now_ns);
/* The OpenClaw version the owner runs: the package.json ("name": "openclaw") above the script
 * its argv runs, looked up in its own mount namespace. 0 and RET, or -errno. */
int owner_read_version(Owner *o, char *ret, size_t size);
/* The same for any process (scan has no Owner). -ENOENT when its argv runs no OpenClaw entry
 * script or none is found. */
int owner_version_of_pid(pid_t pid, char *ret, size_t size);
/* The owner exited: out of the table (a new process may get its pid), its pidfd closed. What
 * that means for its locks is lock_owner_gone()'s (lock.h): the locks know their owner, the
 * owner knows them only as a list. */
void owner_mark_exited(Owner *o, uint64_t now_ns);
Owner *owner_ref(Owner *o);
Owner *owner_unref(Owner *o);
