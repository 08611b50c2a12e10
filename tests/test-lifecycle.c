/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the daemon guards changes, and it says so: a sessions folder that a reload adds, that
 * appears, is renamed or disappears is reported (monitor.folder-added, monitor.folder-removed),
 * and the locks found in a folder that a reload added or that was renamed were there before:
 * counted like at start-up, never "acquired" by their owner now (a dead owner's is cleaned).
 * A reload without a configuration file says so instead of naming a file. Stopping is
 * reported with the signal and its sender (monitor.stopping). */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "lwtest.h"

/* Replaces FILE in one step (a reader never sees half of it). */
static void write_config(const char *file, const char *text) {
        char *tmp;

        CHECK(asprintf(&tmp, "%s.tmp", file) >= 0, "asprintf");
        lw_write_file(tmp, text, strlen(text));
        CHECK(rename(tmp, file) == 0, "rename");
        free(tmp);
}

/* The last event named EVENT seen so far, or NULL. */
static json_t *last_seen(LwDaemon *d, const char *event) {
        json_t *e, *found = NULL;
        size_t i;

        json_array_foreach(d->seen, i, e)
                if (strcmp(jstr(e, "event"), event) == 0)
                        found = e;
        return found;
}

/* A lock taken now in DIR, and its lock.acquired: everything the daemon read before is
 * done. Returns the holder. */
static pid_t barrier(LwDaemon *d, const char *dir, const char *name) {
        char *lock = lw_path(dir, name);
        pid_t b = lw_holder_start(lock, NULL);

        lw_expect(d, LW_TIMEOUT_MS, "lock.acquired", "lock", lock);
        free(lock);
        return b;
}

static void folders(void) {
        char *dir = lw_tmpdir(), *config = lw_path(dir, "lockwarden.json"), *text;
        char *a = lw_path(dir, "a"), *b = lw_path(dir, "b");
        char *sa = lw_path(a, "agents/main/sessions"), *sb = lw_path(b, "agents/main/sessions");
        lw_mkdir_p(sa);
        lw_mkdir_p(sb);

        /* b holds a live lock and a dead owner's lock before the daemon knows b. */
        char *held = lw_path(sb, "held.jsonl.lock"), *dead = lw_path(sb, "dead.jsonl.lock");
        pid_t h = lw_holder_start(held, NULL);
        lw_kill_wait(lw_holder_start(dead, NULL), SIGKILL);

        CHECK(asprintf(&text, "{\"state_dirs\": [\"%s\"]}", a) >= 0, "asprintf");
        write_config(config, text);
        free(text);
        const char *args[] = { "--config", config, "--leak-grace-ms", "200", NULL };
        LwDaemon *d = lw_daemon_start(NULL, args, NULL);
        lw_daemon_ready(d);

        /* A reload adds b: its folder is reported with what it holds; its locks are not
         * "acquired" now (they were before), and the dead owner's is cleaned. */
        CHECK(asprintf(&text, "{\"state_dirs\": [\"%s\", \"%s\"]}", a, b) >= 0, "asprintf");
        write_config(config, text);
        free(text);
        CHECK(kill(d->pid, SIGHUP) == 0, "SIGHUP");
        json_t *added = lw_expect(d, LW_TIMEOUT_MS, "monitor.folder-added", "path", sb);
        CHECK(strcmp(jstr(added, "how"), "configuration") == 0, "how %s", jstr(added, "how"));
        CHECK(jint(added, "locks") == 2, "locks %lld", jint(added, "locks"));
        json_t *r = lw_expect(d, LW_TIMEOUT_MS, "monitor.reloaded", NULL, NULL);
        CHECK(strcmp(jstr(r, "config"), config) == 0, "config %s", jstr(r, "config"));
        lw_expect(d, LW_TIMEOUT_MS, "lock.cleaned", "lock", dead);
        pid_t b1 = barrier(d, sb, "barrier.jsonl.lock");
        CHECK(lw_count(d, "lock.acquired", "lock", held) == 0, "a lock that was there before the reload was "
              "reported acquired");
        CHECK(lw_exists(held), "the live lock was removed");

        /* The agent folder is renamed: its sessions folder goes, and comes back renamed, with
         * its locks, none "acquired" again. */
        char *ops = lw_path(b, "agents/ops"), *main_ = lw_path(b, "agents/main");
        char *sops = lw_path(ops, "sessions");
        CHECK(rename(main_, ops) == 0, "rename");
        json_t *gone = lw_expect(d, LW_TIMEOUT_MS, "monitor.folder-removed", "path", sb);
        CHECK(strcmp(jstr(gone, "how"), "moved") == 0, "how %s", jstr(gone, "how"));
        CHECK(jint(gone, "locks") == 2, "locks %lld", jint(gone, "locks"));
        added = lw_expect(d, LW_TIMEOUT_MS, "monitor.folder-added", "path", sops);
        CHECK(strcmp(jstr(added, "how"), "renamed") == 0, "how %s", jstr(added, "how"));
        CHECK(strcmp(jstr(added, "from"), sb) == 0, "from %s", jstr(added, "from"));
        CHECK(jint(added, "locks") == 2, "locks %lld", jint(added, "locks"));
        pid_t b2 = barrier(d, sops, "barrier2.jsonl.lock");
        char *held2 = lw_path(sops, "held.jsonl.lock"), *bar2 = lw_path(sops, "barrier.jsonl.lock");
        CHECK(lw_count(d, "lock.acquired", "lock", held2) == 0 && lw_count(d, "lock.acquired", "lock", bar2) == 0,
              "a renamed folder's locks were reported acquired");

        /* A new agent appears, then goes. */
        char *snew = lw_path(a, "agents/new/sessions");
        lw_mkdir_p(snew);
        added = lw_expect(d, LW_TIMEOUT_MS, "monitor.folder-added", "path", snew);
        CHECK(strcmp(jstr(added, "how"), "appeared") == 0, "how %s", jstr(added, "how"));
        CHECK(jint(added, "locks") == 0 && !json_is_string(json_object_get(added, "from")), "added %s", json_dumps(added, 0));
        CHECK(rmdir(snew) == 0, "rmdir");
        gone = lw_expect(d, LW_TIMEOUT_MS, "monitor.folder-removed", "path", snew);
        CHECK(strcmp(jstr(gone, "how"), "deleted") == 0, "how %s", jstr(gone, "how"));

        /* A reload that drops b: its folder is released, and says why. */
        CHECK(asprintf(&text, "{\"state_dirs\": [\"%s\"]}", a) >= 0, "asprintf");
        write_config(config, text);
        free(text);
        CHECK(kill(d->pid, SIGHUP) == 0, "SIGHUP");
        gone = lw_expect(d, LW_TIMEOUT_MS, "monitor.folder-removed", "path", sops);
        CHECK(strcmp(jstr(gone, "how"), "configuration") == 0, "how %s", jstr(gone, "how"));
        lw_expect(d, LW_TIMEOUT_MS, "monitor.reloaded", NULL, NULL);

        /* Stopping says why, and who asked. */
        CHECK(lw_daemon_stop(d) == 0, "exit status");
        json_t *st = last_seen(d, "monitor.stopping");
        CHECK(st, "no monitor.stopping");
        CHECK(strcmp(jstr(st, "reason"), "signal") == 0 && strcmp(jstr(st, "signal"), "SIGTERM") == 0,
              "stopping: %s", json_dumps(st, 0));
        CHECK(jint(st, "sender_pid") == getpid(), "sender_pid %lld, not %d", jint(st, "sender_pid"), (int) getpid());
        CHECK(jint(st, "folders") == 1, "folders %lld", jint(st, "folders"));
        lw_kill_wait(b1, SIGTERM);
        lw_kill_wait(b2, SIGTERM);
        lw_kill_wait(h, SIGTERM);
}

/* No configuration file (--config /dev/null): a reload says so and names none. */
static void no_config(void) {
        char *dir = lw_tmpdir(), *state = lw_path(dir, "state");
        char out[4096], err[4096];

        lw_mkdir_p(state);
        const char *args[] = { "--config", "/dev/null", "--state-dir", state, NULL };
        LwDaemon *d = lw_daemon_start(NULL, args, NULL);
        lw_daemon_ready(d);
        CHECK(kill(d->pid, SIGHUP) == 0, "SIGHUP");
        json_t *r = lw_expect(d, LW_TIMEOUT_MS, "monitor.reloaded", NULL, NULL);
        CHECK(!json_is_string(json_object_get(r, "config")), "config %s", jstr(r, "config"));
        CHECK(strcmp(jstr(r, "looked_for"), "/dev/null") == 0, "looked_for %s", jstr(r, "looked_for"));

        const char *rargs[] = { "reload", "--socket", d->socket, NULL };
        CHECK(lw_run(rargs, -1, out, sizeof(out), err, sizeof(err)) == 0, "reload: %s", err);
        CHECK(strstr(out, "no configuration file") && !strstr(out, "(null)"), "reload said: %s", out);
        CHECK(lw_daemon_stop(d) == 0, "exit status");
}

int main(void) {
        lw_require_backend();
        folders();
        no_config();
        return 0;
}
