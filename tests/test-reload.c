/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* SIGHUP reloads the configuration file on a running daemon: a folder added is guarded at once
 * (a lock there is cleaned when its owner dies), a folder removed is released, the holder map
 * and the owners of live locks are kept across the reload, and monitor.reloaded says what
 * changed. A bad file changes nothing and says why. Per-folder rules (cleanup, ignored race
 * kinds) apply, change live, and the command line keeps winning over the file. */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "lwtest.h"

#define LINE "{\"type\":\"mirror\"}\n"

typedef struct Env {
        char *dir, *config;
        char *state[2], *sessions[2];
        LwDaemon *d;
} Env;

/* Replaces the configuration file in one step (a reader never sees half of it). */
static void write_config(Env *e, const char *text) {
        char *tmp = lw_path(e->dir, "config.json.tmp");

        lw_write_file(tmp, text, strlen(text));
        CHECK(rename(tmp, e->config) == 0, "rename");
        free(tmp);
}

static void env_init(Env *e) {
        lw_require_backend();
        e->dir = lw_tmpdir();
        e->config = lw_path(e->dir, "lockwarden.json");
        for (int i = 0; i < 2; i++) {
                e->state[i] = lw_path(e->dir, i == 0 ? "a" : "b");
                e->sessions[i] = lw_path(e->state[i], "agents/main/sessions");
                lw_mkdir_p(e->sessions[i]);
        }
}

/* Starts the daemon on CONFIG_TEXT (the file governs the folders) with EXTRA options;
 * returns monitor.ready. */
static json_t *env_run(Env *e, const char *config_text, const char *const *extra) {
        const char *args[16] = { "--config", e->config, "--leak-grace-ms", "200" };
        size_t n = 4;

        write_config(e, config_text);
        for (size_t i = 0; extra && extra[i]; i++)
                args[n++] = extra[i];
        args[n] = NULL;
        e->d = lw_daemon_start(NULL, args, NULL);
        return lw_daemon_ready(e->d);
}

