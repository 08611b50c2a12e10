/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Every release users run, by its own rules (docs/RELEASES.md):
 *  - the release a state dir runs is read from its gateway's own package.json (found above the
 *    script its argv runs) and reported (monitor.release, status --json);
 *  - 2026.7: a live lock past its maxHoldMs is aged, and lock.aged says contenders fail fast;
 *  - 2026.5 (named by a folder rule of the configuration): they steal it, and a steal of an
 *    aged lock is reported as the application's own (cause application-steal);
 *  - both: a holder whose own watchdog released its lock past maxHoldMs while its run goes on
 *    writing: lock.released says watchdog, the unlocked write names the cause;
 *  - 2026.8+ (a SQLite store): monitor.warning once, lock files are inert leftovers (kept), and
 *    transcript writes there are no races. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "lwtest.h"

/* valgrind 3.19 knows no openat2, through which package.json is read: that part is left out
 * under it (the rest stands). */
static bool under_valgrind(void) {
        const char *w = getenv("LW_DAEMON_WRAPPER");
        return w && strstr(w, "valgrind");
}

/* A fake OpenClaw package VERSION in DIR/pkg: the holder runs as DIR/pkg/openclaw. */
static char *package(const char *dir, const char *version) {
        char *pkg = lw_path(dir, "pkg"), *pj = lw_path(pkg, "package.json"), json[128];

        lw_mkdir_p(pkg);
        snprintf(json, sizeof(json), "{\"name\": \"openclaw\", \"version\": \"%s\"}\n", version);
        lw_write_file(pj, json, strlen(json));
        free(pj);
        return lw_path(pkg, "openclaw");
}

static void from_package_json(void) {
        LwEnv e;
        lw_env_start(&e, "200", NULL);
        char *argv0 = package(e.state, "2026.7.35"), *lock = lw_path(e.sessions, "s1.jsonl.lock");
        const char *args[] = { "gateway", "--max-hold-ms", "300", NULL };

        lw_child_argv0 = argv0;
        pid_t h = lw_holder_start(lock, args);
        lw_child_argv0 = NULL;
        json_t *r = lw_expect(e.d, LW_TIMEOUT_MS, "monitor.release", NULL, NULL);
        CHECK(strcmp(jstr(r, "release"), "2026.7") == 0 && strcmp(jstr(r, "version"), "2026.7.35") == 0,
              "release %s %s", jstr(r, "release"), jstr(r, "version"));
        CHECK(strcmp(jstr(r, "state_dir"), e.state) == 0, "state_dir %s", jstr(r, "state_dir"));
        char src[64];
        snprintf(src, sizeof(src), "package.json of pid %d", (int) h);
        CHECK(strcmp(jstr(r, "source"), src) == 0, "source %s", jstr(r, "source"));

        json_t *a = lw_expect(e.d, LW_TIMEOUT_MS, "lock.aged", "lock", lock);
        CHECK(strcmp(jstr(a, "reason"), "hold-exceeded") == 0, "reason %s", jstr(a, "reason"));
        CHECK(strcmp(jstr(a, "release"), "2026.7") == 0 && strcmp(jstr(a, "contenders"), "fail-fast") == 0,
              "aged: release %s contenders %s", jstr(a, "release"), jstr(a, "contenders"));

        char out[16384];
        const char *st[] = { "status", "--json", "--socket", e.d->socket, NULL };
        CHECK(lw_run(st, -1, out, sizeof(out), NULL, 0) == 0, "status");
        CHECK(strstr(out, "\"release\": \"2026.7\"") && strstr(out, "\"version\": \"2026.7.35\""), "status: %s", out);
        lw_kill_wait(h, SIGTERM);
        CHECK(lw_daemon_stop(e.d) == 0, "exit status");
}

static void configured_2026_5(void) {
        LwEnv e;
        char *dir = lw_tmpdir(), *config = lw_path(dir, "lockwarden.json"), text[512];
        const char *extra[] = { "--config", config, NULL };

        /* The rule names the state dir before it exists: lw_env_start makes it below DIR. */
        snprintf(text, sizeof(text), "{\"folders\": [{\"path\": \"/\", \"release\": \"2026.5\"}]}\n");
        lw_write_file(config, text, strlen(text));
        lw_env_start(&e, "200", extra);
        char *lock = lw_path(e.sessions, "s2.jsonl.lock"), *transcript = lw_path(e.sessions, "s2.jsonl");
        const char *args[] = { "--max-hold-ms", "300", NULL };

        pid_t h = lw_holder_start(lock, args);
        json_t *a = lw_expect(e.d, LW_TIMEOUT_MS, "lock.aged", "lock", lock);
        CHECK(strcmp(jstr(a, "contenders"), "steal") == 0, "contenders %s", jstr(a, "contenders"));
        /* A contender takes it, as 2026.5's own code does. */
        CHECK(unlink(lock) == 0, "unlink");
        json_t *s = lw_expect(e.d, LW_TIMEOUT_MS, "race.lock-stolen", "lock", lock);
        CHECK(strcmp(jstr(s, "cause"), "application-steal") == 0 && strcmp(jstr(s, "aged"), "hold-exceeded") == 0,
              "stolen: cause %s aged %s", jstr(s, "cause"), jstr(s, "aged"));
        lw_kill_wait(h, SIGKILL);

        /* The holder's own watchdog: released past maxHoldMs, then its run writes on. */
        char *lock3 = lw_path(e.sessions, "s3.jsonl.lock"), *t3 = lw_path(e.sessions, "s3.jsonl");
        const char *wd[] = { "--max-hold-ms", "300", "--transcript", t3, "--append-after-release", NULL };
        h = lw_holder_start(lock3, wd);
        lw_expect(e.d, LW_TIMEOUT_MS, "lock.aged", "lock", lock3);
        CHECK(kill(h, SIGTERM) == 0, "kill");
        json_t *rel = lw_expect(e.d, LW_TIMEOUT_MS, "lock.released", "lock", lock3);
        CHECK(json_is_true(json_object_get(rel, "watchdog")), "released: watchdog %s", json_dumps(rel, 0));
        /* Later (the model thinks), not in the same unread stretch of the queue as its release,
         * where the release's author keeps the benefit of the doubt: `cleanup` answers once the
         * daemon has read the queue empty. */
        const char *barrier[] = { "cleanup", "--socket", e.d->socket, NULL };
        (void) lw_run(barrier, -1, NULL, 0, NULL, 0);
        lw_kill_wait(h, SIGTERM); /* its run writes on, unlocked */
        json_t *u = lw_expect(e.d, LW_TIMEOUT_MS, "race.unlocked-write", "session", t3);
        if (lw_attributed())
                CHECK(strcmp(jstr(u, "cause"), "holder-watchdog") == 0, "unlocked: cause %s", jstr(u, "cause"));
        (void) transcript;
        CHECK(lw_daemon_stop(e.d) == 0, "exit status");
}

