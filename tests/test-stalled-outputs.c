/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* An output whose reader stops never stops the daemon: the --events stream (a pipe nobody
 * reads), stderr (a pipe nobody reads) and the journal (a socket nobody reads, as a stalled
 * journald's; and a real journald, SIGSTOPped, in a journal namespace of its own). During a
 * burst of reports that fills each of them, a dead owner's lock is still removed; what did not fit is dropped and counted, and monitor.dropped says how many
 * once the reader takes data again. */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lwtest.h"

#define BURST 1000

/* A state dir deep under long folder names: every report carries kilobytes of path, and a
 * burst is more than the 4 MiB the --events stream may keep. */
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

static pid_t dead_pid(void) {
        pid_t p = lw_spawn_sleeper();

        lw_kill_wait(p, SIGKILL);
        return p;
}

static void write_lock(const char *path, pid_t pid) {
        char payload[128];
        int n = snprintf(payload, sizeof(payload), "{\n  \"pid\": %d,\n  \"createdAt\": \"2026-05-28T04:22:01.123Z\"\n}\n",
                         (int) pid);

        lw_write_file(path, payload, (size_t) n);
}

/* BURST locks of a dead owner, with long names: each costs a lock.stale and a lock.cleaned,
 * kilobytes of reports. */
static void burst(const char *sessions, pid_t dead, LwDaemon *pump) {
        char name[256];

        for (int i = 0; i < BURST; i++) {
                snprintf(name, sizeof(name), "b%04d-%0200d.jsonl.lock", i, 0);
                write_lock(lw_path(sessions, name), dead);
                /* PUMP: the --events stream is read as it goes (it is not the output under test),
                 * never more than 50 locks behind. */
                if (pump && i % 50 == 49)
                        lw_expect(pump, 4 * LW_TIMEOUT_MS, "lock.cleaned", "lock", lw_path(sessions, name));
        }
}

/* Waits (inotify, bounded) until PATH in DIR is gone: the daemon removed it. */
static void wait_gone(const char *dir, const char *path, pid_t daemon) {
        int fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
        uint64_t deadline = lw_mono_ns() + 4ull * LW_TIMEOUT_MS * 1000000ull;

        CHECK(fd >= 0 && inotify_add_watch(fd, dir, IN_DELETE | IN_MOVED_FROM) >= 0, "inotify %s", dir);
        while (lw_exists(path)) {
                char buf[4096];
                uint64_t now = lw_mono_ns();
                struct pollfd p = { .fd = fd, .events = POLLIN };

                if (now >= deadline)
                        lw_dump_process(daemon);
                CHECK(now < deadline, "%s was not removed: the daemon is stuck on an output", path);
                poll(&p, 1, (int) ((deadline - now) / 1000000) + 1);
                while (read(fd, buf, sizeof(buf)) > 0)
                        ;
        }
        close(fd);
}

/* `lockwarden status`: answered after everything before it; returns counters.cleaned, or
 * with KEY the top-level count KEY. */
static long long status_count(LwDaemon *d, const char *key) {
        static char out[1 << 16];
        const char *args[] = { "status", "--json", "--socket", d->socket, NULL };
        json_t *st;
        long long n;

        CHECK(lw_run(args, -1, out, sizeof(out), NULL, 0) == 0, "status did not answer");
        st = json_loads(out, 0, NULL);
        CHECK(st, "status: %s", out);
        n = key ? jint(st, key) : jint(json_object_get(st, "counters"), "cleaned");
        json_decref(st);
        return n;
}

/* For a failing count: the locks still there, as the daemon judges them. */
static void locks_left(LwDaemon *d) {
        static char out[1 << 20];
        const char *args[] = { "locks", "--socket", d->socket, NULL };

        const char *st[] = { "status", "--json", "--socket", d->socket, NULL };

        (void) lw_run(args, -1, out, sizeof(out), NULL, 0);
        fprintf(stderr, "locks left:\n%.4000s\n", out);
        (void) lw_run(st, -1, out, sizeof(out), NULL, 0);
        fprintf(stderr, "status: %.4000s\n", out);
}

/* A child that reads FD to the end and throws it away: the reader comes back. */
static pid_t drain(int fd) {
        pid_t pid = fork();

        CHECK(pid >= 0, "fork");
        if (pid == 0) {
                char buf[65536];
                int fl = fcntl(fd, F_GETFL);
                (void) fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
                while (read(fd, buf, sizeof(buf)) > 0)
                        ;
                _exit(0);
        }
        return pid;
}

/* The daemon, its stderr on ERR_FD (-1: /dev/null: megabytes of lines are not for the log). */
static const char *grace = "200";

static LwDaemon *start_err(const char *binary, const char *state, const char *const *env, int err_fd) {
        const char *args[] = { "--state-dir", state, "--leak-grace-ms", grace, NULL };
        int saved = dup(STDERR_FILENO), null = open("/dev/null", O_WRONLY | O_CLOEXEC);

        CHECK(saved >= 0 && null >= 0, "dup");
        dup2(err_fd >= 0 ? err_fd : null, STDERR_FILENO);
        LwDaemon *d = lw_daemon_start(binary, args, env);
        dup2(saved, STDERR_FILENO);
        close(saved);
        close(null);
        return d;
}

static LwDaemon *start(const char *binary, const char *state, const char *const *env) {
        LwDaemon *d = start_err(binary, state, env, -1);

        lw_daemon_ready(d);
        return d;
}

/* The --events stream: its reader stops (the test does not read the pipe). */
static void events_stalled(void) {
        char *state = deep_state(), *sessions = lw_path(state, "agents/main/sessions");
        pid_t dead = dead_pid();

        LwDaemon *d = start(NULL, state, NULL);
        CHECK(fcntl(d->ev_fd, F_SETPIPE_SZ, 4096) >= 0, "F_SETPIPE_SZ");
        burst(sessions, dead, NULL);
        char *canary = lw_path(sessions, "canary.jsonl.lock");
        write_lock(canary, dead);
        wait_gone(sessions, canary, d->pid);
        long long cleaned = status_count(d, NULL);
        if (cleaned != BURST + 1)
                locks_left(d);
        CHECK(cleaned == BURST + 1, "%lld of %d locks cleaned", cleaned, BURST + 1);
        /* The reader is back: it is told what it missed. */
        json_t *e = lw_expect(d, LW_TIMEOUT_MS, "monitor.dropped", "output", "events");
        CHECK(jint(e, "dropped") > 0, "dropped %lld", jint(e, "dropped"));
        CHECK(lw_daemon_stop(d) == 0, "exit status");
}

/* stderr: a pipe nobody reads. */
static void stderr_stalled(void) {
        char *state = deep_state(), *sessions = lw_path(state, "agents/main/sessions");
        pid_t dead = dead_pid();
        int p[2];

        CHECK(pipe2(p, O_CLOEXEC) == 0, "pipe");
        CHECK(fcntl(p[0], F_SETPIPE_SZ, 4096) >= 0, "F_SETPIPE_SZ");
        LwDaemon *d = start_err(NULL, state, NULL, p[1]);
        close(p[1]);
        lw_daemon_ready(d);
        burst(sessions, dead, d);
        char *canary = lw_path(sessions, "canary.jsonl.lock");
        write_lock(canary, dead);
        lw_expect(d, 4 * LW_TIMEOUT_MS, "lock.cleaned", "lock", canary);
        CHECK(!lw_exists(canary), "canary still there");
        pid_t reader = drain(p[0]);
        json_t *e = lw_expect(d, LW_TIMEOUT_MS, "monitor.dropped", "output", "stderr");
        CHECK(jint(e, "dropped") > 0, "dropped %lld", jint(e, "dropped"));
        CHECK(lw_daemon_stop(d) == 0, "exit status");
        lw_wait_exit(reader, LW_TIMEOUT_MS);
        close(p[0]);
}

/* The journal: a socket nobody reads, where the daemon sends its entries (the test build's
 * LOCKWARDEN_TEST_JOURNAL_SOCKET): what a SIGSTOPped journald is to its clients. */
static void journal_stalled(void) {
        char *state = deep_state(), *sessions = lw_path(state, "agents/main/sessions");
        char *sock = lw_path(lw_tmpdir(), "journal.sock"), env[300], bin[4096];
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        pid_t dead = dead_pid();
        int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

        CHECK(strlen(sock) < sizeof(sa.sun_path), "socket path too long");
        strcpy(sa.sun_path, sock);
        CHECK(fd >= 0 && bind(fd, (struct sockaddr *) &sa, sizeof(sa)) == 0, "bind %s", sock);
        snprintf(env, sizeof(env), "LOCKWARDEN_TEST_JOURNAL_SOCKET=%s", sock);
        snprintf(bin, sizeof(bin), "%s/src/lockwarden-hooked", lw_builddir());
        LwDaemon *d = start(bin, state, (const char *[]) { env, NULL });
        burst(sessions, dead, d);
        char *canary = lw_path(sessions, "canary.jsonl.lock");
        write_lock(canary, dead);
        lw_expect(d, 4 * LW_TIMEOUT_MS, "lock.cleaned", "lock", canary);
        CHECK(!lw_exists(canary), "canary still there");
        pid_t reader = drain(fd);
        json_t *e = lw_expect(d, LW_TIMEOUT_MS, "monitor.dropped", "output", "journal");
        CHECK(jint(e, "dropped") > 0, "dropped %lld", jint(e, "dropped"));
        CHECK(lw_daemon_stop(d) == 0, "exit status");
        lw_kill_wait(reader, SIGKILL);
        close(fd);
}

/* A real systemd-journald, in a journal namespace of this test's own (its sockets under
 * /run/systemd/journal.NS, its files in a folder of their own, both removed at the end): it is
 * SIGSTOPped, as an overloaded journald is in effect, and never the host's journal. */
static pid_t journald;
static char journal_ns[64];

static void journald_done(void) {
        char cmd[512];

        if (journald <= 0)
                return;
        kill(journald, SIGCONT);
        lw_kill_wait(journald, SIGTERM);
        journald = 0;
        snprintf(cmd, sizeof(cmd), "rm -rf /run/systemd/journal.%s /run/log/journal/*.%s /var/log/journal/*.%s",
                 journal_ns, journal_ns, journal_ns);
        (void) !system(cmd);
}

static void journald_stopped(void) {
        char *state = deep_state(), *sessions = lw_path(state, "agents/main/sessions");
        char sock[128], env[300], bin[4096], cmd[512], line[65536];
        pid_t dead = dead_pid();

        if (geteuid() != 0 || !lw_exists("/lib/systemd/systemd-journald")) {
                fprintf(stderr, "no systemd-journald to start: journald phase skipped\n");
                return;
        }
        snprintf(journal_ns, sizeof(journal_ns), "lwtest%d", (int) getpid());
        snprintf(sock, sizeof(sock), "/run/systemd/journal.%s/socket", journal_ns);
        journald = fork();
        CHECK(journald >= 0, "fork");
        if (journald == 0) {
                execl("/lib/systemd/systemd-journald", "systemd-journald", journal_ns, (char *) NULL);
                _exit(127);
        }
        atexit(journald_done);
        uint64_t deadline = lw_mono_ns() + LW_TIMEOUT_MS * 1000000ull;
        while (!lw_exists(sock)) {
                CHECK(lw_mono_ns() < deadline, "journald did not make %s", sock);
                usleep(10000);
        }
        snprintf(env, sizeof(env), "LOCKWARDEN_TEST_JOURNAL_SOCKET=%s", sock);
        snprintf(bin, sizeof(bin), "%s/src/lockwarden-hooked", lw_builddir());
        LwDaemon *d = start(bin, state, (const char *[]) { env, NULL });
        kill(journald, SIGSTOP);
        lw_wait_stopped(journald, LW_TIMEOUT_MS);
        burst(sessions, dead, d);
        char *canary = lw_path(sessions, "canary.jsonl.lock");
        write_lock(canary, dead);
        lw_expect(d, 4 * LW_TIMEOUT_MS, "lock.cleaned", "lock", canary);
        CHECK(!lw_exists(canary), "canary still there");
        kill(journald, SIGCONT);
        json_t *e = lw_expect(d, 2 * LW_TIMEOUT_MS, "monitor.dropped", "output", "journal");
        long long dropped = jint(e, "dropped");
        CHECK(dropped > 0, "dropped %lld", dropped);
        /* And the journal itself has the count. */
        snprintf(cmd, sizeof(cmd), "exec timeout 10 journalctl --namespace=%s --no-pager -f -n all -o json "
                 "MESSAGE_ID=5d0b7e2f84a94c31a7d6e0c9b3f1a285", journal_ns);
        FILE *f = popen(cmd, "r");
        CHECK(f && fgets(line, sizeof(line), f), "no monitor.dropped entry in the journal");
        pclose(f);
        json_t *entry = json_loads(line, 0, NULL);
        CHECK(entry && strcmp(jstr(entry, "OUTPUT"), "journal") == 0, "entry %s", line);
        json_decref(entry);
        CHECK(lw_daemon_stop(d) == 0, "exit status");

        /* An entry larger than a datagram goes in a sealed memfd: a dump of 300 locks with
         * kilobytes of path each (a live owner's, unheld, kept listed by a long grace). */
        grace = "3600000";
        d = start(bin, state, (const char *[]) { env, NULL });
        grace = "200";
        pid_t owner = lw_spawn_sleeper();
        for (int i = 0; i < 300; i++) {
                snprintf(line, sizeof(line), "h%03d-%0200d.jsonl.lock", i, 0);
                write_lock(lw_path(sessions, line), owner);
        }
        uint64_t until = lw_mono_ns() + 4ull * LW_TIMEOUT_MS * 1000000ull;
        while (status_count(d, "locks") < 300)
                CHECK(lw_mono_ns() < until, "the 300 locks were not all seen");
        kill(d->pid, SIGUSR1);
        /* (Too long a line for this test's reader of --events: read from the journal.) */
        snprintf(cmd, sizeof(cmd), "exec timeout 10 journalctl --namespace=%s --no-pager -f -n all -o json --all "
                 "--output-fields=LOCKS MESSAGE_ID=e5a0e0a2a3a84d8c9a6a2b8f3c1d7e42", journal_ns);
        f = popen(cmd, "r");
        char *big = NULL;
        size_t big_size = 0;
        CHECK(f && getline(&big, &big_size, f) > 0, "no monitor.dump entry in the journal");
        pclose(f);
        fprintf(stderr, "monitor.dump in the journal: %zu bytes\n", strlen(big));
        CHECK(strlen(big) > 256 * 1024, "the dump entry is only %zu bytes", strlen(big));
        free(big);
        lw_kill_wait(owner, SIGKILL);
        CHECK(lw_daemon_stop(d) == 0, "exit status");
        journald_done();
}

int main(int argc, char **argv) {
        lw_require_backend();
        /* One phase by name (for a failing one's log), else all. */
        const char *only = argc > 1 ? argv[1] : NULL;
        if (!only || strcmp(only, "events") == 0)
                events_stalled();
        if (!only || strcmp(only, "stderr") == 0)
                stderr_stalled();
        if (!only || strcmp(only, "journal") == 0)
                journal_stalled();
        if (!only || strcmp(only, "journald") == 0)
                journald_stopped();
        return 0;
}
