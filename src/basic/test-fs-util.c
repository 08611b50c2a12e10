/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit test of fs-util on real files: read_file_at reads a regular file whole and refuses,
 * each with its own error, what must not be read as a lock payload (a symlink, which it must
 * not follow; a fifo, on which it must not block; a folder; a file over the cap), writing
 * nothing on failure; path_absolute and path_is_under go by components, so that /a/bc is not
 * under /a/b. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs-util.h"
#include "lwtest.h"

static void abs_eq(const char *in, const char *want) {
        char *out = path_absolute(in);

        CHECK(out && strcmp(out, want) == 0, "path_absolute(%s) = %s, want %s", in, out, want);
        free(out);
}

static void read_fails(int dirfd, const char *name, size_t max, int want) {
        char *buf = (char *) 0x1;
        size_t len = 77;
        int r = read_file_at(dirfd, name, max, &buf, &len);

        CHECK(r == want, "read_file_at(%s) = %d (%s), want %d", name, r, strerror(-r), want);
        CHECK(buf == (char *) 0x1 && len == 77, "read_file_at(%s) wrote its outputs on failure", name);
}

int main(void) {
        char *dir = lw_tmpdir();
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        CHECK(dfd >= 0, "open %s", dir);

        /* path_absolute: ".", repeated and trailing slashes go; ".." stays. */
        abs_eq("/", "/");
        abs_eq("//", "/");
        abs_eq("/a//b/", "/a/b");
        abs_eq("/a/./b/.", "/a/b");
        abs_eq("/a/../b", "/a/../b");
        abs_eq("/.hidden/..x", "/.hidden/..x");
        CHECK(chdir(dir) == 0, "chdir");
        {
                char *want = lw_path(dir, "rel/x");
                abs_eq("./rel//x/", want);
                free(want);
                abs_eq(".", dir);
        }

        /* path_is_under: by components. */
        CHECK(path_is_under("/a/b", "/a/b"), "itself");
        CHECK(path_is_under("/a/b/c", "/a/b"), "inside");
        CHECK(!path_is_under("/a/bc", "/a/b"), "/a/bc is not under /a/b");
        CHECK(!path_is_under("/a", "/a/b"), "a parent is not under its child");
        CHECK(path_is_under("/anything", "/"), "everything is under /");

        /* read_file_at / read_file_fd on a regular file. */
        char *p = lw_path(dir, "x.jsonl.lock");
        lw_write_file(p, "{\"pid\":1}", 9);
        char *buf = NULL;
        size_t len = 0;
        CHECK(read_file_at(dfd, "x.jsonl.lock", 9, &buf, &len) == 0, "read at the cap");
        CHECK(len == 9 && memcmp(buf, "{\"pid\":1}", 9) == 0 && buf[9] == '\0', "content %s", buf);
        free(buf);
        read_fails(dfd, "x.jsonl.lock", 8, -EFBIG);

        char *e = lw_path(dir, "empty");
        lw_write_file(e, "", 0);
        CHECK(read_file_at(dfd, "empty", 0, &buf, &len) == 0 && len == 0 && buf[0] == '\0', "empty");
        free(buf);

        /* What is not a regular file, or not there. */
        CHECK(symlinkat("x.jsonl.lock", dfd, "link.jsonl.lock") == 0, "symlink");
        read_fails(dfd, "link.jsonl.lock", 4096, -EBADFD);
        CHECK(mkfifoat(dfd, "fifo", 0600) == 0, "mkfifo");
        read_fails(dfd, "fifo", 4096, -EBADFD);          /* returns: did not block in open */
        CHECK(mkdirat(dfd, "sub", 0700) == 0, "mkdir");
        read_fails(dfd, "sub", 4096, -EBADFD);
        read_fails(dfd, "missing", 4096, -ENOENT);

        /* read_file_fd reads from offset 0 whatever the fd's offset. */
        int fd = open(p, O_RDONLY | O_CLOEXEC);
        CHECK(fd >= 0 && lseek(fd, 5, SEEK_SET) == 5, "open, seek");
        CHECK(read_file_fd(fd, 100, &buf, &len) == 0 && len == 9 && buf[0] == '{', "from offset 0");
        free(buf);
        char small[4];
        CHECK(read_all_at(fd, small, sizeof(small)) == 4 && memcmp(small, "{\"pi", 4) == 0,
              "read_all_at stops at max");
        close(fd);
        CHECK(read_all_at(-1, small, sizeof(small)) == -EBADF, "read_all_at on a bad fd");

        /* opendir_at: lists the folder, and leaves DFD usable (its own offset untouched). */
        for (int round = 0; round < 2; round++) {
                DIR *d = opendir_at(dfd);
                CHECK(d, "opendir_at: %s", strerror(errno));
                int seen = 0;
                struct dirent *de;
                while ((de = readdir(d)))
                        seen += strcmp(de->d_name, "x.jsonl.lock") == 0 || strcmp(de->d_name, "fifo") == 0;
                closedir(d);
                CHECK(seen == 2, "round %d saw %d of 2", round, seen);
        }
        CHECK(fcntl(dfd, F_GETFD) >= 0, "dfd still open");
        errno = 0;
        CHECK(!opendir_at(-1) && errno == EBADF, "opendir_at(-1): errno %d", errno);

        free(p);
        free(e);
        close(dfd);
        CHECK(chdir("/") == 0, "chdir /");
        return 0;
}
