/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* verbs.c: status, locks, holders, events, cleanup (and the dispatch to scan). */
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "control-client.h"
#include "control.h"
#include "escape.h"
#include "macro.h"
#include "scan.h"
#include "table.h"
#include "verbs.h"

#define REPLY_TIMEOUT_MS 30000

typedef struct VerbArgs {
        const char *socket;
        bool json, legend, all, follow, fix;
        long long since_ms;       /* -1: all */
        char **paths;             /* the non-option arguments */
        int n_paths;
} VerbArgs;

static const char *const verbs[] = { "status", "locks", "holders", "events", "cleanup", "reload", "scan" };

bool verb_known(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (strcmp(name, verbs[i]) == 0)
                        return true;
        return false;
}

/* Levenshtein distance of A and B, up to 31 bytes each (longer: far). */
static unsigned distance(const char *a, const char *b) {
        size_t la = strlen(a), lb = strlen(b);
        unsigned row[32];

        if (la > 31 || lb > 31)
                return UINT_MAX;
        for (size_t j = 0; j <= lb; j++)
                row[j] = (unsigned) j;
        for (size_t i = 1; i <= la; i++) {
                unsigned diag = row[0];
                row[0] = (unsigned) i;
                for (size_t j = 1; j <= lb; j++) {
                        unsigned up = row[j];
                        unsigned best = diag + (a[i - 1] != b[j - 1]);
                        if (row[j] + 1 < best)
                                best = row[j] + 1;
                        if (row[j - 1] + 1 < best)
                                best = row[j - 1] + 1;
                        row[j] = best;
                        diag = up;
                }
        }
        return row[lb];
}

const char *verb_suggest(const char *name) {
        static const char *const all[] = { "run", "help", "version", "status", "locks", "holders",
                                           "events", "cleanup", "reload", "scan" };
        const char *best = NULL;
        unsigned best_d = 3; /* two edits at most */

        for (size_t i = 0; name && i < ELEMENTSOF(all); i++) {
                unsigned d = distance(name, all[i]);
                if (d < best_d) {
                        best_d = d;
                        best = all[i];
                }
        }
        return best;
}

void verbs_help(void) {
        printf("Operator commands (each takes --json and --no-legend; all but scan ask the daemon\n"
               "at --socket PATH, default as for run):\n"
               "  lockwarden status                 daemon state: backend, uptime, folders, locks, counters\n"
               "  lockwarden locks [--all]          every lock: session, owner pid and comm, alive, holding,\n"
               "                                    age, verdict (--all: also transcripts without a lock)\n"
               "  lockwarden holders PATH...        which processes hold these files open\n"
               "  lockwarden events [--follow] [--since DURATION]\n"
               "                                    the daemon's last 1,024 events, or live ones\n"
               "  lockwarden cleanup [PATH...]      re-judge now (all locks, or those in/at PATH) and\n"
               "                                    remove what is stale (root only)\n"
               "  lockwarden reload                 read the configuration again, as SIGHUP does, and\n"
               "                                    say what changed; exit 1 if it was refused (root and\n"
               "                                    the daemon's user; systemctl reload runs it)\n"
               "  lockwarden scan [--state-dir DIR|--watch DIR]... [--fix] [--leak-grace-ms N]\n"
               "                  [--remote-cleanup DIR]...\n"
               "                                    one shot, no daemon: judge every lock from /proc;\n"
               "                                    remove stale ones only with --fix (on a network or\n"
               "                                    FUSE filesystem only under --remote-cleanup); exit 0\n"
               "                                    nothing stale, 1 stale found, 2 error\n");
}

void format_age(long long ms, char *buf, size_t size) {
        long long s = ms / 1000;

        if (ms < 0)
                snprintf(buf, size, "-");
        else if (ms < 1000)
                snprintf(buf, size, "%lldms", ms);
        else if (s < 60)
                snprintf(buf, size, "%llds", s);
        else if (s < 3600)
                snprintf(buf, size, "%lldm%02llds", s / 60, s % 60);
        else if (s < 86400)
                snprintf(buf, size, "%lldh%02lldm", s / 3600, s % 3600 / 60);
        else
                snprintf(buf, size, "%lldd%02lldh", s / 86400, s % 86400 / 3600);
}

