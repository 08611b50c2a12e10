/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lockwarden scan, one shot, no daemon, against real fixtures: a live holder's lock, a dead
 * owner's, a leaked one (owner alive, nobody holds it, written long ago), a malformed one, a
 * recycled pid, and a symlink planted as a lock. Exit 1 and the right verdicts; the daemon,
 * started on the same fixtures in report mode, gives the same reasons; --fix removes exactly
 * the stale ones (never the live lock, never the symlink's target); then exit 0. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "lwtest.h"

static char out[1 << 20], err[1 << 16];

static void old_file(const char *path, const char *payload) {
        struct timeval tv[2] = { { .tv_sec = 1000000000 }, { .tv_sec = 1000000000 } };

        lw_write_file(path, payload, strlen(payload));
        CHECK(utimes(path, tv) == 0, "utimes");
}

static const char *reason_of(json_t *locks, const char *lock) {
        json_t *l;
        size_t i;

        json_array_foreach(locks, i, l)
                if (strcmp(jstr(l, "lock"), lock) == 0)
                        return json_is_string(json_object_get(l, "reason")) ? jstr(l, "reason") : jstr(l, "verdict");
        CHECK(false, "%s not in the scan", lock);
        return NULL;
}

int main(void) {
        lw_require_backend();
        char *state = lw_path(lw_tmpdir(), "state"), *sessions = lw_path(state, "agents/main/sessions");
        lw_mkdir_p(sessions);
        char *live = lw_path(sessions, "live.jsonl.lock"), *dead = lw_path(sessions, "dead.jsonl.lock");
        char *leaked = lw_path(sessions, "leaked.jsonl.lock"), *bad = lw_path(sessions, "bad.jsonl.lock");
        char *recycled = lw_path(sessions, "recycled.jsonl.lock"), *link = lw_path(sessions, "link.jsonl.lock");
        char *target = lw_path(lw_tmpdir(), "target"), payload[256];

        pid_t h = lw_holder_start(live, NULL);
        pid_t gone = lw_holder_start(dead, NULL);
        lw_kill_wait(gone, SIGKILL);
        /* Left long ago: with no creator to tie its pid to, scan judges a dead pid only once
         * nobody has written the lock for the grace (it might be another pid namespace's). */
        struct timeval long_ago[2] = { { .tv_sec = 1000000000 }, { .tv_sec = 1000000000 } };
        CHECK(utimes(dead, long_ago) == 0, "utimes");
        pid_t sleeper = lw_spawn_sleeper();
        snprintf(payload, sizeof(payload), "{\"pid\": %d, \"createdAt\": \"2001-09-09T01:46:40.000Z\"}\n", (int) sleeper);
        old_file(leaked, payload);
        old_file(bad, "{not json\n");
        snprintf(payload, sizeof(payload), "{\"pid\": %d, \"createdAt\": \"2001-09-09T01:46:40.000Z\", \"starttime\": 1}\n",
                 (int) sleeper);
        old_file(recycled, payload);
        lw_write_file(target, "{\"pid\": 1}\n", 11);
        CHECK(symlink(target, link) == 0, "symlink");

        const char *scan_json[] = { "scan", "--state-dir", state, "--json", NULL };
        json_error_t je;
        CHECK(lw_run(scan_json, -1, out, sizeof(out), err, sizeof(err)) == 2, "scan with a symlink: exit 2 expected: %s", err);
        CHECK(strstr(err, "link.jsonl.lock") && strstr(err, "not followed"), "symlink not reported: %s", err);
        json_t *sj = json_loads(out, 0, &je), *locks = json_object_get(sj, "locks");
        CHECK(sj, "scan --json: %s", je.text);
        CHECK(json_array_size(locks) == 5, "%zu locks scanned", json_array_size(locks));
        CHECK(strcmp(reason_of(locks, live), "live") == 0, "live: %s", reason_of(locks, live));
        CHECK(strcmp(reason_of(locks, dead), "dead-pid") == 0, "dead: %s", reason_of(locks, dead));
        CHECK(strcmp(reason_of(locks, leaked), "leaked") == 0, "leaked: %s", reason_of(locks, leaked));
        CHECK(strcmp(reason_of(locks, bad), "malformed") == 0, "bad: %s", reason_of(locks, bad));
        CHECK(strcmp(reason_of(locks, recycled), "recycled-pid") == 0, "recycled: %s", reason_of(locks, recycled));
        CHECK(jint(sj, "stale") == 4 && jint(sj, "removed") == 0, "counts");

        /* The daemon judges the same fixtures the same way. */
        const char *args[] = { "--state-dir", state, "--leak-grace-ms", "1000", "--cleanup=report", NULL };
        LwDaemon *d = lw_daemon_start(NULL, args, NULL);
        lw_daemon_ready(d);
        const char *stale[] = { dead, leaked, bad, recycled };
        for (size_t i = 0; i < LW_ELEMENTSOF(stale); i++) {
                json_t *ev = lw_expect(d, LW_TIMEOUT_MS, "lock.stale", "lock", stale[i]);
                CHECK(strcmp(jstr(ev, "reason"), reason_of(locks, stale[i])) == 0, "%s: daemon %s, scan %s", stale[i],
                      jstr(ev, "reason"), reason_of(locks, stale[i]));
        }
        CHECK(lw_count(d, "lock.stale", "lock", live) == 0, "the daemon calls the live lock stale");
        CHECK(lw_daemon_stop(d) == 0, "exit status");

        /* The table, then --fix. */
        CHECK(unlink(link) == 0, "remove the symlink");
        const char *scan_table[] = { "scan", "--state-dir", state, NULL };
        CHECK(lw_run(scan_table, -1, out, sizeof(out), err, sizeof(err)) == 1, "scan exit: %s", err);
        CHECK(strncmp(out, "LOCK ", 5) == 0 && strstr(out, "dead-pid") && strstr(out, "4 stale (run with --fix"),
              "scan table: %s", out);
        const char *fix[] = { "scan", "--state-dir", state, "--fix", NULL };
        CHECK(lw_run(fix, -1, out, sizeof(out), err, sizeof(err)) == 1, "scan --fix exit: %s", err);
        CHECK(strstr(out, "removed"), "--fix table: %s", out);
        for (size_t i = 0; i < LW_ELEMENTSOF(stale); i++)
                CHECK(!lw_exists(stale[i]), "%s not removed", stale[i]);
        CHECK(lw_exists(live) && lw_exists(target), "--fix removed the live lock or the symlink's target");
        CHECK(lw_run(scan_table, -1, out, sizeof(out), err, sizeof(err)) == 0, "nothing stale left, exit 0: %s", out);

        /* Bad usage and a folder that is not there. */
        const char *bad_opt[] = { "scan", "--frobnicate", NULL };
        CHECK(lw_run(bad_opt, -1, out, sizeof(out), err, sizeof(err)) == 2, "bad option");
        const char *missing[] = { "scan", "--watch", "/nonexistent/sessions", NULL };
        CHECK(lw_run(missing, -1, out, sizeof(out), err, sizeof(err)) == 2 && strstr(err, "/nonexistent/sessions"),
              "missing folder: %s", err);
        lw_kill_wait(h, SIGTERM);
        lw_kill_wait(sleeper, SIGKILL);
        return 0;
}
