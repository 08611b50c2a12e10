/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lockwarden explain, and the paths the verbs take. Against a real daemon in report mode:
 *   - a live lock, named by a relative path: its payload, owner (start time checked), the
 *     holder with its fd, a reader, the verdict with its rule, its own events; a race on its
 *     transcript is among them with its kernel sequence rendered as lines;
 *   - the transcript's path explains its lock;
 *   - a dead owner's lock kept by report mode: verdict stale, reason dead-pid, rule owner-dead,
 *     kept with why; `locks` names it as scan does (dead-pid) with the WHY column;
 *   - a missing file: "No such file or directory", exit 1, nothing on standard output (explain
 *     and holders); cleanup of a folder lockwarden does not guard: exit 1, said;
 *   - scan --json fills why and rule for every lock (a live one: owner-holds, as the daemon);
 *   - status names the program that answers, and what clients cost;
 *   - a user with a daemon of their own ($XDG_RUNTIME_DIR/lockwarden/control.sock) is
 *     answered by it, not by the system's;
 *   - a member of the socket's group learns from explain and holders nothing of paths it
 *     cannot see itself (the daemon does not look them up for it). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "lwtest.h"

static char out[1 << 16], err[8192];

static json_t *explain_json(LwEnv *e, const char *path) {
        const char *args[] = { "explain", "--socket", e->d->socket, "--json", path, NULL };
        json_error_t je;

        CHECK(lw_run(args, -1, out, sizeof(out), err, sizeof(err)) == 0, "explain %s: %s", path, err);
        json_t *a = json_loads(out, 0, &je);
        CHECK(json_is_array(a) && json_array_size(a) == 1, "explain --json: %s", out);
        json_t *x = json_incref(json_array_get(a, 0));
        json_decref(a);
        return x;
}

static bool has_pid(json_t *list, pid_t pid) {
        json_t *h;
        size_t i;

        json_array_foreach(list, i, h)
                if (jint(h, "pid") == pid)
                        return true;
        return false;
}

/* A daemon-less "system" socket nobody answers, when the host has none: the user's own must
 * still win. Returns whether it made one (to remove). */
static bool fake_system_socket(void) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX, .sun_path = "/run/lockwarden/control.sock" };
        int fd;

        if (access(sa.sun_path, F_OK) == 0)
                return false;
        if (mkdir("/run/lockwarden", 0755) < 0 && errno != EEXIST)
                return false;
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        CHECK(fd >= 0 && bind(fd, (struct sockaddr *) &sa, sizeof(sa)) == 0, "bind %s: %s", sa.sun_path, strerror(errno));
        close(fd); /* bound, never listening: connecting is refused */
        return true;
}

