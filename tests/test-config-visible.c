/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The configuration in force is visible: `run --check-config` names the control socket the
 * daemon would serve (the default worked out, not left out), and `status` (JSON and text)
 * names the configuration file (or none), the leak grace and race coalescing, the folder
 * rules, the races ignored, and per state dir the OpenClaw release found (or that it is not
 * known yet). */
#include <stdio.h>
#include <unistd.h>

#include "lwtest.h"

static json_t *run_json(const char *const *args, char *out, size_t size) {
        char err[4096];
        json_error_t je;
        json_t *j;

        CHECK(lw_run(args, -1, out, size, err, sizeof(err)) == 0, "%s %s: %s", args[0], args[1], err);
        j = json_loads(out, 0, &je);
        CHECK(j, "no JSON: %s (%s)", out, je.text);
        return j;
}

static void check_config_socket(void) {
        char out[16384];
        const char *given[] = { "run", "--check-config", "--config", "/dev/null", "--socket", "/x/y.sock", NULL };
        json_t *j = run_json(given, out, sizeof(out));

        CHECK(strcmp(jstr(j, "socket"), "/x/y.sock") == 0, "socket %s", jstr(j, "socket"));
        json_decref(j);

        /* No --socket: the default the daemon would serve, as its user (root: /run/lockwarden). */
        const char *dflt[] = { "run", "--check-config", "--config", "/dev/null", NULL };
        j = run_json(dflt, out, sizeof(out));
        const char *rt = getenv("RUNTIME_DIRECTORY"), *xdg = getenv("XDG_RUNTIME_DIR");
        char want[4096];
        if (rt && rt[0] == '/')
                snprintf(want, sizeof(want), "%.*s/control.sock", (int) strcspn(rt, ":"), rt);
        else if (geteuid() == 0)
                snprintf(want, sizeof(want), "/run/lockwarden/control.sock");
        else if (xdg && xdg[0] == '/')
                snprintf(want, sizeof(want), "%s/lockwarden/control.sock", xdg);
        else
                want[0] = '\0';
        if (want[0])
                CHECK(strcmp(jstr(j, "socket"), want) == 0, "socket %s, want %s", jstr(j, "socket"), want);
        else
                CHECK(json_is_null(json_object_get(j, "socket")), "socket %s, want null", jstr(j, "socket"));
        json_decref(j);
}

/* `status --json` of D (arguments for lw_run). */
static const char *const *sj2_of(LwDaemon *d) {
        static const char *args[6];

        args[0] = "status";
        args[1] = "--socket";
        args[2] = d->socket;
        args[3] = "--json";
        args[4] = NULL;
        return args;
}

