/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit test of chase on a real folder: a configured path is opened component by component,
 * a symlink followed only when it lies in a folder root alone can write (owned by root, no
 * group or other write), else -EPERM naming the symlink; a file on the way is -ENOTDIR, a
 * missing component -ENOENT, a symlink loop -ELOOP; ".." goes up from where a link led. Run as
 * root for the safe cases (lw_tmpdir is root's, 0700 then); unprivileged, every folder of ours
 * is unsafe, which is checked too. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chase.h"
#include "lwtest.h"

/* Does FD name the folder PATH? */
static bool same_dir(int fd, const char *path) {
        struct stat a, b;

        return fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

static void chase_ok(const char *path, const char *want) {
        char *unsafe = NULL;
        int fd = chase_dir(path, &unsafe);

        CHECK(fd >= 0, "chase_dir(%s) = %d (%s), unsafe %s", path, fd, strerror(-fd), unsafe);
        CHECK(same_dir(fd, want), "chase_dir(%s) is not %s", path, want);
        CHECK(fcntl(fd, F_GETFD) & FD_CLOEXEC, "chase_dir(%s) not O_CLOEXEC", path);
        close(fd);
}

static void chase_fails(const char *path, int want, const char *want_unsafe) {
        char *unsafe = NULL;
        int r = chase_dir(path, &unsafe);

        CHECK(r == want, "chase_dir(%s) = %d (%s), want %d", path, r, strerror(-r), want);
        CHECK(want_unsafe ? unsafe && strcmp(unsafe, want_unsafe) == 0 : !unsafe,
              "chase_dir(%s): unsafe %s, want %s", path, unsafe, want_unsafe);
        if (want == -EPERM) {
                char buf[512];
                chase_error(r, unsafe, buf, sizeof(buf));
                CHECK(strstr(buf, want_unsafe) && strstr(buf, "not followed"), "report: %s", buf);
        }
        free(unsafe);
}

int main(void) {
        bool root = geteuid() == 0;
        char *dir = lw_tmpdir(), *p, *q;
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        CHECK(dfd >= 0, "open");
        CHECK(mkdirat(dfd, "real", 0755) == 0 && mkdirat(dfd, "real/sub", 0755) == 0, "mkdir");
        CHECK(mkdirat(dfd, "open", 0755) == 0 && chmod((p = lw_path(dir, "open")), 01777) == 0, "mkdir open");
        free(p);
        CHECK(symlinkat("real", dfd, "link") == 0, "symlink");
        CHECK(symlinkat("../real", dfd, "open/link") == 0, "symlink in open");
        CHECK(symlinkat("loop", dfd, "loop") == 0, "loop");
        lw_write_file((p = lw_path(dir, "file")), "", 0);
        free(p);

        /* Plain folders, "." and "//", relative paths. */
        char *real = lw_path(dir, "real"), *sub = lw_path(dir, "real/sub");
        chase_ok(real, real);
        CHECK(asprintf(&p, "%s/./real//sub/", dir) > 0, "asprintf");
        chase_ok(p, sub);
        free(p);
        CHECK(chdir(dir) == 0, "chdir");
        chase_ok("real/sub", sub);
        chase_ok("/", "/");

        /* Errors, each its own, nothing named unsafe. */
        CHECK(chase_dir("", NULL) == -EINVAL && chase_dir(NULL, NULL) == -EINVAL, "empty path");
        chase_fails("real/missing", -ENOENT, NULL);
        chase_fails("file", -ENOTDIR, NULL);
        chase_fails("file/below", -ENOTDIR, NULL);

        /* A symlink in a folder others can write: refused whoever we are, and named. */
        CHECK(asprintf(&q, "%s/open/link", dir) > 0, "asprintf");
        chase_fails("open/link", -EPERM, q);
        chase_fails("open/link/sub", -EPERM, q);
        free(q);

        /* The same symlink in a folder root alone writes: followed, also when it goes up. */
        if (root) {
                CHECK(chmod(dir, 0755) == 0, "chmod");
                CHECK(chase_dir_is_safe(dfd) == 1, "root's 0755 folder is safe");
                chase_ok("link", real);
                chase_ok("link/sub", sub);
                chase_ok("link/sub/..", real);
                chase_ok("link/../real/sub", sub);   /* ".." from where the link led */
                chase_fails("loop", -ELOOP, NULL);
                /* Group-writable is as unsafe as world-writable. */
                CHECK(chmod(dir, 0775) == 0, "chmod g+w");
                CHECK(chase_dir_is_safe(dfd) == 0, "group-writable is unsafe");
                q = lw_path(dir, "link");
                chase_fails("link", -EPERM, q);
                free(q);
                /* Owned by another user, not writable by anyone else: still not root's. */
                CHECK(chmod(dir, 0755) == 0 && chown(dir, 65534, 65534) == 0, "chown nobody");
                CHECK(chase_dir_is_safe(dfd) == 0, "another user's folder is unsafe");
                CHECK(chown(dir, 0, 0) == 0 && chmod(dir, 0700) == 0, "chown back");
        } else {
                CHECK(chase_dir_is_safe(dfd) == 0, "our own folder is not root's");
                q = lw_path(dir, "link");
                chase_fails("link", -EPERM, q);
                free(q);
        }
        /* Root's own symlinks are the operator's: /proc/self lies in a folder only root writes. */
        char self[64];
        snprintf(self, sizeof(self), "/proc/%d", (int) getpid());
        chase_ok("/proc/self", self);

        CHECK(chase_dir_is_safe(-1) == -EBADF, "chase_dir_is_safe(-1)");
        char buf[128];
        chase_error(-ELOOP, NULL, buf, sizeof(buf));
        CHECK(strcmp(buf, "too many symlinks") == 0, "%s", buf);
        chase_error(-ENOENT, NULL, buf, sizeof(buf));
        CHECK(strcmp(buf, strerror(ENOENT)) == 0, "%s", buf);

        CHECK(chdir("/") == 0, "chdir /");
        free(real);
        free(sub);
        close(dfd);
        return 0;
}
