/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What a client of the control socket may cost is bounded, and root is never locked out:
 *   group     five users of the socket's group open 100 idle connections: root's `lockwarden
 *             status` still answers (root has slots of its own), at most 64 are held;
 *   idle      a connection that sends no request is closed (the test build's short timeout);
 *   follow    16 `events --follow` clients that never read, during a burst of events: the
 *             daemon's memory grows by less than 48 MB (each follower's backlog is bounded),
 *             and a follower that reads again is told how many events it lost;
 *   large     a `locks` reply over 8 MiB is read whole by `lockwarden locks --json`;
 *   nofile    out of descriptors, the daemon stops accepting (no busy loop on EMFILE: the
 *             accept4 failures counted in status stay few), says so once, and answers again
 *             once descriptors are free. */
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lwtest.h"

#define NOBODY 65534

static int connect_to(const char *path, bool small_buffer) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1024;

        CHECK(fd >= 0 && strlen(path) < sizeof(sa.sun_path), "socket");
        if (small_buffer)
                (void) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &one, sizeof(one));
        strcpy(sa.sun_path, path);
        if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
                close(fd);
                return -1;
        }
        return fd;
}

static void send_line(int fd, const char *line) {
        size_t n = strlen(line);
        CHECK(write(fd, line, n) == (ssize_t) n, "send");
}

/* One line from FD (bounded wait), into BUF. false on EOF. */
static bool read_line(int fd, char *buf, size_t size, int timeout_ms) {
        uint64_t deadline = lw_mono_ns() + (uint64_t) timeout_ms * 1000000ull;
        size_t len = 0;

        for (;;) {
                uint64_t now = lw_mono_ns();
                struct pollfd p = { .fd = fd, .events = POLLIN };
                char c;

                CHECK(now < deadline, "no line within %d ms", timeout_ms);
                if (poll(&p, 1, (int) ((deadline - now) / 1000000) + 1) <= 0)
                        continue;
                ssize_t k = read(fd, &c, 1);
                if (k <= 0)
                        return false;
                if (c == '\n') {
                        buf[len] = '\0';
                        return true;
                }
                if (len + 1 < size)
                        buf[len++] = c;
        }
}

static json_t *status(LwDaemon *d) {
        static char out[1 << 16], err[4096];
        const char *args[] = { "status", "--json", "--socket", d->socket, NULL };
        int rc = lw_run(args, -1, out, sizeof(out), err, sizeof(err));

        CHECK(rc == 0, "root's status did not answer (%d): %s", rc, err);
        json_t *st = json_loads(out, 0, NULL);
        CHECK(st, "status: %s", out);
        return st;
}

static long long control_counter(json_t *st, const char *key) {
        return jint(json_object_get(st, "control"), key);
}

static long long rss_kb(pid_t pid) {
        char path[64], line[256];
        long long kb = -1;

        snprintf(path, sizeof(path), "/proc/%d/status", (int) pid);
        FILE *f = fopen(path, "re");
        CHECK(f, "%s", path);
        while (fgets(line, sizeof(line), f))
                if (sscanf(line, "VmRSS: %lld kB", &kb) == 1)
                        break;
        fclose(f);
        return kb;
}

/* A state dir deep under long folder names: every report and every `locks` row carries
 * kilobytes of path. */
static char *deep_state(void) {
        char *p = lw_tmpdir(), seg[201];

        memset(seg, 'd', 200);
        seg[200] = '\0';
        for (int i = 0; i < 8; i++)
                p = lw_path(p, seg);
        p = lw_path(p, "state");
        lw_mkdir_p(lw_path(p, "agents/main/sessions"));
        return p;
}

static void write_lock(const char *path, pid_t pid) {
        char payload[128];
        int n = snprintf(payload, sizeof(payload), "{\n  \"pid\": %d,\n  \"createdAt\": \"2026-05-28T04:22:01.123Z\"\n}\n",
                         (int) pid);

        lw_write_file(path, payload, (size_t) n);
}

static char *long_lock_name(const char *sessions, int i) {
        char name[256];

        snprintf(name, sizeof(name), "l%05d-%0220d.jsonl.lock", i, 0);
        return lw_path(sessions, name);
}