static void sqlite_store(void) {
        char *state = lw_path(lw_tmpdir(), "state"), *sessions = lw_path(state, "agents/main/sessions");
        char *agent = lw_path(state, "agents/main/agent"), *db = lw_path(agent, "openclaw-agent.sqlite");

        lw_mkdir_p(sessions);
        lw_mkdir_p(agent);
        lw_write_file(db, "SQLite format 3", 16);
        /* A lock left from before the migration, its owner gone. */
        char *old = lw_path(sessions, "old.jsonl.lock");
        pid_t gone = lw_holder_start(old, NULL);
        lw_kill_wait(gone, SIGKILL);

        const char *args[] = { "--state-dir", state, "--leak-grace-ms", "200", NULL };
        LwDaemon *d = lw_daemon_start(NULL, args, NULL);
        json_t *ready = lw_daemon_ready(d);
        json_t *w = lw_expect(d, LW_TIMEOUT_MS, "monitor.warning", NULL, NULL);
        CHECK(strstr(jstr(w, "warning"), "SQLite session store"), "warning %s", jstr(w, "warning"));
        json_t *rel = json_array_get(json_object_get(ready, "releases"), 0);
        CHECK(rel && strcmp(jstr(rel, "release"), "2026.8+") == 0, "ready releases: %s",
              json_dumps(json_object_get(ready, "releases"), 0));
        json_t *k = lw_expect(d, LW_TIMEOUT_MS, "lock.kept", "lock", old);
        CHECK(strstr(jstr(k, "why"), "leftover"), "why %s", jstr(k, "why"));
        CHECK(lw_exists(old), "leftover removed by the daemon");

        /* Legacy transcripts there are import input: writes to them are no race. (Before the
         * rollback below, which makes them a 2026.7 state dir's again.) */
        char *t = lw_path(sessions, "legacy.jsonl");
        lw_write_file(t, "{}\n", 3);
        int fd = open(t, O_WRONLY | O_APPEND | O_CLOEXEC);
        CHECK(fd >= 0 && write(fd, "{}\n", 3) == 3, "append");
        close(fd);

        /* scan lists it as a leftover and --fix removes it: its owner is gone. */
        char out[65536], err[4096];
        const char *scan[] = { "scan", "--state-dir", state, "--fix", "--json", "--leak-grace-ms", "0", NULL };
        lw_run(scan, -1, out, sizeof(out), err, sizeof(err));
        CHECK(strstr(out, "\"leftover\": true") && strstr(out, "\"release\": \"2026.8+\""), "scan: %s", out);
        CHECK(!lw_exists(old), "scan --fix kept a dead owner's leftover");

        /* A gateway of 2026.7 takes a lock there (a store rolled back): its package.json says
         * more than the store on disk, and its dead lock is cleaned, not kept as a leftover. */
        if (!under_valgrind()) {
                char *argv0 = package(lw_tmpdir(), "2026.7.35"), *back = lw_path(sessions, "back.jsonl.lock");
                const char *gw[] = { "gateway", NULL };
                lw_child_argv0 = argv0;
                pid_t hb = lw_holder_start(back, gw);
                lw_child_argv0 = NULL;
                lw_expect(d, LW_TIMEOUT_MS, "monitor.release", "release", "2026.7");
                lw_kill_wait(hb, SIGKILL);
                lw_expect(d, LW_TIMEOUT_MS, "lock.cleaned", "lock", back);
        }
        /* Stopped, the daemon has reported every open coalescing window. */
        CHECK(lw_daemon_stop(d) == 0, "exit status");
        CHECK(lw_count(d, "race.", NULL, NULL) == 0, "a race in a 2026.8+ state dir");
        CHECK(lw_count(d, "monitor.warning", NULL, NULL) == 1, "warned more than once");
}

int main(void) {
        lw_require_backend();
        if (!under_valgrind())
                from_package_json();
        configured_2026_5();
        sqlite_store();
        return 0;
}
