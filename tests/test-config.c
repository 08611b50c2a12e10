/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The configuration file: every error names the file, line and column of what is wrong (the
 * key for an unknown key, the value otherwise) and exits 2, with the daemon never started;
 * `run --check-config` prints the effective options; the command line wins over the file.
 * Needs no privilege: it runs `lockwarden run --check-config` only. */
#include <string.h>
#include <unistd.h>

#include "lwtest.h"

static char *dir;

/* Writes TEXT to a file, runs ARGS with "--config FILE" appended, returns the exit status. */
static int check(const char *text, const char *const *extra, char *out, size_t out_size, char *err,
                 size_t err_size, char **ret_file) {
        static int n;
        char name[32];
        const char *args[16] = { "run", "--check-config" };
        size_t k = 2;

        snprintf(name, sizeof(name), "c%d.json", n++);
        char *file = lw_path(dir, name);
        lw_write_file(file, text, strlen(text));
        for (size_t i = 0; extra && extra[i]; i++)
                args[k++] = extra[i];
        args[k++] = "--config";
        args[k++] = file;
        args[k] = NULL;
        *ret_file = file;
        return lw_run(args, -1, out, out_size, err, err_size);
}

/* TEXT must be refused with "FILE:WHERE: " and WHAT in the message. */
static void refused(const char *text, const char *where, const char *what) {
        char out[4096], err[4096], want[4096];
        char *file;
        int r = check(text, NULL, out, sizeof(out), err, sizeof(err), &file);

        CHECK(r == 2, "exit %d for %s (stderr: %s)", r, text, err);
        snprintf(want, sizeof(want), "%s:%s: ", file, where);
        CHECK(strstr(err, want), "want \"%s\" in: %s", want, err);
        CHECK(strstr(err, what), "want \"%s\" in: %s", what, err);
        CHECK(out[0] == '\0', "printed a configuration for a bad file: %s", out);
        free(file);
}

static json_t *accepted(const char *text, const char *const *extra) {
        char out[16384], err[4096], want[4096];
        char *file;
        int r = check(text, extra, out, sizeof(out), err, sizeof(err), &file);
        json_error_t je;
        json_t *j;

        CHECK(r == 0, "exit %d for %s (stderr: %s)", r, text, err);
        snprintf(want, sizeof(want), "%s: ok\n", file);
        CHECK(strcmp(err, want) == 0, "stderr: %s", err);
        j = json_loads(out, 0, &je);
        CHECK(j, "--check-config printed no JSON: %s (%s)", out, je.text);
        free(file);
        return j;
}