static LwDaemon *start(const char *state, const char *grace, const char *const *env) {
        const char *args[] = { "--state-dir", state, "--leak-grace-ms", grace, NULL };
        char bin[4096];

        snprintf(bin, sizeof(bin), "%s/src/lockwarden-hooked", lw_builddir());
        LwDaemon *d = lw_daemon_start(env ? bin : NULL, args, env);
        lw_daemon_ready(d);
        return d;
}

/* The socket's group is nobody's: it may ask. */
static void socket_for_nobody(LwDaemon *d) {
        char *sockdir = strdup(d->socket);

        CHECK(chmod(d->socket, 0660) == 0 && chown(d->socket, 0, NOBODY) == 0, "chgrp");
        *strrchr(sockdir, '/') = '\0';
        CHECK(chmod(sockdir, 0755) == 0, "chmod socket folder");
        free(sockdir);
}

static void group_member_floods(void) {
        char *state = lw_path(lw_tmpdir(), "state");
        pid_t flooders[5];

        lw_mkdir_p(lw_path(state, "agents/main/sessions"));
        LwDaemon *d = start(state, "200", NULL);
        socket_for_nobody(d);
        /* Five users of the socket's group, 20 idle connections each: more than each user's
         * share, and more than all users' together. */
        for (size_t u = 0; u < LW_ELEMENTSOF(flooders); u++) {
                int ready[2];
                char c;

                CHECK(pipe2(ready, O_CLOEXEC) == 0, "pipe");
                flooders[u] = fork();
                CHECK(flooders[u] >= 0, "fork");
                if (flooders[u] == 0) {
                        gid_t g = NOBODY;
                        if (setgroups(1, &g) < 0 || setgid(NOBODY) < 0 || setuid(NOBODY - (uid_t) u) < 0)
                                _exit(99);
                        for (int i = 0; i < 20; i++)
                                (void) connect_to(d->socket, false); /* kept open, never written */
                        if (write(ready[1], "x", 1) != 1)
                                _exit(1);
                        pause();
                        _exit(0);
                }
                close(ready[1]);
                CHECK(read(ready[0], &c, 1) == 1, "flooder %zu did not connect", u);
                close(ready[0]);
        }

        json_t *st = status(d);
        CHECK(control_counter(st, "refused") >= 100 - 64, "refused %lld", control_counter(st, "refused"));
        CHECK(control_counter(st, "connections") <= 64 + 1, "connections %lld", control_counter(st, "connections"));
        json_decref(st);
        for (size_t u = 0; u < LW_ELEMENTSOF(flooders); u++)
                lw_kill_wait(flooders[u], SIGKILL);
        CHECK(lw_daemon_stop(d) == 0, "exit status");
}

static void idle_closed(void) {
        char *state = lw_path(lw_tmpdir(), "state");
        char line[4096];

        lw_mkdir_p(lw_path(state, "agents/main/sessions"));
        LwDaemon *d = start(state, "200", (const char *[]) { "LOCKWARDEN_TEST_IDLE_MS=300", NULL });
        int fd = connect_to(d->socket, false);
        CHECK(fd >= 0, "connect");
        send_line(fd, "{\"verb\": \"sta"); /* never completed */
        CHECK(!read_line(fd, line, sizeof(line), LW_TIMEOUT_MS), "a reply to half a request: %s", line);
        close(fd);
        json_t *st = status(d);
        CHECK(control_counter(st, "idle_closed") == 1, "idle_closed %lld", control_counter(st, "idle_closed"));
        CHECK(lw_daemon_stop(d) == 0, "exit status");
}

