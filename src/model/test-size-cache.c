/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit test of the size cache, on real files: a transcript's size is read through the
 * descriptor kept for it (one open per file, then none; a rename does not matter); a name that
 * holds another file now is never read for it (-ESTALE), nor is anything but a regular file;
 * at most SIZE_CACHE_MAX descriptors, the least recently used one given up first (its file's
 * slot cleared, the descriptor closed); a file forgotten gives its descriptor back. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lwtest.h"
#include "size-cache.h"

/* How many descriptors this process has open. */
static int open_fds(void) {
        DIR *d = opendir("/proc/self/fd");
        int n = -1; /* the one opendir uses */

        CHECK(d, "/proc/self/fd");
        while (readdir(d))
                n++;
        closedir(d);
        return n - 2; /* . and .. */
}

typedef struct File {
        char name[32];
        struct stat st;
        uint16_t slot;
} File;

static void make(const char *dir, File *f, const char *name, const char *data) {
        char *p = lw_path(dir, name);

        snprintf(f->name, sizeof(f->name), "%s", name);
        lw_write_file(p, data, strlen(data));
        CHECK(stat(p, &f->st) == 0, "stat %s", p);
        f->slot = 0;
        free(p);
}

static int size_of(SizeCache *c, int dfd, File *f, int64_t *ret) {
        struct statx sx;
        int r = size_cache_stat(c, &f->slot, f->st.st_dev, f->st.st_ino, NULL, dfd, f->name, &sx);

        if (r >= 0)
                *ret = (int64_t) sx.stx_size;
        return r;
}

int main(void) {
        char *dir = lw_tmpdir();
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), base;
        static File many[SIZE_CACHE_MAX + 1];
        SizeCache c;
        File a;
        int64_t size;

        CHECK(dfd >= 0, "open %s", dir);
        size_cache_init(&c);
        base = open_fds();

        /* One open, then the kept descriptor. */
        make(dir, &a, "a.jsonl", "one\n");
        CHECK(size_of(&c, dfd, &a, &size) == 0 && size == 4, "size %lld", (long long) size);
        CHECK(a.slot != 0 && c.n == 1 && c.n_opens == 1, "kept: slot %u, n %u, opens %lu", a.slot, c.n, c.n_opens);
        char *pa = lw_path(dir, "a.jsonl");
        int fd = open(pa, O_WRONLY | O_APPEND | O_CLOEXEC);
        CHECK(fd >= 0 && write(fd, "two\n", 4) == 4, "append");
        close(fd);
        CHECK(size_of(&c, dfd, &a, &size) == 0 && size == 8 && c.n_opens == 1, "grown, no open: %lld",
              (long long) size);

        /* Renamed: the descriptor is the inode's. */
        char *pb = lw_path(dir, "b.jsonl");
        CHECK(rename(pa, pb) == 0, "rename");
        CHECK(size_of(&c, dfd, &a, &size) == 0 && size == 8 && c.n_opens == 1, "after a rename");

        /* Forgotten: the descriptor goes. */
        size_cache_forget(&c, &a.slot);
        CHECK(a.slot == 0 && c.n == 0 && open_fds() == base, "forgotten: slot %u, n %u", a.slot, c.n);

        /* Without a slot, by name: the name holds another file now. */
        File other;
        make(dir, &other, "a.jsonl", "another\n");
        CHECK(size_of(&c, dfd, &a, &size) == -ESTALE, "another file under the name was read");
        CHECK(a.slot == 0 && c.n == 0 && open_fds() == base, "nothing kept for it");
        File gone = { .name = "gone.jsonl", .st = a.st };
        CHECK(size_of(&c, dfd, &gone, &size) == -ENOENT, "a name that is gone");
        CHECK(mkdirat(dfd, "d.jsonl", 0755) == 0, "mkdir");
        File d = { .name = "d.jsonl" };
        CHECK(fstatat(dfd, "d.jsonl", &d.st, 0) == 0, "stat d");
        CHECK(size_of(&c, dfd, &d, &size) < 0 && d.slot == 0, "a folder is no transcript");
        CHECK(open_fds() == base, "descriptors left behind");

        /* Full: the least recently used gives way. */
        for (int i = 0; i < SIZE_CACHE_MAX; i++) {
                char name[32];

                snprintf(name, sizeof(name), "m%03d.jsonl", i);
                make(dir, &many[i], name, "x\n");
                CHECK(size_of(&c, dfd, &many[i], &size) == 0, "%s", name);
        }
        CHECK(c.n == SIZE_CACHE_MAX && open_fds() == base + SIZE_CACHE_MAX, "full: %u", c.n);
        CHECK(size_of(&c, dfd, &many[0], &size) == 0, "m000 used again: now the most recent");
        make(dir, &many[SIZE_CACHE_MAX], "last.jsonl", "x\n");
        CHECK(size_of(&c, dfd, &many[SIZE_CACHE_MAX], &size) == 0, "one more");
        CHECK(c.n == SIZE_CACHE_MAX && open_fds() == base + SIZE_CACHE_MAX, "still at most %d", SIZE_CACHE_MAX);
        CHECK(many[0].slot != 0, "the one used again lost its descriptor");
        CHECK(many[1].slot == 0, "the least recently used one kept its descriptor");
        unsigned long opens = c.n_opens;
        CHECK(size_of(&c, dfd, &many[SIZE_CACHE_MAX], &size) == 0 && c.n_opens == opens, "the newest is kept");
        CHECK(size_of(&c, dfd, &many[1], &size) == 0 && c.n_opens == opens + 1, "the one given up is opened again");

        size_cache_done(&c);
        CHECK(c.n == 0 && open_fds() == base, "done: descriptors left: %d", open_fds() - base);
        for (int i = 0; i <= SIZE_CACHE_MAX; i++)
                CHECK(many[i].slot == 0, "slot of %s not cleared", many[i].name);
        free(pa);
        free(pb);
        return 0;
}
