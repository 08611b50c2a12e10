/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* recovery.c: is a stale lock the evidence the application's restart recovery reads? */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs-util.h"
#include "macro.h"
#include "openclaw.h"
#include "recovery.h"

bool recovery_keeps(int dirfd, const char *lock_name, StaleReason reason, Tristate owner_gateway,
                    char *why, size_t why_size) {
        RecoveryFacts f = { .reason = reason, .owner_gateway = owner_gateway, .store_wants = TRISTATE_NO };
        _cleanup_free_ char *buf = NULL, *transcript = NULL;
        char key[128] = "", problem[96] = "";
        size_t len, n;
        int r;

        /* Nothing to read when the answer cannot be yes. */
        if (!stale_reason_owner_gone(reason) || owner_gateway == TRISTATE_NO)
                return false;
        transcript = strdup(lock_name);
        if (!transcript)
                return false;
        n = strlen(transcript);
        if (n > 5 && strcmp(transcript + n - 5, ".lock") == 0)
                transcript[n - 5] = '\0'; /* X.jsonl.lock → X.jsonl */
        r = read_file_at(dirfd, "sessions.json", RECOVERY_STORE_MAX, &buf, &len);
        if (r == -ENOENT)
                return false; /* no store: the recovery has nothing to resume here */
        if (r < 0)
                snprintf(problem, sizeof(problem), "%s",
                         r == -EFBIG ? "is larger than 16 MiB" : r == -EAGAIN ? "was being rewritten" :
                         r == -EBADFD ? "is not a regular file" : strerror(-r));
        else {
                r = openclaw_recovery_wants(buf, len, transcript, key, sizeof(key));
                if (r < 0)
                        snprintf(problem, sizeof(problem), "is not a JSON object");
                f.store_wants = r > 0 ? TRISTATE_YES : TRISTATE_NO;
        }
        if (problem[0])
                f.store_wants = TRISTATE_UNKNOWN;
        if (!verdict_keep_for_recovery(&f))
                return false;
        if (f.store_wants == TRISTATE_YES)
                snprintf(why, why_size, "restart-recovery: session %s is running in sessions.json and its %s "
                         "is gone; the application's start-up sweep resumes it from this lock and removes it",
                         key, owner_gateway == TRISTATE_YES ? "gateway" : "owner");
        else
                snprintf(why, why_size, "restart-recovery: sessions.json %s, so whether the application's "
                         "start-up sweep needs this lock is unknown: kept on doubt", problem);
        return true;
}
