/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* file-id.c: file handles via name_to_handle_at, compared byte for byte. */
#include <fcntl.h>
#include <stddef.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include "file-id.h"
#include "macro.h"

int file_id_fsid(int fd, uint64_t *ret) {
        struct statfs sfs;

        if (fstatfs(fd, &sfs) < 0)
                return negative_errno();
        memcpy(ret, &sfs.f_fsid, sizeof(*ret));
        return 0;
}

static int file_id_get(int dirfd, const char *name, int flags, uint64_t fsid, FileId *ret) {
        union {
                struct file_handle fh;
                unsigned char buf[sizeof(struct file_handle) + FILE_ID_MAX_HANDLE];
        } h = { .fh.handle_bytes = FILE_ID_MAX_HANDLE };
        int mount_id;

        if (name_to_handle_at(dirfd, name, &h.fh, &mount_id, flags) < 0) {
                struct stat st;
                int sflags = flags & AT_SYMLINK_FOLLOW ? 0 : flags | AT_SYMLINK_NOFOLLOW;

                /* A filesystem without file handles (overlayfs without nfs_export, say): the
                 * inode number is all the identity there is. fanotify cannot guard it anyway;
                 * inotify can. */
                if (errno != EOPNOTSUPP || fstatat(dirfd, name, &st, sflags) < 0)
                        return negative_errno();
                uint64_t dev = st.st_dev, ino = st.st_ino;

                *ret = (FileId) { .fsid = fsid, .type = FILE_ID_TYPE_INODE, .len = 2 * sizeof(uint64_t) };
                memcpy(ret->bytes, &dev, sizeof(uint64_t));
                memcpy(ret->bytes + sizeof(uint64_t), &ino, sizeof(uint64_t));
                return 0;
        }
        *ret = (FileId) { .fsid = fsid, .type = h.fh.handle_type, .len = h.fh.handle_bytes };
        memcpy(ret->bytes, h.fh.f_handle, h.fh.handle_bytes);
        return 0;
}

int file_id_at(int dirfd, const char *name, uint64_t fsid, FileId *ret) {
        return file_id_get(dirfd, name, name[0] ? 0 : AT_EMPTY_PATH, fsid, ret);
}

int file_id_follow(const char *path, uint64_t fsid, FileId *ret) {
        return file_id_get(AT_FDCWD, path, AT_SYMLINK_FOLLOW, fsid, ret);
}

bool file_id_equal(const FileId *a, const FileId *b) {
        return a->len == b->len && memcmp(a, b, file_id_size(a)) == 0;
}

bool file_same(dev_t a_dev, ino_t a_ino, const FileId *a_fid, dev_t b_dev, ino_t b_ino,
               const FileId *b_fid) {
        if (a_dev != b_dev || a_ino != b_ino)
                return false;
        return !a_fid || !b_fid || file_id_equal(a_fid, b_fid);
}

FileId *file_id_dup(const FileId *id) {
        FileId *c = malloc(file_id_size(id));

        if (c)
                memcpy(c, id, file_id_size(id));
        return c;
}

static uint64_t file_id_hash(const void *key, uint64_t seed) {
        const FileId *id = key;

        return hash_bytes(id, file_id_size(id), seed);
}

static bool file_id_equal_op(const void *a, const void *b) {
        return file_id_equal(a, b);
}

const HashOps file_id_hash_ops = { file_id_hash, file_id_equal_op };
