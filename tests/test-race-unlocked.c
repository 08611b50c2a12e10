/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* race.unlocked-write: a process appends to a transcript while no lock exists. A burst is one
 * report with its write and byte counts; the window ends when writes stop, when a lock
 * appears (reported at once, whatever the coalescing time), or when the daemon stops (never
 * lost). --races=off reports nothing. */
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "lwtest.h"

#define LINE "{\"type\":\"mirror\"}\n"   /* 18 bytes */

static void burst_is_one_report(void) {
        LwEnv e;
        lw_env_start(&e, "200", NULL);
        char *t = lw_path(e.sessions, "u.jsonl");
        const char *args[] = { "append", t, "40", LINE, NULL };

        pid_t a = lw_actor_start(args);
        json_t *r = lw_expect(e.d, LW_TIMEOUT_MS, "race.unlocked-write", "session", t);
        lw_check_actor(r, "actor_pid", a);
        if (lw_attributed())
                CHECK(strcmp(jstr(r, "actor_comm"), "session-actor") == 0, "actor_comm");
        CHECK(json_is_null(json_object_get(r, "lock")), "an unlocked write names a lock");
        CHECK(!json_object_get(r, "owner_pid"), "an unlocked write names an owner");
        CHECK(jint(r, "writes") >= 1 && jint(r, "writes") <= 40, "writes %lld", jint(r, "writes"));
        CHECK(jint(r, "bytes") == 40 * (long long) strlen(LINE), "bytes %lld", jint(r, "bytes"));
        const LwRecent seq[] = { { "transcript", "create", a }, { "transcript", "modify", a } };
        CHECK(lw_recent_has(r, seq, 2), "recent");

        /* Barrier: a lock on another session is reported after anything queued before it. */
        pid_t b = lw_barrier(&e, LW_TIMEOUT_MS);
        CHECK(lw_count(e.d, "race.unlocked-write", NULL, NULL) == 1, "a burst gave more than one report");
        lw_kill_wait(b, SIGTERM);
        lw_kill_wait(a, SIGTERM);
        CHECK(lw_daemon_stop(e.d) == 0, "exit status");
}

static void window_ends_with_lock_and_at_stop(void) {
        /* A coalescing time longer than the test may wait: only the lock can end the window. */
        const char *extra[] = { "--race-coalesce-ms", "60000", NULL };
        LwEnv e;
        lw_env_start(&e, "200", extra);
        char *t = lw_path(e.sessions, "w.jsonl"), *lock = lw_path(e.sessions, "w.jsonl.lock");
        const char *args[] = { "append", t, "3", LINE, NULL };

        pid_t a = lw_actor_start(args);
        pid_t h = lw_holder_start(lock, NULL);
        json_t *r = lw_expect(e.d, LW_TIMEOUT_MS, "race.unlocked-write", "session", t);
        lw_check_actor(r, "actor_pid", a);
        CHECK(jint(r, "bytes") == 3 * (long long) strlen(LINE), "bytes %lld", jint(r, "bytes"));
        const LwRecent seq[] = { { "transcript", "modify", a }, { "lock", "create", h } };
        CHECK(lw_recent_has(r, seq, 2), "recent must end with the lock that closed the window");
        lw_kill_wait(h, SIGTERM);
        lw_kill_wait(a, SIGTERM);

        /* Still open at stop: reported on the way out. */
        char *t2 = lw_path(e.sessions, "x.jsonl");
        const char *args2[] = { "append", t2, "2", LINE, NULL };
        pid_t a2 = lw_actor_start(args2);
        pid_t b = lw_barrier(&e, LW_TIMEOUT_MS);
        CHECK(lw_count(e.d, "race.unlocked-write", "session", t2) == 0, "window closed early");
        CHECK(lw_daemon_stop(e.d) == 0, "exit status");
        CHECK(lw_count(e.d, "race.unlocked-write", "session", t2) == 1, "open window lost at stop");
        lw_kill_wait(b, SIGTERM);
        lw_kill_wait(a2, SIGTERM);
}