int main(void) {
        LwEnv e;
        const char *extra[] = { "--cleanup=report", NULL };

        lw_require_root();
        lw_env_start(&e, "200", extra);
        lw_require_attribution("a race names its actor");

        /* A live lock, read by someone, and a race on its transcript. */
        char *lock = lw_path(e.sessions, "live.jsonl.lock"), *transcript = lw_path(e.sessions, "live.jsonl");
        lw_write_file(transcript, "{}\n", 3);
        pid_t h = lw_holder_start(lock, NULL);
        lw_expect(e.d, LW_TIMEOUT_MS, "lock.acquired", "lock", lock);
        int reader = open(lock, O_RDONLY | O_CLOEXEC);
        CHECK(reader >= 0, "open %s", lock);
        const char *append[] = { "append", transcript, "1", "{\"x\":1}\n", NULL };
        pid_t a = lw_actor_start(append);
        lw_expect(e.d, LW_TIMEOUT_MS, "race.foreign-write", "lock", lock);

        CHECK(chdir(e.sessions) == 0, "chdir");
        json_t *x = explain_json(&e, "live.jsonl.lock");
        CHECK(strcmp(jstr(x, "lock"), lock) == 0, "lock %s", jstr(x, "lock"));
        CHECK(strcmp(jstr(x, "session"), transcript) == 0, "session %s", jstr(x, "session"));
        CHECK(strcmp(jstr(x, "verdict"), "live") == 0 && strcmp(jstr(x, "rule"), "owner-holds") == 0,
              "verdict %s rule %s", jstr(x, "verdict"), jstr(x, "rule"));
        CHECK(strstr(jstr(x, "why"), "holds it open for writing"), "why %s", jstr(x, "why"));
        json_t *p = json_object_get(x, "payload"), *o = json_object_get(x, "owner");
        CHECK(json_is_true(json_object_get(p, "valid")) && jint(p, "pid") == h, "payload pid %lld", jint(p, "pid"));
        CHECK(json_is_integer(json_object_get(p, "starttime")) && jstr(p, "createdAt"), "payload fields");
        CHECK(jint(o, "host_pid") == h && strcmp(jstr(o, "namespace"), "host") == 0, "owner %lld %s",
              jint(o, "host_pid"), jstr(o, "namespace"));
        CHECK(strcmp(jstr(o, "comm"), "lock-holder") == 0 && json_is_true(json_object_get(o, "alive")), "owner comm");
        CHECK(strcmp(jstr(o, "starttime_check"), "matches the payload") == 0, "check %s", jstr(o, "starttime_check"));
        CHECK(has_pid(json_object_get(x, "holders"), h), "holder %d not listed", (int) h);
        CHECK(json_integer_value(json_object_get(json_array_get(json_object_get(x, "holders"), 0), "fd")) >= 0, "fd");
        CHECK(!has_pid(json_object_get(x, "holders"), getpid()), "the reader listed as a holder");
        CHECK(has_pid(json_object_get(x, "readers"), getpid()), "the reader not listed");
        json_t *ev;
        size_t i;
        bool acquired = false, race = false;
        json_array_foreach(json_object_get(x, "events"), i, ev) {
                acquired = acquired || strcmp(jstr(ev, "event"), "lock.acquired") == 0;
                race = race || strcmp(jstr(ev, "event"), "race.foreign-write") == 0;
        }
        CHECK(acquired && race, "own events: acquired %d race %d", acquired, race);
        json_decref(x);

        /* The human view: the same, the race's kernel sequence as lines. */
        const char *human[] = { "explain", "--socket", e.d->socket, "live.jsonl", NULL };
        CHECK(lw_run(human, -1, out, sizeof(out), err, sizeof(err)) == 0, "explain: %s", err);
        CHECK(strstr(out, "Verdict: live (rule: owner-holds)") && strstr(out, "Start time: matches the payload"),
              "explain output:\n%s", out);
        char want[64];
        snprintf(want, sizeof(want), "transcript modify by pid %d", (int) a);
        CHECK(strstr(out, "race.foreign-write") && strstr(out, want), "race lines (%s):\n%s", want, out);
        close(reader);
        lw_kill_wait(a, SIGTERM);

        /* A dead owner's lock, kept by report mode. */
        char *dead = lw_path(e.sessions, "dead.jsonl.lock");
        pid_t d = lw_holder_start(dead, NULL);
        lw_expect(e.d, LW_TIMEOUT_MS, "lock.acquired", "lock", dead);
        lw_kill_wait(d, SIGKILL);
        lw_expect(e.d, LW_TIMEOUT_MS, "lock.kept", "lock", dead);
        x = explain_json(&e, dead);
        CHECK(strcmp(jstr(x, "verdict"), "stale") == 0 && strcmp(jstr(x, "reason"), "dead-pid") == 0 &&
              strcmp(jstr(x, "rule"), "owner-dead") == 0, "dead: %s %s %s", jstr(x, "verdict"), jstr(x, "reason"),
              jstr(x, "rule"));
        CHECK(jstr(x, "kept") && strstr(jstr(x, "kept"), "report-only"), "kept %s", jstr(x, "kept"));
        CHECK(!json_is_true(json_object_get(json_object_get(x, "owner"), "alive")), "dead owner alive");
        json_decref(x);
        const char *locks[] = { "locks", "--socket", e.d->socket, NULL };
        CHECK(lw_run(locks, -1, out, sizeof(out), err, sizeof(err)) == 0, "locks: %s", err);
        char *row = strstr(out, "dead.jsonl.lock");
        CHECK(strstr(out, "WHY") && row && strstr(row, "dead-pid") && strstr(row, "report-only"), "locks:\n%s", out);
        const char *locks_json[] = { "locks", "--socket", e.d->socket, "--json", NULL };
        CHECK(lw_run(locks_json, -1, out, sizeof(out), err, sizeof(err)) == 0, "locks --json: %s", err);
        json_t *all = json_loads(out, 0, NULL);
        json_array_foreach(all, i, ev)
                CHECK(jstr(ev, "why") && jstr(ev, "rule") && json_is_boolean(json_object_get(ev, "kept")),
                      "locks --json without why/rule/kept: %s", out);
        json_decref(all);

        /* Nothing there: said, exit 1, nothing printed. */
        const char *missing[] = { "explain", "--socket", e.d->socket, "nope.jsonl.lock", NULL };
        CHECK(lw_run(missing, -1, out, sizeof(out), err, sizeof(err)) == 1 && out[0] == '\0' &&
              strstr(err, "No such file or directory"), "missing: out '%s' err '%s'", out, err);
        const char *missing_h[] = { "holders", "--socket", e.d->socket, "nope.jsonl", NULL };
        CHECK(lw_run(missing_h, -1, out, sizeof(out), err, sizeof(err)) == 1 && out[0] == '\0' &&
              strstr(err, "No such file or directory"), "holders missing: out '%s' err '%s'", out, err);
        const char *holders_rel[] = { "holders", "--socket", e.d->socket, "live.jsonl.lock", NULL };
        CHECK(lw_run(holders_rel, -1, out, sizeof(out), err, sizeof(err)) == 0 && strstr(out, "lock-holder"),
              "holders by a relative path: %s %s", out, err);
        const char *unguarded[] = { "cleanup", "--socket", e.d->socket, "/tmp", NULL };
        CHECK(lw_run(unguarded, -1, out, sizeof(out), err, sizeof(err)) == 1 && strstr(err, "a folder lockwarden does not guard") &&
              !strstr(out, "Judged"), "cleanup /tmp: out '%s' err '%s'", out, err);
        const char *here[] = { "cleanup", "--socket", e.d->socket, ".", NULL };
        CHECK(lw_run(here, -1, out, sizeof(out), err, sizeof(err)) == 0 && strstr(out, "Judged 2 locks"),
              "cleanup .: out '%s' err '%s'", out, err);

        /* Bad paths, for each verb that takes them: a folder (but cleanup's), a fifo named like
         * a lock, a symlink loop, a name with a newline, invalid UTF-8: one line on stderr that
         * names the problem, exit 1, nothing on stdout. */
        char *fifo = lw_path(e.sessions, "fifo.jsonl.lock"), *l1 = lw_path(e.sessions, "l1.jsonl.lock"),
             *l2 = lw_path(e.sessions, "l2.jsonl.lock");
        CHECK(mkfifo(fifo, 0644) == 0 && symlink(l2, l1) == 0 && symlink(l1, l2) == 0, "fifo, links");
        static const struct {
                const char *path, *says;
                bool cleanup_too;
        } bad[] = {
                { ".", "a directory", false },
                { "fifo.jsonl.lock", "not a regular file", true },
                { "l1.jsonl.lock", "a symlink", true },
                { "new\nline.jsonl.lock", "No such file", true },
                { "bad\xff\xfe.jsonl", "No such file", true },
        };
        static const char *const verbs[] = { "explain", "holders", "cleanup" };
        for (size_t b = 0; b < LW_ELEMENTSOF(bad); b++)
                for (size_t v = 0; v < LW_ELEMENTSOF(verbs); v++) {
                        if (v == 2 && !bad[b].cleanup_too)
                                continue;
                        const char *args[] = { verbs[v], "--socket", e.d->socket, bad[b].path, NULL };
                        int r = lw_run(args, -1, out, sizeof(out), err, sizeof(err));
                        char *nl = strchr(err, '\n');
                        CHECK(r == 1 && out[0] == '\0' && strstr(err, bad[b].says) && nl && nl[1] == '\0',
                              "%s %s: exit %d, out '%s', err '%s'", verbs[v], bad[b].path, r, out, err);
                }

        CHECK(unlink(fifo) == 0 && unlink(l1) == 0 && unlink(l2) == 0, "unlink"); /* scan says them: exit 2 */

        /* scan --json: why and rule for every lock, the same rule names. */
        const char *scan[] = { "scan", "--json", "--state-dir", e.state, NULL };
        int rs = lw_run(scan, -1, out, sizeof(out), err, sizeof(err));
        CHECK(rs == 0 || rs == 1, "scan exit %d: %s %s", rs, out, err);
        json_t *sj = json_loads(out, 0, NULL);
        json_array_foreach(json_object_get(sj, "locks"), i, ev) {
                CHECK(jstr(ev, "why") && jstr(ev, "rule"), "scan lock without why/rule: %s", out);
                if (strstr(jstr(ev, "lock"), "live.jsonl.lock"))
                        CHECK(strcmp(jstr(ev, "rule"), "owner-holds") == 0, "scan rule %s", jstr(ev, "rule"));
        }
        json_decref(sj);

        /* status names the program that answers (a build tree's here, not a package's). */
        const char *status_json[] = { "status", "--socket", e.d->socket, "--json", NULL };
        CHECK(lw_run(status_json, -1, out, sizeof(out), err, sizeof(err)) == 0, "status: %s", err);
        json_t *stj = json_loads(out, 0, NULL);
        char want_exe[4200];
        snprintf(want_exe, sizeof(want_exe), "%s/src/lockwarden", lw_builddir());
        char *real_exe = realpath(want_exe, NULL);
        CHECK(real_exe && jstr(stj, "exe") && strcmp(jstr(stj, "exe"), real_exe) == 0, "exe %s, not %s",
              jstr(stj, "exe"), real_exe);
        json_decref(stj);
        const char *status_h[] = { "status", "--socket", e.d->socket, NULL };
        CHECK(lw_run(status_h, -1, out, sizeof(out), err, sizeof(err)) == 0 && strstr(out, real_exe), "status: %s", out);
        /* ... and what clients cost: this request is the one connection open. */
        CHECK(strstr(out, "clients:   1 connection open, 0 refused"), "status without its clients line: %s", out);
        free(real_exe);

        /* A user's own daemon answers that user, before the system's. The test daemon is
         * root's: nobody may not talk to it, and the error names the socket it tried. */
        bool made = fake_system_socket();
        char *tmp = lw_tmpdir(), *rt = lw_path(tmp, "runtime"), *rtd = lw_path(rt, "lockwarden");
        char *sockdir = strdup(e.d->socket);
        *strrchr(sockdir, '/') = '\0';
        lw_mkdir_p(rtd);
        char *link = lw_path(rtd, "control.sock");
        CHECK(symlink(e.d->socket, link) == 0, "symlink");
        CHECK(chmod(tmp, 0755) == 0 && chmod(rt, 0755) == 0 && chmod(rtd, 0755) == 0 && chmod(sockdir, 0755) == 0,
              "chmod");
        setenv("XDG_RUNTIME_DIR", rt, 1);
        const char *status[] = { "status", NULL };
        int rn = lw_run(status, 65534, out, sizeof(out), err, sizeof(err));
        if (made) {
                unlink("/run/lockwarden/control.sock");
                rmdir("/run/lockwarden");
        }
        CHECK(rn == 1 && strstr(err, link), "nobody's status did not ask %s (exit %d): %s", link, rn, err);

        /* A member of the socket's group who is not root learns nothing of folders it may not
         * read: the daemon, as root, looked at every path it was asked about and said whether it
         * is there and what it is (a file, a directory, missing). */
        char *hidden = lw_path(lw_tmpdir(), "hidden");
        lw_mkdir_p(lw_path(hidden, "dir"));
        lw_write_file(lw_path(hidden, "file"), "x", 1);
        CHECK(chmod(hidden, 0700) == 0, "chmod");
        CHECK(chmod(e.d->socket, 0660) == 0 && chown(e.d->socket, 0, 65534) == 0, "chgrp to nogroup");
        const char *probes[] = { "file", "dir", "missing" };
        for (int v = 0; v < 2; v++)
                for (size_t k = 0; k < 3; k++) {
                        char *pp = lw_path(hidden, probes[k]);
                        const char *args[] = { v ? "holders" : "explain", "--socket", e.d->socket, pp, NULL };
                        int r = lw_run(args, 65534, out, sizeof(out), err, sizeof(err));
                        CHECK(r == 1 && strstr(err, "not a session file lockwarden guards") &&
                              !strstr(err, "directory") && !strstr(err, "No such file"),
                              "%s %s as nobody of the socket's group (exit %d): %s", args[0], probes[k], r, err);
                        free(pp);
                }

        lw_kill_wait(h, SIGTERM);
        CHECK(lw_daemon_stop(e.d) == 0, "exit status");
        return 0;
}
