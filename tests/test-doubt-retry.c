/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A removal kept on doubt is tried again without waiting for an event. A dying writer's close
 * is queued before the kernel drops its write access: a lease asked for right after the close
 * was read is refused, by a writer /proc no longer shows, and nothing follows that would make
 * the daemon look again. The dead owner's lock was kept for good.
 *
 * Here that writer is made to order: an fd open for writing that no process has (in flight in
 * a unix socket) and whose open and close make no event (a fanotify group's event fd). The
 * test build stops inside each removal (before-verify): the first attempt is refused and kept
 * on doubt (lock.kept); the writer goes, silently; the daemon must come back to the lock by
 * itself (it stops there again) and remove it. Needs root (fanotify, a lease on the lock). */
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lwtest.h"

/* An fd open for reading and writing on PATH that makes no fanotify event: the event fd of a
 * fanotify group of ours, opened O_RDWR by the kernel for our own open of PATH. */
static int silent_writer(const char *path) {
        int fan = fanotify_init(FAN_CLASS_NOTIF | FAN_CLOEXEC, O_RDWR | O_CLOEXEC), fd;
        union {
                struct fanotify_event_metadata m;
                char buf[4096];
        } ev;

        CHECK(fan >= 0, "fanotify_init");
        CHECK(fanotify_mark(fan, FAN_MARK_ADD, FAN_OPEN, AT_FDCWD, path) == 0, "fanotify_mark %s", path);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        CHECK(fd >= 0, "open %s", path);
        close(fd);
        CHECK(read(fan, &ev, sizeof(ev)) >= (ssize_t) sizeof(ev.m) && ev.m.fd >= 0, "no event fd");
        close(fan);
        CHECK((fcntl(ev.m.fd, F_GETFL) & O_ACCMODE) == O_RDWR, "the event fd is not open for writing");
        return ev.m.fd;
}

/* Puts FD in flight in a socket pair (no process holds it), returned in SP. */
static void in_flight(int fd, int sp[2]) {
        char c = 0, control[CMSG_SPACE(sizeof(int))] = {};
        struct iovec iov = { .iov_base = &c, .iov_len = 1 };
        struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control,
                              .msg_controllen = sizeof(control) };
        struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);

        CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == 0, "socketpair");
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(cm), &fd, sizeof(int));
        CHECK(sendmsg(sp[0], &msg, 0) == 1, "sendmsg");
        close(fd);
}

int main(void) {
        lw_require_root();
        lw_require_fanotify();
        const char *envs[] = { "LOCKWARDEN_TEST_STOP_AT=before-verify", NULL };
        char *state = lw_path(lw_tmpdir(), "state"), *sessions = lw_path(state, "agents/main/sessions");
        lw_mkdir_p(sessions);
        char *lock = lw_path(sessions, "s1.jsonl.lock");
        const char *args[] = { "--state-dir", state, "--leak-grace-ms", "200", NULL };
        LwDaemon *d = lw_daemon_start(lw_hooked_bin(), args, envs);
        lw_daemon_ready(d);

        pid_t owner = lw_holder_start(lock, NULL);
        lw_expect(d, LW_TIMEOUT_MS, "lock.acquired", "lock", lock);
        lw_kill_wait(owner, SIGKILL);

        /* Stopped inside the first removal: a writer nobody can see takes the lock. */
        lw_wait_stopped(d->pid, LW_TIMEOUT_MS);
        int sp[2];
        in_flight(silent_writer(lock), sp);
        kill(d->pid, SIGCONT);
        json_t *k = lw_expect(d, LW_TIMEOUT_MS, "lock.kept", "lock", lock);
        CHECK(strstr(jstr(k, "why"), "cannot see"), "kept for another reason: %s", jstr(k, "why"));
        CHECK(lw_exists(lock), "removed while open for writing");

        /* The daemon comes back to it by itself: no event will (the writer's close makes none). */
        lw_wait_stopped(d->pid, 4 * LW_TIMEOUT_MS);
        close(sp[0]);
        close(sp[1]); /* the writer is gone: its file is closed, silently */
        kill(d->pid, SIGCONT);
        lw_expect(d, LW_TIMEOUT_MS, "lock.cleaned", "lock", lock);
        CHECK(!lw_exists(lock), "lock.cleaned, but the lock is there");
        CHECK(lw_daemon_stop(d) == 0, "exit status");
        free(lock);
        free(sessions);
        free(state);
        return 0;
}
