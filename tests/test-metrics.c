/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `lockwarden metrics` and --metrics-file against a real daemon. The text is parsed strictly
 * here (every sample's family has one HELP and one TYPE before it, counters end in _total,
 * label values well escaped, no sample twice, histogram buckets cumulative with +Inf equal to
 * _count), and the numbers move with what really happened: a holder SIGKILLed (stale dead-pid,
 * cleaned, a cleanup latency observed), a lock stolen from a live holder (two races). The file:
 * there at start, replaced whole (a new inode, never a temporary one left), updated after a
 * change, rewritten at most once a second (counted by the daemon itself: a burst of changes
 * makes far fewer writes), never while idle (same inode and mtime across an idle stretch that
 * ends on a control request), a failed write said once, counted and retried at the next
 * change; a folder that cannot be written stops the start. */
#include <ctype.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lwtest.h"

/* ---- a strict reader of the text format ---- */

typedef struct Sample {
        char name[128];
        char labels[256];     /* as written, between the braces (escapes kept) */
        double value;
} Sample;

typedef struct Family {
        char name[128];
        char type[16];
        bool help;
        size_t first, n;      /* its samples */
} Family;

typedef struct Exposition {
        Sample s[512];
        size_t n;
        Family f[64];
        size_t n_f;
} Exposition;

static bool valid_name(const char *s, size_t n) {
        if (n == 0 || !(isalpha((unsigned char) s[0]) || s[0] == '_' || s[0] == ':'))
                return false;
        for (size_t i = 1; i < n; i++)
                if (!(isalnum((unsigned char) s[i]) || s[i] == '_' || s[i] == ':'))
                        return false;
        return true;
}

static bool ends_with(const char *s, const char *suffix) {
        size_t a = strlen(s), b = strlen(suffix);
        return a >= b && strcmp(s + a - b, suffix) == 0;
}

static Family *find_family(Exposition *x, const char *name) {
        for (size_t i = 0; i < x->n_f; i++)
                if (strcmp(x->f[i].name, name) == 0)
                        return &x->f[i];
        return NULL;
}

/* LABELS: k="v",k2="v2": names valid, values with only \\, \" and \n escapes. Writes the value
 * of LE (if asked) to *le. */
static void check_labels(const char *labels, const char *line, char *le, size_t le_size) {
        const char *p = labels;

        if (le)
                le[0] = '\0';
        while (*p) {
                const char *eq = strchr(p, '=');
                CHECK(eq && valid_name(p, (size_t) (eq - p)), "bad label name in: %s", line);
                bool is_le = (size_t) (eq - p) == 2 && strncmp(p, "le", 2) == 0;
                CHECK(eq[1] == '"', "label value not quoted in: %s", line);
                size_t k = 0;
                for (p = eq + 2; *p != '"'; p++) {
                        CHECK(*p && *p != '\n', "unterminated label value in: %s", line);
                        if (*p == '\\') {
                                p++;
                                CHECK(*p == '\\' || *p == '"' || *p == 'n', "bad escape in: %s", line);
                        }
                        if (is_le && le && k + 1 < le_size)
                                le[k++] = *p;
                }
                if (is_le && le)
                        le[k] = '\0';
                p++;
                if (*p == ',')
                        p++;
                else
                        CHECK(*p == '\0', "junk after a label in: %s", line);
        }
}

