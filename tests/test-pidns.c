/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Containers: a holder writes its pid as it sees it, in its own pid namespace (OpenClaw's
 * Docker set-up: 1, 7, 8, 28; two containers can write the same number). Two holders, each pid
 * 1 of its own new pid namespace, hold two locks whose payloads both say pid 1. lockwarden ties
 * each payload to the process that created it (its NSpid ends in 1), not to the host's pid 1:
 * both are live; the one SIGKILLed is stale dead-pid at once, naming its pid here, and
 * cleaned; the other is never touched. Needs root (CLONE_NEWPID). */
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lwtest.h"

typedef struct Container {
        pid_t outer;   /* our child: waits for the holder, like `unshare --fork` */
        pid_t holder;  /* the holder's pid here (pid 1 inside) */
} Container;

/* Starts lock-holder on LOCK as pid 1 of a new pid namespace; returns once it holds the lock. */
static Container container_start(const char *lock) {
        char bin[4096], line[64] = "";
        int p[2], q[2];
        Container c;

        snprintf(bin, sizeof(bin), "%s/tests/lock-holder", lw_builddir());
        CHECK(pipe2(p, O_CLOEXEC) == 0 && pipe2(q, O_CLOEXEC) == 0, "pipe");
        c.outer = fork();
        CHECK(c.outer >= 0, "fork");
        if (c.outer == 0) {
                pid_t h;
                int status;

                if (unshare(CLONE_NEWPID) < 0)
                        _exit(126);
                h = fork();
                if (h < 0)
                        _exit(126);
                if (h == 0) {
                        dup2(p[1], STDOUT_FILENO);
                        execl(bin, bin, lock, (char *) NULL);
                        _exit(127);
                }
                dprintf(q[1], "%d\n", (int) h);
                (void) waitpid(h, &status, 0);
                _exit(0);
        }
        close(p[1]);
        close(q[1]);
        /* The holder's pid here, then its "locked 1" once it holds the lock (bounded reads: a
         * holder that cannot start closes the pipes). */
        FILE *f = fdopen(q[0], "re");
        int host = 0;
        CHECK(f && fscanf(f, "%d", &host) == 1 && host > 0, "the holder's pid");
        fclose(f);
        c.holder = host;
        f = fdopen(p[0], "re");
        CHECK(f && fgets(line, sizeof(line), f), "the holder did not report");
        fclose(f);
        CHECK(strcmp(line, "locked 1\n") == 0, "the holder is not pid 1 inside: %s", line);
        return c;
}

int main(void) {
        LwEnv e;

        lw_require_root();
        lw_env_start(&e, "200", NULL);
        char *a = lw_path(e.sessions, "a.jsonl.lock"), *b = lw_path(e.sessions, "b.jsonl.lock");
        Container ca = container_start(a), cb = container_start(b);

        json_t *ja = lw_expect(e.d, LW_TIMEOUT_MS, "lock.acquired", "lock", a);
        json_t *jb = lw_expect(e.d, LW_TIMEOUT_MS, "lock.acquired", "lock", b);
        CHECK(jint(ja, "pid") == 1 && jint(jb, "pid") == 1, "payload pids %lld %lld", jint(ja, "pid"), jint(jb, "pid"));
        /* "acquired by pid 1" alone names the host's init: the pid here is said too. */
        CHECK(jint(ja, "owner_host_pid") == ca.holder && jint(jb, "owner_host_pid") == cb.holder,
              "pids here %lld %lld (holders %d %d)", jint(ja, "owner_host_pid"), jint(jb, "owner_host_pid"),
              (int) ca.holder, (int) cb.holder);

        kill(ca.holder, SIGKILL);
        json_t *st = lw_expect(e.d, LW_TIMEOUT_MS, "lock.stale", "lock", a);
        CHECK(strcmp(jstr(st, "reason"), "dead-pid") == 0, "reason %s", jstr(st, "reason"));
        CHECK(jint(st, "owner_pid") == 1 && jint(st, "owner_host_pid") == ca.holder,
              "owner %lld here %lld (holder %d)", jint(st, "owner_pid"), jint(st, "owner_host_pid"), (int) ca.holder);
        CHECK(strcmp(jstr(st, "owner_ns"), "container") == 0, "owner_ns %s", jstr(st, "owner_ns"));
        lw_expect(e.d, LW_TIMEOUT_MS, "lock.cleaned", "lock", a);
        CHECK(!lw_exists(a), "a not removed");
        CHECK(lw_wait_exit(ca.outer, LW_TIMEOUT_MS) == 0, "container a");

        /* b's owner lives: past the grace (a barrier lock taken after it), untouched. */
        char *leak = lw_path(e.sessions, "barrier.jsonl.lock");
        const char *leak_args[] = { "--mode=leak", NULL };
        pid_t l = lw_holder_start(leak, leak_args);
        lw_expect(e.d, LW_TIMEOUT_MS, "lock.cleaned", "lock", leak);
        CHECK(lw_exists(b), "b removed");
        CHECK(lw_count(e.d, "lock.stale", "lock", b) == 0, "b judged stale");
        lw_kill_wait(l, SIGTERM);

        kill(cb.holder, SIGTERM);
        lw_expect(e.d, LW_TIMEOUT_MS, "lock.released", "lock", b);
        CHECK(lw_wait_exit(cb.outer, LW_TIMEOUT_MS) == 0, "container b");
        CHECK(lw_daemon_stop(e.d) == 0, "exit status");
        return 0;
}