static void followers_never_read(void) {
        char *state = deep_state(), *sessions = lw_path(state, "agents/main/sessions");
        const char *asan = getenv("ASAN_OPTIONS");
        char env[1024], line[1 << 16], c;
        int ready[2];

        /* Memory freed is memory freed: ASan's quarantine would keep it counted in VmRSS. */
        snprintf(env, sizeof(env), "ASAN_OPTIONS=%s%squarantine_size_mb=1", asan ? asan : "", asan ? ":" : "");
        LwDaemon *d = start(state, "200", (const char *[]) { env, NULL });
        socket_for_nobody(d);
        /* nobody follows as often as it may, and never reads. */
        CHECK(pipe2(ready, O_CLOEXEC) == 0, "pipe");
        pid_t follower = fork();
        CHECK(follower >= 0, "fork");
        if (follower == 0) {
                gid_t g = NOBODY;
                if (setgroups(1, &g) < 0 || setgid(NOBODY) < 0 || setuid(NOBODY) < 0)
                        _exit(99);
                for (int i = 0; i < 16; i++) {
                        int fd = connect_to(d->socket, true);
                        if (fd < 0)
                                _exit(1);
                        send_line(fd, "{\"verb\": \"events\", \"follow\": true, \"version\": 1}\n");
                }
                if (write(ready[1], "x", 1) != 1)
                        _exit(1);
                pause();
                _exit(0);
        }
        close(ready[1]);
        CHECK(read(ready[0], &c, 1) == 1, "nobody did not follow");
        close(ready[0]);
        /* And one of root's, that stops reading for a while. */
        int mine = connect_to(d->socket, true);
        CHECK(mine >= 0, "connect");
        send_line(mine, "{\"verb\": \"events\", \"follow\": true, \"version\": 1}\n");
        CHECK(read_line(mine, line, sizeof(line), LW_TIMEOUT_MS), "no reply to follow");
        json_t *st0 = status(d);
        CHECK(control_counter(st0, "connections") == 18 /* and this one */, "connections %lld", control_counter(st0, "connections"));
        json_decref(st0);
        long long before = rss_kb(d->pid);

        pid_t dead = lw_spawn_sleeper();
        lw_kill_wait(dead, SIGKILL);
        for (int i = 0; i < 700; i++) {
                write_lock(long_lock_name(sessions, i), dead);
                if (i % 50 == 49) /* this test reads its --events stream as it goes */
                        lw_expect(d, 4 * LW_TIMEOUT_MS, "lock.cleaned", "lock", long_lock_name(sessions, i));
        }
        char *canary = lw_path(sessions, "canary.jsonl.lock");
        write_lock(canary, dead);
        lw_expect(d, 6 * LW_TIMEOUT_MS, "lock.cleaned", "lock", canary);
        json_t *st = status(d);
        long long after = rss_kb(d->pid);
        fprintf(stderr, "VmRSS %lld kB before, %lld kB after; %lld events lost for followers\n", before, after,
                control_counter(st, "lost_events"));
        CHECK(after - before < 48 * 1024, "RSS grew by %lld kB", after - before);
        CHECK(control_counter(st, "lost_events") > 0, "no event was lost");

        /* Root's follower reads again: it is told what it lost. */
        bool told = false;
        while (!told && read_line(mine, line, sizeof(line), LW_TIMEOUT_MS)) {
                json_t *m = json_loads(line, 0, NULL);
                CHECK(m, "not JSON: %.200s", line);
                told = jint(m, "lost") > 0;
                json_decref(m);
        }
        CHECK(told, "no lost notice");
        close(mine);
        lw_kill_wait(follower, SIGKILL);
        CHECK(lw_daemon_stop(d) == 0, "exit status");
}

static void large_reply(void) {
        char *state = deep_state(), *sessions = lw_path(state, "agents/main/sessions");
        const int n = 2400;
        pid_t owner = lw_spawn_sleeper();

        LwDaemon *d = start(state, "3600000", NULL);
        for (int i = 0; i < n; i++)
                write_lock(long_lock_name(sessions, i), owner);
        /* Until the daemon has read them all (bounded). */
        uint64_t deadline = lw_mono_ns() + 6ull * LW_TIMEOUT_MS * 1000000ull;
        for (;;) {
                json_t *st = status(d);
                long long locks = jint(st, "locks");
                json_decref(st);
                if (locks == n)
                        break;
                CHECK(lw_mono_ns() < deadline, "%lld locks tracked, not %d", locks, n);
        }
        size_t size = 64u << 20;
        char *out = malloc(size), err[4096];
        const char *args[] = { "locks", "--json", "--socket", d->socket, NULL };
        CHECK(out, "oom");
        int rc = lw_run(args, -1, out, size, err, sizeof(err));
        CHECK(rc == 0, "locks --json failed (%d): %s", rc, err);
        fprintf(stderr, "locks --json: %zu bytes\n", strlen(out));
        CHECK(strlen(out) > 8u << 20, "the reply is only %zu bytes: not the case under test", strlen(out));
        json_t *locks = json_loads(out, 0, NULL);
        CHECK(json_is_array(locks) && json_array_size(locks) == (size_t) n, "%zu locks listed",
              json_array_size(locks));
        json_decref(locks);
        free(out);
        lw_kill_wait(owner, SIGKILL);
        CHECK(lw_daemon_stop(d) == 0, "exit status");
}

