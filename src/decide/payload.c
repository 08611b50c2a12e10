/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* payload.c: bounded read and strict parse of lock payloads with jansson. */
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <string.h>

#include "fs-util.h"
#include "macro.h"
#include "payload.h"
#include "time-util.h"

static void set_error(LockPayload *p, const char *what) {
        snprintf(p->error, sizeof(p->error), "%s", what);
}

void payload_parse(const char *buf, size_t len, LockPayload *ret) {
        json_error_t err;
        json_t *root, *v;
        LockPayload p = {};

        if (len == 0) {
                set_error(&p, "empty payload");
                goto out;
        }
        if (len > PAYLOAD_MAX) {
                set_error(&p, "payload larger than 65536 bytes");
                goto out;
        }
        /* jansson bounds nesting depth itself, so deeply nested input is an error, not a crash. */
        root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &err);
        if (!root) {
                snprintf(p.error, sizeof(p.error), "not JSON: %.60s (line %d)", err.text, err.line);
                goto out;
        }
        if (!json_is_object(root)) {
                set_error(&p, "payload is not a JSON object");
                json_decref(root);
                goto out;
        }

        v = json_object_get(root, "pid");
        if (!v)
                set_error(&p, "no pid");
        else if (!json_is_integer(v))
                set_error(&p, "pid is not an integer");
        else if (json_integer_value(v) <= 0 || json_integer_value(v) > INT_MAX)
                set_error(&p, "pid out of range");
        else {
                p.pid = (pid_t) json_integer_value(v);
                p.valid = true;
        }

        v = json_object_get(root, "starttime");
        if (json_is_integer(v) && json_integer_value(v) >= 0) {
                p.has_starttime = true;
                p.starttime = (uint64_t) json_integer_value(v);
        }

        v = json_object_get(root, "createdAt");
        if (json_is_string(v) && parse_iso_ts(json_string_value(v), &p.created_at_us) >= 0)
                p.has_created_at = true;
        else if (p.valid)
                set_error(&p, v ? "invalid createdAt" : "no createdAt");

        v = json_object_get(root, "maxHoldMs");
        if (json_is_integer(v) && json_integer_value(v) > 0) {
                p.has_max_hold = true;
                p.max_hold_ms = (uint64_t) json_integer_value(v);
        }

        json_decref(root);
out:
        *ret = p;
}

int payload_read_at(int dirfd, const char *name, uint64_t fsid, char **ret_buf, size_t *ret_len,
                    struct stat *ret_st, FileId *ret_fid) {
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *buf = NULL;
        struct stat st;
        size_t n;
        ssize_t k;

        fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return negative_errno();
        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (!S_ISREG(st.st_mode))
                return -EBADFD;
        /* Identity is reported for a too-large file too: the caller must know which file it is. */
        if (ret_st)
                *ret_st = st;
        if (ret_fid && file_id_at(fd, "", fsid, ret_fid) < 0)
                *ret_fid = (FileId) {};
        if (st.st_size > PAYLOAD_MAX)
                return -EFBIG;

        /* Read into one scratch buffer (the daemon has one thread) and keep only what the
         * payload needs: a lock holds ~100 bytes, not the 64 KiB cap. One byte over the cap
         * tells us it is too large. */
        static char scratch[PAYLOAD_MAX + 1];
        k = read_all_at(fd, scratch, sizeof(scratch));
        if (k < 0)
                return (int) k;
        n = (size_t) k;
        if (n > PAYLOAD_MAX) {
                if (ret_st)
                        ret_st->st_size = (off_t) n;
                return -EFBIG;
        }
        buf = malloc(n + 1);
        if (!buf)
                return -ENOMEM;
        memcpy(buf, scratch, n);
        buf[n] = '\0';

        *ret_buf = TAKE_PTR(buf);
        *ret_len = n;
        return 0;
}
