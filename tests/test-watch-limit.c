/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The inotify watch limit reached: every folder that cannot be guarded is reported with a
 * monitor.error naming the sysctl (fs.inotify.max_user_watches), and the daemon keeps
 * guarding the others. The limit is lowered in a user namespace of the test's own (its
 * user.max_inotify_watches counts only that namespace), so no other process is affected. */
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "lwtest.h"

static bool write_file(const char *path, const char *text) {
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        bool ok = fd >= 0 && write(fd, text, strlen(text)) == (ssize_t) strlen(text);

        if (fd >= 0)
                close(fd);
        return ok;
}

int main(void) {
        char map[64];
        uid_t uid = getuid();
        gid_t gid = getgid();

        if (unshare(CLONE_NEWUSER) < 0) {
                fprintf(stderr, "SKIP: cannot create a user namespace: %s\n", strerror(errno));
                return LW_SKIP;
        }
        snprintf(map, sizeof(map), "0 %d 1", (int) uid);
        CHECK(write_file("/proc/self/setgroups", "deny") && write_file("/proc/self/uid_map", map), "uid_map");
        snprintf(map, sizeof(map), "0 %d 1", (int) gid);
        CHECK(write_file("/proc/self/gid_map", map), "gid_map");
        /* Watches: the state dir's parent, the state dir, agents/, then 2 per agent. */
        if (!write_file("/proc/sys/user/max_inotify_watches", "8")) {
                fprintf(stderr, "SKIP: cannot lower user.max_inotify_watches here: %s\n", strerror(errno));
                return LW_SKIP;
        }

        char *state = lw_path(lw_tmpdir(), "state");
        const char *agents[] = { "a1", "a2", "a3", "a4", "a5", "a6" };
        for (size_t i = 0; i < LW_ELEMENTSOF(agents); i++) {
                char rel[64];
                snprintf(rel, sizeof(rel), "agents/%s/sessions", agents[i]);
                lw_mkdir_p(lw_path(state, rel));
        }
        const char *args[] = { "--state-dir", state, "--backend=inotify", "--leak-grace-ms", "200", NULL };
        LwDaemon *d = lw_daemon_start(NULL, args, NULL);
        json_t *ready = lw_daemon_ready(d);
        size_t guarded = json_array_size(json_object_get(ready, "dirs"));
        CHECK(guarded >= 1 && guarded < LW_ELEMENTSOF(agents), "%zu of %zu sessions folders guarded", guarded,
              LW_ELEMENTSOF(agents));

        /* Each folder left out is named, with the sysctl. */
        size_t errors = 0;
        json_t *ev;
        size_t i;
        json_array_foreach(d->seen, i, ev) {
                if (strcmp(jstr(ev, "event"), "monitor.error") != 0)
                        continue;
                CHECK(strstr(jstr(ev, "error"), "fs.inotify.max_user_watches") &&
                      strstr(jstr(ev, "error"), "NOT guarded"), "error: %s", jstr(ev, "error"));
                CHECK(strstr(jstr(ev, "path"), "/agents/a"), "error path %s", jstr(ev, "path"));
                errors++;
        }
        CHECK(errors >= 1, "no monitor.error for the folders left out");

        /* The guarded ones are guarded for real. */
        const char *first = json_string_value(json_array_get(json_object_get(ready, "dirs"), 0));
        char *lock = lw_path(first, "s.jsonl.lock");
        pid_t h = lw_holder_start(lock, NULL);
        lw_expect(d, LW_TIMEOUT_MS, "lock.acquired", "lock", lock);
        lw_kill_wait(h, SIGKILL);
        lw_expect(d, LW_TIMEOUT_MS, "lock.cleaned", "lock", lock);
        CHECK(lw_daemon_stop(d) == 0, "exit status");
        return 0;
}
