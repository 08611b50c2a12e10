/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the verbs print for a person, against a running daemon with real holders: each verb's
 * --help is its own; counts are singular or plural as they should be ("1 lock listed"); on a
 * narrow terminal a path is shortened in its folder and the session id (the file name) is
 * never cut, the columns stay aligned, and --full (or a pipe) prints whole paths; an option
 * of another verb is a one-line usage error (exit 2) with nothing printed. */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "lwtest.h"

#define ID_A "0a6f7f9e-1d2c-4b3a-9e8f-7a6b5c4d3e2f"
#define ID_B "4e5f6071-8293-4a4b-b5c6-d7e8f90a1b2c"

static char out[1 << 20], err[1 << 16];

#define RUN(...)                                                                    \
        ({                                                                          \
                const char *a_[] = { __VA_ARGS__, NULL };                           \
                lw_run(a_, -1, out, sizeof(out), err, sizeof(err));                 \
        })

/* Display columns of the first N bytes of S (UTF-8). */
static size_t cols(const char *s, size_t n) {
        size_t w = 0;
        for (size_t i = 0; i < n && s[i]; i++)
                w += ((unsigned char) s[i] & 0xC0) != 0x80;
        return w;
}

static size_t count_lines(const char *s) {
        size_t n = 0;
        for (; *s; s++)
                n += *s == '\n';
        return n;
}

/* The `locks` table in OUT: every row names a lock by its whole file name (after "…/" when
 * SHORT, else the whole PATH-prefixed path), and its OWNER (right-aligned) ends where the
 * header's does. */
static void check_locks_table(const char *dir, bool shortened) {
        char *line = out, *nl = strchr(out, '\n');
        CHECK(nl && strncmp(out, "LOCK ", 5) == 0, "header: %s", out);
        const char *owner = strstr(out, "OWNER");
        CHECK(owner && owner < nl, "no OWNER: %s", out);
        size_t owner_end = cols(out, (size_t) (owner - out)) + 5;
        size_t rows = 0;

        for (line = nl + 1; (nl = strchr(line, '\n')) && nl != line; line = nl + 1) {
                *nl = '\0';
                if (strstr(line, "barrier.jsonl.lock")) {
                        *nl = '\n';
                        continue; /* lw_barrier's: released, maybe not yet gone */
                }
                rows++;
                const char *id = strstr(line, ID_A) ? ID_A : strstr(line, ID_B) ? ID_B : NULL;
                CHECK(id && id < nl, "a row without its whole session id: %.*s", (int) (nl - line), line);
                char name[128];
                snprintf(name, sizeof(name), "%s.jsonl.lock ", id);
                CHECK(strstr(line, name), "the file name is cut: %.*s", (int) (nl - line), line);
                if (shortened)
                        CHECK(strncmp(line, "\u2026/", strlen("\u2026/")) == 0 && !strstr(line, dir),
                              "not shortened in the folder: %.*s", (int) (nl - line), line);
                else
                        CHECK(strncmp(line, dir, strlen(dir)) == 0, "not the whole path: %.*s", (int) (nl - line), line);
                /* OWNER: the pid ends under the header's end. */
                const char *p = line + strlen(name) + (size_t) (strstr(line, id) - line);
                while (*p == ' ')
                        p++;
                const char *pe = p;
                while (*pe >= '0' && *pe <= '9')
                        pe++;
                CHECK(pe > p && cols(line, (size_t) (pe - line)) == owner_end, "OWNER not aligned: %s", line);
                *nl = '\n';
        }
        CHECK(rows == 2, "%zu rows: %s", rows, out);
}

static void check_usage(int status, const char *what) {
        CHECK(status == 2, "exit %d, not 2 (%s): %s", status, what, err);
        CHECK(out[0] == '\0', "something printed on bad input (%s): %s", what, out);
        CHECK(strstr(err, what) && count_lines(err) == 1, "not one line naming '%s': %s", what, err);
}

