/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Names with odd bytes (newline, invalid UTF-8, a backslash, spaces) are guarded like any
 * other; every event stays valid JSON with the name escaped as \xNN, and cleanup works. */
#include <signal.h>

#include "lwtest.h"

int main(void) {
        LwEnv e;
        lw_env_start(&e, "200", NULL);
        const char *raw = "we\xff ird\\\nname.jsonl.lock";
        char *lock = lw_path(e.sessions, raw);
        char *expected = lw_path(e.sessions, "we\\xff ird\\\\\\x0aname.jsonl.lock");

        pid_t h = lw_holder_start(lock, NULL);
        lw_expect(e.d, LW_TIMEOUT_MS, "lock.acquired", "lock", expected);
        lw_kill_wait(h, SIGKILL);
        lw_expect(e.d, LW_TIMEOUT_MS, "lock.cleaned", "lock", expected);
        CHECK(!lw_exists(lock), "odd lock still there");
        CHECK(lw_daemon_stop(e.d) == 0, "exit status");
        return 0;
}
