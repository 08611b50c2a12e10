/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-hook.h: named stop points, compiled into the test build of the daemon only
 * (src/lockwarden-hooked, -DLW_TEST_HOOKS). With LOCKWARDEN_TEST_STOP_AT="point[,point...]" the
 * daemon stops itself (SIGSTOP) at each named point so that a test, its parent, can change the
 * world at exactly that moment (it waits for the stop with waitpid) and let it go on. */
#pragma once

#ifdef LW_TEST_HOOKS
#include <signal.h>
#include <stdlib.h>
#include <string.h>

static inline void test_hook(const char *point) {
        const char *want = getenv("LOCKWARDEN_TEST_STOP_AT");
        size_t n = strlen(point);

        for (const char *p = want; p && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
                if (strncmp(p, point, n) == 0 && (p[n] == ',' || p[n] == '\0')) {
                        raise(SIGSTOP);
                        return;
                }
}
#else
static inline void test_hook(const char *point) {
        (void) point;
}
#endif
