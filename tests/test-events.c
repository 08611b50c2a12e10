/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `lockwarden events` against a running daemon with real locks and a real race: every line
 * checked by column against the same events as JSON (local time with the date as TZ says,
 * the event type, the subject, durations readable, lists shown); the filters (--type globs,
 * --lock with a relative path, -n) and their bad input (exit 2, one line, nothing on
 * standard output); --follow's backlog and live lines in the same fixed columns; a narrow
 * terminal shortens the folder, never the file name. */
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lwtest.h"

#define LOCK_A "0a6f7f9e-1d2c-4b3a-9e8f-7a6b5c4d3e2f.jsonl.lock"
#define TRANSCRIPT_U "1b2c3d4e-5f60-4718-8293-a4b5c6d7e8f9.jsonl"
#define LOCK_S "2c3d4e5f-6071-4829-93a4-b5c6d7e8f90a.jsonl.lock"
#define LOCK_F "3d4e5f60-7182-493a-a4b5-c6d7e8f90a1b.jsonl.lock"

static char out[1 << 20], err[1 << 16];
static const char *sock;

/* Runs `lockwarden events --socket SOCK ARGS...`; returns the exit status. */
#define EVENTS(...)                                                                         \
        ({                                                                                  \
                const char *a_[] = { "events", "--socket", sock, __VA_ARGS__, NULL };       \
                lw_run(a_, -1, out, sizeof(out), err, sizeof(err));                         \
        })

/* The events of `events --json ARGS`, each line checked against the schema. */
static json_t *events_json(const char *const *extra) {
        const char *args[32] = { "events", "--socket", sock, "--json" };
        size_t n = 4;
        json_t *arr = json_array();

        for (size_t i = 0; extra && extra[i]; i++)
                args[n++] = extra[i];
        args[n] = NULL;
        int s = lw_run(args, -1, out, sizeof(out), err, sizeof(err));
        CHECK(s == 0, "events --json: exit %d: %s", s, err);
        for (char *line = out, *nl; (nl = strchr(line, '\n')); line = nl + 1) {
                json_error_t e;
                *nl = '\0';
                json_t *j = json_loads(line, 0, &e);
                CHECK(json_is_object(j), "not one JSON object per line (%s): %s", e.text, line);
                /* The schema: a type from the catalog's families, a UTC time, the clock. */
                const char *ev = jstr(j, "event");
                CHECK(strncmp(ev, "lock.", 5) == 0 || strncmp(ev, "race.", 5) == 0 || strncmp(ev, "monitor.", 8) == 0,
                      "event %s", ev);
                CHECK(strlen(jstr(j, "ts")) == 27 && jstr(j, "ts")[26] == 'Z', "ts %s", jstr(j, "ts"));
                CHECK(json_is_integer(json_object_get(j, "mono_ns")), "mono_ns");
                json_array_append_new(arr, j);
        }
        return arr;
}

