/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* inotify, a daemon reading late: a whole lock cycle (create, payload, append to the
 * transcript, close, unlink) queued while the daemon is stopped, its lock's creation at the end
 * of one read of the queue and the transcript's write in the next. When the creation is read
 * the lock is gone from disk already, so only the order of the events says the write was made
 * under it; a session forgotten between the two reads (it had no file on disk) reported that
 * write as race.unlocked-write: a false alarm on the happy path under load (test-race-happy,
 * inotify, on a busy machine). And the control: the same split with the lock released before
 * the write is a real unlocked write, reported.
 *
 * The split is made exactly: the daemon reads at most READ_BUF bytes of the queue at a time
 * (src/kernel/source.c), and inotify's records have known sizes; the daemon is stopped with
 * its queue empty, which the test asks of its inotify descriptor (root: the daemon is not
 * dumpable). Runs against the inotify backend (--backend=inotify), as root. */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lwtest.h"

#define READ_BUF (64 * 1024) /* source_read()'s buffer */

/* The size of inotify's record of an event on NAME: the name is NUL-padded to a multiple of
 * the record header's size. */
static size_t record(const char *name) {
        size_t h = sizeof(struct inotify_event);
        return h + (strlen(name) + 1 + h - 1) / h * h;
}

/* N records on FILLER (opens and closes one after the other: two alike in a row would be
 * merged into one). An odd N leaves one open fd, returned (-1 otherwise). */
static int fill(const char *filler, size_t n) {
        int fd = -1;

        for (size_t i = 0; i < n; i++) {
                if (fd < 0) {
                        fd = open(filler, O_RDONLY | O_CLOEXEC);
                        CHECK(fd >= 0, "open %s", filler);
                } else {
                        close(fd);
                        fd = -1;
                }
        }
        return fd;
}

/* A duplicate of the daemon's inotify descriptor (the daemon is our child: pidfd_getfd may),
 * to ask how many bytes its queue holds. */
static int daemon_queue(pid_t daemon) {
        char dir[64], path[384], target[64];
        int pidfd = (int) syscall(SYS_pidfd_open, daemon, 0), fd = -1;
        DIR *d;
        struct dirent *de;

        snprintf(dir, sizeof(dir), "/proc/%d/fd", (int) daemon);
        CHECK(pidfd >= 0 && (d = opendir(dir)), "pidfd_open / %s", dir);
        while ((de = readdir(d)) && fd < 0) {
                ssize_t n;

                snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
                n = readlink(path, target, sizeof(target) - 1);
                if (n <= 0)
                        continue;
                target[n] = '\0';
                if (strcmp(target, "anon_inode:inotify") == 0)
                        fd = (int) syscall(SYS_pidfd_getfd, pidfd, atoi(de->d_name), 0);
        }
        closedir(d);
        close(pidfd);
        CHECK(fd >= 0, "the daemon's inotify descriptor");
        return fd;
}

/* Returns once the daemon has read everything queued before: `explain` drains first. */
static void caught_up(LwDaemon *d, const char *sessions) {
        char out[4096], *none = lw_path(sessions, "none.jsonl.lock");
        const char *args[] = { "explain", "--socket", d->socket, none, NULL };

        (void) lw_run(args, -1, out, sizeof(out), NULL, 0); /* "not tracked": the answer is the barrier */
        free(none);
}

/* Stops the daemon with its queue read to the end: the stretch's records start at the head
 * of the queue. (Its own reads of payloads, and an answer's, queue records of their own: it
 * is let go on to read them until a stop finds none.) */
static void stop_idle(LwDaemon *d, int queue, const char *sessions) {
        for (int tries = 0;; tries++) {
                int queued = -1;

                kill(d->pid, SIGSTOP);
                lw_wait_stopped(d->pid, LW_TIMEOUT_MS);
                CHECK(ioctl(queue, FIONREAD, &queued) == 0, "FIONREAD");
                if (queued == 0)
                        return;
                CHECK(tries < 1000, "the daemon's queue never empty: %d bytes", queued);
                kill(d->pid, SIGCONT);
                caught_up(d, sessions);
        }
}

