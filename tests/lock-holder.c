/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lock-holder: takes a session lock exactly as OpenClaw does (PROTOCOL.md), for tests and
 * benchmarks. Deliberately shares no code with the daemon: it is the other side of the
 * protocol.
 *
 *   lock-holder [--mode=hold|leak] [--no-starttime] [--max-hold-ms N] [--created-at ISO]
 *               [--transcript FILE] [--cycles N] [--entry FILE] LOCK
 *
 * Acquire: open(LOCK, O_WRONLY|O_CREAT|O_EXCL), write the pretty-printed JSON payload and a
 * newline, keep the fd open. Then print "locked PID\n" on stdout and:
 *   hold: hold until SIGTERM/SIGINT, then release: close, re-read and compare, unlink.
 *   leak: close the fd at once without unlinking (a leaked lock), stay alive until a signal.
 *   hold-then-leak: as hold until the first signal; then close the fd without unlinking (a
 *         leak) and stay alive until the next signal.
 *   hold-then-write: as hold until the first signal; then write the same payload again over
 *         itself through the held descriptor (one more write of the owner's, read apart from
 *         its open) and hold on until the next signal, then release.
 *   hold-read: as hold, but first (before "locked") read the lock once through a second
 *         descriptor, opened read-only and closed: the owner checking its own payload.
 *   leak-poll: as leak, then read the lock every 20 ms (open read-only, read 5 ms later,
 *         close), as another run of the same gateway contending for it does, until it is gone.
 *   fork: fork a child that inherits the write descriptor (no open of its own: the kernel
 *         reports none), write its pid to --child-pid-file FILE; the child waits for a
 *         signal and exits without releasing; the parent holds as in hold.
 * With --transcript, append one line to FILE while holding (open O_APPEND, write, close);
 * with --append-after-release also once more after the release, at the next signal (as a run
 * goes on writing after the holder's own watchdog let its lock go).
 * With --cycles N: N times acquire (waiting for a release while another process holds it),
 * append, release; then exit 0 without waiting for a signal: the normal contended lifecycle.
 * A "gateway" argument is accepted and ignored: with argv[0] ending in openclaw.mjs it makes a
 * command line the application's own rule calls a gateway.
 * With --entry FILE, FILE is opened and read whole before anything else, as node reads a
 * gateway's entry script at its start (the open is what lockwarden's discovery sees).
 * Exit 0 after a release, 3 if the lock exists already, 1 on any other error. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig) {
        (void) sig;
        stop = 1;
}

static unsigned long long my_starttime(void) {
        char buf[1024], *p;
        FILE *f = fopen("/proc/self/stat", "re");
        size_t n;

        if (!f)
                return 0;
        n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[n] = '\0';
        p = strrchr(buf, ')');
        if (!p)
                return 0;
        p += 2;
        for (int i = 0; i < 19 && p; i++) {
                p = strchr(p, ' ');
                if (p)
                        p++;
        }
        return p ? strtoull(p, NULL, 10) : 0;
}

static int append_line(const char *path) {
        char line[128];
        int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644), n;

        if (fd < 0)
                return -1;
        n = snprintf(line, sizeof(line), "{\"type\":\"message\",\"pid\":%d}\n", (int) getpid());
        if (write(fd, line, (size_t) n) != n) {
                close(fd);
                return -1;
        }
        return close(fd);
}

/* Waits (bounded) until something in the lock's folder is removed or renamed away: the
 * moment the lock may be free. WATCH_FD was set up before the failed create, so a release in
 * between is not missed. The application polls instead; the contention is the same. */
static void wait_released(int watch_fd) {
        char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
        struct pollfd p = { .fd = watch_fd, .events = POLLIN };

        (void) poll(&p, 1, 1000);
        while (read(watch_fd, buf, sizeof(buf)) > 0)
                ;
}

/* O_EXCL create, payload, fd kept open. With WATCH_FD (an inotify fd on the lock's folder),
 * waits for a release and tries again while the lock exists. */
