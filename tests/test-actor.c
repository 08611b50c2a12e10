/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Who acted (actor_comm, actor_exe) is read from /proc once per process, at its first kernel
 * event, and kept with its pidfd (src/kernel/actor.c):
 * - a process that makes five races is read once (monitor.dump's actor_reads), and every
 *   report names it; one that takes five locks has its pid namespace read once;
 * - a process that made its race and exited before the daemon read it is still named (it was
 *   read at its first event, while it lived); before, such a report said "?";
 * - a pid taken by another process after the first one exited names the new one;
 * - what is kept is bounded: 300 writers of 300 transcripts leave at most ACTOR_CACHE_MAX
 *   pidfds and SIZE_CACHE_MAX transcript descriptors (src/model/size-cache.h) open in the daemon. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lwtest.h"

#define ACTOR_CACHE_MAX 256 /* src/kernel/actor.h */
#define SIZE_CACHE_MAX 128  /* src/model/size-cache.h */
#define WRITERS (ACTOR_CACHE_MAX + 44)

static const char *const immediate[] = { "--race-coalesce-ms", "0", NULL };

static void append(const char *path) {
        int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0 || write(fd, "{}\n", 3) != 3 || close(fd) < 0)
                _exit(3);
}

/* A child named NAME that appends to each of PATHS, telling the parent after each on TOLD (a
 * pipe; -1: not told) and waiting for a byte on GO before each (-1: does not wait); then it
 * lives until the pipe LINGER (NULL: exits at once) reads end-of-file: /proc has no exe
 * for a process that has exited. */
static pid_t writer(const char *name, char **paths, int n, int told, int go, const int *linger) {
        pid_t pid = fork();

        CHECK(pid >= 0, "fork");
        if (pid > 0)
                return pid;
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        prctl(PR_SET_NAME, name);
        for (int i = 0; i < n; i++) {
                char c;
                if (go >= 0 && read(go, &c, 1) != 1)
                        _exit(4);
                append(paths[i]);
                if (told >= 0 && write(told, "w", 1) != 1)
                        _exit(5);
        }
        if (linger) {
                char c;
                close(linger[1]);
                while (read(linger[0], &c, 1) > 0)
                        ;
        }
        _exit(0);
}

static long long actor_reads(LwEnv *e) {
        kill(e->d->pid, SIGUSR1);
        json_t *dump = lw_expect(e->d, LW_TIMEOUT_MS, "monitor.dump", NULL, NULL);
        CHECK(json_object_get(dump, "actor_reads"), "monitor.dump has no actor_reads");
        return jint(dump, "actor_reads");
}

static void read_once(void) {
        LwEnv e;
        char *paths[5];

        lw_env_start(&e, "1000", immediate);
        for (int i = 0; i < 5; i++) {
                char name[32];
                snprintf(name, sizeof(name), "once-%d.jsonl", i);
                paths[i] = lw_path(e.sessions, name);
        }
        int linger[2];
        CHECK(pipe2(linger, O_CLOEXEC) == 0, "pipe");
        long long before = actor_reads(&e);
        pid_t w = writer("lw-actor-once", paths, 5, -1, -1, linger);
        for (int i = 0; i < 5; i++) {
                json_t *r = lw_expect(e.d, LW_TIMEOUT_MS, "race.unlocked-write", "session", paths[i]);
                lw_check_actor(r, "actor_pid", w);
                CHECK(strcmp(jstr(r, "actor_comm"), "lw-actor-once") == 0, "actor_comm %s", jstr(r, "actor_comm"));
                CHECK(strstr(jstr(r, "actor_exe"), "test-actor"), "actor_exe %s", jstr(r, "actor_exe"));
        }
        close(linger[0]);
        close(linger[1]);
        int st = lw_wait_exit(w, LW_TIMEOUT_MS);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "writer: %#x", st);
        long long reads = actor_reads(&e) - before;
        CHECK(reads == 1, "one process's facts were read %lld times for its five races", reads);
        CHECK(lw_daemon_stop(e.d) == 0, "exit status");
}

/* A child that takes N locks the protocol's way (O_EXCL, its pid as payload) and holds them
 * until the pipe LINGER reads end-of-file. */
