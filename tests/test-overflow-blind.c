/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* While events are lost, no race is judged: between the overflow and the resync the daemon
 * cannot tell who did what. The test build of the daemon stops itself right after it reads
 * the overflow (LOCKWARDEN_TEST_STOP_AT=after-overflow); then a process writes to a transcript
 * without a lock (a race.unlocked-write on any other day), and the daemon goes on: it reads
 * that write before the queue is empty, so before the resync, and must not report it. After
 * the resync the same write is a race again. */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "lwtest.h"

#define LINE "{\"type\":\"mirror\"}\n"

int main(void) {
        lw_require_backend();
        char *state = lw_path(lw_tmpdir(), "state"), *sessions = lw_path(state, "agents/main/sessions");
        lw_mkdir_p(sessions);
        const char *envs[] = { "LOCKWARDEN_TEST_STOP_AT=after-overflow", NULL };
        const char *args[] = { "--state-dir", state, "--race-coalesce-ms", "0", NULL };
        LwDaemon *d = lw_daemon_start(lw_hooked_bin(), args, envs);
        lw_daemon_ready(d);

        lw_overflow_stopped(d, sessions);
        kill(d->pid, SIGCONT);
        lw_wait_stopped(d->pid, LW_TIMEOUT_MS * 4); /* it has read the overflow */
        char *t = lw_path(sessions, "u.jsonl");
        const char *write_args[] = { "append", t, "1", LINE, NULL };
        pid_t w1 = lw_actor_start(write_args); /* returns when it has written */
        kill(d->pid, SIGCONT);
        lw_expect(d, LW_TIMEOUT_MS * 4, "monitor.resync", NULL, NULL);

        /* Barrier: a lock taken after the resync is reported after all of the above. */
        char *lock = lw_path(sessions, "barrier.jsonl.lock");
        pid_t b = lw_holder_start(lock, NULL);
        lw_expect(d, LW_TIMEOUT_MS, "lock.acquired", "lock", lock);
        CHECK(lw_count(d, "race.", NULL, NULL) == 0, "a race was judged on a write read while blind");

        /* Seen again: the same write after the resync is a race. */
        pid_t w2 = lw_actor_start(write_args);
        lw_expect(d, LW_TIMEOUT_MS, "race.unlocked-write", "session", t);
        lw_kill_wait(w1, SIGTERM);
        lw_kill_wait(w2, SIGTERM);
        lw_kill_wait(b, SIGTERM);
        CHECK(lw_daemon_stop(d) == 0, "exit status");
        return 0;
}
