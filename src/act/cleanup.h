/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cleanup.h: removing a lock that was judged stale, safely, in a folder other users may
 * write. Everything is relative to the folder fd, nothing follows a symlink, the lock is
 * removed only if it is still the exact inode and the exact bytes that were judged, and only
 * while the kernel proves that no process has it open for writing (a read lease held across
 * the removal; a /proc check of that one file where a filesystem refuses leases). */
#pragma once

#include <stdbool.h>

#include <stddef.h>
#include <sys/types.h>

#include "file-id.h"

typedef enum CleanupResult {
        CLEANUP_REMOVED,
        CLEANUP_KEPT,      /* it changed under us; *why says how; nothing was removed */
        CLEANUP_HELD,      /* a process holds it open for writing (ret->writers); kept */
        CLEANUP_DOUBT,     /* nothing proves that nobody holds it (why says what): kept until
                            * its facts change */
        CLEANUP_STRANDED,  /* a new lock took the name during the removal and, when it was to
                            * be put back, another one had taken it again: the first is left
                            * under ret->stranded, to be put back when the name frees */
} CleanupResult;

#define CLEANUP_WRITERS_MAX 8

typedef struct CleanupHeld {
        pid_t writers[CLEANUP_WRITERS_MAX];
        size_t n_writers;       /* how many were found (may exceed the array) */
        char stranded[64];      /* CLEANUP_STRANDED: the hidden name it is left under */
        bool relinked;          /* a new lock was put back by a hard link (see below) */
} CleanupHeld;

/* Puts the lock left under STRANDED (cleanup_remove_lock's CLEANUP_STRANDED) back under
 * NAME, if NAME is free: 1 put back, 2 put back by a hard link (a filesystem without
 * RENAME_NOREPLACE: on some FUSE servers the name is then a new inode to the kernel, so the
 * caller reads the name again), 0 NAME is taken (try again when it frees), -errno. */
int cleanup_put_back(int dirfd, const char *stranded, const char *name);

/* Returns CLEANUP_REMOVED, CLEANUP_KEPT, CLEANUP_HELD, CLEANUP_DOUBT or CLEANUP_STRANDED (why
 * filled), or
 * -errno (why filled) when an operation failed; in every case a lock that is not the judged
 * one, or that any process holds open, is left in place. HELD (may be NULL) gets the writers
 * found. */
int cleanup_remove_lock(int dirfd, const char *name, dev_t dev, ino_t ino, const FileId *fid,
                        const char *payload, size_t payload_len, char *why, size_t why_size,
                        CleanupHeld *held);