/* PID's CPU time so far (utime + stime, in clock ticks). */
static long long cpu_ticks(pid_t pid) {
        char path[64], buf[4096];
        unsigned long long ut = 0, st = 0;

        snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
        FILE *f = fopen(path, "re");
        CHECK(f && fgets(buf, sizeof(buf), f), "%s", path);
        fclose(f);
        /* After the comm's closing parenthesis: state is field 3, utime 14, stime 15. */
        char *p = strrchr(buf, ')');
        CHECK(p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) == 2, "stat");
        return (long long) (ut + st);
}

/* How many descriptors PID has open. */
static int open_fds(pid_t pid) {
        char cmd[128], buf[64];
        int n = 0;

        snprintf(cmd, sizeof(cmd), "ls /proc/%d/fd", (int) pid);
        FILE *f = popen(cmd, "r");
        CHECK(f, "ls");
        while (fgets(buf, sizeof(buf), f))
                n++;
        pclose(f);
        return n;
}

static void out_of_descriptors(void) {
        char *state = lw_path(lw_tmpdir(), "state"), cmd[128];
        int conns[12];

        if (system("prlimit --version >/dev/null 2>&1") != 0) {
                fprintf(stderr, "prlimit (util-linux) is needed: nofile skipped\n");
                return;
        }
        const char *w = getenv("LW_DAEMON_WRAPPER");
        if (w && strstr(w, "valgrind")) {
                fprintf(stderr, "valgrind fakes the descriptor limit: nofile skipped\n");
                return;
        }
        lw_mkdir_p(lw_path(state, "agents/main/sessions"));
        LwDaemon *d = start(state, "200", NULL);
        /* Room for about three descriptors more than it has now (new ones take the lowest free
         * numbers below the limit). */
        int n = open_fds(d->pid) + 3;
        snprintf(cmd, sizeof(cmd), "prlimit --pid %d --nofile=%d:%d", (int) d->pid, n, n);
        CHECK(system(cmd) == 0, "%s", cmd);
        for (size_t i = 0; i < LW_ELEMENTSOF(conns); i++)
                CHECK((conns[i] = connect_to(d->socket, false)) >= 0, "connect %zu", i);
        lw_expect(d, LW_TIMEOUT_MS, "monitor.warning", "path", d->socket);
        /* Time for a loop on EMFILE to show (it makes thousands of failed accepts in this
         * half second); no check depends on its length: with the pause, the failures counted
         * below stay few however long it is. */
        long long ticks = cpu_ticks(d->pid);
        (void) usleep(500 * 1000);
        fprintf(stderr, "daemon CPU while out of descriptors: %lld ticks in 0.5 s\n", cpu_ticks(d->pid) - ticks);
        for (size_t i = 0; i < LW_ELEMENTSOF(conns); i++)
                close(conns[i]);
        json_t *st = status(d);
        long long failures = control_counter(st, "accept_failures");
        fprintf(stderr, "accept4 failed %lld times\n", failures);
        CHECK(failures >= 1 && failures <= 3 * (long long) LW_ELEMENTSOF(conns), "accept failures %lld", failures);
        CHECK(lw_count(d, "monitor.warning", "path", d->socket) == 1, "said %zu times",
              lw_count(d, "monitor.warning", "path", d->socket));
        CHECK(lw_daemon_stop(d) == 0, "exit status");
}

int main(int argc, char **argv) {
        lw_require_root();
        lw_require_backend();
        const char *only = argc > 1 ? argv[1] : NULL;
        if (!only || strcmp(only, "group") == 0)
                group_member_floods();
        if (!only || strcmp(only, "idle") == 0)
                idle_closed();
        if (!only || strcmp(only, "follow") == 0)
                followers_never_read();
        if (!only || strcmp(only, "large") == 0)
                large_reply();
        if (!only || strcmp(only, "nofile") == 0)
                out_of_descriptors();
        return 0;
}