static void parse(const char *text, Exposition *x) {
        Family *cur = NULL;
        const char *p = text;

        memset(x, 0, sizeof(*x));
        CHECK(*text, "empty exposition");
        CHECK(text[strlen(text) - 1] == '\n', "the last line is cut");
        while (*p) {
                const char *nl = strchr(p, '\n');
                char line[1024];
                size_t n = (size_t) (nl - p);

                CHECK(nl && n < sizeof(line), "line too long or cut");
                memcpy(line, p, n);
                line[n] = '\0';
                p = nl + 1;

                if (strncmp(line, "# HELP ", 7) == 0 || strncmp(line, "# TYPE ", 7) == 0) {
                        char *name = line + 7, *sp = strchr(name, ' ');
                        CHECK(sp && valid_name(name, (size_t) (sp - name)), "bad metric name: %s", line);
                        *sp = '\0';
                        Family *f = find_family(x, name);
                        if (!f) {
                                CHECK(x->n_f < LW_ELEMENTSOF(x->f), "too many families");
                                f = &x->f[x->n_f++];
                                CHECK(strlen(name) < sizeof(f->name), "name too long: %s", name);
                                memcpy(f->name, name, strlen(name) + 1);
                                f->first = x->n;
                        } else
                                CHECK(f == cur && f->n == 0, "%s: HELP/TYPE after its samples or apart", name);
                        cur = f;
                        if (line[2] == 'H') {
                                CHECK(!f->help && !f->type[0], "%s: HELP twice or after TYPE", name);
                                for (const char *h = sp + 1; *h; h++)
                                        if (*h == '\\') {
                                                CHECK(h[1] == '\\' || h[1] == 'n', "%s: bad escape in HELP", name);
                                                h++;
                                        }
                                f->help = true;
                        } else {
                                CHECK(f->help && !f->type[0], "%s: TYPE twice or before HELP", name);
                                const char *t = sp + 1;
                                CHECK(strcmp(t, "counter") == 0 || strcmp(t, "gauge") == 0 ||
                                      strcmp(t, "histogram") == 0, "%s: type %s", name, t);
                                snprintf(f->type, sizeof(f->type), "%s", t);
                                CHECK(strcmp(t, "counter") != 0 || ends_with(name, "_total"),
                                      "counter %s does not end in _total", name);
                        }
                        continue;
                }
                CHECK(line[0] != '#', "a comment that is neither HELP nor TYPE: %s", line);

                /* A sample: name[{labels}] value */
                CHECK(x->n < LW_ELEMENTSOF(x->s), "too many samples");
                Sample *s = &x->s[x->n];
                size_t nl_len = strcspn(line, "{ ");
                CHECK(valid_name(line, nl_len) && nl_len < sizeof(s->name), "bad sample name: %s", line);
                memcpy(s->name, line, nl_len);
                s->name[nl_len] = '\0';
                char *rest = line + nl_len;
                if (*rest == '{') {
                        char *close = strstr(rest, "} ");
                        CHECK(close, "labels not closed: %s", line);
                        *close = '\0';
                        snprintf(s->labels, sizeof(s->labels), "%s", rest + 1);
                        rest = close + 1;
                }
                CHECK(*rest == ' ' && rest[1], "no value: %s", line);
                char *end;
                s->value = strtod(rest + 1, &end);
                CHECK(*end == '\0' && end != rest + 1, "bad value: %s", line);

                CHECK(cur && cur->type[0], "sample %s without its HELP and TYPE", s->name);
                char le[32];
                check_labels(s->labels, line, strcmp(cur->type, "histogram") == 0 ? le : NULL, sizeof(le));
                if (strcmp(cur->type, "histogram") == 0) {
                        char want[160];
                        bool bucket = snprintf(want, sizeof(want), "%s_bucket", cur->name) > 0 && strcmp(s->name, want) == 0;
                        bool sum = snprintf(want, sizeof(want), "%s_sum", cur->name) > 0 && strcmp(s->name, want) == 0;
                        bool count = snprintf(want, sizeof(want), "%s_count", cur->name) > 0 && strcmp(s->name, want) == 0;
                        CHECK(bucket || sum || count, "%s is not of histogram %s", s->name, cur->name);
                        CHECK(!bucket || le[0], "%s without le", s->name);
                } else
                        CHECK(strcmp(s->name, cur->name) == 0, "sample %s in family %s", s->name, cur->name);
                for (size_t i = cur->first; i < x->n; i++)
                        CHECK(strcmp(x->s[i].name, s->name) != 0 || strcmp(x->s[i].labels, s->labels) != 0,
                              "sample %s{%s} twice", s->name, s->labels);
                cur->n++;
                x->n++;
        }

        /* Histograms: buckets by le ascending, cumulative, +Inf last and equal to _count. */
        for (size_t i = 0; i < x->n_f; i++) {
                Family *f = &x->f[i];
                double last_le = -INFINITY, last = 0, inf = -1, count = -1, sum = -1;
                CHECK(f->type[0] && f->n > 0, "family %s has no samples", f->name);
                if (strcmp(f->type, "histogram") != 0)
                        continue;
                for (size_t k = f->first; k < f->first + f->n; k++) {
                        Sample *s = &x->s[k];
                        if (ends_with(s->name, "_bucket")) {
                                CHECK(inf < 0, "%s: a bucket after +Inf", f->name);
                                const char *v = strstr(s->labels, "le=\"") + 4;
                                double le = strncmp(v, "+Inf\"", 5) == 0 ? INFINITY : strtod(v, NULL);
                                CHECK(le > last_le, "%s: le not ascending", f->name);
                                CHECK(s->value >= last, "%s: buckets not cumulative", f->name);
                                last_le = le;
                                last = s->value;
                                if (isinf(le))
                                        inf = s->value;
                        } else if (ends_with(s->name, "_count"))
                                count = s->value;
                        else
                                sum = s->value;
                }
                CHECK(inf >= 0 && count >= 0 && sum >= 0, "%s: +Inf, _sum or _count missing", f->name);
                CHECK(inf == count, "%s: +Inf %g != _count %g", f->name, inf, count);
        }
}

