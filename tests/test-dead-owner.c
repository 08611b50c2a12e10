/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A holder is SIGKILLed while holding its lock: lock.stale and lock.cleaned with reason
 * dead-pid, and the lock file is gone. */
#include <signal.h>

#include "lwtest.h"

int main(void) {
        LwEnv e;
        lw_env_start(&e, "1000", NULL);
        char *lock = lw_path(e.sessions, "s1.jsonl.lock");

        pid_t h = lw_holder_start(lock, NULL);
        json_t *acq = lw_expect(e.d, LW_TIMEOUT_MS, "lock.acquired", "lock", lock);
        CHECK(jint(acq, "pid") == h, "acquired by %lld, expected %d", jint(acq, "pid"), (int) h);
        CHECK(*jstr(acq, "session") && *jstr(acq, "comm"), "acquired lacks session/comm");

        lw_kill_wait(h, SIGKILL);
        json_t *st = lw_expect(e.d, LW_TIMEOUT_MS, "lock.stale", "lock", lock);
        CHECK(strcmp(jstr(st, "reason"), "dead-pid") == 0, "stale reason %s", jstr(st, "reason"));
        CHECK(jint(st, "owner_pid") == h, "stale owner %lld", jint(st, "owner_pid"));
        json_t *c = lw_expect(e.d, LW_TIMEOUT_MS, "lock.cleaned", "lock", lock);
        CHECK(strcmp(jstr(c, "reason"), "dead-pid") == 0, "cleaned reason %s", jstr(c, "reason"));
        CHECK(jint(c, "owner_pid") == h, "cleaned owner %lld", jint(c, "owner_pid"));
        CHECK(json_is_integer(json_object_get(c, "latency_us")) && jint(c, "latency_us") >= 0, "latency_us");
        CHECK(*jstr(c, "ts") && json_is_integer(json_object_get(c, "mono_ns")), "common fields");
        CHECK(!lw_exists(lock), "lock still on disk");
        /* No quarantine leftovers. */
        CHECK(lw_count(e.d, "monitor.error", NULL, NULL) == 0, "errors reported");
        CHECK(lw_daemon_stop(e.d) == 0, "daemon did not exit 0 on SIGTERM");
        return 0;
}
