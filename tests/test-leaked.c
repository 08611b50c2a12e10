/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The owner closes its lock fd but never unlinks, and stays alive: after the grace the lock is
 * leaked, and removed. The removal comes no earlier than the grace after the close.
 * Then the case the application meets under contention: a contender polls the leaked lock,
 * opening it read-only every 20 ms to read its payload. A reader is no holder: it neither
 * makes the lock busy nor restarts the grace, so the lock is removed while the polling goes
 * on (and the contender can take it). */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include "lwtest.h"

/* A contender's poll loop: open, read, close, every 20 ms, until the lock is gone (10 s at most). */
static pid_t poll_reader(const char *lock) {
        pid_t pid = fork();

        CHECK(pid >= 0, "fork");
        if (pid == 0) {
                uint64_t end = lw_mono_ns() + 10000ull * 1000000;
                char buf[512];

                while (lw_mono_ns() < end) {
                        int fd = open(lock, O_RDONLY | O_CLOEXEC);
                        if (fd < 0)
                                _exit(errno == ENOENT ? 0 : 1);
                        (void) !read(fd, buf, sizeof(buf));
                        close(fd);
                        (void) poll(NULL, 0, 20); /* the contender's retry period */
                }
                _exit(2); /* still there after 10 s */
        }
        return pid;
}

int main(void) {
        LwEnv e;
        lw_env_start(&e, "300", NULL);
        char *lock = lw_path(e.sessions, "s1.jsonl.lock");
        const char *args[] = { "--mode=leak", NULL };

        uint64_t before = lw_mono_ns();
        pid_t h = lw_holder_start(lock, args);
        json_t *st = lw_expect(e.d, LW_TIMEOUT_MS, "lock.stale", "lock", lock);
        CHECK(strcmp(jstr(st, "reason"), "leaked") == 0, "reason %s", jstr(st, "reason"));
        CHECK(jint(st, "owner_pid") == h, "owner %lld", jint(st, "owner_pid"));
        CHECK((uint64_t) jint(st, "mono_ns") >= before + 300ull * 1000000, "stale before the grace ended");
        json_t *c = lw_expect(e.d, LW_TIMEOUT_MS, "lock.cleaned", "lock", lock);
        CHECK(strcmp(jstr(c, "reason"), "leaked") == 0, "reason %s", jstr(c, "reason"));
        CHECK(!lw_exists(lock), "leaked lock still on disk");
        CHECK(kill(h, 0) == 0, "owner should still be alive");
        lw_kill_wait(h, SIGTERM);

        char *polled = lw_path(e.sessions, "s2.jsonl.lock");
        h = lw_holder_start(polled, args);
        pid_t reader = poll_reader(polled);
        st = lw_expect(e.d, LW_TIMEOUT_MS, "lock.stale", "lock", polled);
        CHECK(strcmp(jstr(st, "reason"), "leaked") == 0, "reason %s", jstr(st, "reason"));
        lw_expect(e.d, LW_TIMEOUT_MS, "lock.cleaned", "lock", polled);
        CHECK(lw_wait_exit(reader, LW_TIMEOUT_MS) == 0, "the polling reader did not see the lock go");
        lw_kill_wait(h, SIGTERM);

        /* The same from inside the owner: another run of the gateway that leaked it polls it.
         * The creator's later opens are reads like anyone's: cleaned all the same. */
        char *self_polled = lw_path(e.sessions, "s3.jsonl.lock");
        const char *poll_args[] = { "--mode=leak-poll", NULL };
        h = lw_holder_start(self_polled, poll_args);
        st = lw_expect(e.d, LW_TIMEOUT_MS, "lock.stale", "lock", self_polled);
        CHECK(strcmp(jstr(st, "reason"), "leaked") == 0, "reason %s", jstr(st, "reason"));
        lw_expect(e.d, LW_TIMEOUT_MS, "lock.cleaned", "lock", self_polled);
        lw_kill_wait(h, SIGTERM);

        /* An owner that holds its lock and reads it once through a second descriptor: the
         * close of that one is a reader's, and ends nothing (/proc shows the write descriptor
         * still open). A lock leaked after that read, cleaned after its grace, is the barrier:
         * the held one must have been judged neither stale nor kept by then. */
        char *held = lw_path(e.sessions, "s4.jsonl.lock");
        const char *hold_read[] = { "--mode=hold-read", NULL };
        h = lw_holder_start(held, hold_read);
        lw_expect(e.d, LW_TIMEOUT_MS, "lock.acquired", "lock", held);
        char *later = lw_path(e.sessions, "s5.jsonl.lock");
        pid_t hl = lw_holder_start(later, args);
        lw_expect(e.d, LW_TIMEOUT_MS, "lock.cleaned", "lock", later);
        CHECK(lw_count(e.d, "lock.stale", "lock", held) == 0 && lw_count(e.d, "lock.kept", "lock", held) == 0,
              "a held lock was judged when its owner closed a second, read-only descriptor");
        CHECK(lw_exists(held), "the held lock was removed");
        lw_kill_wait(hl, SIGTERM);
        lw_kill_wait(h, SIGTERM);
        CHECK(lw_daemon_stop(e.d) == 0, "exit status");
        return 0;
}