/* "2026-11-29T23:01:02.123456Z" shifted by OFFSET_S seconds, as "2026-11-30 04:31:02.123 ZONE". */
static void expected_time(const char *ts, long offset_s, const char *zone, char *buf, size_t size) {
        struct tm tm = {};
        int ms;

        CHECK(sscanf(ts, "%4d-%2d-%2dT%2d:%2d:%2d.%3d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                     &tm.tm_min, &tm.tm_sec, &ms) == 7, "ts %s", ts);
        tm.tm_year -= 1900;
        tm.tm_mon -= 1;
        time_t t = timegm(&tm) + offset_s;
        gmtime_r(&t, &tm);
        size_t n = strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm);
        snprintf(buf + n, size - n, ".%03d %s", ms, zone);
}

/* The subject an event's line names: its lock, else its transcript, else its path. */
static const char *subject_of(json_t *j) {
        static const char *const keys[] = { "lock", "session", "path", "folder", "state_dir" };
        for (size_t i = 0; i < LW_ELEMENTSOF(keys); i++)
                if (json_is_string(json_object_get(j, keys[i])))
                        return jstr(j, keys[i]);
        return "-";
}

/* The column where the text after field N (0-based, fields separated by two or more spaces
 * after the fixed columns) starts: TIME is "date time.ms zone", so count from the event. */
static size_t count_lines(const char *s) {
        size_t n = 0;
        for (; *s; s++)
                n += *s == '\n';
        return n;
}

/* Checks the text lines in OUT against the events ALL (same order), in zone ZONE at OFFSET_S:
 * TIME, EVENT and SUBJECT by column; the subject starts at the same column on every line.
 * Returns that column. */
static size_t check_lines(char *text, json_t *all, long offset_s, const char *zone, bool header) {
        size_t i = 0, subject_col = 0, event_col = 0;
        char *line = text, *nl;

        if (header) {
                nl = strchr(line, '\n');
                CHECK(nl && strncmp(line, "TIME ", 5) == 0, "no header: %s", text);
                event_col = (size_t) (strstr(line, "EVENT") - line);
                subject_col = (size_t) (strstr(line, "SUBJECT") - line);
                line = nl + 1;
        }
        for (; (nl = strchr(line, '\n')); line = nl + 1, i++) {
                json_t *j = json_array_get(all, i);
                char want[128];
                CHECK(j, "more lines than events: %s", line);
                *nl = '\0';
                expected_time(jstr(j, "ts"), offset_s, zone, want, sizeof(want));
                CHECK(strncmp(line, want, strlen(want)) == 0, "time: want '%s' in: %s", want, line);
                char *ev = line + strlen(want);
                while (*ev == ' ')
                        ev++;
                if (!event_col)
                        event_col = (size_t) (ev - line);
                CHECK((size_t) (ev - line) == event_col, "EVENT not in its column (%zu): %s", event_col, line);
                CHECK(strncmp(ev, jstr(j, "event"), strlen(jstr(j, "event"))) == 0 &&
                      ev[strlen(jstr(j, "event"))] == ' ', "event %s: %s", jstr(j, "event"), line);
                char *sub = ev + strlen(jstr(j, "event"));
                while (*sub == ' ')
                        sub++;
                if (!subject_col)
                        subject_col = (size_t) (sub - line);
                CHECK((size_t) (sub - line) == subject_col, "SUBJECT not in its column (%zu): %s", subject_col, line);
                CHECK(strncmp(sub, subject_of(j), strlen(subject_of(j))) == 0, "subject %s: %s", subject_of(j), line);
                /* Durations readable: no raw milli- or microsecond field. */
                CHECK(!strstr(line, "_ms=") && !strstr(line, "_us="), "a raw duration: %s", line);
                *nl = '\n';
        }
        CHECK(i == json_array_size(all), "%zu lines for %zu events", i, json_array_size(all));
        return subject_col;
}

/* Bad input: exit 2, one line on standard error naming WHAT, nothing on standard output. */
static void check_usage(int status, const char *what) {
        CHECK(status == 2, "exit %d, not 2 (%s): %s", status, what, err);
        CHECK(out[0] == '\0', "something printed on bad input (%s): %s", what, out);
        CHECK(strstr(err, what) && count_lines(err) == 1, "not one line naming '%s': %s", what, err);
}

/* A follower: `lockwarden events --follow ARGS` with its standard output on a pipe. */
typedef struct Follower {
        pid_t pid;
        int fd;
        char buf[1 << 16];
        size_t len;
} Follower;

static void follower_start(Follower *f, const char *const *extra) {
        char bin[PATH_MAX];
        int p[2];

        snprintf(bin, sizeof(bin), "%s/src/lockwarden", lw_builddir());
        CHECK(pipe2(p, O_CLOEXEC) == 0, "pipe");
        f->len = 0;
        f->pid = fork();
        CHECK(f->pid >= 0, "fork");
        if (f->pid == 0) {
                const char *argv[32] = { bin, "events", "--follow", "--socket", sock };
                size_t n = 5;
                for (size_t i = 0; extra && extra[i]; i++)
                        argv[n++] = extra[i];
                argv[n] = NULL;
                dup2(p[1], STDOUT_FILENO);
                execv(bin, (char **) argv);
                _exit(127);
        }
        close(p[1]);
        f->fd = p[0];
}

/* Reads until the follower has printed N lines (bounded). */
static void follower_lines(Follower *f, size_t n) {
        uint64_t deadline = lw_mono_ns() + LW_TIMEOUT_MS * 1000000ull;
        for (;;) {
                f->buf[f->len] = '\0';
                if (count_lines(f->buf) >= n)
                        return;
                uint64_t now = lw_mono_ns();
                CHECK(now < deadline, "the follower printed %zu lines, not %zu: %s", count_lines(f->buf), n, f->buf);
                struct pollfd pf = { .fd = f->fd, .events = POLLIN };
                if (poll(&pf, 1, (int) ((deadline - now) / 1000000) + 1) <= 0)
                        continue;
                ssize_t r = read(f->fd, f->buf + f->len, sizeof(f->buf) - 1 - f->len);
                CHECK(r > 0, "the follower ended: %s", f->buf);
                f->len += (size_t) r;
        }
}

/* Only the first N lines (events after those the test waited for may have come too). */
static void follower_keep(Follower *f, size_t n) {
        char *p = f->buf;
        for (size_t i = 0; i < n && (p = strchr(p, '\n')); i++)
                p++;
        if (p)
                *p = '\0';
}

static void follower_stop(Follower *f) {
        CHECK(kill(f->pid, SIGINT) == 0, "kill");
        int st = lw_wait_exit(f->pid, LW_TIMEOUT_MS);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the follower did not exit 0 on SIGINT: %d", st);
        close(f->fd);
}

int main(void) {
        lw_require_root(); /* fanotify: the events name their actors */
        char cwd[PATH_MAX], builddir[PATH_MAX];
        CHECK(realpath(lw_builddir(), builddir), "builddir");
        setenv("LW_BUILDDIR", builddir, 1); /* the test changes folder below */
        unsetenv("COLUMNS");
        setenv("TZ", "UTC", 1);

        LwEnv e;
        lw_env_start(&e, "200", NULL);
        sock = e.d->socket;
        char *la = lw_path(e.sessions, LOCK_A), *tu = lw_path(e.sessions, TRANSCRIPT_U);
        char *ls = lw_path(e.sessions, LOCK_S), *lf = lw_path(e.sessions, LOCK_F);

        /* A live lock, a race (an unlocked write: its "recent" list), a stale lock cleaned. */
        pid_t ha = lw_holder_start(la, NULL);
        lw_expect(e.d, LW_TIMEOUT_MS, "lock.acquired", "lock", la);
        const char *append[] = { "append", tu, "2", "{\"type\":\"mirror\"}\n", NULL };
        pid_t actor = lw_actor_start(append);
        lw_expect(e.d, LW_TIMEOUT_MS, "race.unlocked-write", "session", tu);
        pid_t dead = lw_spawn_sleeper();
        lw_kill_wait(dead, SIGKILL);
        char payload[128];
        snprintf(payload, sizeof(payload), "{\"pid\":%d,\"createdAt\":\"2026-01-01T00:00:00.000Z\"}", (int) dead);
        lw_write_file(ls, payload, strlen(payload));
        lw_expect(e.d, LW_TIMEOUT_MS, "lock.cleaned", "lock", ls);

        /* The whole backlog, as JSON (schema checked) and as text, line by line. */
        json_t *all = events_json(NULL);
        CHECK(json_array_size(all) >= 4, "%zu events", json_array_size(all));
        CHECK(strcmp(jstr(json_array_get(all, 0), "event"), "monitor.ready") == 0, "the backlog starts elsewhere");
        CHECK(EVENTS("--no-legend") == 0, "events: %s", err);
        check_lines(out, all, 0, "UTC", false);
        CHECK(EVENTS(NULL) == 0, "events: %s", err);
        size_t subject_col = check_lines(out, all, 0, "UTC", true);
        /* Local time as TZ says, with the date: India is 5 h 30 min ahead, all year. */
        setenv("TZ", "Asia/Kolkata", 1);
        CHECK(EVENTS("--no-legend") == 0, "events: %s", err);
        check_lines(out, all, 5 * 3600 + 30 * 60, "IST", false);
        setenv("TZ", "UTC", 1);

        /* Lists shown, not dropped; durations readable. */
        const char *races[] = { "--type", "race.*", NULL };
        json_t *rj = events_json(races);
        CHECK(json_array_size(rj) == 1 && strcmp(jstr(json_array_get(rj, 0), "event"), "race.unlocked-write") == 0,
              "--type race.* gave %zu events", json_array_size(rj));
        CHECK(EVENTS("--type", "race.*", "--no-legend") == 0, "events --type: %s", err);
        check_lines(out, rj, 0, "UTC", false);
        CHECK(strstr(out, "recent=[{file=transcript kind=create") && strstr(out, "kind=modify") &&
              strstr(out, "bytes=36"), "the race's list or counts are missing: %s", out);
        const char *stale[] = { "--type", "lock.stale", "--type", "lock.clean?d", NULL };
        json_t *sj = events_json(stale);
        CHECK(json_array_size(sj) == 2 && strcmp(jstr(json_array_get(sj, 0), "lock"), ls) == 0 &&
              strcmp(jstr(json_array_get(sj, 1), "event"), "lock.cleaned") == 0, "two --type: %zu", json_array_size(sj));
        CHECK(EVENTS("--type", "lock.stale", "--no-legend") == 0, "events: %s", err);
        CHECK(strstr(out, "leak_grace=200 ms") || strstr(out, " ms"), "no readable duration: %s", out);

        /* -n: the last N of the (filtered) backlog. */
        const char *two[] = { "-n", "2", NULL };
        json_t *tj = events_json(two);
        CHECK(json_array_size(tj) == 2 && json_equal(json_array_get(tj, 1), json_array_get(all, json_array_size(all) - 1)) &&
              json_equal(json_array_get(tj, 0), json_array_get(all, json_array_size(all) - 2)), "-n 2");
        const char *lines1[] = { "--lines=1", "--type", "lock.*", NULL };
        tj = events_json(lines1);
        CHECK(json_array_size(tj) == 1 && strcmp(jstr(json_array_get(tj, 0), "event"), "lock.cleaned") == 0,
              "--lines=1 --type lock.*: %s", out);
        CHECK(EVENTS("-n", "0", "--no-legend") == 0 && out[0] == '\0', "-n 0 printed: %s", out);
        const char *many[] = { "-n", "2147483647", NULL };
        CHECK(json_array_size(events_json(many)) == json_array_size(all), "-n larger than the backlog");

        /* --lock: a relative path, from the current folder. */
        CHECK(getcwd(cwd, sizeof(cwd)) && chdir(e.sessions) == 0, "chdir");
        const char *by_lock[] = { "--lock", LOCK_S, NULL };
        json_t *lj = events_json(by_lock);
        CHECK(json_array_size(lj) >= 2, "--lock %s: %zu events", LOCK_S, json_array_size(lj));
        for (size_t i = 0; i < json_array_size(lj); i++)
                CHECK(strcmp(jstr(json_array_get(lj, i), "lock"), ls) == 0, "--lock gave another lock's event");
        const char *by_lock2[] = { "--lock", "./" LOCK_A, "--type", "lock.acquired", NULL };
        lj = events_json(by_lock2);
        CHECK(json_array_size(lj) == 1 && strcmp(jstr(json_array_get(lj, 0), "lock"), la) == 0, "--lock ./A");
        /* A lock's transcript: the unlocked write on it. */
        const char *by_transcript[] = { "--lock", TRANSCRIPT_U ".lock", NULL };
        lj = events_json(by_transcript);
        CHECK(json_array_size(lj) == 1 && strcmp(jstr(json_array_get(lj, 0), "session"), tu) == 0, "--lock U.lock");
        CHECK(chdir(cwd) == 0, "chdir back");

        /* A narrow terminal: the folder is shortened, the file name stays whole. */
        setenv("COLUMNS", "60", 1);
        CHECK(EVENTS("--type", "lock.cleaned", "--no-legend") == 0, "events: %s", err);
        CHECK(strstr(out, "\u2026/" LOCK_S) && !strstr(out, ls), "COLUMNS=60: %s", out);
        CHECK(EVENTS("--type", "lock.cleaned", "--no-legend", "--full") == 0 && strstr(out, ls), "--full: %s", out);
        unsetenv("COLUMNS");

        /* Bad input: one line naming the problem, exit 2, nothing printed. */
        check_usage(EVENTS("--type", "nosuch.*"), "'nosuch.*' matches no event type");
        check_usage(EVENTS("--type", "race"), "'race' matches no event type");
        check_usage(EVENTS("-n", "-1"), "'-1'");
        check_usage(EVENTS("-n", "99999999999999999999"), "'99999999999999999999'");
        check_usage(EVENTS("--lines", "2147483648"), "'2147483648'");
        check_usage(EVENTS("-n", "ten"), "'ten'");
        check_usage(EVENTS("-n"), "needs a value");
        check_usage(EVENTS("--since", "soon"), "'soon'");
        check_usage(EVENTS("--since", "-5m"), "'-5m'");
        check_usage(EVENTS("--bogus"), "unknown option '--bogus'");
        check_usage(EVENTS("-x"), "unknown option '-x'");
        check_usage(EVENTS("--lock"), "needs a value");
        check_usage(EVENTS("--lock", ""), "--lock needs a path");
        /* A huge --since is all of the backlog, not a wrapped-around few seconds. */
        const char *long_ago[] = { "--since", "1000000d", NULL };
        CHECK(json_array_size(events_json(long_ago)) == json_array_size(all), "--since 1000000d");
        const char *wraps[] = { "--since", "18446744073710ms", NULL }; /* 2^64 ns and a bit */
        CHECK(json_array_size(events_json(wraps)) == json_array_size(all), "--since 18446744073710ms");

        /* --follow: the backlog, then live events, all in the same columns as the header. */
        Follower f;
        const char *follow_all[] = { NULL };
        follower_start(&f, follow_all);
        follower_lines(&f, 1 + json_array_size(all));
        pid_t hf = lw_holder_start(lf, NULL);
        lw_expect(e.d, LW_TIMEOUT_MS, "lock.acquired", "lock", lf);
        lw_kill_wait(hf, SIGTERM);
        lw_expect(e.d, LW_TIMEOUT_MS, "lock.released", "lock", lf);
        json_t *now_all = events_json(NULL);
        follower_lines(&f, 1 + json_array_size(now_all));
        follower_stop(&f);
        follower_keep(&f, 1 + json_array_size(now_all));
        CHECK(check_lines(f.buf, now_all, 0, "UTC", true) == subject_col, "the live lines moved the columns");
        /* Filters and -n 0 apply to --follow: only the new events of that type. */
        const char *follow_new[] = { "-n", "0", "--type", "lock.released", NULL };
        follower_start(&f, follow_new);
        /* Its header comes once the daemon answered it: from then on it gets every event. */
        follower_lines(&f, 1);
        hf = lw_holder_start(lf, NULL);
        lw_expect(e.d, LW_TIMEOUT_MS, "lock.acquired", "lock", lf);
        lw_kill_wait(hf, SIGTERM);
        lw_expect(e.d, LW_TIMEOUT_MS, "lock.released", "lock", lf);
        follower_lines(&f, 2);
        follower_stop(&f);
        follower_keep(&f, 2);
        json_t *rel = json_array();
        json_t *last = events_json((const char *const[]) { "--type", "lock.released", "-n", "1", NULL });
        json_array_extend(rel, last);
        check_lines(f.buf, rel, 0, "UTC", true);

        lw_kill_wait(ha, SIGTERM);
        lw_kill_wait(actor, SIGTERM);
        CHECK(lw_daemon_stop(e.d) == 0, "exit status");
        return 0;
}