int parse_duration_ms(const char *s, long long *ret) {
        static const struct {
                const char *suffix;
                long long ms;
        } units[] = { { "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 }, { "d", 86400000 }, { "", 1000 } };
        char *end;
        long long v;

        if (!s || !*s || *s == '-')
                return -EINVAL;
        errno = 0;
        v = strtoll(s, &end, 10);
        if (errno || end == s)
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(units); i++)
                if (strcmp(end, units[i].suffix) == 0) {
                        if (v > INT64_MAX / units[i].ms)
                                return -EINVAL;
                        *ret = v * units[i].ms;
                        return 0;
                }
        return -EINVAL;
}

_printf_(2, 3) static int usage(const char *verb, const char *fmt, ...) {
        va_list ap;

        fprintf(stderr, "lockwarden %s: ", verb);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputs(" (see lockwarden --help)\n", stderr);
        return 2;
}

static int parse(const char *verb, int argc, char **argv, VerbArgs *a) {
        enum { ARG_SOCKET = 0x100, ARG_JSON, ARG_NO_LEGEND, ARG_ALL, ARG_FOLLOW, ARG_SINCE };
        static const struct option options[] = {
                { "help",      no_argument,       NULL, 'h'           },
                { "socket",    required_argument, NULL, ARG_SOCKET    },
                { "json",      no_argument,       NULL, ARG_JSON      },
                { "no-legend", no_argument,       NULL, ARG_NO_LEGEND },
                { "all",       no_argument,       NULL, ARG_ALL       },
                { "follow",    no_argument,       NULL, ARG_FOLLOW    },
                { "since",     required_argument, NULL, ARG_SINCE     },
                {}
        };
        bool takes_paths = strcmp(verb, "holders") == 0 || strcmp(verb, "cleanup") == 0;
        int c;

        *a = (VerbArgs) { .legend = true, .since_ms = -1 };
        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, ":h", options, NULL)) >= 0) {
                switch (c) {
                case 'h':
                        verbs_help();
                        exit(0);
                case ARG_SOCKET:
                        a->socket = optarg;
                        break;
                case ARG_JSON:
                        a->json = true;
                        break;
                case ARG_NO_LEGEND:
                        a->legend = false;
                        break;
                case ARG_ALL:
                        if (strcmp(verb, "locks") != 0)
                                return usage(verb, "%s: only for 'locks'", "--all");
                        a->all = true;
                        break;
                case ARG_FOLLOW:
                        if (strcmp(verb, "events") != 0)
                                return usage(verb, "%s: only for 'events'", "--follow");
                        a->follow = true;
                        break;
                case ARG_SINCE:
                        if (strcmp(verb, "events") != 0)
                                return usage(verb, "%s: only for 'events'", "--since");
                        if (parse_duration_ms(optarg, &a->since_ms) < 0)
                                return usage(verb, "--since needs a duration such as 30s, 5m, 2h, not '%s'", optarg);
                        break;
                case ':':
                        return usage(verb, "option '%s' needs a value", argv[optind - 1]);
                default:
                        return usage(verb, "unknown option '%s'", argv[optind - 1]);
                }
        }
        a->paths = argv + optind;
        a->n_paths = argc - optind;
        if (a->n_paths > 0 && !takes_paths)
                return usage(verb, "unexpected argument '%s'", argv[optind]);
        if (strcmp(verb, "holders") == 0 && a->n_paths == 0)
                return usage(verb, "%s", "which files? (lockwarden holders PATH...)");
        return 0;
}

static const char *sstr(json_t *o, const char *k);