static char *config(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *config(const char *fmt, ...) {
        va_list ap;
        char *s;

        va_start(ap, fmt);
        CHECK(vasprintf(&s, fmt, ap) >= 0, "vasprintf");
        va_end(ap);
        return s;
}

/* SIGHUP, then the reload's report: EVENT (not seen before this call). */
static json_t *reload(Env *e, const char *event) {
        CHECK(kill(e->d->pid, SIGHUP) == 0, "SIGHUP");
        return lw_expect(e->d, LW_TIMEOUT_MS, event, NULL, NULL);
}

/* `lockwarden reload` (what systemctl reload runs): its exit status, OUT and ERR. */
static int reload_verb(Env *e, char *out, size_t out_size, char *err, size_t err_size) {
        const char *args[] = { "reload", "--socket", e->d->socket, NULL };
        return lw_run(args, -1, out, out_size, err, err_size);
}

/* A folder added and one removed, live; the holder map kept; a bad file refused. */
static void folders_come_and_go(void) {
        Env e;
        char *c;

        env_init(&e);
        c = config("{\"state_dirs\": [\"%s\"]}", e.state[0]);
        json_t *ready = env_run(&e, c, NULL);
        free(c);
        CHECK(json_array_size(json_object_get(ready, "dirs")) == 1, "guarding %zu folders",
              json_array_size(json_object_get(ready, "dirs")));

        /* A live holder in a, known before the reload. */
        char *la = lw_path(e.sessions[0], "live.jsonl.lock");
        pid_t ha = lw_holder_start(la, NULL);
        lw_expect(e.d, LW_TIMEOUT_MS, "lock.acquired", "lock", la);

        /* Add b (and ask for another backend, which needs a restart). */
        c = config("{\"state_dirs\": [\"%s\", \"%s\"], \"backend\": \"%s\"}", e.state[0], e.state[1],
                   lw_attributed() ? "inotify" : "fanotify");
        write_config(&e, c);
        free(c);
        json_t *r = reload(&e, "monitor.reloaded");
        CHECK(json_array_size(json_object_get(r, "added")) == 1 &&
                      lw_array_has(json_object_get(r, "added"), e.state[1]), "added: %s",
              json_dumps(json_object_get(r, "added"), 0));
        CHECK(json_array_size(json_object_get(r, "removed")) == 0, "removed");
        CHECK(jint(r, "folders") == 2, "folders %lld", jint(r, "folders"));
        CHECK(strcmp(jstr(r, "config"), e.config) == 0, "config %s", jstr(r, "config"));
        /* Under the inotify harness the command line names the backend, and it wins. */
        CHECK(lw_array_has(json_object_get(r, "restart_needed"), "backend") == lw_attributed(), "restart_needed: %s",
              json_dumps(json_object_get(r, "restart_needed"), 0));

        /* b is guarded now: a dead owner's lock there is cleaned. */
        char *lb = lw_path(e.sessions[1], "dead.jsonl.lock");
        pid_t hb = lw_holder_start(lb, NULL);
        lw_expect(e.d, LW_TIMEOUT_MS, "lock.acquired", "lock", lb);
        lw_kill_wait(hb, SIGKILL);
        lw_expect(e.d, LW_TIMEOUT_MS, "lock.cleaned", "lock", lb);
        CHECK(!lw_exists(lb), "the lock in the added folder is still there");

        /* The owner known from before the reload is still followed: its death is seen. */
        lw_kill_wait(ha, SIGKILL);
        json_t *cl = lw_expect(e.d, LW_TIMEOUT_MS, "lock.cleaned", "lock", la);
        CHECK(strcmp(jstr(cl, "reason"), "dead-pid") == 0, "reason %s", jstr(cl, "reason"));

        /* A bad file: refused with its position, the old configuration stays. */
        write_config(&e, "{\"state_dirs\": [\"/x\"],\n \"cleanup\": \"never\"}");
        json_t *err = reload(&e, "monitor.error");
        CHECK(strstr(jstr(err, "error"), "configuration not reloaded") && strstr(jstr(err, "error"), ":2:13:"),
              "error: %s", jstr(err, "error"));
        CHECK(strcmp(jstr(err, "path"), e.config) == 0, "path %s", jstr(err, "path"));
        CHECK(lw_count(e.d, "monitor.reloaded", NULL, NULL) == 1, "a bad file was applied");
        /* The same asked with `lockwarden reload`: it fails and says why. */
        char out[4096], errs[4096];
        CHECK(reload_verb(&e, out, sizeof(out), errs, sizeof(errs)) == 1, "reload of a bad file: exit 0");
        CHECK(strstr(errs, "configuration not reloaded") && strstr(errs, ":2:13:"), "reload said: %s", errs);
        lb = lw_path(e.sessions[1], "dead2.jsonl.lock");
        hb = lw_holder_start(lb, NULL);
        lw_expect(e.d, LW_TIMEOUT_MS, "lock.acquired", "lock", lb);
        lw_kill_wait(hb, SIGKILL);
        lw_expect(e.d, LW_TIMEOUT_MS, "lock.cleaned", "lock", lb);

        /* Remove a: released. A dead owner's lock there stays; b, after it, is still served. */
        c = config("{\"state_dirs\": [\"%s\"]}", e.state[1]);
        write_config(&e, c);
        free(c);
        CHECK(reload_verb(&e, out, sizeof(out), errs, sizeof(errs)) == 0, "reload: %s", errs);
        CHECK(strstr(out, "Reloaded") && strstr(out, "1 removed"), "reload said: %s", out);
        r = lw_expect(e.d, LW_TIMEOUT_MS, "monitor.reloaded", NULL, NULL);
        CHECK(lw_array_has(json_object_get(r, "removed"), e.state[0]) && json_array_size(json_object_get(r, "added")) == 0,
              "removed: %s", json_dumps(json_object_get(r, "removed"), 0));
        CHECK(jint(r, "folders") == 1, "folders %lld", jint(r, "folders"));
        la = lw_path(e.sessions[0], "after.jsonl.lock");
        ha = lw_holder_start(la, NULL);
        lw_kill_wait(ha, SIGKILL);
        lb = lw_path(e.sessions[1], "after.jsonl.lock");
        hb = lw_holder_start(lb, NULL);
        lw_kill_wait(hb, SIGKILL);
        lw_expect(e.d, LW_TIMEOUT_MS, "lock.cleaned", "lock", lb);
        CHECK(lw_count(e.d, "lock.acquired", "lock", la) == 0 && lw_count(e.d, "lock.stale", "lock", la) == 0,
              "a removed folder is still guarded");
        CHECK(lw_exists(la), "a lock in a folder no longer guarded was removed");
        CHECK(lw_daemon_stop(e.d) == 0, "exit status");
}

/* Folder rules: cleanup and ignored races per folder; the command line wins over the file's
 * global options but not over a rule (rules have no command-line form). Changed live. */
static void folder_rules(void) {
        Env e;
        const char *cli[] = { "--cleanup=auto", NULL };

        env_init(&e);
        char *c = config("{\"state_dirs\": [\"%s\", \"%s\"], \"cleanup\": \"report\", \"race_coalesce_ms\": 0,\n"
                         " \"folders\": [{\"path\": \"%s\", \"cleanup\": \"report\", \"ignore_races\": [\"unlocked-write\"]}]}",
                         e.state[0], e.state[1], e.sessions[1]);
        env_run(&e, c, cli);
        free(c);

        /* a: the command line's auto beats the file's report. */
        char *la = lw_path(e.sessions[0], "s.jsonl.lock");
        pid_t h = lw_holder_start(la, NULL);
        lw_kill_wait(h, SIGKILL);
        lw_expect(e.d, LW_TIMEOUT_MS, "lock.cleaned", "lock", la);
        /* b: its rule says report. */
        char *lb = lw_path(e.sessions[1], "s.jsonl.lock");
        h = lw_holder_start(lb, NULL);
        lw_kill_wait(h, SIGKILL);
        json_t *k = lw_expect(e.d, LW_TIMEOUT_MS, "lock.kept", "lock", lb);
        CHECK(strcmp(jstr(k, "why"), "report-only mode") == 0, "why %s", jstr(k, "why"));
        CHECK(lw_exists(lb), "removed in a report-only folder");

        /* Unlocked writes: ignored in b, reported in a (which comes after: a barrier). */
        char *tb = lw_path(e.sessions[1], "u.jsonl"), *ta = lw_path(e.sessions[0], "u.jsonl");
        const char *wb[] = { "append", tb, "2", LINE, NULL }, *wa[] = { "append", ta, "2", LINE, NULL };
        pid_t ab = lw_actor_start(wb);
        pid_t aa = lw_actor_start(wa);
        lw_expect(e.d, LW_TIMEOUT_MS, "race.unlocked-write", "session", ta);
        CHECK(lw_count(e.d, "race.unlocked-write", "session", tb) == 0, "an ignored race kind was reported");
        lw_kill_wait(ab, SIGTERM);
        lw_kill_wait(aa, SIGTERM);

        /* The rule changes to auto: the kept lock is judged again under it, and removed. */
        c = config("{\"state_dirs\": [\"%s\", \"%s\"], \"cleanup\": \"report\", \"race_coalesce_ms\": 0,\n"
                   " \"folders\": [{\"path\": \"%s\", \"cleanup\": \"auto\"}]}",
                   e.state[0], e.state[1], e.sessions[1]);
        write_config(&e, c);
        free(c);
        json_t *r = reload(&e, "monitor.reloaded");
        CHECK(lw_array_has(json_object_get(r, "changed"), "folders"), "changed: %s",
              json_dumps(json_object_get(r, "changed"), 0));
        CHECK(!lw_array_has(json_object_get(r, "changed"), "cleanup"), "the command line's cleanup changed");
        CHECK(json_array_size(json_object_get(r, "added")) == 0 && json_array_size(json_object_get(r, "removed")) == 0,
              "folders moved");
        lw_expect(e.d, LW_TIMEOUT_MS, "lock.cleaned", "lock", lb);
        CHECK(!lw_exists(lb), "still there");

        /* And b reports unlocked writes again. */
        tb = lw_path(e.sessions[1], "v.jsonl");
        const char *wb2[] = { "append", tb, "1", LINE, NULL };
        ab = lw_actor_start(wb2);
        lw_expect(e.d, LW_TIMEOUT_MS, "race.unlocked-write", "session", tb);
        lw_kill_wait(ab, SIGTERM);
        CHECK(lw_daemon_stop(e.d) == 0, "exit status");
}

int main(void) {
        folders_come_and_go();
        folder_rules();
        return 0;
}
