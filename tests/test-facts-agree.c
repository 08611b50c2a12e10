/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The daemon, `scan` and `explain` judge a lock from the same facts (lock-facts.c), so they
 * cannot disagree. One state dir holds a lock in each state the verdict knows:
 *   live       held by a live lock-holder;
 *   container  held by a lock-holder that is pid 1 of its own pid namespace (its payload says 1,
 *              its pid here is another: "holding" must name that process, not the host's 1);
 *   dead       its lock-holder SIGKILLed;
 *   leaked     its lock-holder alive, the descriptor closed (--mode=leak);
 *   recycled   a payload naming a live process with another start time;
 *   foreign    a payload naming a live process it was never written by (no start time);
 *   malformed  not JSON;
 * and a second state dir on OpenClaw 2026.8+ (a SQLite store) a dead owner's leftover. The
 * daemon runs in report mode (it removes nothing); once it has judged every stale lock,
 * `locks --json` (the daemon's verdicts), `explain --json` and `scan --json` are read, and for
 * each lock they must give the same verdict, reason and rule, the same owner pid, liveness and
 * holding, and explain and scan the same facts object. Each lock's verdict is also checked
 * against what it must be, so that three equal wrong answers fail too. Needs root
 * (CLONE_NEWPID, and the other users' view of /proc a daemon has). */
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lwtest.h"

static char out[1 << 20], err[1 << 16];

/* Last written long ago: scan, which has no history, counts "nobody holds it" from the file's
 * mtime; the daemon from when it first saw the lock. Once the daemon's grace has passed, both
 * have waited for it. */
static void age(const char *path) {
        struct timeval tv[2] = { { .tv_sec = 1000000000 }, { .tv_sec = 1000000000 } };

        CHECK(utimes(path, tv) == 0, "utimes %s", path);
}

static json_t *find(json_t *arr, const char *key, const char *path) {
        json_t *x;
        size_t i;

        json_array_foreach(arr, i, x)
                if (strcmp(jstr(x, key), path) == 0)
                        return x;
        CHECK(false, "%s is not among the answers", path);
        return NULL;
}

static json_t *run_json(const char *const *args, int want_status, const char *what) {
        json_error_t je;
        int r = lw_run(args, -1, out, sizeof(out), err, sizeof(err));

        CHECK(r == want_status, "%s: exit %d, not %d: %s", what, r, want_status, err);
        json_t *j = json_loads(out, 0, &je);
        CHECK(j, "%s: not JSON (%s): %s", what, je.text, out);
        return j;
}

/* KEY of A and B, equal as JSON (null and missing alike). */
static void same(const char *lock, const char *what_a, json_t *a, const char *what_b, json_t *b, const char *key) {
        json_t *x = json_object_get(a, key), *y = json_object_get(b, key);
        json_t *nx = x ? x : json_null(), *ny = y ? y : json_null();

        if (!json_equal(nx, ny)) {
                char *sx = json_dumps(nx, JSON_ENCODE_ANY), *sy = json_dumps(ny, JSON_ENCODE_ANY);
                CHECK(false, "%s: %s says %s %s, %s says %s", lock, what_a, key, sx, what_b, sy);
        }
}

typedef struct Want {
        const char *name;
        const char *verdict;
        const char *reason;    /* NULL: not stale */
        const char *owner_ns;  /* NULL: no valid payload */
        int alive;             /* -1: null */
        bool holds;
} Want;

int main(void) {
        lw_require_root();
        lw_require_fanotify();
        char *top = lw_tmpdir();
        char *state = lw_path(top, "state"), *sessions = lw_path(state, "agents/main/sessions");
        char *state8 = lw_path(top, "state8"), *sessions8 = lw_path(state8, "agents/main/sessions");
        char *store = lw_path(state8, "agents/main/agent");
        char payload[256];

        lw_mkdir_p(sessions);
        lw_mkdir_p(sessions8);
        lw_mkdir_p(store);
        char *sqlite = lw_path(store, "openclaw-agent.sqlite");
        lw_write_file(sqlite, "", 0);

        static const Want want[] = {
                { "live.jsonl.lock",      "live",  NULL,           "host",              1,  true  },
                { "container.jsonl.lock", "live",  NULL,           "container",         1,  true  },
                { "dead.jsonl.lock",      "stale", "dead-pid",     "unverified",        0,  false },
                { "leaked.jsonl.lock",    "stale", "leaked",       "host-by-starttime", 1,  false },
                { "recycled.jsonl.lock",  "stale", "recycled-pid", "unverified",        1,  false },
                { "foreign.jsonl.lock",   "stale", "leaked",       "unverified",        1,  false },
                { "malformed.jsonl.lock", "stale", "malformed",    NULL,                -1, false },
                { "leftover.jsonl.lock",  "stale", "dead-pid",     "unverified",        0,  false },
                /* Killed and not reaped: still in /proc, as a zombie, which is no owner. */
                { "zombie.jsonl.lock",    "stale", "dead-pid",     "host-by-starttime", 0,  false },
        };
        char *path[LW_ELEMENTSOF(want)];
        for (size_t i = 0; i < LW_ELEMENTSOF(want); i++)
                path[i] = lw_path(strcmp(want[i].name, "leftover.jsonl.lock") == 0 ? sessions8 : sessions, want[i].name);

        pid_t live = lw_holder_start(path[0], NULL);
        LwContainer c = lw_container_start(path[1]);
        pid_t gone = lw_holder_start(path[2], NULL);
        lw_kill_wait(gone, SIGKILL);
        const char *leak[] = { "--mode=leak", NULL };
        pid_t leaker = lw_holder_start(path[3], leak);
        pid_t sleeper = lw_spawn_sleeper();
        snprintf(payload, sizeof(payload), "{\"pid\": %d, \"starttime\": 1}\n", (int) sleeper);
        lw_write_file(path[4], payload, strlen(payload));
        snprintf(payload, sizeof(payload), "{\"pid\": %d}\n", (int) sleeper);
        lw_write_file(path[5], payload, strlen(payload));
        lw_write_file(path[6], "{not json\n", 10);
        pid_t gone8 = lw_holder_start(path[7], NULL);
        lw_kill_wait(gone8, SIGKILL);
        pid_t zombie = lw_holder_start(path[8], NULL);
        siginfo_t si;
        kill(zombie, SIGKILL);
        CHECK(waitid(P_PID, (id_t) zombie, &si, WEXITED | WNOWAIT) == 0, "the holder did not die"); /* not reaped */
        for (size_t i = 2; i < LW_ELEMENTSOF(want); i++)
                age(path[i]);

        const char *args[] = { "--state-dir", state, "--state-dir", state8, "--leak-grace-ms", "200",
                               "--cleanup=report", NULL };
        LwDaemon *d = lw_daemon_start(NULL, args, NULL);
        lw_daemon_ready(d);
        /* Every stale lock judged so (after its grace), and kept: report mode. */
        for (size_t i = 0; i < LW_ELEMENTSOF(want); i++)
                if (want[i].reason) {
                        json_t *ev = lw_expect(d, LW_TIMEOUT_MS, "lock.stale", "lock", path[i]);
                        CHECK(strcmp(jstr(ev, "reason"), want[i].reason) == 0, "%s: the daemon says %s, not %s",
                              want[i].name, jstr(ev, "reason"), want[i].reason);
                        lw_expect(d, LW_TIMEOUT_MS, "lock.kept", "lock", path[i]);
                }

        const char *locks_args[] = { "locks", "--socket", d->socket, "--json", NULL };
        json_t *locks = run_json(locks_args, 0, "locks --json");
        const char *explain_args[2 + 2 + LW_ELEMENTSOF(want) + 1] = { "explain", "--socket", d->socket, "--json" };
        for (size_t i = 0; i < LW_ELEMENTSOF(want); i++)
                explain_args[4 + i] = path[i];
        json_t *explained = run_json(explain_args, 0, "explain --json");
        const char *scan_args[] = { "scan", "--state-dir", state, "--state-dir", state8, "--leak-grace-ms", "200",
                                    "--json", NULL };
        json_t *scan = run_json(scan_args, 1, "scan --json");
        json_t *scanned = json_object_get(scan, "locks");
        CHECK(json_array_size(json_is_array(locks) ? locks : json_object_get(locks, "locks")) >= LW_ELEMENTSOF(want) &&
              json_array_size(scanned) == LW_ELEMENTSOF(want), "%zu locks scanned", json_array_size(scanned));
        if (!json_is_array(locks))
                locks = json_object_get(locks, "locks");

        for (size_t i = 0; i < LW_ELEMENTSOF(want); i++) {
                const Want *w = &want[i];
                json_t *dl = find(locks, "lock", path[i]), *ex = find(explained, "lock", path[i]);
                json_t *sc = find(scanned, "lock", path[i]);

                /* What it must be. */
                CHECK(strcmp(jstr(dl, "verdict"), w->verdict) == 0, "%s: the daemon's verdict %s, not %s", w->name,
                      jstr(dl, "verdict"), w->verdict);
                CHECK(w->reason ? strcmp(jstr(dl, "reason"), w->reason) == 0 : json_is_null(json_object_get(dl, "reason")),
                      "%s: the daemon's reason %s", w->name, jstr(dl, "reason"));
                CHECK(json_is_true(json_object_get(dl, "holding")) == w->holds, "%s: the daemon's holding", w->name);

                /* The three agree: verdict, reason, rule. */
                static const char *const judged[] = { "verdict", "reason", "rule" };
                for (size_t k = 0; k < LW_ELEMENTSOF(judged); k++) {
                        same(w->name, "the daemon", dl, "explain", ex, judged[k]);
                        same(w->name, "the daemon", dl, "scan", sc, judged[k]);
                }
                /* The key facts, as each prints them. */
                static const char *const shown[] = { "owner_pid", "owner_alive", "holding" };
                for (size_t k = 0; k < LW_ELEMENTSOF(shown); k++)
                        same(w->name, "the daemon", dl, "scan", sc, shown[k]);
                json_t *xa = json_object_get(json_object_get(ex, "owner"), "alive");
                CHECK(json_equal(xa ? xa : json_null(), json_object_get(dl, "owner_alive")),
                      "%s: the daemon and explain say owner alive apart", w->name);
        }
        /* Then the facts explain and scan print. */
        for (size_t i = 0; i < LW_ELEMENTSOF(want); i++) {
                const Want *w = &want[i];
                json_t *ex = find(explained, "lock", path[i]), *sc = find(scanned, "lock", path[i]);
                json_t *xf = json_object_get(ex, "facts"), *sf = json_object_get(sc, "facts");

                CHECK(xf && sf, "%s: no facts (explain %p, scan %p)", w->name, (void *) xf, (void *) sf);
                CHECK(w->owner_ns ? strcmp(jstr(xf, "owner_ns"), w->owner_ns) == 0 : json_is_null(json_object_get(xf, "owner_ns")),
                      "%s: owner_ns %s, not %s", w->name, jstr(xf, "owner_ns"), w->owner_ns ? w->owner_ns : "null");
                CHECK(w->alive < 0 ? json_is_null(json_object_get(xf, "owner_alive"))
                                   : json_is_boolean(json_object_get(xf, "owner_alive")) &&
                                     json_is_true(json_object_get(xf, "owner_alive")) == (w->alive == 1),
                      "%s: owner_alive", w->name);
                /* explain and scan give what the verdict was given, field by field. */
                const char *key;
                json_t *v;
                json_object_foreach(xf, key, v)
                        same(w->name, "explain", xf, "scan", sf, key);
                CHECK(json_object_size(xf) == json_object_size(sf), "%s: facts of other fields", w->name);
                CHECK(json_is_true(json_object_get(sc, "leftover")) == (strcmp(w->name, "leftover.jsonl.lock") == 0),
                      "%s: leftover %d", w->name, json_is_true(json_object_get(sc, "leftover")));
        }
        /* The container's owner by its pid here, not the host's pid 1. */
        json_t *cf = json_object_get(find(explained, "lock", path[1]), "facts");
        CHECK(jint(cf, "owner_pid") == 1 && jint(cf, "owner_host_pid") == c.holder, "container: %lld here %lld, not %d",
              jint(cf, "owner_pid"), jint(cf, "owner_host_pid"), (int) c.holder);

        CHECK(lw_count(d, "lock.cleaned", NULL, NULL) == 0, "report mode removed a lock");
        for (size_t i = 0; i < LW_ELEMENTSOF(want); i++)
                CHECK(lw_exists(path[i]), "%s is gone", want[i].name);
        CHECK(lw_daemon_stop(d) == 0, "exit status");
        lw_kill_wait(live, SIGTERM);
        lw_kill_wait(leaker, SIGTERM);
        lw_kill_wait(sleeper, SIGKILL);
        kill(c.holder, SIGKILL);
        lw_wait_exit(c.outer, LW_TIMEOUT_MS);
        return 0;
}