static void append(const char *transcript) {
        const char line[] = "{\"type\":\"message\"}\n";
        int fd = open(transcript, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);

        CHECK(fd >= 0 && write(fd, line, sizeof(line) - 1) == (ssize_t) sizeof(line) - 1, "append %s", transcript);
        close(fd);
}

/* One stopped stretch: fillers up to the lock's creation, so that a read ends right after it;
 * then the cycle of a new session, its transcript created by its first append, as a gateway's
 * first turn does: nothing of the session is on disk when the creation is read.
 * WRITE_LOCKED: the transcript is written while the lock is held (the protocol), else after
 * its release (a real unlocked write). */
static void cycle(LwEnv *e, int queue, const char *sessions, const char *name, bool write_locked) {
        char lock_name[128], *lock, *transcript, *filler = lw_path(sessions, "f"), payload[128];

        snprintf(lock_name, sizeof(lock_name), "%s.lock", name);
        lock = lw_path(sessions, lock_name);
        transcript = lw_path(sessions, name);
        lw_write_file(filler, "", 0);

        size_t per = record("f"), first = record(lock_name);
        CHECK(per == record(lock_name), "filler and lock records differ: %zu, %zu", per, first);
        /* READ_BUF - first bytes of fillers, then the creation: the read is full. */
        size_t n = (READ_BUF - first) / per;
        CHECK(n * per + first == READ_BUF, "no exact split: %zu", n * per + first);

        stop_idle(e->d, queue, sessions);
        int open_fd = fill(filler, n);

        int fd = open(lock, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        CHECK(fd >= 0, "create %s", lock);
        int len = snprintf(payload, sizeof(payload), "{\n  \"pid\": %d,\n  \"createdAt\": \"2026-11-30T07:00:00.000Z\"\n}\n",
                           (int) getpid());
        CHECK(write(fd, payload, (size_t) len) == len, "payload");
        if (write_locked)
                append(transcript);
        close(fd);
        CHECK(unlink(lock) == 0, "unlink %s", lock);
        if (!write_locked)
                append(transcript);
        if (open_fd >= 0)
                close(open_fd);

        kill(e->d->pid, SIGCONT);
        free(lock);
        free(transcript);
        free(filler);
}

int main(void) {
        const char *inotify[] = { "--backend=inotify", NULL };
        LwEnv e;

        lw_require_root();
        lw_env_start(&e, "1000", inotify);
        int queue = daemon_queue(e.d->pid);

        /* Written under its lock: no race, however late the daemon reads. */
        cycle(&e, queue, e.sessions, "in.jsonl", true);

        /* The control: written after the release, in the same split: reported. */
        cycle(&e, queue, e.sessions, "out.jsonl", false);
        char *after = lw_path(e.sessions, "out.jsonl"), *locked = lw_path(e.sessions, "in.jsonl");
        lw_expect(e.d, LW_TIMEOUT_MS, "race.unlocked-write", "session", after);

        /* Stopping reports any race still coalescing: nothing is left out of the counts. */
        CHECK(lw_daemon_stop(e.d) == 0, "exit status");
        CHECK(lw_count(e.d, "race.unlocked-write", "session", locked) == 0,
              "a write made under its lock, read in the batch after the lock's creation, reported as unlocked");
        CHECK(lw_count(e.d, "race.unlocked-write", NULL, NULL) == 1, "race.unlocked-write not reported once");
        const char *others[] = { "race.lock-stolen", "race.double-holder", "race.session-replaced" };
        for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++)
                CHECK(lw_count(e.d, others[i], NULL, NULL) == 0, "%s reported", others[i]);
        close(queue);
        free(after);
        free(locked);
        return 0;
}
