/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* file-id.c: file handles via name_to_handle_at, compared byte for byte. */
#include <fcntl.h>
#include <stddef.h>
#include <string.h>
#include <sys/statfs.h>

#include "file-id.h"
#include "macro.h"

int file_id_at(int dirfd, const char *name, FileId *ret) {
        union {
                struct file_handle fh;
                unsigned char buf[sizeof(struct file_handle) + FILE_ID_MAX_HANDLE];
        } h = { .fh.handle_bytes = FILE_ID_MAX_HANDLE };
        _cleanup_close_ int fd = -1;
        struct statfs sfs;
        int mount_id;

        if (name_to_handle_at(dirfd, name, &h.fh, &mount_id, name[0] ? 0 : AT_EMPTY_PATH) < 0)
                return negative_errno();
        if (name[0]) {
                /* statfs() of the containing folder: same filesystem, no symlink to follow. */
                if (fstatfs(dirfd, &sfs) < 0)
                        return negative_errno();
        } else if (fstatfs(dirfd, &sfs) < 0)
                return negative_errno();

        *ret = (FileId) { .type = h.fh.handle_type, .len = h.fh.handle_bytes };
        memcpy(&ret->fsid, &sfs.f_fsid, sizeof(ret->fsid));
        memcpy(ret->bytes, h.fh.f_handle, h.fh.handle_bytes);
        return 0;
}

FileId *file_id_dup(const FileId *id) {
        FileId *c = malloc(offsetof(FileId, bytes) + id->len);

        if (c)
                memcpy(c, id, offsetof(FileId, bytes) + id->len);
        return c;
}

static uint64_t file_id_hash(const void *key, uint64_t seed) {
        const FileId *id = key;

        return hash_bytes(id, offsetof(FileId, bytes) + id->len, seed);
}

static bool file_id_equal(const void *a, const void *b) {
        const FileId *x = a, *y = b;

        return x->len == y->len && memcmp(x, y, offsetof(FileId, bytes) + x->len) == 0;
}

const HashOps file_id_hash_ops = { file_id_hash, file_id_equal };
