/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* recovery.h: the application's restart recovery (2026.2 – 2026.7) as lockwarden must leave it
 * whole. At start-up a gateway sweeps each sessions folder's stale locks and resumes every
 * running main session whose lock it removed: a gone gateway's stale lock is that evidence.
 * Reads the folder's sessions.json (bounded, not following a symlink) and asks
 * verdict_keep_for_recovery; used by the daemon (lock.c) and `scan --fix` alike. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "verdict.h"

/* sessions.json larger than this is not parsed: kept on doubt. */
#define RECOVERY_STORE_MAX (16u << 20)

/* Should the stale lock LOCK_NAME in the sessions folder DIRFD (stale for REASON, its owner a
 * gateway or not, or unknown) stay for the application? True with WHY filled. */
bool recovery_keeps(int dirfd, const char *lock_name, StaleReason reason, Tristate owner_gateway,
                    char *why, size_t why_size);
