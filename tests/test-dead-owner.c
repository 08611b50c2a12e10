/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A holder is SIGKILLed while holding its lock: lock.stale and lock.cleaned with reason
 * dead-pid, and the lock file is gone. Also when its last payload write is read only after
 * its death (the daemon busy meanwhile: stopped here): the owner stays tied to its own pid
 * (owner_ns "host"), dead-pid at once, never "unaccounted for" because it holds nothing now
 * (that flaked under load with inotify, which names no creator). */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

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
        CHECK(json_is_integer(json_object_get(c, "since_read_us")) && jint(c, "since_read_us") >= 0, "since_read_us");
        CHECK(json_is_integer(json_object_get(c, "lag_us")) && jint(c, "lag_us") >= 0, "lag_us");
        CHECK(*jstr(c, "ts") && json_is_integer(json_object_get(c, "mono_ns")), "common fields");
        CHECK(!lw_exists(lock), "lock still on disk");
        /* No quarantine leftovers. */
        CHECK(lw_count(e.d, "monitor.error", NULL, NULL) == 0, "errors reported");
        CHECK(lw_quarantined(e.sessions) == 0, "a quarantine file is left behind");

        char *late = lw_path(e.sessions, "late.jsonl.lock");
        int go[2];
        CHECK(pipe2(go, O_CLOEXEC) == 0, "pipe");
        pid_t child = fork();
        CHECK(child >= 0, "fork");
        if (child == 0) {
                char payload[128], ch;
                int fd = open(late, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
                int n = snprintf(payload, sizeof(payload), "{\n  \"pid\": %d,\n  \"createdAt\": \"2026-05-28T04:22:01.123Z\"\n}\n",
                                 (int) getpid());
                if (fd < 0 || write(fd, payload, (size_t) n) != n)
                        _exit(1);
                close(go[1]);
                if (read(go[0], &ch, 1) != 1) /* until told */
                        _exit(1);
                (void) !pwrite(fd, payload, (size_t) n, 0); /* its last write: the same bytes */
                raise(SIGKILL);
        }
        close(go[0]);
        lw_expect(e.d, LW_TIMEOUT_MS, "lock.acquired", "lock", late);
        kill(e.d->pid, SIGSTOP);
        lw_wait_stopped(e.d->pid, LW_TIMEOUT_MS);
        CHECK(write(go[1], "x", 1) == 1, "go");
        int status;
        CHECK(waitpid(child, &status, 0) == child && WIFSIGNALED(status), "the child did not die");
        kill(e.d->pid, SIGCONT);
        st = lw_expect(e.d, LW_TIMEOUT_MS, "lock.stale", "lock", late);
        CHECK(strcmp(jstr(st, "reason"), "dead-pid") == 0 && strcmp(jstr(st, "owner_ns"), "host") == 0,
              "late write: reason %s, owner_ns %s (%s)", jstr(st, "reason"), jstr(st, "owner_ns"), jstr(st, "detail"));
        lw_expect(e.d, LW_TIMEOUT_MS, "lock.cleaned", "lock", late);
        close(go[1]);

        /* Created, written and SIGKILLed before the daemon read any of it (stopped): the
         * creator is gone when its creation is read, its pid in its own namespace past
         * knowing; the payload names the creator's pid, so the creator it is: dead-pid at
         * once (owner_ns host), not "unaccounted for" until a grace has passed. */
        char *unread = lw_path(e.sessions, "unread.jsonl.lock");
        kill(e.d->pid, SIGSTOP);
        lw_wait_stopped(e.d->pid, LW_TIMEOUT_MS);
        pid_t hu = lw_holder_start(unread, NULL);
        lw_kill_wait(hu, SIGKILL);
        kill(e.d->pid, SIGCONT);
        st = lw_expect(e.d, LW_TIMEOUT_MS, "lock.stale", "lock", unread);
        /* (inotify names no creator: the pid is tied to nothing, judged after the grace.) */
        const char *want_ns = lw_attributed() ? "host" : "unverified";
        CHECK(strcmp(jstr(st, "reason"), "dead-pid") == 0 && strcmp(jstr(st, "owner_ns"), want_ns) == 0,
              "unread creation: reason %s, owner_ns %s (%s)", jstr(st, "reason"), jstr(st, "owner_ns"), jstr(st, "detail"));
        lw_expect(e.d, LW_TIMEOUT_MS, "lock.cleaned", "lock", unread);

        /* Behind the kernel's queue: the daemon stopped while thousands of events queue up and
         * an owner dies. The removal happens soon after the evidence is read (since_read_us),
         * but the report must also say how long the daemon had been busy with the backlog
         * when it read it (lag_us): not zero. */
        char *burst = lw_path(e.sessions, "burst.jsonl.lock");
        pid_t hb = lw_holder_start(burst, NULL);
        lw_expect(e.d, LW_TIMEOUT_MS, "lock.acquired", "lock", burst);
        kill(e.d->pid, SIGSTOP);
        lw_wait_stopped(e.d->pid, LW_TIMEOUT_MS);
        lw_flood(e.sessions, 2000);
        lw_kill_wait(hb, SIGKILL);
        kill(e.d->pid, SIGCONT);
        c = lw_expect(e.d, LW_TIMEOUT_MS * 2, "lock.cleaned", "lock", burst);
        CHECK(jint(c, "lag_us") > 0, "lag_us %lld after a burst (since_read_us %lld)",
              jint(c, "lag_us"), jint(c, "since_read_us"));
        CHECK(lw_count(e.d, "monitor.overflow", NULL, NULL) == 0, "the burst overflowed the queue");
        CHECK(lw_daemon_stop(e.d) == 0, "daemon did not exit 0 on SIGTERM");
        return 0;
}