/* Connects, sends REQ (consumed), returns the reply, or prints why not and returns NULL. */
static json_t *ask(const VerbArgs *a, json_t *req, ControlClient **ret_client) {
        _cleanup_free_ char *dflt = a->socket ? NULL : control_default_path(false);
        const char *path = a->socket ? a->socket : dflt;
        ControlClient *c = NULL;
        json_t *reply = NULL, *err;
        int r;

        if (!path) {
                fprintf(stderr, "lockwarden: no control socket to ask (XDG_RUNTIME_DIR is unset): use --socket PATH\n");
                json_decref(req);
                return NULL;
        }
        r = control_client_connect(path, &c);
        if (r < 0) {
                fprintf(stderr, "lockwarden: cannot reach the daemon at %s: %s%s\n", path, strerror(-r),
                        r == -ENOENT || r == -ECONNREFUSED ? " (is lockwarden running? 'lockwarden scan' works without it)"
                        : r == -EACCES ? " (root and the socket's group may ask)" : "");
                json_decref(req);
                return NULL;
        }
        r = control_client_send(c, req);
        json_decref(req);
        if (r >= 0)
                r = control_client_read(c, REPLY_TIMEOUT_MS, &reply);
        if (r < 0) {
                fprintf(stderr, "lockwarden: no answer from %s: %s\n", path, strerror(-r));
                control_client_free(c);
                return NULL;
        }
        err = json_object_get(reply, "error");
        if (err) {
                fprintf(stderr, "lockwarden: the daemon refused: %s (%s)\n", sstr(err, "message"),
                        sstr(err, "code"));
                json_decref(reply);
                control_client_free(c);
                return NULL;
        }
        if (ret_client)
                *ret_client = c;
        else
                control_client_free(c);
        return reply;
}

/* JSON for a terminal is ASCII: jansson writes C1 controls (U+0080..U+009F) as they are. */
static size_t json_flags(void) {
        return isatty(STDOUT_FILENO) ? JSON_ENSURE_ASCII : 0;
}

static void print_json(json_t *j) {
        json_dumpf(j, stdout, JSON_INDENT(2) | JSON_SORT_KEYS | json_flags());
        fputc('\n', stdout);
}

static const char *str(json_t *o, const char *k) {
        return json_string_value(json_object_get(o, k));
}

/* A string from the daemon, for a terminal: the last few are kept (printf arguments). */
static const char *safe(const char *s) {
        static char *ring[16];
        static size_t next;
        char *e;

        if (!s)
                return NULL;
        e = escape_terminal(s);
        if (!e)
                return "?";
        free(ring[next]);
        ring[next] = e;
        next = (next + 1) % ELEMENTSOF(ring);
        return e;
}

static const char *sstr(json_t *o, const char *k) {
        return safe(str(o, k));
}

/* A cell for a value of any type: integers, booleans as yes/no, null as "-". */
static const char *cell(json_t *v, char *buf, size_t size) {
        if (json_is_string(v))
                return json_string_value(v);
        if (json_is_integer(v)) {
                snprintf(buf, size, "%lld", (long long) json_integer_value(v));
                return buf;
        }
        if (json_is_boolean(v))
                return json_is_true(v) ? "yes" : "no";
        return NULL;
}

