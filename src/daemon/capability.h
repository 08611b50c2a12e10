/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* capability.h: least privilege (libcap). What lockwarden needs, by phase (ARCHITECTURE.md,
 * "Privileges"; each one is proven needed by tests/test-capabilities):
 *   start-up   CAP_SYS_ADMIN     a fanotify group that names the acting process
 *              CAP_DAC_OVERRIDE  open, mark and read other users' folders and locks
 *              CAP_SYS_PTRACE    read other users' /proc/PID/fd (who holds what)
 *              CAP_SETUID, CAP_SETGID, CAP_CHOWN   --user only: become that user, give it
 *                                the control socket
 *              CAP_SETPCAP       to shrink the bounding set
 *   steady     CAP_DAC_OVERRIDE  guard folders that appear later, read payloads, remove
 *                                stale locks in other users' folders
 *              CAP_SYS_PTRACE    holders, owners' identity, actors' executables
 * After start-up everything else leaves the effective, permitted and bounding sets, the
 * inheritable and ambient sets are emptied, and NO_NEW_PRIVS and !DUMPABLE are set. A daemon
 * that never had a capability (a gateway user's own, on inotify) drops nothing and keeps
 * nothing. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

typedef struct CapsUser {
        uid_t uid;
        gid_t gid;
        char *name;
} CapsUser;

/* Resolves USER (a name or a number) for --user. -ESRCH: no such user. */
int caps_lookup_user(const char *user, CapsUser *ret);
void caps_user_done(CapsUser *u);

/* Enters the steady state: becomes USER when given (keeping the steady capabilities across
 * the change of uid), then keeps only the steady capabilities the process has. On error
 * fills ERR. */
int caps_enter_steady_state(const CapsUser *user, char *err, size_t err_size);

/* A privileged process (one with any capability) that lacks steady capabilities: a JSON
 * array of their names (empty when none is missing, or when the process never had any). */
json_t *caps_missing_steady(void);

/* The capabilities in the effective set now, as names ("cap_dac_override", ...). */
json_t *caps_effective_json(void);
/* Does the process have CAP in its effective set? */
bool caps_have(int cap);
