/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A payload names a live pid whose start time differs (the pid was recycled, or the number is
 * another pid namespace's) and nobody holds the lock for writing. No process that created or
 * holds the lock has that pid in any namespace, so the number alone judges nothing: stale
 * recycled-pid once the grace has passed, saying so, and removed. The live process is not
 * disturbed. */
#include <signal.h>
#include <stdio.h>

#include "lwtest.h"

int main(void) {
        LwEnv e;
        lw_env_start(&e, "300", NULL);
        char *lock = lw_path(e.sessions, "s1.jsonl.lock");
        pid_t sleeper = lw_spawn_sleeper();
        char payload[256];
        int n = snprintf(payload, sizeof(payload),
                         "{\n  \"pid\": %d,\n  \"createdAt\": \"2026-05-28T04:22:01.123Z\",\n"
                         "  \"maxHoldMs\": 300000,\n  \"starttime\": 1\n}\n", (int) sleeper);

        lw_write_file(lock, payload, (size_t) n);
        uint64_t written = lw_mono_ns();
        json_t *st = lw_expect(e.d, LW_TIMEOUT_MS, "lock.stale", "lock", lock);
        CHECK(strcmp(jstr(st, "reason"), "recycled-pid") == 0, "reason %s", jstr(st, "reason"));
        CHECK(jint(st, "owner_pid") == sleeper, "owner %lld", jint(st, "owner_pid"));
        CHECK(strcmp(jstr(st, "owner_ns"), "unverified") == 0, "owner_ns %s", jstr(st, "owner_ns"));
        CHECK(strstr(jstr(st, "detail"), "another pid namespace"), "detail %s", jstr(st, "detail"));
        /* Not at once: after the grace. */
        CHECK((uint64_t) jint(st, "mono_ns") >= written + 300 * 1000000ull, "judged before the grace");
        lw_expect(e.d, LW_TIMEOUT_MS, "lock.cleaned", "lock", lock);
        CHECK(!lw_exists(lock), "lock still on disk");
        CHECK(kill(sleeper, 0) == 0, "sleeper disturbed");
        lw_kill_wait(sleeper, SIGKILL);

        /* Pid 1, whose open files may be unreadable (to an unprivileged daemon, or on a host
         * that hides it): its start time decides first, it is not taken to hold the lock. */
        char *one = lw_path(e.sessions, "s2.jsonl.lock");
        n = snprintf(payload, sizeof(payload), "{\n  \"pid\": 1,\n  \"createdAt\": \"2026-05-28T04:22:01.123Z\",\n"
                     "  \"starttime\": 999999999\n}\n");
        lw_write_file(one, payload, (size_t) n);
        st = lw_expect(e.d, LW_TIMEOUT_MS, "lock.stale", "lock", one);
        CHECK(strcmp(jstr(st, "reason"), "recycled-pid") == 0, "pid 1: reason %s", jstr(st, "reason"));
        lw_expect(e.d, LW_TIMEOUT_MS, "lock.cleaned", "lock", one);
        CHECK(lw_daemon_stop(e.d) == 0, "exit status");
        return 0;
}
