/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The command line contract: --help and --version, exit 2 with a clear message on bad usage,
 * exit 1 with a message naming CAP_SYS_ADMIN when fanotify is asked for but not permitted,
 * inotify chosen by --backend=auto without privilege (and saying so), exit 1 when the events
 * file cannot be opened. */
#include <poll.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lwtest.h"

/* Runs the daemon with ARGV (after argv[0]); as UID if >= 0. Returns the exit status and
 * stdout+stderr in out. Bounded. */
static const char *run_wrapper; /* a program to run the daemon under (deny-fanotify), or NULL */

static int run(const char *const *args, int uid, char *out, size_t size) {
        char bin[4096];
        int p[2], status;
        size_t len = 0;
        pid_t pid;

        snprintf(bin, sizeof(bin), "%s/src/lockwarden", lw_builddir());
        CHECK(pipe(p) == 0, "pipe");
        pid = fork();
        if (pid == 0) {
                const char *argv[32];
                size_t n = 0;
                if (run_wrapper)
                        argv[n++] = run_wrapper;
                argv[n++] = bin;
                for (size_t i = 0; args[i]; i++)
                        argv[n++] = args[i];
                argv[n] = NULL;
                dup2(p[1], 1);
                dup2(p[1], 2);
                if (uid >= 0 && (setgid((gid_t) uid) < 0 || setuid((uid_t) uid) < 0))
                        _exit(99);
                execv(argv[0], (char **) argv);
                _exit(127);
        }
        close(p[1]);
        uint64_t deadline = lw_mono_ns() + LW_TIMEOUT_MS * 1000000ull;
        for (;;) {
                struct pollfd pf = { .fd = p[0], .events = POLLIN };
                uint64_t now = lw_mono_ns();
                CHECK(now < deadline, "lockwarden did not finish");
                if (poll(&pf, 1, (int) ((deadline - now) / 1000000) + 1) <= 0)
                        continue;
                ssize_t n = read(p[0], out + len, size - 1 - len);
                if (n <= 0)
                        break;
                len += (size_t) n;
        }
        out[len] = '\0';
        close(p[0]);
        CHECK(waitpid(pid, &status, 0) == pid, "waitpid");
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

#define EXPECT(status, text, ...)                                                        \
        do {                                                                             \
                const char *a_[] = { __VA_ARGS__, NULL };                                 \
                int s_ = run(a_, -1, out, sizeof(out));                                    \
                CHECK(s_ == (status), "exit %d, expected %d; output: %s", s_, status, out); \
                CHECK(strstr(out, text), "output lacks '%s': %s", text, out);            \
        } while (0)

int main(void) {
        static char out[65536];

        EXPECT(0, "--state-dir", "--help");
        CHECK(strstr(out, "--watch") && strstr(out, "--cleanup=auto|report") && strstr(out, "--events") &&
              strstr(out, "--leak-grace-ms") && strstr(out, "--backend=auto|fanotify|inotify") &&
              strstr(out, "--races=report|off") && strstr(out, "--race-coalesce-ms") &&
              strstr(out, "--remote-cleanup DIR"), "help lacks an option");
        EXPECT(0, "lockwarden " PACKAGE_VERSION, "--version");
        EXPECT(0, "Usage", "run", "--help");
        EXPECT(2, "--cleanup must be auto or report", "run", "--cleanup=maybe");
        EXPECT(2, "unknown option", "run", "--bogus");
        EXPECT(2, "unknown command", "frobnicate");
        EXPECT(2, "no command", "--watch", "/tmp");
        EXPECT(2, "--leak-grace-ms", "run", "--leak-grace-ms", "-5");
        EXPECT(2, "--leak-grace-ms", "run", "--leak-grace-ms", "12ms");
        EXPECT(2, "--races must be", "run", "--races=bogus");
        EXPECT(2, "--race-coalesce-ms", "run", "--race-coalesce-ms", "60001");
        EXPECT(2, "needs a value", "run", "--watch");
        EXPECT(2, "unexpected argument", "run", "extra");
        /* The commands' common options may come before the verb. */
        EXPECT(1, "/nonexistent/control.sock", "--socket", "/nonexistent/control.sock", "--json", "status");
        EXPECT(1, "/nonexistent/control.sock", "--socket=/nonexistent/control.sock", "locks");
        /* A typo gets the command it most likely meant; help and version are commands too. */
        EXPECT(2, "did you mean 'locks'", "lcoks");
        EXPECT(2, "did you mean 'status'", "statsu");
        EXPECT(2, "commands: run, status", "xyzzy");
        EXPECT(0, "Usage: lockwarden run", "help");
        EXPECT(0, "lockwarden ", "version");
        EXPECT(0, "lockwarden ", "-V");
        EXPECT(2, "--backend must be", "run", "--backend=inotify2");
        EXPECT(2, "--remote-cleanup needs a folder", "run", "--remote-cleanup", "");

        if (geteuid() == 0) {
                const char *a[] = { "run", "--watch", "/var/tmp", "--backend=fanotify", NULL };
                int s = run(a, 65534, out, sizeof(out));
                CHECK(s == 1, "unprivileged fanotify run exit %d: %s", s, out);
                CHECK(strstr(out, "CAP_SYS_ADMIN") && strstr(out, "--backend=inotify"),
                      "message does not name the capability and the way out: %s", out);

                /* auto without privilege: inotify, and monitor.ready says so. */
                const char *b[] = { "--watch", "/var/tmp", NULL };
                lw_daemon_uid = 65534;
                LwDaemon *d = lw_daemon_start(NULL, b, NULL);
                lw_daemon_uid = -1;
                json_t *ready = lw_daemon_ready(d);
                CHECK(strcmp(jstr(ready, "backend"), "inotify") == 0, "backend %s", jstr(ready, "backend"));
                CHECK(strcmp(jstr(ready, "attribution"), "holder-scan") == 0, "attribution %s",
                      jstr(ready, "attribution"));
                CHECK(strstr(jstr(ready, "backend_reason"), "CAP_SYS_ADMIN"), "backend_reason %s",
                      jstr(ready, "backend_reason"));
                CHECK(lw_daemon_stop(d) == 0, "unprivileged daemon did not exit 0");

                /* Root with CAP_SYS_ADMIN, but a seccomp filter denies fanotify_init (systemd's
                 * SystemCallFilter=, systemd-nspawn's default): the message says so, not that a
                 * capability is missing. */
                char wrapper[4096];
                snprintf(wrapper, sizeof(wrapper), "%s/tests/deny-fanotify", lw_builddir());
                run_wrapper = wrapper;
                s = run(a, -1, out, sizeof(out));
                run_wrapper = NULL;
                CHECK(s == 1, "fanotify under seccomp: exit %d: %s", s, out);
                CHECK(strstr(out, "seccomp") && strstr(out, "although lockwarden holds CAP_SYS_ADMIN"),
                      "message does not name the seccomp filter: %s", out);
                d = lw_daemon_start_under(wrapper, b);
                ready = lw_daemon_ready(d);
                CHECK(strcmp(jstr(ready, "backend"), "inotify") == 0 && strstr(jstr(ready, "backend_reason"), "seccomp"),
                      "under seccomp: backend %s, reason %s", jstr(ready, "backend"), jstr(ready, "backend_reason"));
                CHECK(lw_daemon_stop(d) == 0, "daemon under seccomp did not exit 0");

                /* And as root, auto is fanotify. */
                d = lw_daemon_start(NULL, b, NULL);
                ready = lw_daemon_ready(d);
                CHECK(strcmp(jstr(ready, "backend"), "fanotify") == 0, "root backend %s", jstr(ready, "backend"));
                CHECK(strcmp(jstr(ready, "attribution"), "pid") == 0, "root attribution %s", jstr(ready, "attribution"));
                CHECK(lw_daemon_stop(d) == 0, "daemon did not exit 0");

                EXPECT(1, "cannot open events file", "run", "--watch", "/var/tmp", "--events", "/nonexistent/dir/ev");
        } else {
                /* Half a test is not a pass: the unprivileged checks above passed. */
                fprintf(stderr, "not root: the privileged half is skipped\n");
                return LW_SKIP;
        }
        return 0;
}
