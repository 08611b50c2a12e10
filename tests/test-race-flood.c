/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A flood of one kind (a backup restore writing thousands of transcripts without locks):
 *
 * The flooding process is nobody's (the attacker: any user can write their own sessions).
 *
 * - one actor's race.unlocked-write reports in one folder are one report and one follow-up
 *   whose "covers" adds up to every transcript it wrote; another actor's unlocked write in the
 *   same folder meanwhile is still reported on its own; and the 1,024-event history still
 *   holds a dead owner's cleanup from before the flood (lockwarden events);
 * - the daemon's work stays proportional to the events it read: monitor.dump's
 *   session_visits (sessions and bursts visited by settles, gc and timers) is bounded by a
 *   multiple of its kernel events. Not a timing: a walk of every session at every drain or
 *   timer makes it grow as files x drains. */
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lwtest.h"

#define LINE "{\"type\":\"message\",\"restored\":true}\n"
#define FILES 2000

static char out[8 << 20];

#define NOBODY 65534

/* As root: the sessions folder of E becomes nobody's (and the folders above it passable), so
 * that the flood comes from an unprivileged user, as an attacker's would. */
static void give_to_nobody(LwEnv *e) {
        char *p = strdup(e->sessions);
        size_t top = strrchr(e->state, '/') - e->state; /* the test's own temporary folder */

        CHECK(p, "strdup");
        if (geteuid() != 0) {
                free(p);
                return;
        }
        CHECK(chown(e->sessions, NOBODY, NOBODY) == 0, "chown %s", e->sessions);
        /* sessions/ up to the temporary folder: passable. */
        for (char *slash; (slash = strrchr(p, '/')) && (size_t) (slash - p) >= top;) {
                *slash = '\0';
                CHECK(chmod(p, 0755) == 0, "chmod %s", p);
        }
        free(p);
}

/* A child, nobody's when we are root, that writes COUNT transcripts (one line each, EMPTY:
 * none) in DIR as fast as it can, without a lock. */
static pid_t restore(const char *dir, const char *prefix, int count, bool empty) {
        pid_t p = fork();

        CHECK(p >= 0, "fork");
        if (p > 0)
                return p;
        if (geteuid() == 0 && (setgroups(0, NULL) < 0 || setgid(NOBODY) < 0 || setuid(NOBODY) < 0))
                _exit(2);
        for (int i = 0; i < count; i++) {
                char name[4096];
                int fd;

                snprintf(name, sizeof(name), "%s/%s-%05d.jsonl", dir, prefix, i);
                fd = open(name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
                if (fd < 0 || (!empty && write(fd, LINE, strlen(LINE)) != (ssize_t) strlen(LINE)))
                        _exit(1);
                close(fd);
        }
        _exit(0);
}

static void flood_is_folded(void) {
        LwEnv e;
        lw_env_start(&e, "200", NULL);
        give_to_nobody(&e);
        char *dead = lw_path(e.sessions, "dead.jsonl.lock");

        /* First a dead owner's lock is cleaned: the flood must not push that out of history. */
        pid_t h = lw_holder_start(dead, NULL);
        lw_expect(e.d, LW_TIMEOUT_MS, "lock.acquired", "lock", dead);
        lw_kill_wait(h, SIGKILL);
        lw_expect(e.d, LW_TIMEOUT_MS, "lock.cleaned", "lock", dead);

        pid_t r = restore(e.sessions, "restored", FILES, false);
        /* Meanwhile another process writes another transcript without a lock. */
        char *other = lw_path(e.sessions, "other.jsonl");
        const char *args[] = { "append", other, "1", LINE, NULL };
        pid_t a = lw_actor_start(args);
        int st = lw_wait_exit_pumping(e.d, r, 60000);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the restore failed: %#x", st);

        json_t *o = lw_expect(e.d, 30000, "race.unlocked-write", "session", other);
        lw_check_actor(o, "actor_pid", a);
        CHECK(!json_object_get(o, "covers"), "the other actor's write was folded into the flood");

        /* The restore's reports: the first, and a follow-up when it has paused. */
        long long covered = 0, reports = 0;
        uint64_t deadline = lw_mono_ns() + 60000ull * 1000000ull;
        while (covered < FILES) {
                CHECK(lw_mono_ns() < deadline, "the reports cover %lld of %d writes", covered, FILES);
                json_t *ev = lw_expect(e.d, 60000, "race.unlocked-write", NULL, NULL);
                if (strcmp(jstr(ev, "session"), other) == 0)
                        continue;
                if (lw_attributed())
                        lw_check_actor(ev, "actor_pid", r);
                reports++;
                covered += json_object_get(ev, "covers") ? jint(ev, "covers") : 1;
                if (json_object_get(ev, "covers")) {
                        CHECK(strstr(jstr(ev, "first"), "/restored-") && strstr(jstr(ev, "last"), "/restored-"),
                              "first %s, last %s", jstr(ev, "first"), jstr(ev, "last"));
                        CHECK(jint(ev, "writes") >= jint(ev, "covers"), "writes %lld", jint(ev, "writes"));
                }
        }
        CHECK(covered == FILES, "the reports cover %lld writes, not %d", covered, FILES);
        CHECK(reports <= 4, "%lld reports for one restore", reports);

        /* The history still has the cleanup from before the flood. */
        const char *ev_args[] = { "events", "--socket", e.d->socket, "--json", NULL };
        CHECK(lw_run(ev_args, -1, out, sizeof(out), NULL, 0) == 0, "events");
        CHECK(strstr(out, "\"lock.cleaned\"") && strstr(out, dead), "the flood pushed lock.cleaned out of history");

        lw_kill_wait(a, SIGTERM);
        CHECK(lw_daemon_stop(e.d) == 0, "exit status");
        /* Nothing more was said at stop: everything was covered already. */
        CHECK(lw_count(e.d, "race.unlocked-write", NULL, NULL) == (size_t) reports + 1, "reports at stop");
}

static void work_is_linear(void) {
        LwEnv e;
        lw_env_start(&e, "200", NULL);
        give_to_nobody(&e);

        /* Empty transcripts, created as fast as one process can: every one opens a window. */
        pid_t r = restore(e.sessions, "empty", 3 * FILES, true);
        int st = lw_wait_exit_pumping(e.d, r, 60000);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the restore failed: %#x", st);
        json_t *last = NULL;
        uint64_t deadline = lw_mono_ns() + 60000ull * 1000000ull;
        do {
                CHECK(lw_mono_ns() < deadline, "the flood's reports did not end");
                last = lw_expect(e.d, 60000, "race.unlocked-write", NULL, NULL);
        } while (!json_object_get(last, "covers"));

        kill(e.d->pid, SIGUSR1);
        json_t *dump = lw_expect(e.d, LW_TIMEOUT_MS, "monitor.dump", NULL, NULL);
        CHECK(json_object_get(dump, "session_visits"), "monitor.dump has no session_visits");
        long long visits = jint(dump, "session_visits"), events = jint(dump, "events");
        fprintf(stderr, "%lld session visits for %lld kernel events\n", visits, events);
        CHECK(events > 0 && visits <= 8 * events + 100, "%lld session visits for %lld events", visits, events);
        CHECK(lw_daemon_stop(e.d) == 0, "exit status");
}

int main(void) {
        /* Without attribution every writer is one "unknown" actor: the two would be one burst. */
        lw_require_attribution("a burst is one actor's");
        flood_is_folded();
        work_is_linear();
        return 0;
}