static int verb_status(const VerbArgs *a) {
        json_t *reply = ask(a, json_pack("{s:s}", "verb", "status"), NULL), *st, *cnt, *v;
        char up[32];
        size_t i;

        if (!reply)
                return 1;
        st = json_object_get(reply, "status");
        if (a->json) {
                print_json(st);
                json_decref(reply);
                return 0;
        }
        cnt = json_object_get(st, "counters");
        format_age(json_integer_value(json_object_get(st, "uptime_ms")), up, sizeof(up));
        printf("lockwarden %s, pid %lld, up %s (since %s)\n", sstr(st, "version"),
               (long long) json_integer_value(json_object_get(st, "pid")), up, sstr(st, "started"));
        printf("  backend:   %s (attribution: %s)\n", sstr(st, "backend"), sstr(st, "attribution"));
        printf("  cleanup:   %s; races: %s\n", sstr(st, "cleanup"), sstr(st, "races"));
        printf("  folders:   %zu guarded", json_array_size(json_object_get(st, "folders")));
        if (json_array_size(json_object_get(st, "waiting_for")) > 0)
                printf(", %zu waiting to appear", json_array_size(json_object_get(st, "waiting_for")));
        printf("\n");
        json_array_foreach(json_object_get(st, "folders"), i, v)
                printf("             %s\n", safe(json_string_value(v)));
        json_array_foreach(json_object_get(st, "waiting_for"), i, v)
                printf("             %s (not there yet)\n", safe(json_string_value(v)));
        /* No folder configured: what the daemon found by itself, and how. */
        json_array_foreach(json_object_get(st, "discovered"), i, v)
                printf("  %-10s %s: %s\n", i == 0 ? "found:" : "", safe(json_string_value(json_object_get(v, "state_dir"))),
                       safe(json_string_value(json_object_get(v, "how"))));
        /* Which OpenClaw release each state dir runs: its lock rules depend on it. */
        json_array_foreach(json_object_get(st, "releases"), i, v) {
                const char *ver = safe(json_string_value(json_object_get(v, "version")));
                const char *src = safe(json_string_value(json_object_get(v, "source")));
                if (strcmp(sstr(v, "release"), "unknown") == 0)
                        printf("  %-10s %s: OpenClaw release not known yet (no lock owner's package.json read)\n",
                               i == 0 ? "release:" : "", sstr(v, "state_dir"));
                else
                        printf("  %-10s %s: OpenClaw %s%s%s%s, from the %s\n", i == 0 ? "release:" : "",
                               sstr(v, "state_dir"), sstr(v, "release"), ver ? " (" : "", ver ? ver : "",
                               ver ? ")" : "", src ? src : "?");
        }
        printf("  tracked:   %lld locks, %lld transcripts, %lld owners\n",
               (long long) json_integer_value(json_object_get(st, "locks")),
               (long long) json_integer_value(json_object_get(st, "sessions")),
               (long long) json_integer_value(json_object_get(st, "owners")));
        printf("  counters:  %lld stale, %lld cleaned, %lld races, %lld overflows, %lld kernel events\n",
               (long long) json_integer_value(json_object_get(cnt, "stale")),
               (long long) json_integer_value(json_object_get(cnt, "cleaned")),
               (long long) json_integer_value(json_object_get(cnt, "races")),
               (long long) json_integer_value(json_object_get(cnt, "overflows")),
               (long long) json_integer_value(json_object_get(cnt, "events")));
        json_decref(reply);
        return 0;
}

static int verb_locks(const VerbArgs *a) {
        static const char *const cols[] = { "*LOCK", ">OWNER", "COMM", "ALIVE", "HOLDING", ">AGE", "VERDICT", NULL };
        json_t *reply = ask(a, json_pack("{s:s, s:b}", "verb", "locks", "all", a->all), NULL), *l;
        Table *t;
        size_t i, unlocked = 0;

        if (!reply)
                return 1;
        if (a->json) {
                print_json(json_object_get(reply, "locks"));
                json_decref(reply);
                return 0;
        }
        t = table_new(cols);
        json_array_foreach(json_object_get(reply, "locks"), i, l) {
                char pid[16], age[32], b1[8], b2[8];
                unlocked += json_is_null(json_object_get(l, "lock"));
                json_t *lk = json_object_get(l, "lock");
                if (json_is_null(json_object_get(l, "age_ms")))
                        snprintf(age, sizeof(age), "-");
                else
                        format_age(json_integer_value(json_object_get(l, "age_ms")), age, sizeof(age));
                const char *row[] = {
                        json_is_string(lk) ? json_string_value(lk) : str(l, "session"),
                        cell(json_object_get(l, "owner_pid"), pid, sizeof(pid)), str(l, "owner_comm"),
                        cell(json_object_get(l, "owner_alive"), b1, sizeof(b1)),
                        cell(json_object_get(l, "holding"), b2, sizeof(b2)), age, str(l, "verdict"),
                };
                table_add(t, row);
        }
        table_print(t, stdout, a->legend, table_width(stdout));
        if (a->legend && a->all)
                printf("\n%zu locks and %zu transcripts without a lock listed.\n", table_rows(t) - unlocked, unlocked);
        else if (a->legend)
                printf("\n%zu locks listed.\n", table_rows(t));
        table_free(t);
        json_decref(reply);
        return 0;
}

static json_t *paths_json(const VerbArgs *a) {
        json_t *arr = json_array();

        for (int i = 0; arr && i < a->n_paths; i++)
                json_array_append_new(arr, json_string(a->paths[i]));
        return arr;
}

