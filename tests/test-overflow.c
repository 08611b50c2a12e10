/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Queue overflow loses events and nothing else: with the daemon stopped (SIGSTOP), more
 * files than the kernel queues come and go in the sessions folder, then a holder is
 * SIGKILLed, a new lock is taken, a transcript is replaced, an agent folder is deleted and
 * two are created, one with a held lock (all of it lost). On SIGCONT the daemon reports
 * monitor.overflow once and monitor.resync with fresh counts, guards the new folders, still
 * cleans the dead holder's lock, keeps the live holder's, tracks the new locks (killing their
 * holders gets them cleaned), its holder map (SIGUSR1 dump) matches /proc, and it reports no
 * race from the blind stretch (it cannot tell who did what). */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lwtest.h"

/* The pids that have PATH open, from /proc (the processes we may inspect). */
static size_t proc_holders(const char *path, pid_t *out, size_t max) {
        struct stat want;
        size_t n = 0;
        DIR *d;
        struct dirent *de;

        if (stat(path, &want) < 0)
                return 0;
        CHECK((d = opendir("/proc")), "opendir /proc");
        while ((de = readdir(d))) {
                char dir[64];
                DIR *fds;
                struct dirent *fe;
                pid_t pid = (pid_t) atoi(de->d_name);

                if (pid <= 0)
                        continue;
                snprintf(dir, sizeof(dir), "/proc/%d/fd", (int) pid);
                if (!(fds = opendir(dir)))
                        continue;
                while ((fe = readdir(fds))) {
                        struct stat st;
                        if (fstatat(dirfd(fds), fe->d_name, &st, 0) == 0 && st.st_dev == want.st_dev &&
                            st.st_ino == want.st_ino) {
                                if (n < max)
                                        out[n++] = pid;
                                break;
                        }
                }
                closedir(fds);
        }
        closedir(d);
        return n;
}

/* Every lock in the daemon's dump has exactly the holders /proc shows. */
static void holder_map_matches_proc(LwDaemon *d) {
        kill(d->pid, SIGUSR1);
        json_t *dump = lw_expect(d, LW_TIMEOUT_MS, "monitor.dump", NULL, NULL);
        json_t *locks = json_object_get(dump, "locks"), *l;
        size_t i;

        CHECK(json_array_size(locks) > 0, "dump lists no locks");
        json_array_foreach(locks, i, l) {
                pid_t want[64];
                size_t n = proc_holders(jstr(l, "lock"), want, 64);
                json_t *have = json_object_get(l, "holders");

                CHECK(json_array_size(have) == n, "%s: daemon has %zu holders, /proc %zu", jstr(l, "lock"),
                      json_array_size(have), n);
                for (size_t k = 0; k < n; k++) {
                        bool found = false;
                        for (size_t j = 0; j < json_array_size(have); j++)
                                found = found || json_integer_value(json_array_get(have, j)) == want[k];
                        CHECK(found, "%s: /proc holder %d not in the daemon's map", jstr(l, "lock"), (int) want[k]);
                }
        }
}

