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

int main(void) {
        LwEnv e;

        lw_require_root();
        lw_env_start(&e, "200", NULL);
        char *a = lw_path(e.sessions, "a.jsonl.lock"), *b = lw_path(e.sessions, "b.jsonl.lock");
        LwContainer ca = lw_container_start(a), cb = lw_container_start(b);

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
