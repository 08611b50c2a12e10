/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The journal gets each cleanup as a structured entry: `journalctl MESSAGE_ID=<lock.cleaned>`
 * shows it with LOCK_PATH, OWNER_PID, REASON; and each race at warning priority with its own
 * MESSAGE_ID, the actor, and RECENT as JSON; `journalctl -x` explains the cleanup with the
 * shipped catalog. A real systemd-journald is started when none is running (and stopped again
 * at the end). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lwtest.h"

#define CLEANED_ID "40421cfd85674fddb5db4a8b3a92c4d6"
#define UNLOCKED_WRITE_ID "a64b76109975407598ad3b2244629cd6"
#define JOURNAL_SOCKET "/run/systemd/journal/socket"

static pid_t journald;

static void stop_journald(void) {
        if (journald > 0)
                lw_kill_wait(journald, SIGTERM);
}

/* Waits (inotify, bounded) until PATH exists in DIR. */
static void wait_for_file(const char *dir, const char *path) {
        int fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
        uint64_t deadline = lw_mono_ns() + LW_TIMEOUT_MS * 1000000ull;

        CHECK(fd >= 0 && inotify_add_watch(fd, dir, IN_CREATE | IN_MOVED_TO) >= 0, "inotify %s", dir);
        while (!lw_exists(path)) {
                char buf[4096];
                uint64_t now = lw_mono_ns();
                struct pollfd p = { .fd = fd, .events = POLLIN };

                CHECK(now < deadline, "%s did not appear", path);
                poll(&p, 1, (int) ((deadline - now) / 1000000) + 1);
                while (read(fd, buf, sizeof(buf)) > 0)
                        ;
        }
        close(fd);
}

static void ensure_journald(void) {
        if (lw_exists(JOURNAL_SOCKET)) {
                /* Is somebody listening? A stale socket from a dead journald is not enough. */
                if (system("journalctl -n0 --quiet >/dev/null 2>&1 && pgrep -x systemd-journal >/dev/null") == 0)
                        return;
                unlink(JOURNAL_SOCKET);
        }
        if (!lw_exists("/lib/systemd/systemd-journald")) {
                fprintf(stderr, "SKIP: no journald running and none to start\n");
                exit(LW_SKIP);
        }
        lw_mkdir_p("/run/systemd/journal");
        journald = fork();
        CHECK(journald >= 0, "fork");
        if (journald == 0) {
                execl("/lib/systemd/systemd-journald", "systemd-journald", (char *) NULL);
                _exit(127);
        }
        atexit(stop_journald);
        wait_for_file("/run/systemd/journal", JOURNAL_SOCKET);
}

/* Follows the journal (inotify inside journalctl, bounded by timeout) until the entry with
 * MESSAGE_ID and FIELD=VALUE shows up. */
static json_t *journal_entry(const char *id, const char *field, const char *value) {
        char *cmd, line[16384];
        json_t *entry = NULL;

        CHECK(asprintf(&cmd, "exec timeout 10 journalctl --no-pager -f -n all -o json MESSAGE_ID=%s %s=%s",
                       id, field, value) > 0, "oom");
        FILE *f = popen(cmd, "r");
        CHECK(f, "journalctl");
        while (fgets(line, sizeof(line), f)) {
                entry = json_loads(line, 0, NULL);
                if (entry)
                        break;
        }
        pclose(f);
        free(cmd);
        CHECK(entry, "journalctl shows no %s entry with %s=%s", id, field, value);
        return entry;
}

/* journalctl -x explains the entry with the catalog shipped in contrib/. journalctl reads
 * one catalog database, compiled from /usr/local/lib/systemd/catalog and
 * /usr/lib/systemd/catalog (a file in the first masks the same name in the second): the
 * test puts contrib/lockwarden.catalog in the first, compiles (`journalctl --update-catalog`,
 * as the package's trigger does), checks, and restores what was there. */
#define LOCAL_CATALOG "/usr/local/lib/systemd/catalog/lockwarden.catalog"

static void restore_catalog(void) {
        if (system("if [ -e " LOCAL_CATALOG ".lwtest-saved ]; then mv " LOCAL_CATALOG ".lwtest-saved " LOCAL_CATALOG "; "
                   "else rm -f " LOCAL_CATALOG "; fi; journalctl --update-catalog") != 0)
                fprintf(stderr, "could not restore %s\n", LOCAL_CATALOG);
}