static void status_shows_configuration(void) {
        char *dir = lw_tmpdir(), *config = lw_path(dir, "lockwarden.json"), *state = lw_path(dir, "state");
        char *agent = lw_path(state, "agents/exp"), *text, out[65536];

        lw_mkdir_p(lw_path(agent, "sessions"));
        CHECK(asprintf(&text, "{\"state_dirs\": [\"%s\"], \"ignore_races\": [\"foreign-write\"], "
                              "\"race_coalesce_ms\": 40, \"folders\": [{\"path\": \"%s\", \"cleanup\": \"report\", "
                              "\"leak_grace_ms\": 5000, \"ignore_races\": [\"unlocked-write\"], \"release\": \"2026.5\"}]}",
                       state, agent) >= 0, "asprintf");
        lw_write_file(config, text, strlen(text));
        const char *args[] = { "--config", config, "--leak-grace-ms", "300", NULL };
        LwDaemon *d = lw_daemon_start(NULL, args, NULL);
        json_t *ready = lw_daemon_ready(d);
        CHECK(strcmp(jstr(ready, "config"), config) == 0, "monitor.ready config %s", jstr(ready, "config"));

        const char *sj[] = { "status", "--socket", d->socket, "--json", NULL };
        json_t *st = run_json(sj, out, sizeof(out));
        CHECK(strcmp(jstr(st, "config"), config) == 0, "config %s", jstr(st, "config"));
        CHECK(strcmp(jstr(st, "socket"), d->socket) == 0, "socket %s", jstr(st, "socket"));
        CHECK(jint(st, "leak_grace_ms") == 300, "leak_grace_ms %lld", jint(st, "leak_grace_ms"));
        CHECK(jint(st, "race_coalesce_ms") == 40, "race_coalesce_ms %lld", jint(st, "race_coalesce_ms"));
        CHECK(lw_array_has(json_object_get(st, "ignore_races"), "foreign-write"), "ignore_races");
        json_t *rules = json_object_get(st, "folder_rules"), *r = json_array_get(rules, 0);
        CHECK(json_array_size(rules) == 1 && strcmp(jstr(r, "path"), agent) == 0 &&
                      strcmp(jstr(r, "cleanup"), "report") == 0 && jint(r, "leak_grace_ms") == 5000 &&
                      lw_array_has(json_object_get(r, "ignore_races"), "unlocked-write"),
              "folder_rules %s", json_dumps(rules, 0));
        /* The state dir's release is not known yet; its agent's rule names one for that agent. */
        json_t *rels = json_object_get(st, "releases"), *rel = json_array_get(rels, 0);
        json_t *rel2 = json_array_get(rels, 1);
        CHECK(json_array_size(rels) == 2 && strcmp(jstr(rel, "state_dir"), state) == 0 &&
                      strcmp(jstr(rel, "release"), "unknown") == 0 &&
                      strcmp(jstr(rel2, "state_dir"), lw_path(agent, "sessions")) == 0 &&
                      strcmp(jstr(rel2, "release"), "2026.5") == 0 && strcmp(jstr(rel2, "source"), "configuration") == 0,
              "releases %s", json_dumps(rels, 0));
        json_decref(st);

        const char *sh[] = { "status", "--socket", d->socket, NULL };
        char err[4096], want[8192];
        CHECK(lw_run(sh, -1, out, sizeof(out), err, sizeof(err)) == 0, "status: %s", err);
        snprintf(want, sizeof(want), "  config:    %s\n", config);
        CHECK(strstr(out, want), "no '%s' in:\n%s", want, out);
        CHECK(strstr(out, "leak grace: 300 ms; race coalescing: 40 ms"), "no leak grace in:\n%s", out);
        CHECK(strstr(out, "foreign-write (race kinds not reported)"), "no ignored races in:\n%s", out);
        snprintf(want, sizeof(want), "  rules:     %s: cleanup=report leak_grace_ms=5000 ignore_races=unlocked-write "
                 "release=2026.5\n", agent);
        CHECK(strstr(out, want), "no '%s' in:\n%s", want, out);
        snprintf(want, sizeof(want), "%s: OpenClaw release not known yet", state);
        CHECK(strstr(out, want), "no '%s' in:\n%s", want, out);
        CHECK(lw_daemon_stop(d) == 0, "exit status");

        /* A rule naming the release of the whole state dir: that is the release in force there. */
        CHECK(asprintf(&text, "{\"state_dirs\": [\"%s\"], \"folders\": [{\"path\": \"%s\", \"release\": \"2026.7\"}]}",
                       state, state) >= 0, "asprintf");
        lw_write_file(config, text, strlen(text));
        const char *args2[] = { "--config", config, NULL };
        d = lw_daemon_start(NULL, args2, NULL);
        lw_daemon_ready(d);
        st = run_json(sj2_of(d), out, sizeof(out));
        rels = json_object_get(st, "releases");
        rel = json_array_get(rels, 0);
        CHECK(json_array_size(rels) == 1 && strcmp(jstr(rel, "state_dir"), state) == 0 &&
                      strcmp(jstr(rel, "release"), "2026.7") == 0 && strcmp(jstr(rel, "source"), "configuration") == 0,
              "releases %s", json_dumps(rels, 0));
        json_decref(st);
        CHECK(lw_daemon_stop(d) == 0, "exit status");

        /* No configuration file: said so. */
        const char *none[] = { "--config", "/dev/null", "--state-dir", state, NULL };
        d = lw_daemon_start(NULL, none, NULL);
        lw_daemon_ready(d);
        const char *sj2[] = { "status", "--socket", d->socket, "--json", NULL };
        st = run_json(sj2, out, sizeof(out));
        CHECK(json_is_null(json_object_get(st, "config")), "config %s", jstr(st, "config"));
        CHECK(json_array_size(json_object_get(st, "folder_rules")) == 0, "folder_rules");
        json_decref(st);
        const char *sh2[] = { "status", "--socket", d->socket, NULL };
        CHECK(lw_run(sh2, -1, out, sizeof(out), err, sizeof(err)) == 0, "status: %s", err);
        CHECK(strstr(out, "  config:    none"), "no 'config: none' in:\n%s", out);
        CHECK(!strstr(out, "rules:"), "rules without any:\n%s", out);
        CHECK(lw_daemon_stop(d) == 0, "exit status");
}

int main(void) {
        lw_require_backend();
        check_config_socket();
        status_shows_configuration();
        return 0;
}
