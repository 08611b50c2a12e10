/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kill-wait-gone: SIGKILLs PID and waits (bounded) for the file PATH to leave its folder (an
 * unlink, or a rename away), as an independent inotify observer sees it. Prints the time from
 * the kill to that moment in microseconds. Exit 0, or 1 if the name did not go within
 * TIMEOUT_MS (default 5000), 2 on a usage or system error.
 *
 *   kill-wait-gone PID PATH [TIMEOUT_MS]
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_us(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
}

int main(int argc, char **argv) {
        char dir[PATH_MAX], buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
        const char *name, *slash;
        uint64_t t0, deadline;
        int fd;

        if (argc < 3) {
                fprintf(stderr, "usage: kill-wait-gone PID PATH [TIMEOUT_MS]\n");
                return 2;
        }
        slash = strrchr(argv[2], '/');
        if (!slash || (size_t) (slash - argv[2]) >= sizeof(dir)) {
                fprintf(stderr, "kill-wait-gone: PATH must be absolute\n");
                return 2;
        }
        memcpy(dir, argv[2], (size_t) (slash - argv[2]));
        dir[slash - argv[2]] = '\0';
        name = slash + 1;
        fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
        if (fd < 0 || inotify_add_watch(fd, dir[0] ? dir : "/", IN_DELETE | IN_MOVED_FROM) < 0) {
                fprintf(stderr, "kill-wait-gone: watch %s: %s\n", dir, strerror(errno));
                return 2;
        }
        if (access(argv[2], F_OK) < 0) {
                fprintf(stderr, "kill-wait-gone: %s is not there to begin with\n", argv[2]);
                return 2;
        }
        t0 = now_us();
        if (kill((pid_t) atoi(argv[1]), SIGKILL) < 0) {
                fprintf(stderr, "kill-wait-gone: kill %s: %s\n", argv[1], strerror(errno));
                return 2;
        }
        deadline = t0 + (uint64_t) (argc > 3 ? atoi(argv[3]) : 5000) * 1000u;
        for (;;) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                uint64_t now = now_us();
                ssize_t n;

                if (now >= deadline) {
                        fprintf(stderr, "kill-wait-gone: %s still there after %llu ms\n", argv[2],
                                (unsigned long long) ((now - t0) / 1000));
                        return 1;
                }
                if (poll(&p, 1, (int) ((deadline - now) / 1000) + 1) < 1)
                        continue;
                n = read(fd, buf, sizeof(buf));
                for (char *q = buf; n > 0 && q < buf + n;) {
                        struct inotify_event *ev = (struct inotify_event *) (void *) q;
                        if (ev->len && strcmp(ev->name, name) == 0) {
                                printf("%llu\n", (unsigned long long) (now_us() - t0));
                                return 0;
                        }
                        q += sizeof(*ev) + ev->len;
                }
        }
}