static int acquire(const char *lock, int with_starttime, const char *created_at, long long max_hold,
                   int watch_fd, char *payload, size_t size, int *ret_fd, struct stat *ret_st) {
        char iso[64];
        struct timespec ts;
        struct tm tm;
        int fd, n;

        clock_gettime(CLOCK_REALTIME, &ts);
        gmtime_r(&ts.tv_sec, &tm);
        snprintf(iso, sizeof(iso), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);

        for (;;) {
                fd = open(lock, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
                if (fd >= 0)
                        break;
                if (errno != EEXIST || watch_fd < 0) {
                        fprintf(stderr, "lock-holder: %s: %s\n", lock, strerror(errno));
                        return -errno;
                }
                wait_released(watch_fd);
        }
        if (with_starttime)
                n = snprintf(payload, size,
                             "{\n  \"pid\": %d,\n  \"createdAt\": \"%s\",\n  \"maxHoldMs\": %lld,\n  \"starttime\": %llu\n}\n",
                             (int) getpid(), created_at ? created_at : iso, max_hold, my_starttime());
        else
                n = snprintf(payload, size, "{\n  \"pid\": %d,\n  \"createdAt\": \"%s\"\n}\n",
                             (int) getpid(), created_at ? created_at : iso);
        if (write(fd, payload, (size_t) n) != n || fstat(fd, ret_st) < 0) {
                fprintf(stderr, "lock-holder: write: %s\n", strerror(errno));
                close(fd);
                return -EIO;
        }
        *ret_fd = fd;
        return 0;
}

/* Close, re-read and compare (inode and bytes), only then unlink. */
static void release(int fd, const char *lock, const char *payload, const struct stat *st_written) {
        char back[600];
        struct stat st_now;
        int n;

        close(fd);
        fd = open(lock, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return; /* someone removed it: nothing to release */
        n = (int) read(fd, back, sizeof(back));
        if (fstat(fd, &st_now) == 0 && st_now.st_ino == st_written->st_ino &&
            st_now.st_dev == st_written->st_dev && n == (int) strlen(payload) &&
            memcmp(back, payload, (size_t) n) == 0)
                unlink(lock);
        close(fd);
}

int main(int argc, char **argv) {
        const char *mode = "hold", *created_at = NULL, *lock = NULL, *transcript = NULL, *child_file = NULL;
        const char *entry = NULL;
        long long max_hold = 300000, cycles = 0;
        int with_starttime = 1, append_after = 0;
        char payload[512];
        struct stat st_written;
        sigset_t empty;
        int fd, n;

        for (int i = 1; i < argc; i++) {
                if (strncmp(argv[i], "--mode=", 7) == 0)
                        mode = argv[i] + 7;
                else if (strcmp(argv[i], "--no-starttime") == 0)
                        with_starttime = 0;
                else if (strcmp(argv[i], "--max-hold-ms") == 0 && i + 1 < argc)
                        max_hold = atoll(argv[++i]);
                else if (strcmp(argv[i], "--created-at") == 0 && i + 1 < argc)
                        created_at = argv[++i];
                else if (strcmp(argv[i], "--transcript") == 0 && i + 1 < argc)
                        transcript = argv[++i];
                else if (strcmp(argv[i], "--child-pid-file") == 0 && i + 1 < argc)
                        child_file = argv[++i];
                else if (strcmp(argv[i], "--cycles") == 0 && i + 1 < argc)
                        cycles = atoll(argv[++i]);
                else if (strcmp(argv[i], "--append-after-release") == 0)
                        append_after = 1;
                else if (strcmp(argv[i], "--entry") == 0 && i + 1 < argc)
                        entry = argv[++i];
                else if (strcmp(argv[i], "gateway") == 0)
                        ; /* part of a gateway-looking command line (tests of restart recovery) */
                else if (argv[i][0] != '-' && !lock)
                        lock = argv[i];
                else {
                        fprintf(stderr, "lock-holder: bad argument %s\n", argv[i]);
                        return 1;
                }
        }
        if (!lock) {
                fprintf(stderr, "lock-holder: no lock path\n");
                return 1;
        }
        if (entry) {
                char buf[4096];
                ssize_t r;
                int efd = open(entry, O_RDONLY | O_CLOEXEC);

                if (efd < 0) {
                        fprintf(stderr, "lock-holder: %s: %s\n", entry, strerror(errno));
                        return 1;
                }
                while ((r = read(efd, buf, sizeof(buf))) > 0)
                        ;
                close(efd);
        }

        /* Blocked until sigsuspend(), so a signal cannot slip in between check and wait. */
        sigset_t block;
        sigemptyset(&block);
        sigaddset(&block, SIGTERM);
        sigaddset(&block, SIGINT);
        sigprocmask(SIG_BLOCK, &block, NULL);
        signal(SIGTERM, on_signal);
        signal(SIGINT, on_signal);

        int watch_fd = -1;
        if (cycles > 0) {
                char dir[4096], *slash;
                snprintf(dir, sizeof(dir), "%s", lock);
                slash = strrchr(dir, '/');
                if (slash)
                        *slash = '\0';
                watch_fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
                if (watch_fd < 0 || inotify_add_watch(watch_fd, slash ? dir : ".", IN_DELETE | IN_MOVED_FROM) < 0) {
                        fprintf(stderr, "lock-holder: inotify: %s\n", strerror(errno));
                        return 1;
                }
        }
        for (long long c = 0; c < cycles; c++) {
                if (acquire(lock, with_starttime, created_at, max_hold, watch_fd, payload, sizeof(payload),
                            &fd, &st_written) < 0)
                        return 1;
                if (transcript && append_line(transcript) < 0) {
                        fprintf(stderr, "lock-holder: append %s: %s\n", transcript, strerror(errno));
                        return 1;
                }
                release(fd, lock, payload, &st_written);
        }
        if (cycles > 0)
                return 0;

        n = acquire(lock, with_starttime, created_at, max_hold, -1, payload, sizeof(payload),
                    &fd, &st_written);
        if (n < 0)
                return n == -EEXIST ? 3 : 1;
        if (transcript && append_line(transcript) < 0) {
                fprintf(stderr, "lock-holder: append %s: %s\n", transcript, strerror(errno));
                return 1;
        }

        if (strcmp(mode, "leak") == 0 || strcmp(mode, "leak-poll") == 0)
                close(fd);
        if (strcmp(mode, "fork") == 0) {
                pid_t child = fork();
                FILE *f;

                if (child < 0)
                        return 1;
                if (child == 0) {
                        /* Holds the inherited descriptor until a signal; never releases. */
                        sigemptyset(&empty);
                        while (!stop)
                                sigsuspend(&empty);
                        _exit(0);
                }
                f = child_file ? fopen(child_file, "we") : NULL;
                if (!f)
                        return 1;
                fprintf(f, "%d\n", (int) child);
                fclose(f);
        }

        if (strcmp(mode, "hold-read") == 0) {
                char buf[512];
                int rfd = open(lock, O_RDONLY | O_CLOEXEC);

                if (rfd < 0 || read(rfd, buf, sizeof(buf)) < 0)
                        return 1;
                close(rfd);
                mode = "hold";
        }

        printf("locked %d\n", (int) getpid());
        fflush(stdout);

        if (strcmp(mode, "leak-poll") == 0) {
                char buf[512];
                int rfd;

                /* Signals are blocked but while waiting: the waits let them in. */
                const struct timespec t5 = { .tv_nsec = 5000000 }, t20 = { .tv_nsec = 20000000 };
                sigemptyset(&empty);
                while (!stop && (rfd = open(lock, O_RDONLY | O_CLOEXEC)) >= 0) {
                        (void) ppoll(NULL, 0, &t5, &empty); /* an asynchronous read takes a moment */
                        (void) !read(rfd, buf, sizeof(buf));
                        close(rfd);
                        (void) ppoll(NULL, 0, &t20, &empty); /* the contender's retry period */
                }
                mode = "leak";
        }

        sigemptyset(&empty);
        while (!stop)
                sigsuspend(&empty);

        if (strcmp(mode, "leak") == 0)
                return 0;
        if (strcmp(mode, "hold-then-leak") == 0) {
                /* The first signal: let go of the lock without removing it (a leak), and wait
                 * for the next one. */
                close(fd);
                stop = 0;
                while (!stop)
                        sigsuspend(&empty);
                return 0;
        }

        if (strcmp(mode, "hold-then-write") == 0) {
                size_t len = strlen(payload);
                if (pwrite(fd, payload, len, 0) != (ssize_t) len)
                        return 1;
                stop = 0;
                while (!stop)
                        sigsuspend(&empty);
        }
        release(fd, lock, payload, &st_written);
        if (append_after && transcript) {
                /* The next signal is the run's next write, made without the lock. */
                stop = 0;
                while (!stop)
                        sigsuspend(&empty);
                if (append_line(transcript) < 0)
                        return 1;
        }
        return 0;
}