int main(void) {
        lw_require_root(); /* fanotify: the holders are named */
        static const char *const verbs[] = { "status", "locks", "holders", "events", "cleanup", "reload", "scan" };

        /* Each verb's --help is its own: its usage, not the list of all. */
        for (size_t i = 0; i < LW_ELEMENTSOF(verbs); i++) {
                char usage[64];
                const char *a[] = { verbs[i], "--help", NULL };
                CHECK(lw_run(a, -1, out, sizeof(out), err, sizeof(err)) == 0, "%s --help: %s", verbs[i], err);
                snprintf(usage, sizeof(usage), "Usage: lockwarden %s ", verbs[i]);
                CHECK(strncmp(out, usage, strlen(usage)) == 0, "%s --help: %s", verbs[i], out);
                CHECK(strstr(out, "-h, --help") && strstr(out, "Exit status"), "%s --help: %s", verbs[i], out);
                for (size_t j = 0; j < LW_ELEMENTSOF(verbs); j++) {
                        snprintf(usage, sizeof(usage), "lockwarden %s ", verbs[j]);
                        CHECK(i == j || !strstr(out, usage), "%s --help speaks of %s: %s", verbs[i], verbs[j], out);
                }
        }
        CHECK(RUN("events", "-h") == 0 && strstr(out, "--type PATTERN") && strstr(out, "-n, --lines N") &&
              strstr(out, "--follow") && strstr(out, "race.lock-stolen") && strstr(out, "backlog"), "events --help: %s", out);
        CHECK(RUN("help", "events") == 0 && strncmp(out, "Usage: lockwarden events ", 25) == 0, "help events: %s", out);
        CHECK(RUN("run", "--help") == 0 && !strstr(out, "lockwarden holders PATH"), "run --help: %s", out);
        CHECK(RUN("status", "--help") == 0 && !strstr(out, "--follow") && !strstr(out, "--all"), "status --help: %s", out);
        CHECK(RUN("locks", "--help") == 0 && strstr(out, "--all") && strstr(out, "--full"), "locks --help: %s", out);

        LwEnv e;
        unsetenv("COLUMNS");
        lw_env_start(&e, "200", NULL);
        const char *sock = e.d->socket;
        char *la = lw_path(e.sessions, ID_A ".jsonl.lock"), *lb = lw_path(e.sessions, ID_B ".jsonl.lock");
        char *ta = lw_path(e.sessions, ID_A ".jsonl"), *tb = lw_path(e.sessions, ID_B ".jsonl");

        /* Singular and plural. */
        CHECK(RUN("locks", "--socket", sock) == 0 && strstr(out, "\n0 locks listed.\n"), "0: %s", out);
        const char *targs[] = { "--transcript", ta, NULL };
        pid_t ha = lw_holder_start(la, targs);
        lw_expect(e.d, LW_TIMEOUT_MS, "lock.acquired", "lock", la);
        CHECK(RUN("locks", "--socket", sock) == 0 && strstr(out, "\n1 lock listed.\n"), "1: %s", out);
        CHECK(RUN("status", "--socket", sock) == 0 && strstr(out, "tracked:   1 lock, 1 transcript, 1 owner\n"),
              "status: %s", out);
        CHECK(RUN("cleanup", "--socket", sock) == 0 && strstr(out, "Judged 1 lock again: 0 events.\n"), "cleanup: %s", out);
        lw_write_file(tb, "{}\n", 3);
        pid_t barrier = lw_barrier(&e, LW_TIMEOUT_MS); /* the transcript's creation was read */
        lw_kill_wait(barrier, SIGTERM);
        CHECK(RUN("locks", "--socket", sock, "--all") == 0 && strstr(out, "transcript without a lock listed.\n") &&
              !strstr(out, "1 transcripts"), "--all: %s", out);
        const char *targs2[] = { "--transcript", tb, NULL };
        pid_t hb = lw_holder_start(lb, targs2);
        lw_expect(e.d, LW_TIMEOUT_MS, "lock.acquired", "lock", lb);
        /* The barrier's lock may still be there (released, not yet judged): not counted. */
        CHECK(RUN("locks", "--socket", sock) == 0 && strstr(out, " locks listed.\n") && !strstr(out, "\n1 lock"),
              "2: %s", out);

        /* Narrow: the folder goes, the file name stays, OWNER stays aligned. */
        CHECK(RUN("locks", "--socket", sock, "--no-legend") == 0, "locks");
        size_t rows_all = count_lines(out);
        CHECK(rows_all >= 2, "rows %s", out);
        for (int width = 60; width >= 40; width -= 20) {
                char w[8];
                snprintf(w, sizeof(w), "%d", width);
                setenv("COLUMNS", w, 1);
                CHECK(RUN("locks", "--socket", sock) == 0, "locks: %s", err);
                *strstr(out, "\n\n") = '\0'; /* the table only */
                strcat(out, "\n");
                check_locks_table(e.sessions, true);
        }
        /* --full, and a pipe without $COLUMNS: whole paths. */
        CHECK(RUN("locks", "--socket", sock, "--full") == 0, "locks --full: %s", err);
        *strstr(out, "\n\n") = '\0';
        strcat(out, "\n");
        check_locks_table(e.sessions, false);
        unsetenv("COLUMNS");
        CHECK(RUN("locks", "--socket", sock) == 0, "locks: %s", err);
        *strstr(out, "\n\n") = '\0';
        strcat(out, "\n");
        check_locks_table(e.sessions, false);
        /* holders and scan shorten the same way. */
        setenv("COLUMNS", "50", 1);
        CHECK(RUN("holders", "--socket", sock, la) == 0 && strstr(out, "\u2026/" ID_A ".jsonl.lock ") &&
              !strstr(out, e.sessions), "holders: %s", out);
        CHECK(RUN("holders", "--socket", sock, "--full", la) == 0 && strstr(out, la), "holders --full: %s", out);
        CHECK(RUN("scan", "--watch", e.sessions) == 0 && strstr(out, "\u2026/" ID_A ".jsonl.lock ") &&
              strstr(out, "\n2 locks, 0 stale."), "scan: %s", out);
        CHECK(RUN("scan", "--watch", e.sessions, "--full") == 0 && strstr(out, la), "scan --full: %s", out);
        unsetenv("COLUMNS");

        /* Another verb's option: one line, exit 2, nothing printed (before the daemon is asked). */
        check_usage(RUN("locks", "--socket", sock, "--type", "race.*"), "--type: only for 'events'");
        check_usage(RUN("locks", "--socket", sock, "-n", "3"), "-n: only for 'events'");
        check_usage(RUN("status", "--socket", sock, "--full"), "--full: only for");
        check_usage(RUN("status", "--socket", sock, "--all"), "--all: only for 'locks'");
        check_usage(RUN("holders", "--socket", sock), "which files?");
        check_usage(RUN("reload", "--socket", sock, "--follow"), "--follow: only for 'events'");

        lw_kill_wait(ha, SIGTERM);
        lw_kill_wait(hb, SIGTERM);
        CHECK(lw_daemon_stop(e.d) == 0, "exit status");
        return 0;
}
