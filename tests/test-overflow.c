/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Queue overflow loses events and nothing else: with the daemon stopped (SIGSTOP), more
 * files than the kernel queues come and go in the sessions folder, then a holder is
 * SIGKILLed, a new lock is taken and a transcript is replaced (all of it lost). On SIGCONT the
 * daemon reports the overflow once, resyncs every folder (the new lock is tracked: killing
 * its holder gets it cleaned), still cleans the dead holder's lock, keeps the live holder's,
 * and reports no race from the blind stretch (it cannot tell who did what). */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lwtest.h"

int main(void) {
        LwEnv e;
        lw_env_start(&e, "200", NULL);
        char *dead = lw_path(e.sessions, "dead.jsonl.lock"), *live = lw_path(e.sessions, "live.jsonl.lock");
        char *t = lw_path(e.sessions, "live.jsonl");
        const char *targs[] = { "--transcript", t, NULL };

        pid_t hd = lw_holder_start(dead, NULL);
        lw_expect(e.d, LW_TIMEOUT_MS, "lock.acquired", "lock", dead);
        pid_t hl = lw_holder_start(live, targs);
        lw_expect(e.d, LW_TIMEOUT_MS, "lock.acquired", "lock", live);

        long max = 16384;
        FILE *f = fopen("/proc/sys/fs/fanotify/max_queued_events", "re");
        if (f) {
                CHECK(fscanf(f, "%ld", &max) == 1, "max_queued_events");
                fclose(f);
        }
        CHECK(max < 1000000, "max_queued_events %ld too large to overflow in a test", max);

        kill(e.d->pid, SIGSTOP);
        lw_wait_stopped(e.d->pid, LW_TIMEOUT_MS);
        /* Each file is at least one record (distinct files never merge). */
        for (long i = 0; i < max + 2000; i++) {
                char name[64];
                snprintf(name, sizeof(name), "junk-%ld.jsonl", i);
                char *p = lw_path(e.sessions, name);
                int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
                CHECK(fd >= 0, "create %s", p);
                close(fd);
                CHECK(unlink(p) == 0, "unlink");
                free(p);
        }
        lw_kill_wait(hd, SIGKILL);
        char *fresh = lw_path(e.sessions, "fresh.jsonl.lock");
        pid_t hf = lw_holder_start(fresh, NULL);
        const char *replace[] = { "replace", t, "{}\n", NULL };
        pid_t a = lw_actor_start(replace);
        kill(e.d->pid, SIGCONT);

        json_t *err = lw_expect(e.d, LW_TIMEOUT_MS * 4, "monitor.error", NULL, NULL);
        CHECK(strstr(jstr(err, "error"), "overflow"), "error %s", jstr(err, "error"));
        lw_expect(e.d, LW_TIMEOUT_MS * 4, "lock.cleaned", "lock", dead);

        /* Its creation was lost; the resync found it. */
        lw_kill_wait(hf, SIGKILL);
        lw_expect(e.d, LW_TIMEOUT_MS, "lock.cleaned", "lock", fresh);

        /* Barrier: a new lock is reported after the resync. */
        pid_t b = lw_barrier(&e, LW_TIMEOUT_MS * 4);
        CHECK(lw_exists(live), "the live holder's lock was removed");
        CHECK(lw_count(e.d, "monitor.error", NULL, NULL) == 1, "overflow reported more than once");
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