int main(void) {
        LwEnv e;
        lw_env_start(&e, "200", NULL);
        char *old_agent = lw_path(e.state, "agents/old/sessions");
        lw_mkdir_p(old_agent);
        char *dead = lw_path(e.sessions, "dead.jsonl.lock"), *live = lw_path(e.sessions, "live.jsonl.lock");
        char *t = lw_path(e.sessions, "live.jsonl");
        const char *targs[] = { "--transcript", t, NULL };

        pid_t hd = lw_holder_start(dead, NULL);
        lw_expect(e.d, LW_TIMEOUT_MS, "lock.acquired", "lock", dead);
        pid_t hl = lw_holder_start(live, targs);
        lw_expect(e.d, LW_TIMEOUT_MS, "lock.acquired", "lock", live);

        lw_overflow_stopped(e.d, e.sessions);
        lw_kill_wait(hd, SIGKILL);
        char *fresh = lw_path(e.sessions, "fresh.jsonl.lock");
        pid_t hf = lw_holder_start(fresh, NULL);
        const char *replace[] = { "replace", t, "{}\n", NULL };
        pid_t a = lw_actor_start(replace);
        /* Folders: one goes, two come (one with a held lock). */
        char *cmd;
        CHECK(asprintf(&cmd, "rm -rf '%s/agents/old'", e.state) > 0 && system(cmd) == 0, "rm old agent");
        char *new1 = lw_path(e.state, "agents/new1/sessions"), *new2 = lw_path(e.state, "agents/new2/sessions");
        lw_mkdir_p(new1);
        lw_mkdir_p(new2);
        char *far = lw_path(new1, "far.jsonl.lock");
        pid_t hn = lw_holder_start(far, NULL);
        kill(e.d->pid, SIGCONT);

        json_t *ov = lw_expect(e.d, LW_TIMEOUT_MS * 4, "monitor.overflow", NULL, NULL);
        CHECK(strcmp(jstr(ov, "backend"), lw_attributed() ? "fanotify" : "inotify") == 0, "overflow backend");
        json_t *rs = lw_expect(e.d, LW_TIMEOUT_MS * 4, "monitor.resync", NULL, NULL);
        CHECK(jint(rs, "folders") == 3, "resync folders %lld, expected main, new1, new2", jint(rs, "folders"));
        CHECK(jint(rs, "locks") >= 3, "resync locks %lld", jint(rs, "locks"));
        CHECK(jint(rs, "holders") >= 3, "resync holders %lld", jint(rs, "holders"));
        CHECK(json_is_integer(json_object_get(rs, "duration_us")) && jint(rs, "duration_us") >= 0, "duration_us");
        CHECK(jint(rs, "files_before") > 0 && json_is_integer(json_object_get(rs, "files")), "file counts");
        lw_expect(e.d, LW_TIMEOUT_MS * 4, "lock.cleaned", "lock", dead);
        holder_map_matches_proc(e.d);

        /* Their creation was lost; the resync found them. */
        lw_kill_wait(hf, SIGKILL);
        lw_expect(e.d, LW_TIMEOUT_MS, "lock.cleaned", "lock", fresh);
        lw_kill_wait(hn, SIGKILL);
        lw_expect(e.d, LW_TIMEOUT_MS, "lock.cleaned", "lock", far);
        /* And the new folder is guarded for what comes next. */
        char *later = lw_path(new2, "later.jsonl.lock");
        pid_t hl2 = lw_holder_start(later, NULL);
        lw_expect(e.d, LW_TIMEOUT_MS, "lock.acquired", "lock", later);
        lw_kill_wait(hl2, SIGKILL);
        lw_expect(e.d, LW_TIMEOUT_MS, "lock.cleaned", "lock", later);

        /* Barrier: a new lock is reported after the resync. */
        pid_t b = lw_barrier(&e, LW_TIMEOUT_MS * 4);
        CHECK(lw_exists(live), "the live holder's lock was removed");
        CHECK(lw_count(e.d, "monitor.overflow", NULL, NULL) == 1, "overflow reported more than once");
        CHECK(lw_count(e.d, "monitor.resync", NULL, NULL) == 1, "resync reported more than once");
        CHECK(lw_count(e.d, "monitor.error", NULL, NULL) == 0, "errors reported");
        CHECK(lw_count(e.d, "lock.stale", "lock", live) == 0, "the live lock was called stale");
        size_t races = lw_count(e.d, "race.unlocked-write", NULL, NULL) + lw_count(e.d, "race.session-replaced", NULL, NULL) +
                       lw_count(e.d, "race.lock-stolen", NULL, NULL) + lw_count(e.d, "race.foreign-write", NULL, NULL);
        CHECK(races == 0, "%zu races judged on lost events", races);

        lw_kill_wait(b, SIGTERM);
        lw_kill_wait(a, SIGTERM);
        lw_kill_wait(hl, SIGTERM);
        CHECK(lw_daemon_stop(e.d) == 0, "exit status");
        return 0;
}