static pid_t locker(char **locks, int n, const int *linger) {
        pid_t pid = fork();

        CHECK(pid >= 0, "fork");
        if (pid > 0)
                return pid;
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        for (int i = 0; i < n; i++) {
                char payload[128];
                int fd = open(locks[i], O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
                int len = snprintf(payload, sizeof(payload), "{\"pid\":%d,\"createdAt\":\"2026-11-30T00:00:00.000Z\"}",
                                   (int) getpid());
                if (fd < 0 || write(fd, payload, (size_t) len) != len)
                        _exit(3);
        }
        char c;
        close(linger[1]);
        while (read(linger[0], &c, 1) > 0)
                ;
        _exit(0);
}

static void nspid_once(void) {
        LwEnv e;
        char *locks[5];
        int linger[2];

        lw_env_start(&e, "1000", NULL);
        for (int i = 0; i < 5; i++) {
                char name[32];
                snprintf(name, sizeof(name), "held-%d.jsonl.lock", i);
                locks[i] = lw_path(e.sessions, name);
        }
        CHECK(pipe2(linger, O_CLOEXEC) == 0, "pipe");
        long long before = actor_reads(&e);
        pid_t l = locker(locks, 5, linger);
        for (int i = 0; i < 5; i++) {
                json_t *r = lw_expect(e.d, LW_TIMEOUT_MS, "lock.acquired", "lock", locks[i]);
                CHECK(jint(r, "owner_host_pid") == l, "owner_host_pid %lld", jint(r, "owner_host_pid"));
        }
        long long reads = actor_reads(&e) - before;
        CHECK(reads == 2, "one lock taker's facts and pid namespace: %lld reads for five locks", reads);
        close(linger[0]);
        close(linger[1]);
        lw_wait_exit(l, LW_TIMEOUT_MS);
        CHECK(lw_daemon_stop(e.d) == 0, "exit status");
}

static void dead_actor_named(void) {
        LwEnv e;
        int told[2], go[2];
        char *paths[2];
        char c;

        lw_env_start(&e, "1000", immediate);
        paths[0] = lw_path(e.sessions, "first.jsonl");
        paths[1] = lw_path(e.sessions, "late.jsonl");
        CHECK(pipe(told) == 0 && pipe(go) == 0, "pipe");
        pid_t w = writer("lw-actor-gone", paths, 2, told[1], go[0], NULL);
        CHECK(write(go[1], "g", 1) == 1 && read(told[0], &c, 1) == 1, "first write");
        lw_expect(e.d, LW_TIMEOUT_MS, "race.unlocked-write", "session", paths[0]);

        /* The second race is read only after its maker is gone. */
        kill(e.d->pid, SIGSTOP);
        lw_wait_stopped(e.d->pid, LW_TIMEOUT_MS);
        CHECK(write(go[1], "g", 1) == 1, "go");
        int st = lw_wait_exit(w, LW_TIMEOUT_MS);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "writer: %#x", st);
        kill(e.d->pid, SIGCONT);
        json_t *r = lw_expect(e.d, LW_TIMEOUT_MS, "race.unlocked-write", "session", paths[1]);
        CHECK(jint(r, "actor_pid") == w, "actor_pid %lld", jint(r, "actor_pid"));
        CHECK(strcmp(jstr(r, "actor_comm"), "lw-actor-gone") == 0, "a dead actor's comm: %s", jstr(r, "actor_comm"));
        CHECK(lw_daemon_stop(e.d) == 0, "exit status");
}

/* Forks a child that gets pid WANT (root: ns_last_pid), named NAME, appending to PATH. Returns
 * 0 if another process took the pid first. */
static pid_t writer_with_pid(pid_t want, const char *name, char *path) {
        for (int attempt = 0; attempt < 50; attempt++) {
                FILE *f = fopen("/proc/sys/kernel/ns_last_pid", "we");
                CHECK(f, "ns_last_pid");
                fprintf(f, "%d", (int) want - 1);
                fclose(f);
                pid_t p = writer(name, &path, 1, -1, -1, NULL);
                if (p == want)
                        return p;
                lw_wait_exit(p, LW_TIMEOUT_MS);
        }
        return 0;
}

static void reused_pid_named_anew(void) {
        LwEnv e;

        lw_env_start(&e, "1000", immediate);
        char *a = lw_path(e.sessions, "a.jsonl"), *b = lw_path(e.sessions, "b.jsonl");
        pid_t first = writer("lw-actor-first", &a, 1, -1, -1, NULL);
        json_t *r = lw_expect(e.d, LW_TIMEOUT_MS, "race.unlocked-write", "session", a);
        CHECK(strcmp(jstr(r, "actor_comm"), "lw-actor-first") == 0, "actor_comm %s", jstr(r, "actor_comm"));
        lw_wait_exit(first, LW_TIMEOUT_MS);

        pid_t second = writer_with_pid(first, "lw-actor-second", b);
        CHECK(second == first, "pid %d was not free again after 50 tries", (int) first);
        r = lw_expect(e.d, LW_TIMEOUT_MS, "race.unlocked-write", "session", b);
        CHECK(jint(r, "actor_pid") == first, "actor_pid %lld", jint(r, "actor_pid"));
        CHECK(strcmp(jstr(r, "actor_comm"), "lw-actor-second") == 0, "a reused pid named %s", jstr(r, "actor_comm"));
        lw_wait_exit(second, LW_TIMEOUT_MS);
        CHECK(lw_daemon_stop(e.d) == 0, "exit status");
}

static void bounded(void) {
        LwEnv e;

        lw_env_start(&e, "1000", immediate);
        size_t base = lw_fd_count(e.d->pid);
        int linger[2];
        pid_t w[WRITERS];
        CHECK(pipe2(linger, O_CLOEXEC) == 0, "pipe");
        for (int i = 0; i < WRITERS; i++) {
                char name[32];
                snprintf(name, sizeof(name), "many-%d.jsonl", i);
                char *t = lw_path(e.sessions, name);
                w[i] = writer("lw-actor-many", &t, 1, -1, -1, linger);
                free(t);
        }
        /* Barrier: the lock's report comes after every write queued before it. */
        pid_t b = lw_barrier(&e, LW_TIMEOUT_MS);
        size_t now = lw_fd_count(e.d->pid);
        fprintf(stderr, "daemon fds: %zu before, %zu after %d writers\n", base, now, WRITERS);
        CHECK(now <= base + ACTOR_CACHE_MAX + SIZE_CACHE_MAX + 8, "%zu fds after %d writers (%zu before)", now,
              WRITERS, base);
        CHECK(now >= base + ACTOR_CACHE_MAX + SIZE_CACHE_MAX / 2, "%zu fds: the writers or their transcripts were "
              "not kept (%zu before)", now, base);
        close(linger[0]);
        close(linger[1]);
        for (int i = 0; i < WRITERS; i++)
                lw_wait_exit(w[i], LW_TIMEOUT_MS);
        lw_kill_wait(b, SIGTERM);
        CHECK(lw_daemon_stop(e.d) == 0, "exit status");
}

int main(void) {
        lw_require_attribution("actors are named by the pid fanotify gives");
        read_once();
        nspid_once();
        dead_actor_named();
        reused_pid_named_anew();
        bounded();
        return 0;
}