/* A child that appends LINE to PATH once for every byte it reads from the pipe GO, until it
 * reads end-of-file. */
static pid_t stepped_writer(const char *path, int go[2]) {
        CHECK(pipe(go) == 0, "pipe");
        pid_t pid = fork();
        CHECK(pid >= 0, "fork");
        if (pid > 0) {
                close(go[0]);
                return pid;
        }
        char c;
        close(go[1]);
        while (read(go[0], &c, 1) == 1) {
                int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
                if (fd < 0 || write(fd, LINE, strlen(LINE)) != (ssize_t) strlen(LINE) || close(fd) < 0)
                        _exit(1);
        }
        _exit(0);
}

/* A window's size is not read at every write of its actor (once per batch): another writer's
 * bytes, written after the daemon read the first one's, are still not the first's. */
static void bytes_are_the_writers_own(void) {
        const char *extra[] = { "--race-coalesce-ms", "60000", NULL };
        LwEnv e;
        int go[2];
        lw_env_start(&e, "200", extra);
        char *t = lw_path(e.sessions, "two.jsonl"), *lock = lw_path(e.sessions, "two.jsonl.lock");
        const char *second[] = { "append", t, "2", "0123456\n", NULL };

        /* Five writes, each read by the daemon in a batch of its own (the barrier). */
        pid_t a = stepped_writer(t, go), b = 0;
        for (int i = 0; i < 5; i++) {
                CHECK(write(go[1], "w", 1) == 1, "go");
                if (b)
                        lw_kill_wait(b, SIGTERM);
                b = lw_barrier(&e, LW_TIMEOUT_MS);
        }
        CHECK(lw_count(e.d, "race.unlocked-write", "session", t) == 0, "window closed early");
        pid_t a2 = lw_actor_start(second);
        json_t *r = lw_expect(e.d, LW_TIMEOUT_MS, "race.unlocked-write", "session", t);
        lw_check_actor(r, "actor_pid", a);
        CHECK(jint(r, "bytes") == 5 * (long long) strlen(LINE), "the first writer's bytes: %lld", jint(r, "bytes"));
        pid_t h = lw_holder_start(lock, NULL); /* ends the second writer's window */
        r = lw_expect(e.d, LW_TIMEOUT_MS, "race.unlocked-write", "session", t);
        lw_check_actor(r, "actor_pid", a2);
        CHECK(jint(r, "bytes") == 2 * 8, "the second writer's bytes: %lld", jint(r, "bytes"));
        lw_kill_wait(h, SIGTERM);
        lw_kill_wait(b, SIGTERM);
        lw_kill_wait(a2, SIGTERM);
        close(go[1]);
        CHECK(lw_wait_exit(a, LW_TIMEOUT_MS) == 0, "the stepped writer failed");
        CHECK(lw_daemon_stop(e.d) == 0, "exit status");
}

static void races_off(void) {
        const char *extra[] = { "--races=off", "--race-coalesce-ms", "0", NULL };
        LwEnv e;
        lw_env_start(&e, "200", extra);
        char *t = lw_path(e.sessions, "o.jsonl");
        const char *args[] = { "append", t, "2", LINE, NULL };

        pid_t a = lw_actor_start(args);
        pid_t b = lw_barrier(&e, LW_TIMEOUT_MS);
        CHECK(lw_count(e.d, "race.unlocked-write", NULL, NULL) == 0, "--races=off reported a race");
        lw_kill_wait(b, SIGTERM);
        lw_kill_wait(a, SIGTERM);
        CHECK(lw_daemon_stop(e.d) == 0, "exit status");
        CHECK(lw_count(e.d, "race.unlocked-write", NULL, NULL) == 0, "--races=off reported a race at stop");
}

int main(void) {
        burst_is_one_report();
        window_ends_with_lock_and_at_stop();
        if (lw_attributed())
                bytes_are_the_writers_own(); /* without attribution both writers are one actor */
        races_off();
        return 0;
}
