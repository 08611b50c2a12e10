/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A folder configured at the wrong level guards nothing: a state dir given to --watch, a
 * sessions folder, an agent folder or a home given to --state-dir. The daemon says what it is
 * and the likely fix (monitor.warning) and `scan` exits 2 with the same hint, instead of
 * guarding nothing and exiting 0 forever. A folder at the right level, an empty one and one
 * that does not exist yet get no such word. */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "lwtest.h"

static char *cat(const char *a, const char *b) {
        char *s;

        CHECK(asprintf(&s, "%s%s", a, b) >= 0, "asprintf");
        return s;
}

/* `lockwarden scan OPT PATH`: its exit status; its standard error in ERR. */
static int scan(const char *opt, const char *path, char *err, size_t size) {
        char out[8192];
        const char *args[] = { "scan", "--leak-grace-ms", "0", opt, path, NULL };

        return lw_run(args, -1, out, sizeof(out), err, size);
}

static void expect_scan(const char *opt, const char *path, int status, const char *hint) {
        char err[8192];
        int r = scan(opt, path, err, sizeof(err));

        CHECK(r == status, "scan %s %s: exit %d, not %d (%s)", opt, path, r, status, err);
        if (hint)
                CHECK(strstr(err, hint), "scan %s %s said: %s (no '%s')", opt, path, err, hint);
        else
                CHECK(!strstr(err, "given as"), "scan %s %s said: %s", opt, path, err);
}

/* The monitor.warning about PATH seen so far, or NULL. */
static json_t *warning_for(LwDaemon *d, const char *path) {
        json_t *e;
        size_t i;

        json_array_foreach(d->seen, i, e)
                if (strcmp(jstr(e, "event"), "monitor.warning") == 0 && strcmp(jstr(e, "path"), path) == 0)
                        return e;
        return NULL;
}

int main(void) {
        lw_require_backend();
        char *home = lw_path(lw_tmpdir(), "home");
        char *state = lw_path(home, ".openclaw");
        char *agent = lw_path(state, "agents/main");
        char *agents = lw_path(state, "agents");
        char *sessions = lw_path(agent, "sessions");
        lw_mkdir_p(sessions);
        lw_write_file(lw_path(sessions, "s.jsonl"), "{}\n", 3);
        /* A dead owner's lock: scan at the right level exits 1. */
        lw_kill_wait(lw_holder_start(lw_path(sessions, "s.jsonl.lock"), NULL), SIGKILL);
        char *empty = lw_path(lw_tmpdir(), "fresh");
        lw_mkdir_p(empty);
        char *later = lw_path(lw_tmpdir(), "later");

        /* scan: the wrong level is an error with the fix. */
        expect_scan("--watch", state, 2, cat("this is a state dir: nothing there is scanned; use --state-dir ", state));
        expect_scan("--state-dir", sessions, 2, cat("this is a sessions folder: nothing there is scanned; use --watch ",
                                                    sessions));
        expect_scan("--state-dir", agent, 2, cat("this is an agent folder: nothing there is scanned; use --state-dir ",
                                                 state));
        expect_scan("--state-dir", agents, 2, cat("this is the agents folder of a state dir: nothing there is scanned; "
                                                  "use --state-dir ", state));
        expect_scan("--state-dir", home, 2, cat("this folder holds a state dir: nothing there is scanned; use --state-dir ",
                                                state));
        expect_scan("--watch", agent, 2, cat("use --state-dir ", state));
        /* The right level finds the stale lock; an empty state dir is fine. */
        expect_scan("--state-dir", state, 1, NULL);
        expect_scan("--watch", sessions, 1, NULL);
        expect_scan("--state-dir", empty, 0, NULL);

        /* The daemon: a warning per folder at the wrong level, at start-up; none for the right
         * ones, an empty one or one that does not exist yet. */
        const char *args[] = { "--watch", state, "--state-dir", sessions, "--state-dir", home,
                               "--state-dir", state, "--state-dir", empty, "--state-dir", later, NULL };
        LwDaemon *d = lw_daemon_start(NULL, args, NULL);
        lw_daemon_ready(d);
        json_t *w = warning_for(d, state);
        CHECK(w && strstr(jstr(w, "warning"), cat("this is a state dir: nothing there is guarded; use --state-dir ", state)) &&
                      strcmp(jstr(w, "configured_as"), "watch") == 0,
              "warning for --watch %s: %s", state, w ? json_dumps(w, 0) : "none");
        w = warning_for(d, sessions);
        CHECK(w && strstr(jstr(w, "warning"), cat("this is a sessions folder: nothing there is guarded; use --watch ",
                                                  sessions)) && strcmp(jstr(w, "configured_as"), "state-dir") == 0,
              "warning for --state-dir %s: %s", sessions, w ? json_dumps(w, 0) : "none");
        w = warning_for(d, home);
        CHECK(w && strstr(jstr(w, "warning"), cat("use --state-dir ", state)), "warning for --state-dir %s: %s", home,
              w ? json_dumps(w, 0) : "none");
        CHECK(lw_count(d, "monitor.warning", NULL, NULL) == 3, "%zu warnings", lw_count(d, "monitor.warning", NULL, NULL));
        /* A folder that appears later, empty, says nothing either (a barrier ends the check). */
        lw_mkdir_p(lw_path(later, "agents/main/sessions"));
        lw_expect(d, LW_TIMEOUT_MS, "monitor.folder-added", "path", lw_path(later, "agents/main/sessions"));
        CHECK(lw_count(d, "monitor.warning", NULL, NULL) == 3, "%zu warnings", lw_count(d, "monitor.warning", NULL, NULL));
        CHECK(lw_daemon_stop(d) == 0, "exit status");

        /* A reload that adds a folder at the wrong level says it too. */
        char *config = lw_path(lw_tmpdir(), "lockwarden.json"), *text;
        CHECK(asprintf(&text, "{\"state_dirs\": [\"%s\"]}", empty) >= 0, "asprintf");
        lw_write_file(config, text, strlen(text));
        const char *cargs[] = { "--config", config, NULL };
        d = lw_daemon_start(NULL, cargs, NULL);
        lw_daemon_ready(d);
        CHECK(lw_count(d, "monitor.warning", NULL, NULL) == 0, "a warning before the reload");
        CHECK(asprintf(&text, "{\"state_dirs\": [\"%s\"], \"watch_dirs\": [\"%s\"]}", empty, state) >= 0, "asprintf");
        char *tmp = lw_path(lw_tmpdir(), "next.json");
        lw_write_file(tmp, text, strlen(text));
        CHECK(rename(tmp, config) == 0, "rename");
        CHECK(kill(d->pid, SIGHUP) == 0, "SIGHUP");
        w = lw_expect(d, LW_TIMEOUT_MS, "monitor.warning", "path", state);
        CHECK(strstr(jstr(w, "warning"), cat("this is a state dir: nothing there is guarded; use --state-dir ", state)) &&
                      strstr(jstr(w, "warning"), "(state_dirs)"), "warning %s", jstr(w, "warning"));
        lw_expect(d, LW_TIMEOUT_MS, "monitor.reloaded", NULL, NULL);
        CHECK(lw_daemon_stop(d) == 0, "exit status");
        return 0;
}
