/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* recovery.c: is a stale lock the evidence the application's restart recovery reads? */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "escape.h"
#include "fs-util.h"
#include "macro.h"
#include "recovery.h"
#include "time-util.h"

void recovery_cache_done(RecoveryCache *c) {
        if (!c)
                return;
        recovery_set_done(&c->set);
        *c = (RecoveryCache) {};
}

static bool same_file_state(const RecoveryCache *c, const struct stat *st) {
        return c->valid && c->dev == st->st_dev && c->ino == st->st_ino && c->size == st->st_size &&
               c->mtime_ns == timespec_ns(&st->st_mtim) && c->ctime_ns == timespec_ns(&st->st_ctim);
}

/* Reads and parses sessions.json into C (its error set when it cannot be read). -ENOENT when
 * there is none. */
static int store_load(int dirfd, RecoveryCache *c) {
        _cleanup_close_ int fd = openat(dirfd, "sessions.json", O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
        _cleanup_free_ char *buf = NULL;
        struct stat st;
        ssize_t n;
        int r;

        if (fd < 0) {
                r = errno == ELOOP ? -EBADFD : negative_errno();
                if (r == -ENOENT)
                        return r;
                recovery_cache_done(c);
                c->error = r;
                return 0;
        }
        if (fstat(fd, &st) < 0) {
                recovery_cache_done(c);
                c->error = negative_errno();
                return 0;
        }
        if (same_file_state(c, &st))
                return 0; /* unchanged: what it said still holds */
        recovery_cache_done(c);
        *c = (RecoveryCache) { .valid = true, .dev = st.st_dev, .ino = st.st_ino, .size = st.st_size,
                               .mtime_ns = timespec_ns(&st.st_mtim), .ctime_ns = timespec_ns(&st.st_ctim) };
        if (!S_ISREG(st.st_mode)) {
                c->error = -EBADFD;
                return 0;
        }
        if ((uint64_t) st.st_size > RECOVERY_STORE_MAX) {
                c->error = -EFBIG;
                return 0;
        }
        buf = malloc((size_t) st.st_size + 2);
        if (!buf) {
                c->valid = false;
                c->error = -ENOMEM;
                return 0;
        }
        /* One byte more than its size tells a file that grew while read: being rewritten. */
        n = read_all_at(fd, buf, (size_t) st.st_size + 1);
        if (n < 0 || n > st.st_size) {
                c->valid = false; /* read again next time */
                c->error = n < 0 ? (int) n : -EAGAIN;
                return 0;
        }
        c->error = recovery_set_parse(buf, (size_t) n, &c->set);
        if (c->error == -ENOMEM)
                c->valid = false;
        return 0;
}

bool recovery_keeps(int dirfd, const char *lock_name, StaleReason reason, Tristate owner_gateway,
                    RecoveryCache *cache, char *why, size_t why_size) {
        RecoveryFacts f = { .reason = reason, .owner_gateway = owner_gateway, .store_wants = TRISTATE_NO };
        RecoveryCache scratch = {}, *c = cache ? cache : &scratch;
        char transcript[256];
        const char *key = NULL;
        size_t n = strlen(lock_name);
        bool keep;

        /* Nothing to read when the answer cannot be yes. */
        if (!stale_reason_owner_gone(reason) || owner_gateway == TRISTATE_NO)
                return false;
        /* X.jsonl.lock → X.jsonl (a lock name longer than a file name allows is no lock). */
        if (n <= 5 || n - 5 >= sizeof(transcript))
                return false;
        memcpy(transcript, lock_name, n - 5);
        transcript[n - 5] = '\0';

        if (store_load(dirfd, c) == -ENOENT) {
                recovery_cache_done(c);
                return false; /* no store: the recovery has nothing to resume here */
        }
        if (c->error)
                f.store_wants = TRISTATE_UNKNOWN;
        else if ((key = recovery_set_find(&c->set, transcript)))
                f.store_wants = TRISTATE_YES;
        keep = verdict_keep_for_recovery(&f);
        if (keep && f.store_wants == TRISTATE_YES) {
                char k[128];

                escape_into(key, k, sizeof(k)); /* the store's key is the user's text */
                snprintf(why, why_size, "restart-recovery: session %s is running in sessions.json and its %s "
                         "is gone; the application's start-up sweep resumes it from this lock and removes it",
                         k, owner_gateway == TRISTATE_YES ? "gateway" : "owner");
        }
        else if (keep)
                snprintf(why, why_size, "restart-recovery: sessions.json %s, so whether the application's "
                         "start-up sweep needs this lock is unknown: kept on doubt",
                         c->error == -EFBIG ? "is larger than 2 MiB" : c->error == -EAGAIN ? "was being rewritten" :
                         c->error == -EBADFD ? "is not a regular file" : c->error == -EINVAL ? "is not a JSON object" :
                         strerror(-c->error));
        if (c == &scratch)
                recovery_cache_done(&scratch);
        return keep;
}
