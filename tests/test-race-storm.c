/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* No false alarm under a storm. Two processes take turns on a session as fast as they can,
 * each cycle by the protocol: create the lock with O_EXCL, write its payload, append one line
 * to the transcript while holding it, close, unlink. A third process burns a CPU so that the
 * daemon reads late and the kernel merges queued events (a merged record keeps no order).
 * Whatever order the daemon sees, nothing here is a race: the count of race.* reports must be
 * zero, read after a control-socket barrier and the daemon's stop (which reports any window
 * still open). Every CYCLES_PER_SESSION cycles both move on to a new session, whose first cycle
 * creates its transcript: a session the daemon has only just met is where merged records were
 * misread (its lock taker forgotten with the session). LW_STORM_N sets the cycles per process
 * (10,000: under 20 s with ASan on a loaded 2-CPU machine; main gave 3 to 7 false alarms). */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lwtest.h"

#define LINE "{\"type\":\"message\",\"storm\":true}\n"
#define CYCLES_PER_SESSION 8

static long starttime_of(pid_t pid) {
        char path[64], buf[1024], *p;
        long v = 0;
        FILE *f;

        snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
        f = fopen(path, "re");
        if (!f)
                return 0;
        if (!fgets(buf, sizeof(buf), f))
                buf[0] = '\0';
        fclose(f);
        p = strrchr(buf, ')');
        /* Field 22; the one after ')' is field 3. */
        for (int field = 2; p && field < 22; field++)
                p = strchr(p + 1, ' ');
        if (p)
                v = strtol(p + 1, NULL, 10);
        return v;
}

/* One contender: N correct cycles in folder DIR. Exits 0, or the step that failed (1 take the
 * lock, 2 its payload, 3 the transcript, 4 the unlink). */
static void contender(const char *dir, long n) {
        char lock[4200], transcript[4096];
        char payload[256], ts[32];
        time_t now = time(NULL);
        struct tm tm;
        int len;

        gmtime_r(&now, &tm);
        strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S.000Z", &tm);
        len = snprintf(payload, sizeof(payload), "{\"pid\":%d,\"createdAt\":\"%s\",\"maxHoldMs\":300000,\"starttime\":%ld}",
                       (int) getpid(), ts, starttime_of(getpid()));
        for (long i = 0; i < n; i++) {
                int fd, t;

                snprintf(transcript, sizeof(transcript), "%s/storm-%ld.jsonl", dir, i / CYCLES_PER_SESSION);
                snprintf(lock, sizeof(lock), "%s.lock", transcript);

                while ((fd = open(lock, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644)) < 0) {
                        if (errno != EEXIST)
                                _exit(1);
                        sched_yield();
                }
                if (write(fd, payload, (size_t) len) != len)
                        _exit(2);
                t = open(transcript, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
                if (t < 0 || write(t, LINE, strlen(LINE)) != (ssize_t) strlen(LINE))
                        _exit(3);
                close(t);
                close(fd);
                if (unlink(lock) < 0)
                        _exit(4);
        }
        _exit(0);
}

static pid_t fork_contender(const char *dir, long n) {
        pid_t p = fork();

        CHECK(p >= 0, "fork");
        if (p == 0)
                contender(dir, n);
        return p;
}

static pid_t fork_hog(void) {
        pid_t p = fork();

        CHECK(p >= 0, "fork");
        if (p == 0) {
                volatile unsigned long x = 0;
                for (;;)
                        x++;
        }
        return p;
}

int main(void) {
        const char *extra[] = { NULL };
        const char *env_n = getenv("LW_STORM_N");
        long n = env_n ? strtol(env_n, NULL, 10) : 10000;
        char out[65536];
        size_t races = 0;
        json_t *ev;
        size_t i;
        LwEnv e;

        lw_require_attribution("the storm's false alarms are about merged records of named processes");
        /* A long leak grace: a contender preempted between its close and its unlink (two hogs
         * beside it) must not have its lock cleaned under it: this test is about races only. */
        lw_env_start(&e, "60000", extra);
        /* Each transcript is created by its session's first cycle, under its lock. */
        pid_t hog = fork_hog();
        pid_t a = fork_contender(e.sessions, n), b = fork_contender(e.sessions, n);
        int sa = lw_wait_exit_pumping(e.d, a, 120000), sb = lw_wait_exit_pumping(e.d, b, 120000);
        lw_kill_wait(hog, SIGKILL);
        CHECK(WIFEXITED(sa) && WEXITSTATUS(sa) == 0 && WIFEXITED(sb) && WEXITSTATUS(sb) == 0,
              "a contender failed its own protocol (%#x, %#x)", sa, sb);

        /* Barrier: the daemon answers after the queue it was woken for is read. */
        const char *st[] = { "status", "--json", "--socket", e.d->socket, NULL };
        CHECK(lw_run(st, -1, out, sizeof(out), NULL, 0) == 0, "status");
        /* The stop reports any window still open: nothing can hide behind a coalescing time. */
        CHECK(lw_daemon_stop(e.d) == 0, "exit status");

        json_array_foreach(e.d->seen, i, ev) {
                if (strncmp(jstr(ev, "event"), "race.", 5) != 0)
                        continue;
                races++;
                char *s = json_dumps(ev, JSON_COMPACT);
                fprintf(stderr, "false alarm: %s\n", s);
                free(s);
        }
        fprintf(stderr, "%ld cycles x 2: %zu race reports\n", n, races);
        CHECK(races == 0, "%zu race reports for correct cycles", races);
        return 0;
}
