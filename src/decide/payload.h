/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* payload.h: the JSON a lock holder writes into its lock file (PROTOCOL.md, "Acquire").
 * Reading is bounded and never follows links; parsing is pure and takes untrusted bytes. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "file-id.h"

#define PAYLOAD_MAX 65536

typedef struct LockPayload {
        bool valid;              /* has a usable pid; everything else is optional */
        pid_t pid;
        bool has_starttime;
        uint64_t starttime;      /* clock ticks since boot, field 22 of /proc/PID/stat */
        bool has_created_at;
        int64_t created_at_us;   /* realtime */
        bool has_max_hold;
        uint64_t max_hold_ms;
        char error[96];          /* why it is not valid, or a note on an ignored field */
} LockPayload;

/* Parses untrusted bytes. Always fills *ret; never fails: an unusable payload is a payload
 * with valid=false and the reason in error. */
void payload_parse(const char *buf, size_t len, LockPayload *ret);

/* Reads the lock NAME relative to DIRFD without following a symlink and without blocking on a
 * fifo. Returns 0 with a malloc'd buffer (NUL-terminated, *ret_len bytes) and the file's stat,
 * -ELOOP for a symlink, -EBADFD for anything but a regular file, -EFBIG when the
 * file is larger than PAYLOAD_MAX, or another -errno. *ret_fid (if not NULL) is the handle of
 * the file that was read (FSID: that of DIRFD's filesystem); *ret_st and *ret_fid are also set with -EFBIG (or len 0 if the filesystem has none). */
int payload_read_at(int dirfd, const char *name, uint64_t fsid, char **ret_buf, size_t *ret_len,
                    struct stat *ret_st, FileId *ret_fid);