/* The value of NAME{LABELS} (LABELS as written, "" for none); fails when absent. */
static double val(Exposition *x, const char *name, const char *labels) {
        for (size_t i = 0; i < x->n; i++)
                if (strcmp(x->s[i].name, name) == 0 && strcmp(x->s[i].labels, labels) == 0)
                        return x->s[i].value;
        CHECK(false, "no sample %s{%s}", name, labels);
        return 0;
}

/* ---- the daemon ---- */

static LwEnv e;
static char out[1 << 17], err[4096];
static Exposition x;

static void ask_at(LwDaemon *d) {
        const char *args[] = { "metrics", "--socket", d->socket, NULL };
        CHECK(lw_run(args, -1, out, sizeof(out), err, sizeof(err)) == 0, "metrics: %s", err);
        parse(out, &x);
}

static void ask(void) {
        ask_at(e.d);
}

static char *read_text(const char *path) {
        FILE *f = fopen(path, "re");
        static char buf[1 << 17];
        size_t n;

        if (!f)
                return NULL;
        n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[n] = '\0';
        return buf;
}

/* The next rename or creation in the watched folder FD (lw_watch, made before the change
 * awaited), by DEADLINE (monotonic ns); what came is read away. */
static void next_write(int fd, uint64_t deadline, const char *what) {
        uint64_t now = lw_mono_ns();
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        char buf[4096];

        CHECK(now < deadline && poll(&pfd, 1, (int) ((deadline - now) / 1000000) + 1) == 1, "%s", what);
        while (read(fd, buf, sizeof(buf)) > 0)
                ;
}

/* Waits (bounded) until no write of the file is due, and returns the writes so far. */
static double settled(void) {
        uint64_t deadline = lw_mono_ns() + 5000000000ull;
        for (;;) {
                ask();
                if (val(&x, "lockwarden_metrics_file_pending", "") == 0)
                        return val(&x, "lockwarden_metrics_file_writes_total", "");
                CHECK(lw_mono_ns() < deadline, "a write of the metrics file stays due");
                struct timespec t = { .tv_nsec = 50000000 };
                nanosleep(&t, NULL);
        }
}

/* A change: a lock taken, its holder SIGKILLed, the lock cleaned. */
static void change_in(LwEnv *env, int i) {
        char name[64];
        snprintf(name, sizeof(name), "change-%d.jsonl.lock", i);
        char *lock = lw_path(env->sessions, name);
        pid_t h = lw_holder_start(lock, NULL);
        lw_expect(env->d, LW_TIMEOUT_MS, "lock.acquired", "lock", lock);
        lw_kill_wait(h, SIGKILL);
        lw_expect(env->d, LW_TIMEOUT_MS, "lock.cleaned", "lock", lock);
        free(lock);
}

static void change(int i) {
        change_in(&e, i);
}

/* A reader of PATH beside the daemon, until told to stop: every read must be a whole file,
 * from its first family to its last. Returns its pid; the end of a pipe that
 * stops it when closed (*RET_STOP); it then writes "READS TORN" on *RET_RESULT. */
