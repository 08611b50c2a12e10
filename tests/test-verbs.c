/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The verbs against a running daemon with real lock holders: status, locks (table and JSON,
 * field by field), holders, events (ring and --since), cleanup; the socket's permissions
 * (an unprivileged peer is refused, the socket's group may read but not clean up); a second
 * daemon on the same socket refuses to start; a stale socket file is replaced. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "lwtest.h"

static char out[1 << 20], err[1 << 16];

static json_t *run_json(const char *const *args) {
        json_error_t e;
        int s = lw_run(args, -1, out, sizeof(out), err, sizeof(err));
        CHECK(s == 0, "lockwarden %s exit %d: %s", args[0], s, err);
        json_t *j = json_loads(out, 0, &e);
        CHECK(j, "lockwarden %s --json printed no JSON (%s): %s", args[0], e.text, out);
        return j;
}

static json_t *find_lock(json_t *arr, const char *lock) {
        json_t *l;
        size_t i;

        json_array_foreach(arr, i, l)
                if (strcmp(jstr(l, "lock"), lock) == 0)
                        return l;
        return NULL;
}

int main(void) {
        lw_require_root(); /* permission checks switch users */
        LwEnv e;
        lw_env_start(&e, "200", NULL);
        const char *sock = e.d->socket;
        char *lock = lw_path(e.sessions, "v.jsonl.lock"), *t = lw_path(e.sessions, "v.jsonl");
        const char *hargs[] = { "--transcript", t, NULL };
        pid_t h = lw_holder_start(lock, hargs);
        lw_expect(e.d, LW_TIMEOUT_MS, "lock.acquired", "lock", lock);

        /* status */
        const char *st_json[] = { "status", "--socket", sock, "--json", NULL };
        json_t *st = run_json(st_json);
        CHECK(jint(st, "pid") == e.d->pid, "status pid");
        CHECK(strcmp(jstr(st, "backend"), "fanotify") == 0 && strcmp(jstr(st, "attribution"), "pid") == 0, "backend");
        CHECK(json_array_size(json_object_get(st, "folders")) == 1 &&
              strcmp(json_string_value(json_array_get(json_object_get(st, "folders"), 0)), e.sessions) == 0, "folders");
        CHECK(jint(st, "locks") == 1 && jint(st, "uptime_ms") >= 0 && *jstr(st, "started"), "status counts");
        CHECK(json_is_integer(json_object_get(json_object_get(st, "counters"), "cleaned")), "counters");
        const char *st_table[] = { "status", "--socket", sock, NULL };
        CHECK(lw_run(st_table, -1, out, sizeof(out), err, sizeof(err)) == 0, "status: %s", err);
        CHECK(strstr(out, "backend:   fanotify") && strstr(out, e.sessions), "status text: %s", out);

        /* locks */
        const char *locks_json[] = { "locks", "--socket", sock, "--json", NULL };
        json_t *locks = run_json(locks_json), *l = find_lock(locks, lock);
        CHECK(l, "lock missing from locks --json");
        CHECK(strcmp(jstr(l, "session"), t) == 0, "session %s", jstr(l, "session"));
        CHECK(jint(l, "owner_pid") == h && strcmp(jstr(l, "owner_comm"), "lock-holder") == 0, "owner");
        CHECK(json_is_true(json_object_get(l, "owner_alive")) && json_is_true(json_object_get(l, "holding")), "alive/holding");
        CHECK(json_array_size(json_object_get(l, "holders")) == 1 &&
              json_integer_value(json_array_get(json_object_get(l, "holders"), 0)) == h, "holders");
        CHECK(jint(l, "age_ms") >= 0 && strcmp(jstr(l, "verdict"), "live") == 0, "age/verdict");
        CHECK(json_is_true(json_object_get(l, "payload_valid")), "payload_valid");
        const char *locks_table[] = { "locks", "--socket", sock, NULL };
        CHECK(lw_run(locks_table, -1, out, sizeof(out), err, sizeof(err)) == 0, "locks: %s", err);
        CHECK(strncmp(out, "LOCK ", 5) == 0 && strstr(out, "OWNER") && strstr(out, "VERDICT"), "header: %s", out);
        char row[256];
        snprintf(row, sizeof(row), "%d  lock-holder  yes    yes", (int) h);
        CHECK(strstr(out, lock) && strstr(out, row) && strstr(out, "live"), "row: %s", out);
        CHECK(strstr(out, "\n1 lock listed.\n"), "legend: %s", out);
        const char *locks_bare[] = { "locks", "--socket", sock, "--no-legend", NULL };
        CHECK(lw_run(locks_bare, -1, out, sizeof(out), err, sizeof(err)) == 0 && strncmp(out, "/", 1) == 0 &&
              !strstr(out, "listed"), "--no-legend: %s", out);
        /* A narrow terminal: the path column is shortened (in the middle), the rows fit. */
        setenv("COLUMNS", "72", 1);
        CHECK(lw_run(locks_table, -1, out, sizeof(out), err, sizeof(err)) == 0, "locks");
        unsetenv("COLUMNS");
        /* Shortened in the middle: the end of the name stays (how much of it depends on how
         * wide the other columns are: the age, say). */
        CHECK(strstr(out, "\u2026") && strstr(out, "lock ") && !strstr(out, lock), "not shortened: %s", out);
        for (char *line = out, *nl; (nl = strchr(line, '\n')); line = nl + 1) {
                size_t w = 0;
                for (char *p = line; p < nl; p++)
                        w += ((unsigned char) *p & 0xC0) != 0x80;
                CHECK(w <= 72, "a %zu-column line in a 72-column terminal: %.*s", w, (int) (nl - line), line);
        }

        /* holders */
        const char *hold_json[] = { "holders", "--socket", sock, "--json", lock, NULL };
        json_t *hj = run_json(hold_json), *hr = json_array_get(hj, 0);
        CHECK(json_array_size(hj) == 1 && jint(hr, "pid") == h && strcmp(jstr(hr, "mode"), "w") == 0 &&
              json_is_integer(json_object_get(hr, "fd")) && strcmp(jstr(hr, "kind"), "lock") == 0 &&
              strcmp(jstr(hr, "comm"), "lock-holder") == 0, "holders row");
        /* A transcript's holders: a reader while it holds it, then not once it has closed it
         * (a transcript's closes are confirmed when its holders are asked for). */
        int go[2], ready[2];
        CHECK(pipe(go) == 0 && pipe(ready) == 0, "pipe");
        pid_t rd = fork();
        CHECK(rd >= 0, "fork");
        if (rd == 0) {
                char c;
                int fd = open(t, O_RDONLY | O_CLOEXEC);
                if (fd < 0 || write(ready[1], "o", 1) != 1 || read(go[0], &c, 1) != 1)
                        _exit(1);
                close(fd);
                if (write(ready[1], "c", 1) != 1)
                        _exit(1);
                for (;;)
                        pause();
        }
        char c;
        CHECK(read(ready[0], &c, 1) == 1 && c == 'o', "reader did not open the transcript");
        pid_t b1 = lw_barrier(&e, LW_TIMEOUT_MS); /* its open has been read */
        const char *hold_t[] = { "holders", "--socket", sock, "--json", t, NULL };
        json_t *tj = run_json(hold_t);
        bool listed = false;
        for (size_t k = 0; k < json_array_size(tj); k++)
                listed = listed || jint(json_array_get(tj, k), "pid") == rd;
        CHECK(listed && strcmp(jstr(json_array_get(tj, 0), "kind"), "transcript") == 0, "the reader is not listed");
        CHECK(write(go[1], "x", 1) == 1 && read(ready[0], &c, 1) == 1 && c == 'c', "reader did not close");
        char *other = lw_path(e.sessions, "barrier2.jsonl.lock");
        pid_t b2 = lw_holder_start(other, NULL); /* its close has been read */
        lw_expect(e.d, LW_TIMEOUT_MS, "lock.acquired", "lock", other);
        tj = run_json(hold_t);
        for (size_t k = 0; k < json_array_size(tj); k++)
                CHECK(jint(json_array_get(tj, k), "pid") != rd, "a reader that closed the transcript is still listed");
        lw_kill_wait(rd, SIGKILL);
        lw_kill_wait(b1, SIGTERM);
        lw_kill_wait(b2, SIGTERM);
        free(other);

        const char *hold_missing[] = { "holders", "--socket", sock, "/nonexistent.jsonl", NULL };
        CHECK(lw_run(hold_missing, -1, out, sizeof(out), err, sizeof(err)) == 1 && strstr(err, "No such file"),
              "holders of a missing file: %s", err);
        const char *hold_unknown[] = { "holders", "--socket", sock, "/etc/passwd", NULL };
        CHECK(lw_run(hold_unknown, -1, out, sizeof(out), err, sizeof(err)) == 1 && strstr(err, "not a session file"),
              "holders of an unguarded file: %s", err);

        /* events: the ring, and --since */
        const char *ev_args[] = { "events", "--socket", sock, "--json", NULL };
        CHECK(lw_run(ev_args, -1, out, sizeof(out), err, sizeof(err)) == 0, "events: %s", err);
        CHECK(strstr(out, "\"event\":\"monitor.ready\"") && strstr(out, "\"event\":\"lock.acquired\""), "events: %s", out);
        const char *ev_since[] = { "events", "--socket", sock, "--json", "--since", "1ms", NULL };
        /* --since 1ms leaves out monitor.ready once 1 ms has passed since its mono_ns (the
         * daemon's CLOCK_MONOTONIC): wait for that moment, not for a guessed delay. It is long
         * past by now, so this does not wait at all. */
        json_t *first = json_loads(out, JSON_DISABLE_EOF_CHECK, NULL); /* one event per line */
        CHECK(first && strcmp(jstr(first, "event"), "monitor.ready") == 0, "the ring does not start with monitor.ready: %s", out);
        long long until_ns = jint(first, "mono_ns") + 2000000;
        struct timespec until = { .tv_sec = until_ns / 1000000000, .tv_nsec = until_ns % 1000000000 };
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL) == EINTR)
                ;
        json_decref(first);
        CHECK(lw_run(ev_since, -1, out, sizeof(out), err, sizeof(err)) == 0 && !strstr(out, "monitor.ready"),
              "--since 1ms still lists old events: %s", out);
        const char *ev_bad[] = { "events", "--socket", sock, "--since", "soon", NULL };
        CHECK(lw_run(ev_bad, -1, out, sizeof(out), err, sizeof(err)) == 2 && strstr(err, "duration"), "bad --since");

        /* cleanup: every lock judged again (none left once the holder released). */
        lw_kill_wait(h, SIGTERM);
        lw_expect(e.d, LW_TIMEOUT_MS, "lock.released", "lock", lock);
        const char *clean_args[] = { "cleanup", "--socket", sock, "--json", NULL };
        json_t *cj = run_json(clean_args);
        CHECK(json_is_array(json_object_get(cj, "judged")) && json_is_array(json_object_get(cj, "events")), "cleanup reply");

        /* Permissions: root-only socket file mode keeps others out ... */
        struct stat sst;
        char *sockdir = strdup(sock);
        *strrchr(sockdir, '/') = '\0';
        CHECK(chmod(sockdir, 0755) == 0, "chmod socket folder");
        if (lw_run(st_table, 65534, out, sizeof(out), err, sizeof(err)) == 126) {
                fprintf(stderr, "SKIP: nobody cannot run %s/src/lockwarden here\n", lw_builddir());
                return LW_SKIP;
        }
        CHECK(stat(sock, &sst) == 0 && (sst.st_mode & 0777) == 0660, "socket mode %o", sst.st_mode & 0777);
        CHECK(lw_run(st_table, 65534, out, sizeof(out), err, sizeof(err)) == 1 && strstr(err, "Permission denied"),
              "nobody reached a 0660 root socket: %s", err);
        /* ... and peer credentials decide past it. */
        CHECK(chmod(sock, 0666) == 0, "chmod");
        CHECK(lw_run(st_table, 65534, out, sizeof(out), err, sizeof(err)) == 1 && strstr(err, "permission-denied"),
              "nobody outside the socket's group was answered: %s", err);
        CHECK(chmod(sock, 0660) == 0 && chown(sock, 0, 65534) == 0, "chgrp to nogroup");
        CHECK(lw_run(st_table, 65534, out, sizeof(out), err, sizeof(err)) == 0 && strstr(out, "backend"),
              "the socket's group may read: %s", err);
        const char *clean_table[] = { "cleanup", "--socket", sock, NULL };
        CHECK(lw_run(clean_table, 65534, out, sizeof(out), err, sizeof(err)) == 1 && strstr(err, "root only"),
              "the socket's group may not clean up: %s", err);

        /* A second daemon on the same socket refuses to start, and says why. */
        const char *second[] = { "run", "--watch", e.sessions, "--socket", sock, NULL };
        CHECK(lw_run(second, -1, out, sizeof(out), err, sizeof(err)) == 1 && strstr(err, "another lockwarden"),
              "second daemon: %s", err);
        CHECK(lw_daemon_stop(e.d) == 0, "exit status");
        CHECK(!lw_exists(sock), "socket file left behind");

        /* A stale socket file from a crashed run is replaced. */
        int fd = socket(AF_UNIX, SOCK_STREAM, 0);
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
        CHECK(fd >= 0 && bind(fd, (struct sockaddr *) &sa, sizeof(sa)) == 0, "bind stale");
        close(fd);
        const char *again[] = { "--watch", e.sessions, "--socket", sock, NULL };
        LwDaemon *d = lw_daemon_start(NULL, again, NULL);
        lw_daemon_ready(d);
        CHECK(lw_run(st_table, -1, out, sizeof(out), err, sizeof(err)) == 0, "status after a stale socket: %s", err);
        CHECK(lw_daemon_stop(d) == 0, "exit status");
        return 0;
}