static int verb_holders(const VerbArgs *a) {
        static const char *const cols[] = { "*PATH", ">PID", "COMM", "*UNIT", ">FD", "MODE", NULL };
        json_t *reply = ask(a, json_pack("{s:s, s:o}", "verb", "holders", "paths", paths_json(a)), NULL), *h;
        int status = 0;
        Table *t;
        size_t i;

        if (!reply)
                return 1;
        if (a->json) {
                print_json(json_object_get(reply, "holders"));
                json_decref(reply);
                return 0;
        }
        t = table_new(cols);
        json_array_foreach(json_object_get(reply, "holders"), i, h) {
                char pid[16], fd[16];
                if (!json_is_true(json_object_get(h, "tracked"))) {
                        fprintf(stderr, "lockwarden: %s is not a session file lockwarden guards\n", sstr(h, "path"));
                        status = 1;
                        continue;
                }
                const char *row[] = { str(h, "path"), cell(json_object_get(h, "pid"), pid, sizeof(pid)),
                                      str(h, "comm"), str(h, "unit"), cell(json_object_get(h, "fd"), fd, sizeof(fd)),
                                      json_is_null(json_object_get(h, "pid")) ? NULL : str(h, "mode") };
                table_add(t, row);
        }
        table_print(t, stdout, a->legend, table_width(stdout));
        table_free(t);
        json_decref(reply);
        return status;
}

/* "reason=dead-pid owner_pid=42 ...": the scalar fields that are not the columns. */
static void event_detail(json_t *e, char *buf, size_t size) {
        static const char *const skip[] = { "event", "ts", "mono_ns", "lock", "session", "path", "version" };
        const char *k;
        json_t *v;
        size_t n = 0;

        buf[0] = '\0';
        json_object_foreach(e, k, v) {
                char b[32];
                const char *s;
                bool skipped = false;

                for (size_t i = 0; i < ELEMENTSOF(skip); i++)
                        skipped = skipped || strcmp(k, skip[i]) == 0;
                if (skipped || !(s = cell(v, b, sizeof(b))) || n + strlen(k) + strlen(s) + 3 >= size)
                        continue;
                n += (size_t) snprintf(buf + n, size - n, "%s%s=%s", n ? " " : "", k, s);
        }
}

static void event_row(Table *t, json_t *e) {
        char detail[512], time[16] = "-";
        const char *ts = str(e, "ts"), *subject = str(e, "lock");

        if (ts && strlen(ts) >= 23)
                snprintf(time, sizeof(time), "%.12s", ts + 11); /* HH:MM:SS.mmm (UTC) */
        if (!subject)
                subject = str(e, "session");
        if (!subject)
                subject = str(e, "path");
        event_detail(e, detail, sizeof(detail));
        const char *row[] = { time, str(e, "event"), subject, detail };
        table_add(t, row);
}

static volatile sig_atomic_t interrupted;

static void on_interrupt(int sig) {
        (void) sig;
        interrupted = 1;
}

static int verb_events(const VerbArgs *a) {
        static const char *const cols[] = { "TIME", "EVENT", "*SUBJECT", "*DETAIL", NULL };
        json_t *req = json_pack("{s:s, s:b}", "verb", "events", "follow", a->follow), *reply, *e;
        ControlClient *c = NULL;
        Table *t;
        size_t i;

        if (a->since_ms >= 0)
                json_object_set_new(req, "since_ms", json_integer(a->since_ms));
        reply = ask(a, req, &c);
        if (!reply)
                return 1;
        t = table_new(cols);
        json_array_foreach(json_object_get(reply, "events"), i, e) {
                if (a->json) {
                        json_dumpf(e, stdout, JSON_COMPACT | json_flags());
                        fputc('\n', stdout);
                } else
                        event_row(t, e);
        }
        if (!a->json)
                table_print(t, stdout, a->legend, table_width(stdout));
        table_free(t);
        json_decref(reply);
        fflush(stdout);

        if (a->follow) {
                struct sigaction sa = { .sa_handler = on_interrupt };
                sigaction(SIGINT, &sa, NULL);
                sigaction(SIGTERM, &sa, NULL);
                /* Live: one line per event, no header (widths cannot be known ahead). */
                while (!interrupted) {
                        json_t *m;
                        int r = control_client_read(c, 500, &m);
                        if (r == -ETIMEDOUT || r == -EINTR)
                                continue;
                        if (r < 0) {
                                if (!interrupted)
                                        fprintf(stderr, "lockwarden: the daemon went away: %s\n", strerror(-r));
                                control_client_free(c);
                                return interrupted ? 0 : 1;
                        }
                        if (json_is_integer(json_object_get(m, "lost"))) {
                                /* The daemon dropped events for us while we did not read. */
                                fprintf(stderr, "lockwarden: %lld events lost: this client did not read them in time\n",
                                        (long long) json_integer_value(json_object_get(m, "lost")));
                                json_decref(m);
                                continue;
                        }
                        e = json_object_get(m, "event");
                        if (!e) {
                                json_decref(m);
                                continue;
                        }
                        if (a->json) {
                                json_dumpf(e, stdout, JSON_COMPACT | json_flags());
                                fputc('\n', stdout);
                        } else {
                                t = table_new(cols);
                                event_row(t, e);
                                table_print(t, stdout, false, table_width(stdout));
                                table_free(t);
                        }
                        fflush(stdout);
                        json_decref(m);
                }
        }
        control_client_free(c);
        return 0;
}