static pid_t reader_start(const char *path, int *ret_stop, int *ret_result) {
        int stop[2], result[2];
        CHECK(pipe2(stop, O_CLOEXEC) == 0 && pipe2(result, O_CLOEXEC) == 0, "pipe");
        pid_t pid = fork();
        CHECK(pid >= 0, "fork");
        if (pid == 0) {
                static char buf[1 << 17];
                unsigned long reads = 0, torn = 0;
                struct pollfd p = { .fd = stop[0], .events = POLLIN };
                close(stop[1]);
                close(result[0]);
                while (poll(&p, 1, 0) == 0) {
                        int fd = open(path, O_RDONLY | O_CLOEXEC);
                        ssize_t n = 0, k;
                        if (fd < 0)
                                continue;
                        while ((k = read(fd, buf + n, sizeof(buf) - 1 - (size_t) n)) > 0)
                                n += k;
                        close(fd);
                        buf[n] = '\0';
                        reads++;
                        if (strncmp(buf, "# HELP lockwarden_build_info ", 29) != 0 ||
                            !strstr(buf, "\nlockwarden_metrics_file_pending ") || n == 0 || buf[n - 1] != '\n')
                                torn++;
                }
                dprintf(result[1], "%lu %lu\n", reads, torn);
                _exit(0);
        }
        close(stop[0]);
        close(result[1]);
        *ret_stop = stop[1];
        *ret_result = result[0];
        return pid;
}

static void reader_stop(pid_t pid, int stop, int result) {
        char line[64] = "";
        unsigned long reads = 0, torn = 0;
        close(stop);
        CHECK(read(result, line, sizeof(line) - 1) > 0 && sscanf(line, "%lu %lu", &reads, &torn) == 2,
              "no word from the reader");
        close(result);
        lw_wait_exit(pid, LW_TIMEOUT_MS);
        CHECK(reads > 0, "the reader read nothing");
        CHECK(torn == 0, "%lu of %lu reads saw a part of the file", torn, reads);
}

static size_t tmp_files(const char *dir) {
        char cmd[4200], line[64] = "";
        snprintf(cmd, sizeof(cmd), "ls -A '%s' | grep -c '\\.tmp$'", dir);
        FILE *p = popen(cmd, "r");
        CHECK(p, "popen");
        if (!fgets(line, sizeof(line), p))
                line[0] = '\0';
        pclose(p);
        return (size_t) atoi(line);
}

