/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A payload names a live pid whose start time differs (the pid was recycled) and nobody
 * holds the lock: recycled-pid at once, removed. The live process is not disturbed. */
#include <signal.h>
#include <stdio.h>

#include "lwtest.h"

int main(void) {
        LwEnv e;
        lw_env_start(&e, "10000", NULL);
        char *lock = lw_path(e.sessions, "s1.jsonl.lock");
        pid_t sleeper = lw_spawn_sleeper();
        char payload[256];
        int n = snprintf(payload, sizeof(payload),
                         "{\n  \"pid\": %d,\n  \"createdAt\": \"2026-05-28T04:22:01.123Z\",\n"
                         "  \"maxHoldMs\": 300000,\n  \"starttime\": 1\n}\n", (int) sleeper);

        lw_write_file(lock, payload, (size_t) n);
        json_t *st = lw_expect(e.d, LW_TIMEOUT_MS, "lock.stale", "lock", lock);
        CHECK(strcmp(jstr(st, "reason"), "recycled-pid") == 0, "reason %s", jstr(st, "reason"));
        CHECK(jint(st, "owner_pid") == sleeper, "owner %lld", jint(st, "owner_pid"));
        /* Judged at once, not after the 10 s grace (the 5 s wait above would have failed). */
        lw_expect(e.d, LW_TIMEOUT_MS, "lock.cleaned", "lock", lock);
        CHECK(!lw_exists(lock), "lock still on disk");
        CHECK(kill(sleeper, 0) == 0, "sleeper disturbed");
        lw_kill_wait(sleeper, SIGKILL);
        CHECK(lw_daemon_stop(e.d) == 0, "exit status");
        return 0;
}
