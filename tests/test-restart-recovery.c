/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lockwarden never makes the application lose its restart recovery. At start-up a gateway
 * (2026.2 – 2026.7) sweeps the stale locks of each sessions folder and resumes every running
 * main session whose lock it removed: a dead gateway's stale lock is that evidence. So:
 *  - a gateway (by the application's argv rule) SIGKILLed while holding the lock of a session
 *    that sessions.json says is running: lock.stale dead-pid at once, then lock.kept
 *    (restart-recovery), and the lock stays for the application, whose own removal is then
 *    no race;
 *  - the same session not running, a subagent's session, a non-gateway owner, or no
 *    sessions.json: cleaned as fast as ever;
 *  - sessions.json unreadable (malformed, a symlink): kept on doubt, saying so.
 * The application's own code does the same sweep in tests/interop. */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "lwtest.h"

typedef struct Env {
        char *state;
        LwDaemon *d;
} Env;

static char *folder(Env *e, const char *agent) {
        char rel[256];

        snprintf(rel, sizeof(rel), "agents/%s/sessions", agent);
        return lw_path(e->state, rel);
}

static void store(Env *e, const char *agent, const char *json) {
        char *dir = folder(e, agent), *tmp = lw_path(dir, "sessions.json.tmp"), *path = lw_path(dir, "sessions.json");

        lw_write_file(tmp, json, strlen(json));
        CHECK(rename(tmp, path) == 0, "rename");
        free(tmp);
        free(path);
        free(dir);
}

/* A holder of SESSION's lock in AGENT's folder, as a gateway (GATEWAY) or not, SIGKILLed. */
static char *kill_holder(Env *e, const char *agent, const char *session, bool gateway) {
        char *dir = folder(e, agent), name[128];
        const char *args[] = { "gateway", NULL };

        snprintf(name, sizeof(name), "%s.jsonl.lock", session);
        char *lock = lw_path(dir, name);
        free(dir);
        if (gateway)
                lw_child_argv0 = "/opt/openclaw/openclaw.mjs";
        pid_t h = lw_holder_start(lock, gateway ? args : NULL);
        lw_child_argv0 = NULL;
        lw_expect(e->d, LW_TIMEOUT_MS, "lock.acquired", "lock", lock);
        lw_kill_wait(h, SIGKILL);
        return lock;
}

static void expect_kept(Env *e, const char *lock, const char *why) {
        json_t *st = lw_expect(e->d, LW_TIMEOUT_MS, "lock.stale", "lock", lock);
        CHECK(strcmp(jstr(st, "reason"), "dead-pid") == 0, "reason %s", jstr(st, "reason"));
        json_t *k = lw_expect(e->d, LW_TIMEOUT_MS, "lock.kept", "lock", lock);
        CHECK(strncmp(jstr(k, "why"), "restart-recovery", 16) == 0 && strstr(jstr(k, "why"), why),
              "%s: why %s", lock, jstr(k, "why"));
        CHECK(lw_exists(lock), "%s removed", lock);
}

static void expect_cleaned(Env *e, const char *lock) {
        json_t *c = lw_expect(e->d, LW_TIMEOUT_MS, "lock.cleaned", "lock", lock);
        CHECK(strcmp(jstr(c, "reason"), "dead-pid") == 0, "reason %s", jstr(c, "reason"));
        CHECK(!lw_exists(lock), "%s still there", lock);
        CHECK(lw_count(e->d, "lock.kept", "lock", lock) == 0, "%s kept before its cleanup", lock);
}

/* The main agent's sessions.json, flip1's status as given. */
#define MAIN_STORE(flip) "{\n" \
              "  \"agent:main:main\": {\"sessionId\": \"run1\", \"status\": \"running\", \"updatedAt\": 1},\n" \
              "  \"agent:main:telegram:42\": {\"sessionId\": \"x\", \"sessionFile\": \"run2.jsonl\", \"status\": \"running\"},\n" \
              "  \"agent:main:done\": {\"sessionId\": \"done1\", \"status\": \"done\"},\n" \
              "  \"agent:main:subagent:a\": {\"sessionId\": \"sub1\", \"status\": \"running\"},\n" \
              "  \"agent:main:other\": {\"sessionId\": \"plain1\", \"status\": \"running\"},\n" \
              "  \"agent:main:recy\": {\"sessionId\": \"recy1\", \"status\": \"running\"},\n" \
              "  \"agent:main:flip\": {\"sessionId\": \"flip1\", \"status\": \"" flip "\"}\n" \
              "}\n"

int main(void) {
        Env e;
        const char *agents[] = { "main", "bad", "none", "linked", "huge" };

        lw_require_backend();
        e.state = lw_path(lw_tmpdir(), "state");
        for (size_t i = 0; i < LW_ELEMENTSOF(agents); i++) {
                char *dir = folder(&e, agents[i]);
                lw_mkdir_p(dir);
                free(dir);
        }
        store(&e, "main", MAIN_STORE("running"));
        /* Over 2 MiB: not parsed on the event path. */
        size_t big = 3u << 20;
        char *huge = malloc(big + 16);
        CHECK(huge, "malloc");
        memcpy(huge, "{\"x\": \"", 7);
        memset(huge + 7, 'a', big);
        memcpy(huge + 7 + big, "\"}\n", 4);
        char *huge_path = lw_path(e.state, "agents/huge/sessions/sessions.json");
        lw_write_file(huge_path, huge, big + 10);
        free(huge);
        store(&e, "bad", "{\"agent:main:main\": {\"sessionId\": \"run1\", \"status\": \"runn");
        char *linked_store = lw_path(e.state, "agents/linked/sessions/sessions.json");
        char *elsewhere = lw_path(e.state, "elsewhere.json");
        lw_write_file(elsewhere, "{}", 2);
        CHECK(symlink(elsewhere, linked_store) == 0, "symlink");

        const char *args[] = { "--state-dir", e.state, "--leak-grace-ms", "200", NULL };
        e.d = lw_daemon_start(NULL, args, NULL);
        lw_daemon_ready(e.d);

        /* A gateway's running main session, by sessionId and by sessionFile: kept. */
        char *run1 = kill_holder(&e, "main", "run1", true);
        expect_kept(&e, run1, "session agent:main:main is running");
        char *run2 = kill_holder(&e, "main", "run2", true);
        expect_kept(&e, run2, "session agent:main:telegram:42 is running");
        /* The application's sweep removes it itself: its release of the evidence, no race. */
        CHECK(unlink(run1) == 0, "unlink");
        lw_expect(e.d, LW_TIMEOUT_MS, "lock.removed", "lock", run1);

        /* The application rewrote sessions.json since it was read: the new one counts. */
        store(&e, "main", MAIN_STORE("done"));
        expect_cleaned(&e, kill_holder(&e, "main", "flip1", true));

        /* Not resumed by the application: cleaned at once. */
        expect_cleaned(&e, kill_holder(&e, "main", "done1", true));
        expect_cleaned(&e, kill_holder(&e, "main", "sub1", true));
        expect_cleaned(&e, kill_holder(&e, "main", "plain1", false));
        expect_cleaned(&e, kill_holder(&e, "none", "run1", true));

        /* A lock left by a gateway whose pid another process has now (found after a restart):
         * that process's argv says nothing of the owner, so the evidence is kept. */
        char *recy = lw_path(e.state, "agents/main/sessions/recy1.jsonl.lock"), payload[256];
        pid_t sleeper = lw_spawn_sleeper();
        int n = snprintf(payload, sizeof(payload), "{\"pid\": %d, \"createdAt\": \"2026-05-28T04:22:01.123Z\", "
                         "\"starttime\": 1}\n", (int) sleeper);
        lw_write_file(recy, payload, (size_t) n);
        json_t *rst = lw_expect(e.d, LW_TIMEOUT_MS, "lock.stale", "lock", recy);
        CHECK(strcmp(jstr(rst, "reason"), "recycled-pid") == 0, "reason %s", jstr(rst, "reason"));
        json_t *rk = lw_expect(e.d, LW_TIMEOUT_MS, "lock.kept", "lock", recy);
        CHECK(strncmp(jstr(rk, "why"), "restart-recovery", 16) == 0, "why %s", jstr(rk, "why"));
        CHECK(lw_exists(recy), "recycled evidence removed");
        lw_kill_wait(sleeper, SIGKILL);

        /* sessions.json that cannot be read: kept on doubt. */
        char *bad = kill_holder(&e, "bad", "run1", true), *linked = kill_holder(&e, "linked", "run1", true);
        expect_kept(&e, bad, "not a JSON object");
        expect_kept(&e, linked, "not a regular file");
        expect_kept(&e, kill_holder(&e, "huge", "run1", true), "larger than 2 MiB");

        /* scan --fix, which knows no owner's argv once it is gone, keeps the same evidence. */
        char out[65536], err[4096];
        const char *scan[] = { "scan", "--state-dir", e.state, "--fix", "--json", "--leak-grace-ms", "0", NULL };
        CHECK(lw_run(scan, -1, out, sizeof(out), err, sizeof(err)) == 1, "scan --fix: %s", err);
        json_t *sj = json_loads(out, 0, NULL), *l;
        size_t i, kept = 0;
        CHECK(sj, "scan --json: %s", out);
        json_array_foreach(json_object_get(sj, "locks"), i, l) {
                const char *why = json_string_value(json_object_get(l, "why"));
                if (strcmp(json_string_value(json_object_get(l, "lock")), run2) == 0)
                        CHECK(strcmp(json_string_value(json_object_get(l, "action")), "kept") == 0 && why &&
                                      strncmp(why, "restart-recovery", 16) == 0,
                              "scan --fix on the evidence: %s", json_dumps(l, 0));
                kept += why && strncmp(why, "restart-recovery", 16) == 0;
        }
        CHECK(kept == 5, "scan kept %zu locks for the recovery: %s", kept, out);
        CHECK(lw_exists(run2), "scan --fix removed the evidence");
        json_decref(sj);

        CHECK(lw_count(e.d, "race.", NULL, NULL) == 0, "a race was reported");
        CHECK(lw_count(e.d, "lock.cleaned", "lock", run2) == 0, "the kept lock was cleaned");
        CHECK(lw_daemon_stop(e.d) == 0, "exit status");
        return 0;
}
