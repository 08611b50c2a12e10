/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit test of proc_fd_access_of, on this process's own fds: how an fd is open, and whether it
 * is open on the file asked about, are facts of one open file. A lock holder's release closes
 * its write fd, re-opens the lock read-only to compare it, unlinks it, and takes the next lock
 * for writing, all on the same fd number; a daemon that read the file of that number and then
 * its flags saw "the old lock, open for writing", a holder that had let go (race.lock-stolen
 * reported on the happy path). Here the seam proc_fd_access_between() swaps the fd between the
 * two reads of fdinfo, as that holder did. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file-id.h"
#include "lwtest.h"
#include "proc.h"

/* What the seam does at its next call: dup2 SWAP_FD over the fd asked about, once. */
static int swap_fd = -1;
static unsigned seam_calls;

void proc_fd_access_between(pid_t pid, int fd) {
        seam_calls++;
        if (swap_fd < 0 || pid != getpid())
                return;
        CHECK(dup2(swap_fd, fd) == fd, "dup2");
        swap_fd = -1;
}

typedef struct File {
        char *path;
        ino_t ino;
        FileId id;
} File;

static File file(const char *dir, const char *name, int dfd, uint64_t fsid) {
        File f = { .path = lw_path(dir, name) };
        struct stat st;

        lw_write_file(f.path, "{}\n", 3);
        CHECK(stat(f.path, &st) == 0, "stat %s", f.path);
        f.ino = st.st_ino;
        CHECK(file_id_at(dfd, name, fsid, &f.id) == 0, "file_id_at %s", name);
        return f;
}

static int open_as(const File *f, int flags) {
        int fd = open(f->path, flags | O_CLOEXEC);

        CHECK(fd >= 0, "open %s: %s", f->path, strerror(errno));
        return fd;
}

int main(void) {
        char *dir = lw_tmpdir();
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        uint64_t fsid = 0;
        pid_t self = getpid();

        CHECK(dfd >= 0 && file_id_fsid(dfd, &fsid) == 0, "folder %s", dir);
        File a = file(dir, "a.jsonl.lock", dfd, fsid), b = file(dir, "b.jsonl.lock", dfd, fsid);

        /* How it is open. */
        int w = open_as(&a, O_WRONLY), rw = open_as(&a, O_RDWR), r = open_as(&a, O_RDONLY);
        CHECK(proc_fd_access_of(self, w, a.ino, &a.id) == PROC_FD_WRITE, "O_WRONLY is a write fd");
        CHECK(proc_fd_access_of(self, rw, a.ino, &a.id) == PROC_FD_WRITE, "O_RDWR is a write fd");
        CHECK(proc_fd_access_of(self, r, a.ino, &a.id) == PROC_FD_READ, "O_RDONLY is a read fd");
        CHECK(proc_fd_access_of(self, w, a.ino, NULL) == PROC_FD_WRITE, "no handle: by inode number");
        CHECK(seam_calls == 4, "the seam is called once per answer: %u", seam_calls);

        /* Open on another file: by its inode number, or by its handle alone. */
        CHECK(proc_fd_access_of(self, w, b.ino, &b.id) == 0, "another file's number");
        CHECK(proc_fd_access_of(self, w, a.ino, &b.id) == 0, "another file's handle");

        /* Gone: unknown, never "open for writing". */
        int gone = open_as(&a, O_WRONLY);
        close(gone);
        CHECK(proc_fd_access_of(self, gone, a.ino, &a.id) < 0, "a closed fd");
        CHECK(proc_fd_access_of(self + 0x3fffff, w, a.ino, &a.id) < 0, "no such process");

        /* The holder's release on one fd number: read-only on the old lock when its file is
         * read, then the next lock open for writing when its flags are. Not a write fd of A. */
        int next = open_as(&b, O_WRONLY);
        swap_fd = next;
        CHECK(proc_fd_access_of(self, r, a.ino, &a.id) == 0, "fd reused for another file between the reads");
        CHECK(swap_fd < 0, "the seam ran");
        close(r);

        /* The same file, re-opened another way on the same number (read-only, then for
         * writing): which of the two was asked about cannot be told, so neither is claimed. */
        r = open_as(&a, O_RDONLY);
        int again = open_as(&a, O_WRONLY);
        swap_fd = again;
        CHECK(proc_fd_access_of(self, r, a.ino, &a.id) == 0, "re-opened for writing between the reads");

        /* Re-opened the same way on the same file: the answer stands (it is true of both). */
        int same = open_as(&a, O_WRONLY);
        swap_fd = same;
        CHECK(proc_fd_access_of(self, w, a.ino, &a.id) == PROC_FD_WRITE, "re-opened alike");
        return 0;
}