static int verb_cleanup(const VerbArgs *a) {
        static const char *const cols[] = { "*LOCK", "EVENT", "REASON", "*WHY", NULL };
        json_t *reply = ask(a, json_pack("{s:s, s:o}", "verb", "cleanup", "paths", paths_json(a)), NULL), *e;
        Table *t;
        size_t i;

        if (!reply)
                return 1;
        if (a->json) {
                print_json(reply);
                json_decref(reply);
                return 0;
        }
        t = table_new(cols);
        json_array_foreach(json_object_get(reply, "events"), i, e) {
                const char *ev = str(e, "event");
                if (!ev || strncmp(ev, "lock.", 5) != 0)
                        continue;
                const char *row[] = { str(e, "lock"), ev, str(e, "reason"), str(e, "why") };
                table_add(t, row);
        }
        if (table_rows(t) > 0)
                table_print(t, stdout, a->legend, table_width(stdout));
        if (a->legend)
                printf("%sJudged %zu locks again: %zu events.\n", table_rows(t) ? "\n" : "",
                       json_array_size(json_object_get(reply, "judged")), table_rows(t));
        table_free(t);
        json_decref(reply);
        return 0;
}

static int verb_reload(const VerbArgs *a) {
        json_t *reply = ask(a, json_pack("{s:s}", "verb", "reload"), NULL), *e;
        bool ok;
        size_t i;

        if (!reply)
                return 1;
        ok = json_is_true(json_object_get(reply, "reloaded"));
        if (a->json)
                print_json(reply);
        else
                json_array_foreach(json_object_get(reply, "events"), i, e) {
                        const char *ev = str(e, "event");
                        if (ev && strcmp(ev, "monitor.error") == 0)
                                fprintf(stderr, "lockwarden reload: %s\n", sstr(e, "error"));
                        else if (ev && strcmp(ev, "monitor.reloaded") == 0 && a->legend)
                                printf("Reloaded %s: %zu folders added, %zu removed, %zu settings changed; "
                                       "guarding %lld sessions folders.\n", sstr(e, "config"),
                                       json_array_size(json_object_get(e, "added")),
                                       json_array_size(json_object_get(e, "removed")),
                                       json_array_size(json_object_get(e, "changed")),
                                       (long long) json_integer_value(json_object_get(e, "folders")));
                }
        json_decref(reply);
        return ok ? 0 : 1;
}

int verb_main(int argc, char **argv) {
        const char *verb = argv[1];
        VerbArgs a;
        int r;

        if (strcmp(verb, "scan") == 0)
                return scan_main(argc - 1, argv + 1);
        r = parse(verb, argc - 1, argv + 1, &a);
        if (r != 0)
                return r;
        if (strcmp(verb, "status") == 0)
                return verb_status(&a);
        if (strcmp(verb, "locks") == 0)
                return verb_locks(&a);
        if (strcmp(verb, "holders") == 0)
                return verb_holders(&a);
        if (strcmp(verb, "events") == 0)
                return verb_events(&a);
        if (strcmp(verb, "reload") == 0)
                return verb_reload(&a);
        return verb_cleanup(&a);
}
