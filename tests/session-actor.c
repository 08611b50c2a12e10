/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* session-actor: does one thing to a session's files that the lock protocol does not allow,
 * the way it happens in the field, for the race tests. Shares no code with the daemon.
 *
 *   session-actor append FILE N TEXT   open FILE for appending (created if missing), write
 *                                      TEXT N times (one write each), close
 *   session-actor replace FILE TEXT    write FILE.tmp, rename it over FILE
 *   session-actor unlink FILE          unlink FILE
 *   session-actor tamper LOCK TEXT     open LOCK for writing, truncate, write TEXT, close
 *   session-actor steal LOCK           unlink LOCK, then take it the protocol's way
 *                                      (O_EXCL create, payload with our pid) and keep it open
 *
 * Then prints "done PID\n" and stays alive (so lockwarden can name it) until SIGTERM/SIGINT.
 * Exit 0, or 1 with a message when the action failed. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int fail(const char *what, const char *path) {
        fprintf(stderr, "session-actor: %s %s: %s\n", what, path, strerror(errno));
        return 1;
}

static int write_all(int fd, const char *s) {
        size_t n = strlen(s);
        return write(fd, s, n) == (ssize_t) n ? 0 : -1;
}

static int act(int argc, char **argv) {
        const char *verb = argv[1], *path = argv[2];
        int fd;

        if (strcmp(verb, "append") == 0 && argc == 5) {
                long n = atol(argv[3]);
                fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
                if (fd < 0)
                        return fail("open", path);
                for (long i = 0; i < n; i++)
                        if (write_all(fd, argv[4]) < 0)
                                return fail("write", path);
                return close(fd) < 0 ? fail("close", path) : 0;
        }
        if (strcmp(verb, "replace") == 0 && argc == 4) {
                char tmp[4096];
                snprintf(tmp, sizeof(tmp), "%s.tmp", path);
                fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
                if (fd < 0 || write_all(fd, argv[3]) < 0 || close(fd) < 0)
                        return fail("write", tmp);
                return rename(tmp, path) < 0 ? fail("rename", path) : 0;
        }
        if (strcmp(verb, "unlink") == 0 && argc == 3)
                return unlink(path) < 0 ? fail("unlink", path) : 0;
        if (strcmp(verb, "tamper") == 0 && argc == 4) {
                fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
                if (fd < 0 || write_all(fd, argv[3]) < 0 || close(fd) < 0)
                        return fail("tamper", path);
                return 0;
        }
        if (strcmp(verb, "steal") == 0 && argc == 3) {
                char payload[256];
                if (unlink(path) < 0)
                        return fail("unlink", path);
                fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
                if (fd < 0)
                        return fail("create", path);
                snprintf(payload, sizeof(payload),
                         "{\n  \"pid\": %d,\n  \"createdAt\": \"2026-01-01T00:00:00.000Z\"\n}\n", (int) getpid());
                if (write_all(fd, payload) < 0)
                        return fail("write", path);
                return 0; /* fd stays open: we hold it */
        }
        fprintf(stderr, "session-actor: bad arguments\n");
        return 1;
}

int main(int argc, char **argv) {
        sigset_t ss;
        int sig, r;

        if (argc < 3) {
                fprintf(stderr, "session-actor: bad arguments\n");
                return 1;
        }
        sigemptyset(&ss);
        sigaddset(&ss, SIGTERM);
        sigaddset(&ss, SIGINT);
        sigprocmask(SIG_BLOCK, &ss, NULL);

        r = act(argc, argv);
        if (r != 0)
                return r;
        printf("done %d\n", (int) getpid());
        fflush(stdout);
        sigwait(&ss, &sig);
        return 0;
}
