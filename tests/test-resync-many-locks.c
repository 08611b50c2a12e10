/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* More live locks than the kernel's queue holds events: a resync after lost events ends. The
 * daemon's own reads of lock payloads are opens, and each open is an event in its own queue:
 * a resync that read every payload again overflowed the queue again, and resynced again,
 * for ever (found by bench/scale at 30,000 locks). Unchanged payloads (same file, same ctime,
 * a second older than their read) are not read again after lost events.
 *
 * One holder keeps max_queued_events + 1,000 locks open in one folder, taken more than a
 * second before the daemon starts. The daemon's start-up reads them all (its queue may
 * overflow then: one resync); the queue is overflowed once more while it is stopped, and one
 * lock's payload rewritten in place meanwhile (same size: only the ctime tells): that lock
 * is read again (lock.aged); then a new lock is reported acquired, and at most those two
 * resyncs came. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <errno.h>
#include <time.h>
#include <unistd.h>

#include "lwtest.h"

static long queue_max(void) {
        long max = 16384;
        FILE *f = fopen("/proc/sys/fs/fanotify/max_queued_events", "re");

        if (f) {
                CHECK(fscanf(f, "%ld", &max) == 1, "max_queued_events");
                fclose(f);
        }
        return max;
}

/* Takes N locks in DIR and keeps them until killed; returns once they are all taken. */
static pid_t hold_many(const char *dir, long n) {
        int p[2];
        CHECK(pipe2(p, O_CLOEXEC) == 0, "pipe");
        pid_t parent = getpid(), pid = fork();
        CHECK(pid >= 0, "fork");
        if (pid == 0) {
                struct rlimit rl;
                if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent || getrlimit(RLIMIT_NOFILE, &rl) < 0)
                        _exit(1);
                rl.rlim_cur = rl.rlim_max;
                if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
                        _exit(1);
                char created[64];
                time_t now = time(NULL);
                strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%S.000Z", gmtime(&now));
                for (long i = 0; i < n; i++) {
                        char path[4200], payload[256];
                        snprintf(path, sizeof(path), "%s/s%06ld.jsonl.lock", dir, i);
                        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
                        int k = snprintf(payload, sizeof(payload),
                                         "{\n  \"pid\": %d,\n  \"createdAt\": \"%s\",\n  \"maxHoldMs\": 86400000\n}\n",
                                         (int) getpid(), created);
                        if (fd < 0 || write(fd, payload, (size_t) k) != k)
                                _exit(2);
                }
                if (write(p[1], "r", 1) != 1)
                        _exit(1);
                for (;;)
                        pause();
        }
        char x;
        close(p[1]);
        CHECK(read(p[0], &x, 1) == 1, "the holder could not take %ld locks", n);
        close(p[0]);
        return pid;
}

int main(void) {
        lw_require_root();
        lw_require_fanotify();
        long n = queue_max() + 1000;
        struct rlimit rl;
        CHECK(getrlimit(RLIMIT_NOFILE, &rl) == 0, "getrlimit");
        if (n > 200000 || rl.rlim_max < (rlim_t) n + 100) {
                fprintf(stderr, "%ld locks do not fit (max_queued_events, RLIMIT_NOFILE %lu): skipped\n", n,
                        (unsigned long) rl.rlim_max);
                return LW_SKIP;
        }

        LwEnv e = {};
        e.state = lw_path(lw_tmpdir(), "state");
        e.sessions = lw_path(e.state, "agents/main/sessions");
        lw_mkdir_p(e.sessions);
        pid_t holder = hold_many(e.sessions, n);

        /* Settled: the last lock's ctime a second behind before the daemon reads any. The rule
         * under test is about the clock, so the wait is for the clock itself (until that
         * moment, not a guessed sleep). */
        char last[4200];
        struct stat st;
        snprintf(last, sizeof(last), "%s/s%06ld.jsonl.lock", e.sessions, n - 1);
        CHECK(stat(last, &st) == 0, "stat %s", last);
        struct timespec settled = { .tv_sec = st.st_ctim.tv_sec + 2 };
        while (clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &settled, NULL) == EINTR)
                ;

        const char *args[] = { "--state-dir", e.state, NULL };
        e.d = lw_daemon_start(NULL, args, NULL);
        json_t *ready = lw_expect(e.d, 60000, "monitor.ready", NULL, NULL);
        CHECK(jint(ready, "locks") == n, "ready counts %lld locks, not %ld", jint(ready, "locks"), n);

        /* Lost with the events: one lock's payload rewritten in place, same size, same file,
         * created years ago now: only its ctime tells, and it must be read again (lock.aged). */
        char first[4200], buf[256];
        snprintf(first, sizeof(first), "%s/s%06d.jsonl.lock", e.sessions, 0);
        lw_overflow_stopped(e.d, e.sessions);
        int fd = open(first, O_RDWR | O_CLOEXEC);
        CHECK(fd >= 0, "open %s", first);
        ssize_t len = pread(fd, buf, sizeof(buf) - 1, 0);
        CHECK(len > 0, "read %s", first);
        buf[len] = '\0';
        char *year = strstr(buf, "\"createdAt\": \"");
        CHECK(year, "payload %s", buf);
        memcpy(year + strlen("\"createdAt\": \""), "2020", 4);
        CHECK(pwrite(fd, buf, (size_t) len, 0) == len, "rewrite %s", first);
        close(fd);
        kill(e.d->pid, SIGCONT);
        lw_expect(e.d, 60000, "monitor.resync", NULL, NULL);
        lw_expect(e.d, 30000, "lock.aged", "lock", first);
        pid_t b = lw_barrier(&e, 30000);
        size_t resyncs = lw_count(e.d, "monitor.resync", NULL, NULL);
        CHECK(resyncs <= 2, "%zu resyncs: the daemon's own payload reads overflow its queue again", resyncs);
        CHECK(lw_count(e.d, "lock.cleaned", NULL, NULL) == 0, "a live lock was cleaned");

        lw_kill_wait(b, SIGTERM);
        CHECK(lw_daemon_stop(e.d) == 0, "exit status");
        lw_kill_wait(holder, SIGKILL);
        return 0;
}