static void check_catalog(const char *lock) {
        const char *src = getenv("LW_SRCDIR");
        char *cmd, out[65536], *want;
        size_t n;

        CHECK(asprintf(&cmd, "set -e; mkdir -p /usr/local/lib/systemd/catalog; "
                             "if [ -e " LOCAL_CATALOG " ]; then mv " LOCAL_CATALOG " " LOCAL_CATALOG ".lwtest-saved; fi; "
                             "cp '%s/contrib/lockwarden.catalog' " LOCAL_CATALOG "; journalctl --update-catalog",
                       src ? src : "..") > 0, "oom");
        atexit(restore_catalog);
        CHECK(system(cmd) == 0, "%s", cmd);
        free(cmd);
        CHECK(asprintf(&cmd, "timeout 10 journalctl --no-pager -x -o short MESSAGE_ID=%s LOCK_PATH='%s'",
                       CLEANED_ID, lock) > 0, "oom");
        FILE *f = popen(cmd, "r");
        CHECK(f, "journalctl -x");
        n = fread(out, 1, sizeof(out) - 1, f);
        out[n] = '\0';
        pclose(f);
        free(cmd);
        CHECK(strstr(out, "Subject: lockwarden removed a stale session lock (lock.cleaned)"),
              "journalctl -x shows no explanation:\n%s", out);
        /* The text, with the entry's own fields filled in. */
        CHECK(asprintf(&want, "%s (owner pid", lock) > 0, "oom");
        CHECK(strstr(out, want) && strstr(out, "Documentation: man:lockwarden(8)"),
              "the explanation does not name the lock:\n%s", out);
        free(want);
}

int main(void) {
        lw_require_root();
        lw_require_fanotify();
        ensure_journald();

        const char *extra[] = { "--race-coalesce-ms", "0", NULL };
        LwEnv e;
        lw_env_start(&e, "200", extra);
        char *lock = lw_path(e.sessions, "journal.jsonl.lock");
        pid_t h = lw_holder_start(lock, NULL);
        lw_expect(e.d, LW_TIMEOUT_MS, "lock.acquired", "lock", lock);
        lw_kill_wait(h, SIGKILL);
        lw_expect(e.d, LW_TIMEOUT_MS, "lock.cleaned", "lock", lock);

        json_t *entry = journal_entry(CLEANED_ID, "LOCK_PATH", lock);
        CHECK(strcmp(jstr(entry, "LOCK_PATH"), lock) == 0, "LOCK_PATH %s", jstr(entry, "LOCK_PATH"));
        CHECK(atoi(jstr(entry, "OWNER_PID")) == h, "OWNER_PID %s", jstr(entry, "OWNER_PID"));
        CHECK(strcmp(jstr(entry, "REASON"), "dead-pid") == 0, "REASON %s", jstr(entry, "REASON"));
        CHECK(strcmp(jstr(entry, "PRIORITY"), "5") == 0, "PRIORITY %s", jstr(entry, "PRIORITY"));
        CHECK(strcmp(jstr(entry, "SYSLOG_IDENTIFIER"), "lockwarden") == 0, "identifier");
        CHECK(*jstr(entry, "SINCE_READ_US") && strstr(jstr(entry, "MESSAGE"), lock), "MESSAGE/SINCE_READ_US");
        check_catalog(lock);

        /* A race: warning priority, its own MESSAGE_ID, the actor, RECENT as JSON. */
        char *t = lw_path(e.sessions, "journal.jsonl");
        const char *args[] = { "append", t, "1", "{}\n", NULL };
        pid_t a = lw_actor_start(args);
        lw_expect(e.d, LW_TIMEOUT_MS, "race.unlocked-write", "session", t);
        json_t *race = journal_entry(UNLOCKED_WRITE_ID, "SESSION_PATH", t);
        CHECK(strcmp(jstr(race, "PRIORITY"), "4") == 0, "race PRIORITY %s", jstr(race, "PRIORITY"));
        CHECK(atoi(jstr(race, "ACTOR_PID")) == a, "ACTOR_PID %s", jstr(race, "ACTOR_PID"));
        CHECK(strcmp(jstr(race, "ACTOR_COMM"), "session-actor") == 0, "ACTOR_COMM %s", jstr(race, "ACTOR_COMM"));
        CHECK(strcmp(jstr(race, "LOCKWARDEN_EVENT"), "race.unlocked-write") == 0, "LOCKWARDEN_EVENT");
        json_t *recent = json_loads(jstr(race, "RECENT"), 0, NULL);
        CHECK(json_is_array(recent) && json_array_size(recent) >= 2, "RECENT is not a JSON list: %s", jstr(race, "RECENT"));
        CHECK(strstr(jstr(race, "MESSAGE"), "without its lock"), "MESSAGE %s", jstr(race, "MESSAGE"));
        lw_kill_wait(a, SIGTERM);
        CHECK(lw_daemon_stop(e.d) == 0, "exit status");
        return 0;
}
