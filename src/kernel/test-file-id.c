/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit test of file-id on a real folder: a file's id is the same under every name it has (a
 * hard link, a rename) and through /proc/self/fd even once unlinked, which is how an event on
 * an unlinked lock still names it; a new file under the old name is a different file; a
 * symlink's id is the link's own (file_id_at does not follow it) while file_id_follow does.
 * file_same lets the handle tell apart what a reused inode number would not. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file-id.h"
#include "lwtest.h"

static FileId id_at(int dfd, const char *name, uint64_t fsid) {
        FileId id;
        int r = file_id_at(dfd, name, fsid, &id);

        CHECK(r == 0, "file_id_at(%s) = %d (%s)", name, r, strerror(-r));
        CHECK(id.len > 0 && id.len <= FILE_ID_MAX_HANDLE && id.fsid == fsid, "id of %s: len %u", name, id.len);
        return id;
}

int main(void) {
        char *dir = lw_tmpdir();
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        uint64_t fsid = 0, fsid2 = 0;

        CHECK(dfd >= 0, "open %s", dir);
        CHECK(file_id_fsid(dfd, &fsid) == 0, "file_id_fsid");
        CHECK(file_id_fsid(dfd, &fsid2) == 0 && fsid == fsid2, "fsid stable");
        CHECK(file_id_fsid(-1, &fsid2) == -EBADF, "file_id_fsid(-1)");

        char *a = lw_path(dir, "a.jsonl.lock");
        lw_write_file(a, "x", 1);
        FileId ia = id_at(dfd, "a.jsonl.lock", fsid);
        FileId ia2 = id_at(dfd, "a.jsonl.lock", fsid);
        CHECK(file_id_equal(&ia, &ia2), "same file, same id");

        /* A hard link and a rename are the same file. */
        CHECK(linkat(dfd, "a.jsonl.lock", dfd, "hard", 0) == 0, "link");
        FileId ih = id_at(dfd, "hard", fsid);
        CHECK(file_id_equal(&ia, &ih), "a hard link is the same file");
        CHECK(renameat(dfd, "hard", dfd, "moved") == 0, "rename");
        FileId im = id_at(dfd, "moved", fsid);
        CHECK(file_id_equal(&ia, &im), "a renamed file is the same file");

        /* The folder itself, by "". */
        FileId idir = id_at(dfd, "", fsid);
        CHECK(!file_id_equal(&idir, &ia), "folder is not the file");

        /* The open file through /proc/self/fd, also after its names are gone. */
        int fd = open(a, O_RDONLY | O_CLOEXEC);
        CHECK(fd >= 0, "open a");
        char proc[64];
        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
        FileId ifd;
        CHECK(file_id_follow(proc, fsid, &ifd) == 0 && file_id_equal(&ia, &ifd), "through /proc/self/fd");
        CHECK(unlinkat(dfd, "a.jsonl.lock", 0) == 0 && unlinkat(dfd, "moved", 0) == 0, "unlink");
        CHECK(file_id_follow(proc, fsid, &ifd) == 0 && file_id_equal(&ia, &ifd), "unlinked, still itself");

        /* A new file under the old name is not the old file, even if it got its inode number. */
        lw_write_file(a, "y", 1);
        FileId inew = id_at(dfd, "a.jsonl.lock", fsid);
        CHECK(!file_id_equal(&ia, &inew), "a replaced file of the same name is another file");
        struct stat st_old, st_new;
        CHECK(fstat(fd, &st_old) == 0 && fstatat(dfd, "a.jsonl.lock", &st_new, 0) == 0, "stat");
        /* Pretend the inode number was reused: only the handles can tell. */
        CHECK(!file_same(st_new.st_dev, st_new.st_ino, &ia, st_new.st_dev, st_new.st_ino, &inew),
              "file_same: same inode number, other handle: not the same");
        CHECK(file_same(st_old.st_dev, st_old.st_ino, &ia, st_old.st_dev, st_old.st_ino, &ifd), "file_same");
        CHECK(file_same(st_old.st_dev, st_old.st_ino, NULL, st_old.st_dev, st_old.st_ino, &ia),
              "file_same without a handle goes by the inode");
        CHECK(!file_same(st_old.st_dev, st_old.st_ino, &ia, st_old.st_dev, st_old.st_ino + 1, &ia),
              "file_same: other inode");
        CHECK(!file_same(st_old.st_dev, st_old.st_ino, &ia, st_old.st_dev + 1, st_old.st_ino, &ia),
              "file_same: other device");
        close(fd);

        /* A symlink: file_id_at names the link, file_id_follow what it points to. */
        CHECK(symlinkat("a.jsonl.lock", dfd, "link") == 0, "symlink");
        FileId il = id_at(dfd, "link", fsid);
        CHECK(!file_id_equal(&il, &inew), "file_id_at does not follow a symlink");
        char *lp = lw_path(dir, "link");
        FileId ilf;
        CHECK(file_id_follow(lp, fsid, &ilf) == 0 && file_id_equal(&ilf, &inew), "file_id_follow follows");

        /* Errors: nothing there, nothing written. */
        FileId untouched = { .len = 3 };
        CHECK(file_id_at(dfd, "missing", fsid, &untouched) == -ENOENT && untouched.len == 3, "missing");
        char *mp = lw_path(dir, "missing");
        CHECK(file_id_follow(mp, fsid, &untouched) == -ENOENT && untouched.len == 3, "missing (follow)");
        CHECK(symlinkat("missing", dfd, "dangling") == 0, "dangling symlink");
        char *dp = lw_path(dir, "dangling");
        CHECK(file_id_at(dfd, "dangling", fsid, &untouched) == 0, "a dangling link has an id of its own");
        CHECK(file_id_follow(dp, fsid, &untouched) == -ENOENT, "following a dangling link");

        /* Equality covers the fsid, the type and every handle byte, no more than len. */
        FileId x = ia;
        x.fsid ^= 1;
        CHECK(!file_id_equal(&ia, &x), "other fsid");
        x = ia;
        x.type ^= 1;
        CHECK(!file_id_equal(&ia, &x), "other handle type");
        x = ia;
        x.bytes[x.len - 1] ^= 1;
        CHECK(!file_id_equal(&ia, &x), "other last handle byte");
        x = ia;
        x.len--;
        CHECK(!file_id_equal(&ia, &x) && !file_id_equal(&x, &ia), "shorter handle");
        x = ia;
        if (x.len < FILE_ID_MAX_HANDLE)
                x.bytes[x.len] ^= 0xff;
        CHECK(file_id_equal(&ia, &x), "bytes past len do not count");

        /* dup and the hash ops agree with equality. */
        FileId *d = file_id_dup(&x);
        CHECK(d && file_id_equal(d, &ia), "dup");
        CHECK(file_id_hash_ops.hash(d, 42) == file_id_hash_ops.hash(&ia, 42), "equal ids hash equal");
        CHECK(file_id_hash_ops.equal(d, &ia) && !file_id_hash_ops.equal(d, &inew), "hash ops equal");
        free(d);

        free(a);
        free(lp);
        free(mp);
        free(dp);
        close(dfd);
        return 0;
}
