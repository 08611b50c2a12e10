/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A stalled FUSE server does not hang the daemon. Any user can mount FUSE; a process holding a
 * file open there, its server stopped (SIGSTOP), made every /proc/PID/fd walk block in stat():
 * at start-up (never ready, the watchdog restarting it into the same hang), at resyncs, in
 * scan. The walk now asks the kernel's cached attributes only (AT_STATX_DONT_SYNC), never the
 * filesystem. Here: bindfs, a holder of a file on it, the server stopped, then a daemon started
 * (its seed walks every process), a lock cleaned, and scan: all must finish. Needs root,
 * /dev/fuse and bindfs (Debian's bindfs, fuse3); skips without them. */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lwtest.h"

static pid_t server = -1, resumer = -1;

/* Whatever happens, the server runs again and the mount goes: a stalled one would hang the
 * cleanup of the test's own folders. */
static void unstall(void) {
        if (resumer > 0) {
                kill(resumer, SIGKILL);
                waitpid(resumer, NULL, 0);
                resumer = -1;
        }
        lw_bindfs_unmount();
}

int main(void) {
        char out[65536], err[4096];

        lw_require_root();
        lw_require_backend();
        char *dir = lw_tmpdir(), *src = lw_path(dir, "src"), *mnt = lw_path(dir, "mnt");
        lw_mkdir_p(src);
        lw_mkdir_p(mnt);
        lw_write_file(lw_path(src, "f"), "x", 1);
        /* No attribute cache: every stat would ask the server (the old walk's hang, at once). */
        server = lw_bindfs_mount(src, mnt, "attr_timeout=0,entry_timeout=0");
        if (server < 0)
                return LW_SKIP;
        atexit(unstall); /* after the mount's own: runs first */

        /* A holder of a file on the FUSE mount (it says when it has it open), then the server
         * stalled. */
        char *f = lw_path(mnt, "f"), c;
        int ready[2], done[2];
        CHECK(pipe2(ready, O_CLOEXEC) == 0 && pipe2(done, O_CLOEXEC) == 0, "pipe");
        pid_t holder = fork();
        CHECK(holder >= 0, "fork");
        if (holder == 0) {
                int fd = open(f, O_RDONLY | O_CLOEXEC);
                if (fd < 0 || write(ready[1], "x", 1) != 1)
                        _exit(1);
                pause();
                _exit(0);
        }
        close(ready[1]);
        CHECK(read(ready[0], &c, 1) == 1, "the holder did not open the file");
        CHECK(kill(server, SIGSTOP) == 0, "stop the server");
        /* A safety net, not a measure: the server runs again when this test ends, or after 20 s
         * at the latest, so that a daemon stuck in a FUSE request can be reaped even if the test
         * fails on it. */
        resumer = fork();
        CHECK(resumer >= 0, "fork");
        if (resumer == 0) {
                struct pollfd pf = { .fd = done[0], .events = POLLIN };
                close(done[1]);
                (void) poll(&pf, 1, 20000);
                kill(server, SIGCONT);
                _exit(0);
        }
        close(done[0]);

        /* A daemon started now walks every process's fds: it must become ready, and clean. */
        LwEnv e;
        lw_env_start(&e, "200", NULL);
        char *lock = lw_path(e.sessions, "s1.jsonl.lock");
        pid_t h = lw_holder_start(lock, NULL);
        lw_expect(e.d, LW_TIMEOUT_MS, "lock.acquired", "lock", lock);
        lw_kill_wait(h, SIGKILL);
        lw_expect(e.d, LW_TIMEOUT_MS, "lock.cleaned", "lock", lock);
        /* scan seeds from one walk of every process too. */
        const char *scan[] = { "scan", "--state-dir", e.state, "--json", NULL };
        CHECK(lw_run(scan, -1, out, sizeof(out), err, sizeof(err)) == 0, "scan: %s", err);
        CHECK(lw_daemon_stop(e.d) == 0, "exit status");

        /* The server first: the holder's exit closes a file on its mount. */
        unstall();
        kill(holder, SIGKILL);
        waitpid(holder, NULL, 0);
        return 0;
}
