/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* recovery.h: the application's restart recovery (2026.2 – 2026.7) as lockwarden must leave it
 * whole. At start-up a gateway sweeps each sessions folder's stale locks and resumes every
 * running main session whose lock it removed: a gone gateway's stale lock is that evidence.
 * Reads the folder's sessions.json (bounded, not following a symlink, not blocking on a fifo),
 * keeps what it says until the file changes, and asks verdict_keep_for_recovery; used by the
 * daemon (lock.c) and `scan --fix` alike. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "openclaw.h"
#include "verdict.h"

/* sessions.json larger than this is not parsed (on the event path): kept on doubt. */
#define RECOVERY_STORE_MAX (2u << 20)

/* What one sessions.json said, valid while the file is the same (identity, size, times). */
typedef struct RecoveryCache {
        bool valid;
        dev_t dev;
        ino_t ino;
        off_t size;
        int64_t mtime_ns, ctime_ns;
        int error;               /* 0, or why it could not be read (-EINVAL: not a JSON object) */
        RecoverySet set;
} RecoveryCache;

/* Should the stale lock LOCK_NAME in the sessions folder DIRFD (stale for REASON, its owner a
 * gateway or not, or unknown) stay for the application? True with WHY filled. CACHE (may be
 * NULL) keeps the folder's parsed sessions.json between calls. */
bool recovery_keeps(int dirfd, const char *lock_name, StaleReason reason, Tristate owner_gateway,
                    RecoveryCache *cache, char *why, size_t why_size);
void recovery_cache_done(RecoveryCache *c);