int main(void) {
        char *promdir = lw_path(lw_tmpdir(), "prom");
        char *prom = lw_path(promdir, "lockwarden.prom");
        struct stat st0, st1, st2;

        /* A folder that is not there: the daemon does not start, and says why. */
        {
                char *state = lw_path(lw_tmpdir(), "state");
                lw_mkdir_p(state);
                const char *args[] = { "run", "--state-dir", state, "--socket", "none", "--config", "/dev/null",
                                       "--metrics-file", "/nonexistent-lockwarden/x.prom", NULL };
                int s = lw_run(args, -1, out, sizeof(out), err, sizeof(err));
                CHECK(s == 1, "a missing folder: exit %d (%s)", s, err);
                CHECK(strstr(err, "/nonexistent-lockwarden") && strstr(err, "No such file"), "stderr: %s", err);
                /* A folder named as the file: said at start, nothing left behind in it. */
                args[8] = state;
                s = lw_run(args, -1, out, sizeof(out), err, sizeof(err));
                CHECK(s == 1 && strstr(err, "is a folder"), "a folder as the file: exit %d (%s)", s, err);
        }

        /* The configuration file's "metrics_file": shown by --check-config, the command line
         * wins over it, a bad value is an error with its place. */
        {
                char *cfg = lw_path(lw_tmpdir(), "lockwarden.json");
                const char *text = "{\"metrics_file\": \"/var/lib/prometheus/node-exporter/lw.prom\"}\n";
                lw_write_file(cfg, text, strlen(text));
                const char *args[] = { "run", "--check-config", "--config", cfg, NULL };
                CHECK(lw_run(args, -1, out, sizeof(out), err, sizeof(err)) == 0, "--check-config: %s", err);
                json_t *j = json_loads(out, 0, NULL);
                CHECK(strcmp(jstr(j, "metrics_file"), "/var/lib/prometheus/node-exporter/lw.prom") == 0,
                      "--check-config: %s", out);
                json_decref(j);
                const char *cli[] = { "run", "--check-config", "--config", cfg, "--metrics-file", "/tmp/x.prom", NULL };
                CHECK(lw_run(cli, -1, out, sizeof(out), err, sizeof(err)) == 0, "--check-config: %s", err);
                j = json_loads(out, 0, NULL);
                CHECK(strcmp(jstr(j, "metrics_file"), "/tmp/x.prom") == 0, "the command line lost: %s", out);
                json_decref(j);
                const char *bad = "{\"metrics_file\": 7}\n";
                lw_write_file(cfg, bad, strlen(bad));
                CHECK(lw_run(args, -1, out, sizeof(out), err, sizeof(err)) == 2 && strstr(err, "metrics_file") &&
                      strstr(err, ":1:18:"), "a bad metrics_file: %s", err);
        }

        lw_mkdir_p(promdir);
        const char *extra[] = { "--metrics-file", prom, NULL };
        lw_env_start(&e, "200", extra);

        /* Written at start, whole, by a rename: nothing temporary left. */
        CHECK(stat(prom, &st0) == 0, "no metrics file at start");
        int writes = lw_watch(promdir, IN_MOVED_TO | IN_CREATE); /* every write after this one */
        CHECK((st0.st_mode & 0777) == 0644, "mode %o", st0.st_mode & 0777);
        parse(read_text(prom), &x);
        CHECK(val(&x, "lockwarden_metrics_file_writes_total", "") >= 1, "the file does not count itself");

        ask();
        const char *families[] = {
                "lockwarden_locks", "lockwarden_stale_total", "lockwarden_cleaned_total", "lockwarden_kept_total",
                "lockwarden_races_total", "lockwarden_overflows_total", "lockwarden_resyncs_total",
                "lockwarden_events_read_total", "lockwarden_queue_lag_seconds", "lockwarden_cleanup_latency_seconds",
                "lockwarden_metrics_file_writes_total", "lockwarden_reports_total",
        };
        for (size_t i = 0; i < LW_ELEMENTSOF(families); i++)
                CHECK(find_family(&x, families[i]), "no family %s", families[i]);
        CHECK(val(&x, "lockwarden_cleaned_total", "") == 0, "cleaned before anything happened");
        CHECK(val(&x, "lockwarden_reports_total", "event=\"monitor.ready\"") == 1, "monitor.ready not counted");

        /* A live lock: a gauge; then its holder SIGKILLed: stale, cleaned, a latency. */
        char *lock = lw_path(e.sessions, "s1.jsonl.lock");
        pid_t h = lw_holder_start(lock, NULL);
        lw_expect(e.d, LW_TIMEOUT_MS, "lock.acquired", "lock", lock);
        ask();
        CHECK(val(&x, "lockwarden_locks", "verdict=\"live\"") == 1, "live locks %g",
              val(&x, "lockwarden_locks", "verdict=\"live\""));
        double events_before = val(&x, "lockwarden_events_read_total", "");
        CHECK(events_before > 0, "no kernel event counted");
        CHECK(val(&x, "lockwarden_queue_lag_seconds_count", "") > 0, "no read of the queue observed");
        lw_kill_wait(h, SIGKILL);
        lw_expect(e.d, LW_TIMEOUT_MS, "lock.cleaned", "lock", lock);
        ask();
        CHECK(val(&x, "lockwarden_stale_total", "reason=\"dead-pid\"") == 1, "stale dead-pid %g",
              val(&x, "lockwarden_stale_total", "reason=\"dead-pid\""));
        CHECK(val(&x, "lockwarden_stale_total", "reason=\"leaked\"") == 0, "stale leaked");
        CHECK(val(&x, "lockwarden_cleaned_total", "") == 1, "cleaned %g", val(&x, "lockwarden_cleaned_total", ""));
        CHECK(val(&x, "lockwarden_cleanup_latency_seconds_count", "") == 1, "cleanup latency not observed");
        CHECK(val(&x, "lockwarden_cleanup_latency_seconds_bucket", "le=\"+Inf\"") == 1, "+Inf bucket");
        CHECK(val(&x, "lockwarden_locks", "verdict=\"live\"") == 0, "the cleaned lock still counted");
        CHECK(val(&x, "lockwarden_reports_total", "event=\"lock.cleaned\"") == 1, "lock.cleaned not counted");
        CHECK(val(&x, "lockwarden_events_read_total", "") > events_before, "events read did not move");

        /* A lock stolen from its live holder: lock-stolen and double-holder. */
        char *stolen = lw_path(e.sessions, "s2.jsonl.lock"), *transcript = lw_path(e.sessions, "s2.jsonl");
        const char *hargs[] = { "--transcript", transcript, NULL };
        h = lw_holder_start(stolen, hargs);
        lw_expect(e.d, LW_TIMEOUT_MS, "lock.acquired", "lock", stolen);
        const char *steal[] = { "steal", stolen, NULL };
        pid_t thief = lw_actor_start(steal);
        lw_expect(e.d, LW_TIMEOUT_MS, "race.lock-stolen", "lock", stolen);
        lw_expect(e.d, LW_TIMEOUT_MS, "race.double-holder", "lock", stolen);
        ask();
        CHECK(val(&x, "lockwarden_races_total", "kind=\"lock-stolen\"") == 1, "lock-stolen %g",
              val(&x, "lockwarden_races_total", "kind=\"lock-stolen\""));
        CHECK(val(&x, "lockwarden_races_total", "kind=\"double-holder\"") == 1, "double-holder");
        CHECK(val(&x, "lockwarden_races_total", "kind=\"unlocked-write\"") == 0, "unlocked-write");
        lw_kill_wait(h, SIGTERM);
        lw_kill_wait(thief, SIGTERM);
        lw_expect(e.d, LW_TIMEOUT_MS, "lock.cleaned", "lock", stolen); /* the thief's own lock */
        ask();
        double cleaned = val(&x, "lockwarden_cleaned_total", "");
        CHECK(cleaned == 2, "cleaned %g", cleaned);

        /* The file follows, replaced whole (a new inode each time), nothing temporary left. */
        uint64_t deadline = lw_mono_ns() + 5000000000ull;
        for (;;) {
                char *t = read_text(prom);
                CHECK(t, "the metrics file is gone");
                parse(t, &x);
                if (val(&x, "lockwarden_cleaned_total", "") == cleaned &&
                    val(&x, "lockwarden_races_total", "kind=\"double-holder\"") == 1)
                        break;
                next_write(writes, deadline, "the metrics file was not updated after the changes");
        }
        CHECK(stat(prom, &st1) == 0 && st1.st_ino != st0.st_ino, "the file was written in place, not replaced");
        CHECK(tmp_files(promdir) == 0, "a temporary file is left in %s", promdir);

        /* Idle: once no write is due, none comes, and asking is no change. */
        double w0 = settled();
        CHECK(stat(prom, &st1) == 0, "stat");
        /* No write is due (settled: no timer armed), and only a change arms one: asking twice
         * is no change. */
        ask();
        ask();
        CHECK(val(&x, "lockwarden_metrics_file_writes_total", "") == w0, "written while idle: %g writes, %g before",
              val(&x, "lockwarden_metrics_file_writes_total", ""), w0);
        CHECK(val(&x, "lockwarden_metrics_file_pending", "") == 0, "a write became due while idle");
        CHECK(stat(prom, &st2) == 0 && st2.st_ino == st1.st_ino && st2.st_mtim.tv_sec == st1.st_mtim.tv_sec &&
              st2.st_mtim.tv_nsec == st1.st_mtim.tv_nsec, "the file was rewritten while idle");

        /* A change that no kernel event comes with (an event reported on a signal) is written. */
        kill(e.d->pid, SIGUSR1);
        lw_expect(e.d, LW_TIMEOUT_MS, "monitor.dump", NULL, NULL);
        deadline = lw_mono_ns() + 5000000000ull;
        for (;;) {
                parse(read_text(prom), &x);
                if (val(&x, "lockwarden_reports_total", "event=\"monitor.dump\"") == 1)
                        break;
                next_write(writes, deadline, "an event alone did not make a write");
        }
        close(writes);
        w0 = settled();

        /* A burst of changes: at most one write a second, counted by the daemon. */
        enum { BURST = 15 };
        double cleaned0 = val(&x, "lockwarden_cleaned_total", "");
        int stop_fd, result_fd;
        pid_t reader = reader_start(prom, &stop_fd, &result_fd);
        uint64_t t0 = lw_mono_ns();
        for (int i = 0; i < BURST; i++)
                change(i);
        double w1 = settled();
        reader_stop(reader, stop_fd, result_fd);
        double seconds = (double) (lw_mono_ns() - t0) / 1e9;
        CHECK(val(&x, "lockwarden_cleaned_total", "") == cleaned0 + BURST, "the burst did not happen");
        CHECK(w1 > w0, "the burst was not written");
        CHECK(w1 - w0 <= (double) (long long) seconds + 1, "%g writes in %.2f s: more than one a second", w1 - w0, seconds);
        parse(read_text(prom), &x);
        CHECK(val(&x, "lockwarden_cleaned_total", "") == cleaned0 + BURST, "the file lags behind after the burst");

        /* The folder goes: the next change is a warning, said once, counted each time. */
        CHECK(unlink(prom) == 0 && rmdir(promdir) == 0, "cannot remove %s", promdir);
        change(100);
        lw_expect(e.d, LW_TIMEOUT_MS, "monitor.warning", "path", prom);
        ask();
        CHECK(val(&x, "lockwarden_metrics_file_errors_total", "") >= 1, "errors %g",
              val(&x, "lockwarden_metrics_file_errors_total", ""));
        double failed_writes = settled();
        double errors = val(&x, "lockwarden_metrics_file_errors_total", "");
        change(101);
        deadline = lw_mono_ns() + 5000000000ull;
        while (ask(), val(&x, "lockwarden_metrics_file_errors_total", "") <= errors) {
                CHECK(lw_mono_ns() < deadline, "the next change was not tried again");
                struct timespec t50 = { .tv_nsec = 50000000 };
                nanosleep(&t50, NULL);
        }
        CHECK(lw_count(e.d, "monitor.warning", "path", prom) == 1, "the failure was said more than once");
        CHECK(val(&x, "lockwarden_metrics_file_writes_total", "") == failed_writes, "a failed write counted as one");
        /* A failing folder is tried no more often than a working one is written. */
        errors = settled(), errors = val(&x, "lockwarden_metrics_file_errors_total", "");
        t0 = lw_mono_ns();
        for (int i = 0; i < BURST; i++)
                change(200 + i);
        (void) settled();
        seconds = (double) (lw_mono_ns() - t0) / 1e9;
        double tries = val(&x, "lockwarden_metrics_file_errors_total", "") - errors;
        CHECK(tries >= 1 && tries <= (double) (long long) seconds + 1, "%g failed tries in %.2f s", tries, seconds);
        /* ... and it comes back with its folder, at the next change. */
        lw_mkdir_p(promdir);
        writes = lw_watch(promdir, IN_MOVED_TO | IN_CREATE);
        change(102);
        deadline = lw_mono_ns() + 5000000000ull;
        while (!lw_exists(prom))
                next_write(writes, deadline, "the file did not come back with its folder");
        close(writes);
        parse(read_text(prom), &x);
        CHECK(val(&x, "lockwarden_metrics_file_errors_total", "") > errors, "errors in the file: %g",
              val(&x, "lockwarden_metrics_file_errors_total", ""));

        /* --json: the same numbers. */
        const char *jargs[] = { "metrics", "--json", "--socket", e.d->socket, NULL };
        CHECK(lw_run(jargs, -1, out, sizeof(out), err, sizeof(err)) == 0, "metrics --json: %s", err);
        json_t *j = json_loads(out, 0, NULL);
        CHECK(json_is_array(json_object_get(j, "metrics")), "metrics --json: %s", out);
        json_decref(j);

        /* Who may ask: as for status, root and the socket's group, not anybody who can
         * connect. */
        if (geteuid() == 0) {
                const char *as_nobody[] = { "metrics", "--socket", e.d->socket, NULL };
                char *sockdir = strdup(e.d->socket);
                *strrchr(sockdir, '/') = '\0';
                CHECK(chmod(sockdir, 0755) == 0 && chmod(e.d->socket, 0666) == 0, "chmod the socket");
                int s = lw_run(as_nobody, 65534, out, sizeof(out), err, sizeof(err));
                if (s != 126) { /* 126: nobody cannot run the build's binary here */
                        CHECK(s == 1 && strstr(err, "permission-denied"), "nobody outside the group was answered: %s", err);
                        CHECK(chmod(e.d->socket, 0660) == 0 && chown(e.d->socket, 0, 65534) == 0, "chgrp");
                        CHECK(lw_run(as_nobody, 65534, out, sizeof(out), err, sizeof(err)) == 0 &&
                              strstr(out, "# TYPE lockwarden_locks gauge"), "the socket's group may read: %s", err);
                } else
                        fprintf(stderr, "nobody cannot run the build's lockwarden: permissions not checked\n");
                free(sockdir);
        }

        /* A write that is due when the daemon stops is done then: the file ends with this run's
         * last numbers. */
        change(103);
        change(104);
        ask();
        CHECK(val(&x, "lockwarden_metrics_file_pending", "") == 1, "no write due right after two changes");
        double last = val(&x, "lockwarden_cleaned_total", "");
        CHECK(lw_daemon_stop(e.d) == 0, "exit status");
        parse(read_text(prom), &x);
        CHECK(val(&x, "lockwarden_cleaned_total", "") == last, "the file lost the last change: %g cleaned, not %g",
              val(&x, "lockwarden_cleaned_total", ""), last);
        CHECK(val(&x, "lockwarden_metrics_file_pending", "") == 0, "the last file says a write is due");

        /* A reload keeps the running file and says a new one needs a restart. */
        {
                char *dir = lw_tmpdir();
                char *cfg = lw_path(dir, "lockwarden.json"), *p1 = lw_path(dir, "a.prom"), *p2 = lw_path(dir, "b.prom");
                char text[8192];
                snprintf(text, sizeof(text), "{\"metrics_file\": \"%s\"}\n", p1);
                lw_write_file(cfg, text, strlen(text));
                LwEnv c;
                const char *with_cfg[] = { "--config", cfg, NULL };
                lw_env_start(&c, "200", with_cfg);
                CHECK(lw_exists(p1), "the configured metrics file is not there");
                snprintf(text, sizeof(text), "{\"metrics_file\": \"%s\"}\n", p2);
                lw_write_file(cfg, text, strlen(text));
                const char *reload[] = { "reload", "--json", "--socket", c.d->socket, NULL };
                CHECK(lw_run(reload, -1, out, sizeof(out), err, sizeof(err)) == 0, "reload: %s", err);
                CHECK(strstr(out, "\"metrics_file\""), "restart_needed does not name metrics_file: %s", out);
                change_in(&c, 1);
                double w = 0;
                deadline = lw_mono_ns() + 5000000000ull;
                while (ask_at(c.d), (w = val(&x, "lockwarden_metrics_file_writes_total", "")) < 2 ||
                                    val(&x, "lockwarden_metrics_file_pending", "") != 0) {
                        CHECK(lw_mono_ns() < deadline, "the change after the reload was not written");
                        struct timespec t50 = { .tv_nsec = 50000000 };
                        nanosleep(&t50, NULL);
                }
                CHECK(!lw_exists(p2), "a reload moved the metrics file");
                parse(read_text(p1), &x);
                CHECK(val(&x, "lockwarden_metrics_file_writes_total", "") == w, "the running file is not kept up");
                CHECK(lw_daemon_stop(c.d) == 0, "exit status");
        }

        /* Report mode: the stale lock is kept, counted by the reason it looked stale, and stays
         * on disk as a stale lock. */
        LwEnv r;
        const char *report[] = { "--cleanup=report", NULL };
        lw_env_start(&r, "200", report);
        char *kept = lw_path(r.sessions, "k.jsonl.lock");
        h = lw_holder_start(kept, NULL);
        lw_expect(r.d, LW_TIMEOUT_MS, "lock.acquired", "lock", kept);
        lw_kill_wait(h, SIGKILL);
        lw_expect(r.d, LW_TIMEOUT_MS, "lock.kept", "lock", kept);
        ask_at(r.d);
        CHECK(val(&x, "lockwarden_kept_total", "reason=\"dead-pid\"") == 1, "kept dead-pid %g",
              val(&x, "lockwarden_kept_total", "reason=\"dead-pid\""));
        CHECK(val(&x, "lockwarden_stale_total", "reason=\"dead-pid\"") == 1, "stale dead-pid");
        CHECK(val(&x, "lockwarden_cleaned_total", "") == 0, "cleaned in report mode");
        CHECK(val(&x, "lockwarden_locks", "verdict=\"stale\"") == 1, "stale locks %g",
              val(&x, "lockwarden_locks", "verdict=\"stale\""));
        CHECK(val(&x, "lockwarden_metrics_file_writes_total", "") == 0, "a file written without --metrics-file");
        CHECK(lw_daemon_stop(r.d) == 0, "exit status");
        return 0;
}
