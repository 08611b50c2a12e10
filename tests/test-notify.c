/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* sd_notify: with NOTIFY_SOCKET bound by the test and WATCHDOG_USEC=200000, the daemon sends
 * READY=1 (after its scan), a STATUS=, WATCHDOG=1 at least every 200 ms while idle, a STATUS=
 * that counts a race once one happened, and STOPPING=1 on SIGTERM. */
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "lwtest.h"

static int nfd;

/* Next datagram within timeout_ms into buf; false on timeout. */
static bool recv_msg(char *buf, size_t size, int timeout_ms) {
        struct pollfd p = { .fd = nfd, .events = POLLIN };
        ssize_t n;

        if (poll(&p, 1, timeout_ms) != 1)
                return false;
        n = recv(nfd, buf, size - 1, 0);
        if (n < 0)
                return false;
        buf[n] = '\0';
        return true;
}

int main(void) {
        lw_require_backend();
        char *dir = lw_tmpdir();
        char *sessions = lw_path(dir, "sessions");
        lw_mkdir_p(sessions);
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/notify", dir);
        nfd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        CHECK(nfd >= 0 && bind(nfd, (struct sockaddr *) &sa, sizeof(sa)) == 0, "bind notify socket");

        char env1[200], buf[4096];
        snprintf(env1, sizeof(env1), "NOTIFY_SOCKET=%s", sa.sun_path);
        const char *env[] = { env1, "WATCHDOG_USEC=200000", NULL };
        const char *args[] = { "--watch", sessions, "--race-coalesce-ms", "0", NULL };
        unsetenv("WATCHDOG_PID");
        LwDaemon *d = lw_daemon_start(NULL, args, env);

        bool ready = false, status = false;
        while (!ready) {
                CHECK(recv_msg(buf, sizeof(buf), LW_TIMEOUT_MS), "no READY=1");
                if (strstr(buf, "STATUS=")) {
                        CHECK(strstr(buf, " 0 races"), "STATUS= does not count races: %s", buf);
                        status = true;
                }
                if (strstr(buf, "READY=1"))
                        ready = true;
        }
        CHECK(status, "no STATUS= before READY=1");
        lw_daemon_ready(d);

        /* Idle, it pings on its own, more often than the 200 ms interval asks: the median gap
         * of 9 pings is under it. (Each single gap is the scheduler's: on a busy machine one
         * can run late without the daemon being at fault, so only the median is held to the
         * interval, and every gap to the test's bound.) */
        int pings = 0;
        uint64_t last = 0, gaps[8];
        while (pings < 9) {
                CHECK(recv_msg(buf, sizeof(buf), LW_TIMEOUT_MS), "no WATCHDOG=1 (after %d pings)", pings);
                if (strstr(buf, "WATCHDOG=1")) {
                        uint64_t now = lw_mono_ns();
                        if (pings > 0)
                                gaps[pings - 1] = now - last;
                        last = now;
                        pings++;
                }
        }
        for (int i = 0; i < 8; i++) /* sorted, for the median */
                for (int k = i + 1; k < 8; k++)
                        if (gaps[k] < gaps[i]) {
                                uint64_t x = gaps[i];
                                gaps[i] = gaps[k];
                                gaps[k] = x;
                        }
        CHECK(gaps[4] < 200000000ull, "median watchdog gap %llu ms", (unsigned long long) (gaps[4] / 1000000));

        /* A race shows in STATUS=. */
        char *t = lw_path(sessions, "n.jsonl");
        const char *append[] = { "append", t, "1", "{}\n", NULL };
        pid_t a = lw_actor_start(append);
        lw_expect(d, LW_TIMEOUT_MS, "race.unlocked-write", "session", t);
        bool counted = false;
        while (!counted) {
                CHECK(recv_msg(buf, sizeof(buf), LW_TIMEOUT_MS), "no STATUS= with 1 races");
                if (strstr(buf, "STATUS=") && strstr(buf, " 1 races"))
                        counted = true;
        }
        lw_kill_wait(a, SIGTERM);

        kill(d->pid, SIGTERM);
        bool stopping = false;
        while (!stopping) {
                CHECK(recv_msg(buf, sizeof(buf), LW_TIMEOUT_MS), "no STOPPING=1");
                if (strstr(buf, "STOPPING=1"))
                        stopping = true;
        }
        CHECK(lw_daemon_stop(d) == 0, "exit status");
        return 0;
}