int main(void) {
        dir = lw_tmpdir();

        /* Syntax: jansson's own position. Line 3: `  "leak_grace_ms": 10,,`. */
        refused("{\n  \"cleanup\": \"auto\",\n  \"leak_grace_ms\": 10,,\n}\n", "3:23", "expected");
        /* Unknown key: where the key is, with the keys that exist. */
        refused("{\n  \"cleanup\": \"auto\",\n    \"cleanp\": \"report\"\n}\n", "3:5", "unknown key \"cleanp\"");
        /* Wrong type, bad value, out of range: where the value is. */
        refused("{\"leak_grace_ms\": \"10\"}", "1:19", "integer from 0 to 86400000");
        refused("{\n\t\"cleanup\": \"sometimes\"\n}", "2:13", "\"auto\", \"report\"");
        refused("{\"race_coalesce_ms\": 60001}", "1:22", "0 to 60000");
        refused("{\"backend\": 1}", "1:13", "\"fanotify\"");
        refused("{\"state_dirs\": [\"/a\", \"rel/b\"]}", "1:23", "absolute");
        refused("{\"state_dirs\": \"/a\"}", "1:16", "array of strings");
        refused("{\"ignore_races\": [\"lock-stolen\", \"bogus\"]}", "1:34", "unknown race kind \"bogus\"");
        /* Inside the folder rules: the exact element. Columns count characters, not bytes. */
        refused("{\"folders\": [\n  {\"path\": \"/ä\", \"cleanup\": \"auto\"},\n  {\"path\": \"/b\", \"leak_grace_ms\": -1}\n]}",
                "3:35", "integer from 0");
        refused("{\"folders\": [{\"path\": \"/ä\", \"cleanp\": \"auto\"}]}", "1:29", "unknown key \"cleanp\" in a folder");
        refused("{\"folders\": [{\"cleanup\": \"auto\"}]}", "1:14", "needs \"path\"");
        refused("{\"folders\": [\"/a\"]}", "1:14", "must be an object");
        /* Not an object; a duplicate key; an empty file (truncated by accident: "{}" says
         * "no settings"). */
        refused("[]", "1:1", "one JSON object");
        refused("", "1:1", "the file is empty");
        refused(" \n", "1:1", "write {} for no settings");
        refused("{\"cleanup\": \"auto\", \"cleanup\": \"report\"}", "1:29", "duplicate object key");
        refused("\n\n  x", "3:3", "expected near 'x'");

        /* /dev/null is not a file that was truncated: "no configuration file". */
        {
                char out[4096], err[4096];
                const char *args[] = { "run", "--check-config", "--config", "/dev/null", NULL };
                int r = lw_run(args, -1, out, sizeof(out), err, sizeof(err));
                CHECK(r == 0 && strstr(out, "\"cleanup\": \"auto\""), "--config /dev/null: exit %d: %s", r, err);
        }
        /* A missing file named with --config is an error; the default one may be absent. */
        {
                char out[4096], err[4096];
                const char *args[] = { "run", "--check-config", "--config", "/nonexistent/lockwarden.json", NULL };
                int r = lw_run(args, -1, out, sizeof(out), err, sizeof(err));
                CHECK(r == 2, "exit %d", r);
                CHECK(strstr(err, "/nonexistent/lockwarden.json: cannot read the configuration"), "stderr: %s", err);
        }
        /* Not --check-config: the daemon refuses to start, same message, exit 2. */
        {
                char out[4096], err[4096];
                char *file = lw_path(dir, "bad-run.json");
                lw_write_file(file, "{\"cleanup\": 1}", 14);
                const char *args[] = { "run", "--socket", "none", "--config", file, NULL };
                int r = lw_run(args, -1, out, sizeof(out), err, sizeof(err));
                CHECK(r == 2, "exit %d", r);
                CHECK(strstr(err, ":1:13: \"cleanup\" must be one of"), "stderr: %s", err);
        }

        /* Valid: what it says is what --check-config prints. */
        const char *good = "{\n"
                           "  \"state_dirs\": [\"/srv/a/.openclaw\", \"/srv/b/.openclaw/\"],\n"
                           "  \"watch_dirs\": [\"/srv/c/sessions\"],\n"
                           "  \"cleanup\": \"report\",\n"
                           "  \"leak_grace_ms\": 2500,\n"
                           "  \"races\": \"report\",\n"
                           "  \"race_coalesce_ms\": 0,\n"
                           "  \"backend\": \"inotify\",\n"
                           "  \"events\": \"/var/log/lockwarden.ndjson\",\n"
                           "  \"socket\": \"none\",\n"
                           "  \"remote_cleanup\": [\"/mnt/nfs\"],\n"
                           "  \"ignore_races\": [\"race.double-holder\"],\n"
                           "  \"folders\": [\n"
                           "    {\"path\": \"/srv/a/.openclaw/agents/x/sessions\", \"cleanup\": \"auto\",\n"
                           "     \"leak_grace_ms\": 0, \"remote_cleanup\": false, \"ignore_races\": [\"unlocked-write\"]}\n"
                           "  ]\n"
                           "}\n";
        json_t *j = accepted(good, NULL);
        CHECK(json_array_size(json_object_get(j, "state_dirs")) == 2, "state_dirs");
        CHECK(strcmp(json_string_value(json_array_get(json_object_get(j, "state_dirs"), 1)), "/srv/b/.openclaw") == 0,
              "paths are normalized");
        CHECK(strcmp(jstr(j, "cleanup"), "report") == 0, "cleanup");
        CHECK(jint(j, "leak_grace_ms") == 2500, "leak_grace_ms");
        CHECK(jint(j, "race_coalesce_ms") == 0, "race_coalesce_ms");
        CHECK(strcmp(jstr(j, "backend"), "inotify") == 0, "backend");
        CHECK(strcmp(jstr(j, "socket"), "none") == 0, "socket");
        CHECK(strcmp(jstr(j, "events"), "/var/log/lockwarden.ndjson") == 0, "events");
        CHECK(strcmp(json_string_value(json_array_get(json_object_get(j, "ignore_races"), 0)), "double-holder") == 0,
              "ignore_races");
        json_t *f = json_array_get(json_object_get(j, "folders"), 0);
        CHECK(f && strcmp(jstr(f, "cleanup"), "auto") == 0 && jint(f, "leak_grace_ms") == 0 &&
                      json_is_false(json_object_get(f, "remote_cleanup")) &&
                      strcmp(json_string_value(json_array_get(json_object_get(f, "ignore_races"), 0)), "unlocked-write") == 0,
              "folder rule");
        json_decref(j);

        /* The command line wins over the file, option by option; the rest comes from the file. */
        const char *cli[] = { "--cleanup=auto", "--leak-grace-ms", "7", "--watch", "/srv/cli/sessions", NULL };
        j = accepted(good, cli);
        CHECK(strcmp(jstr(j, "cleanup"), "auto") == 0, "--cleanup lost to the file");
        CHECK(jint(j, "leak_grace_ms") == 7, "--leak-grace-ms lost to the file");
        CHECK(json_array_size(json_object_get(j, "state_dirs")) == 0 && json_array_size(json_object_get(j, "watch_dirs")) == 1,
              "--watch replaces the file's folders");
        CHECK(strcmp(jstr(j, "backend"), "inotify") == 0 && jint(j, "race_coalesce_ms") == 0, "the file's other options");
        json_decref(j);

        /* An empty object: the defaults, guarding $OPENCLAW_STATE_DIR. */
        setenv("OPENCLAW_STATE_DIR", "/srv/default-state", 1);
        j = accepted("{}", NULL);
        CHECK(strcmp(json_string_value(json_array_get(json_object_get(j, "state_dirs"), 0)), "/srv/default-state") == 0,
              "default state dir");
        CHECK(strcmp(jstr(j, "cleanup"), "auto") == 0 && jint(j, "leak_grace_ms") == 1000, "defaults");
        json_decref(j);

        /* Larger than 1 MiB: refused without reading on. */
        {
                size_t n = 1024 * 1024 + 2;
                char *big = malloc(n + 1), out[4096], err[4096];
                memset(big, ' ', n);
                big[0] = '{';
                big[n - 1] = '}';
                big[n] = '\0';
                char *file;
                int r = check(big, NULL, out, sizeof(out), err, sizeof(err), &file);
                CHECK(r == 2 && strstr(err, "larger than 1 MiB"), "exit %d: %s", r, err);
                free(big);
                free(file);
        }
        return 0;
}
