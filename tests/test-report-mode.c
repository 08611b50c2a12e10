/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* --cleanup=report: stale locks are reported (lock.stale, then lock.kept with why) and none is
 * removed. Each is reported once, not on every event. */
#include <signal.h>

#include "lwtest.h"

int main(void) {
        LwEnv e;
        const char *extra[] = { "--cleanup=report", NULL };
        lw_env_start(&e, "200", extra);
        char *dead = lw_path(e.sessions, "dead.jsonl.lock");
        char *leak = lw_path(e.sessions, "leak.jsonl.lock");
        const char *leak_args[] = { "--mode=leak", NULL };

        pid_t h = lw_holder_start(dead, NULL);
        lw_kill_wait(h, SIGKILL);
        json_t *k = lw_expect(e.d, LW_TIMEOUT_MS, "lock.kept", "lock", dead);
        CHECK(strcmp(jstr(k, "reason"), "dead-pid") == 0, "reason %s", jstr(k, "reason"));
        CHECK(*jstr(k, "why"), "why");

        pid_t l = lw_holder_start(leak, leak_args);
        k = lw_expect(e.d, LW_TIMEOUT_MS, "lock.kept", "lock", leak);
        CHECK(strcmp(jstr(k, "reason"), "leaked") == 0, "reason %s", jstr(k, "reason"));

        lw_expect_none_after_grace(e.d, e.sessions, "lock.cleaned", NULL, NULL);
        CHECK(lw_exists(dead) && lw_exists(leak), "report mode removed a lock");
        CHECK(lw_count(e.d, "lock.stale", "lock", dead) == 1, "dead reported more than once");
        CHECK(lw_count(e.d, "lock.stale", "lock", leak) == 1, "leak reported more than once");
        lw_kill_wait(l, SIGTERM);
        CHECK(lw_daemon_stop(e.d) == 0, "exit status");
        return 0;
}
