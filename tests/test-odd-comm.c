/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A process names itself: its comm is any bytes it likes. A holder whose comm is not UTF-8, and
 * a thief whose comm is a terminal control sequence, are reported like any other, their names
 * escaped (\xNN) in every report: nothing is dropped because a field would not encode, and no
 * control byte reaches an operator's terminal through lockwarden's output. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lwtest.h"

/* A child named NAME that takes LOCK as the protocol says and holds it until killed. */
static pid_t hold_as(const char *name, const char *lock) {
        int ready[2];
        char c;
        pid_t pid;

        CHECK(pipe2(ready, O_CLOEXEC) == 0, "pipe");
        pid = fork();
        CHECK(pid >= 0, "fork");
        if (pid == 0) {
                char payload[128];
                int fd, n;

                (void) prctl(PR_SET_NAME, name);
                fd = open(lock, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
                n = snprintf(payload, sizeof(payload), "{\n  \"pid\": %d,\n  \"createdAt\": \"2026-05-28T04:22:01.123Z\"\n}\n",
                             (int) getpid());
                if (fd < 0 || write(fd, payload, (size_t) n) != n || write(ready[1], "x", 1) != 1)
                        _exit(1);
                pause();
                _exit(0);
        }
        close(ready[1]);
        CHECK(read(ready[0], &c, 1) == 1, "the holder did not take its lock");
        close(ready[0]);
        return pid;
}

/* A child named NAME that removes PATH, then stays (its name is read when its act is
 * reported) until killed. */
static pid_t unlink_as(const char *name, const char *path) {
        int done[2];
        char c;
        pid_t pid;

        CHECK(pipe2(done, O_CLOEXEC) == 0, "pipe");
        pid = fork();
        CHECK(pid >= 0, "fork");
        if (pid == 0) {
                (void) prctl(PR_SET_NAME, name);
                if (unlink(path) < 0 || write(done[1], "x", 1) != 1)
                        _exit(1);
                pause();
                _exit(0);
        }
        close(done[1]);
        CHECK(read(done[0], &c, 1) == 1, "unlink");
        close(done[0]);
        return pid;
}

int main(void) {
        LwEnv e;

        lw_env_start(&e, "200", NULL);
        if (!lw_attributed()) {
                fprintf(stderr, "names come from the acting pid, which inotify does not give: skipped\n");
                return LW_SKIP;
        }
        char *lock = lw_path(e.sessions, "s1.jsonl.lock");
        pid_t h = hold_as("\xff\xfeholder", lock);
        json_t *a = lw_expect(e.d, LW_TIMEOUT_MS, "lock.acquired", "lock", lock);
        CHECK(strcmp(jstr(a, "comm"), "\\xff\\xfeholder") == 0, "acquired comm %s", jstr(a, "comm"));

        pid_t thief = unlink_as("\x1b]0;owned\x07", lock);
        json_t *r = lw_expect(e.d, LW_TIMEOUT_MS, "race.lock-stolen", "lock", lock);
        CHECK(strcmp(jstr(r, "actor_comm"), "\\x1b]0;owned\\x07") == 0, "actor_comm %s", jstr(r, "actor_comm"));
        CHECK(strcmp(jstr(r, "owner_comm"), "\\xff\\xfeholder") == 0, "owner_comm %s", jstr(r, "owner_comm"));
        json_t *rm = lw_expect(e.d, LW_TIMEOUT_MS, "lock.removed", "lock", lock);
        CHECK(strcmp(jstr(rm, "comm"), "\\x1b]0;owned\\x07") == 0, "removed comm %s", jstr(rm, "comm"));
        kill(thief, SIGKILL);
        waitpid(thief, NULL, 0);
        lw_kill_wait(h, SIGKILL);
        CHECK(lw_daemon_stop(e.d) == 0, "exit status");
        return 0;
}
