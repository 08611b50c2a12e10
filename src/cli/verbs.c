/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* verbs.c: status, locks, holders, events, cleanup (and the dispatch to scan). */
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "control-client.h"
#include "control.h"
#include "escape.h"
#include "fs-util.h"
#include "macro.h"
#include "metrics.h"
#include "report.h"
#include "scan.h"
#include "table.h"
#include "verb-help.h"
#include "time-util.h"
#include "verbs.h"

#define REPLY_TIMEOUT_MS 30000

typedef struct VerbArgs {
        const char *socket;
        bool json, legend, all, follow, fix, full;
        long long since_ms;       /* -1: all */
        long long lines;          /* events -n: the last N of the backlog; -1: all */
        const char *types[16];    /* events --type: globs, any may match */
        size_t n_types;
        char *locks[16];          /* events --lock: as the daemon writes paths (absolute, escaped) */
        size_t n_locks;
        char **paths;             /* the non-option arguments */
        int n_paths;
} VerbArgs;

static const char *const verbs[] = { "status", "locks", "holders", "explain", "events", "cleanup", "reload", "scan",
                                     "metrics" };

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
                                           "explain", "events", "cleanup", "reload", "scan", "metrics" };
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
               "at --socket PATH, default as for run; 'lockwarden VERB --help' for each):\n"
               "  lockwarden status                 daemon state: backend, uptime, folders, locks, counters\n"
               "  lockwarden locks [--all] [--full] every lock: session, owner pid and comm, alive, holding,\n"
               "                                    age, verdict (--all: also transcripts without a lock)\n"
               "  lockwarden holders PATH...        which processes hold these files open\n"
               "  lockwarden explain PATH...        one lock (or a transcript's lock): its payload, owner,\n"
               "                                    holders and readers, the verdict with the rule that\n"
               "                                    gave it, and its own recent events\n"
               "  lockwarden events [--follow] [--since DURATION] [--lock PATH] [--type PATTERN] [-n N]\n"
               "                                    the daemon's last events (at most 1,024), then with\n"
               "                                    --follow the new ones as they happen\n"
               "  lockwarden cleanup [PATH...]      re-judge now (all locks, or those in/at PATH) and\n"
               "                                    remove what is stale (root only)\n"
               "  lockwarden reload                 read the configuration again, as SIGHUP does, and\n"
               "                                    say what changed; exit 1 if it was refused (root and\n"
               "                                    the daemon's user; systemctl reload runs it)\n"
               "  lockwarden metrics                the counters in the Prometheus text format (--json:\n"
               "                                    the same numbers as JSON)\n"
               "  lockwarden scan [--state-dir DIR|--watch DIR]... [--fix] [--leak-grace-ms N]\n"
               "                  [--remote-cleanup DIR]...\n"
               "                                    one shot, no daemon: judge every lock from /proc;\n"
               "                                    remove stale ones only with --fix (on a network or\n"
               "                                    FUSE filesystem only under --remote-cleanup); exit 0\n"
               "                                    nothing stale, 1 stale found, 2 error\n");
}

/* Each verb's own --help. A verb missing here gets the list of all (verbs_help). */
static const struct {
        const char *verb, *text;
} verb_helps[] = {
        { "status",
          "Usage: lockwarden status [OPTIONS]\n\n"
          "The running daemon's state: version, pid, uptime, backend and attribution, cleanup and\n"
          "race settings, the sessions folders guarded (and those waiting to appear), the OpenClaw\n"
          "release of each state dir, what is tracked, and its counters.\n\n"
          "Options:\n" HELP_SOCKET HELP_JSON HELP_LEGEND HELP_HELP
          "\nExit status: 0, or 1 when the daemon cannot be reached or refuses.\n" },
        { "locks",
          "Usage: lockwarden locks [OPTIONS]\n\n"
          "Every lock the daemon tracks, one per row: LOCK (its path), OWNER (the pid in its\n"
          "payload), COMM, ALIVE (the owner runs), HOLDING (the owner holds the lock open), AGE,\n"
          "VERDICT (live, busy, pending, or a stale lock's reason: dead-pid, recycled-pid, leaked,\n"
          "malformed) and WHY; then how many were listed. 'lockwarden explain PATH' says more.\n\n"
          "Options:\n"
          "      --all            also the transcripts that have no lock\n"
          HELP_FULL HELP_SOCKET HELP_JSON HELP_LEGEND HELP_HELP
          "\nExit status: 0, or 1 when the daemon cannot be reached or refuses.\n" },
        { "holders",
          "Usage: lockwarden holders [OPTIONS] PATH...\n\n"
          "Which processes hold these session files (locks or transcripts) open: PATH, PID, COMM,\n"
          "UNIT, FD and MODE (w: for writing, r: reading).\n\n"
          "Options:\n" HELP_FULL HELP_SOCKET HELP_JSON HELP_LEGEND HELP_HELP
          "\nExit status: 0; 1 when a PATH names nothing or is not a session file lockwarden\n"
          "guards, or the daemon cannot be reached; 2 without a PATH.\n" },
        { "explain",
          "Usage: lockwarden explain [OPTIONS] PATH...\n\n"
          "Why lockwarden judges a lock as it does. PATH is a lock, or a transcript (then its\n"
          "lock). For each: the session; the verdict (a stale lock by its reason), the rule that\n"
          "gave it and why; why a stale lock is kept; the payload and the lock's age; the owner\n"
          "(its pid here, pid namespace, comm, unit, alive or gone, start time checked against\n"
          "the payload's); who holds it open for writing and who only reads it; and the lock's\n"
          "own events from the daemon's history, a race with the kernel events before it.\n\n"
          "Options:\n" HELP_SOCKET HELP_JSON HELP_HELP
          "\nExit status: 0; 1 when a PATH names nothing, or nothing lockwarden guards, or the\n"
          "daemon cannot be reached; 2 without a PATH.\n" },
        { "events",
          "Usage: lockwarden events [OPTIONS]\n\n"
          "The daemon's events. Without --follow: the backlog, the last events the daemon kept since\n"
          "it started (at most 1,024, oldest first), then exit. With --follow: the same backlog\n"
          "first (-n 0 leaves it out), then each new event the moment it happens, until\n"
          "interrupted. The filters apply to both.\n\n"
          "One line per event, self-contained: TIME (local time with the date and the zone, as TZ\n"
          "says) and EVENT in fixed-width columns, so lines stay aligned as they come; then the\n"
          "SUBJECT (the lock, transcript or folder) and the DETAIL (the other fields: durations\n"
          "readable, lists in [...]).\n\n"
          "Options:\n"
          "  -f, --follow         then print new events as they happen\n"
          "      --since DURATION only events from the last DURATION (30s, 5m, 2h, 1d, 250ms)\n"
          "      --lock PATH      only events of this lock (or transcript); a relative PATH is\n"
          "                       taken from the current folder\n"
          "      --type PATTERN   only events whose type matches the glob PATTERN (race.*,\n"
          "                       lock.stale; repeatable); a pattern matching no type is an error\n"
          "  -n, --lines N        only the last N events of the backlog (0 to 2147483647; more\n"
          "                       than the backlog holds prints all of it)\n"
          HELP_FULL HELP_SOCKET
          "      --json           one JSON object per event and line, as the daemon reports it\n"
          HELP_LEGEND HELP_HELP
          "\nExit status: 0; 1 when the daemon cannot be reached or goes away; 2 bad usage.\n" },
        { "cleanup",
          "Usage: lockwarden cleanup [OPTIONS] [PATH...]\n\n"
          "Judge every lock again now (or those in or at each PATH) and remove what is stale, as\n"
          "the daemon would on its own; print what was found stale, removed or kept. Root only.\n\n"
          "Options:\n" HELP_FULL HELP_SOCKET HELP_JSON HELP_LEGEND HELP_HELP
          "\nExit status: 0; 1 when a PATH names nothing or nothing lockwarden guards, or the\n"
          "daemon cannot be reached or refuses.\n" },
        { "reload",
          "Usage: lockwarden reload [OPTIONS]\n\n"
          "Read the configuration again, as SIGHUP does, and say what changed (systemctl reload\n"
          "runs it). Root and the daemon's user only.\n\n"
          "Options:\n" HELP_SOCKET HELP_JSON HELP_LEGEND HELP_HELP
          "\nExit status: 0; 1 when the new configuration was refused or the daemon cannot be\n"
          "reached.\n" },
        { "metrics",
          "Usage: lockwarden metrics [OPTIONS]\n\n"
          "The daemon's counters in the Prometheus text exposition format (what node_exporter's\n"
          "textfile collector reads; run --metrics-file FILE keeps such a file): locks by verdict,\n"
          "stale by reason, cleaned, kept, races by kind, overflows, resyncs, kernel events read,\n"
          "and the queue lag and cleanup latency histograms. No path is a label.\n\n"
          "Options:\n" HELP_SOCKET
          "      --json           the same numbers as JSON\n"
          HELP_HELP
          "\nExit status: 0, or 1 when the daemon cannot be reached or refuses.\n" },
};

/* Every event type (the catalog's), for events --help, in lines of at most 80 columns. */
static void print_event_types(void) {
        size_t col = 0;

        printf("\nEvent types (for --type):\n");
        for (int k = 0; k < _EVENT_KIND_MAX; k++) {
                const char *name = event_kind_to_string(k);
                if (col > 0 && col + 2 + strlen(name) > 80) {
                        printf(",\n");
                        col = 0;
                } else if (col > 0) {
                        printf(", ");
                        col += 2;
                }
                if (col == 0) {
                        printf("  ");
                        col = 2;
                }
                printf("%s", name);
                col += strlen(name);
        }
        printf("\n");
}

void verb_help(const char *verb) {
        if (strcmp(verb, "scan") == 0) {
                scan_help();
                return;
        }
        for (size_t i = 0; i < ELEMENTSOF(verb_helps); i++)
                if (strcmp(verb, verb_helps[i].verb) == 0) {
                        fputs(verb_helps[i].text, stdout);
                        if (strcmp(verb, "events") == 0)
                                print_event_types();
                        return;
                }
        verbs_help();
}

_printf_(2, 3) static int usage(const char *verb, const char *fmt, ...) {
        va_list ap;

        fprintf(stderr, "lockwarden %s: ", verb);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fprintf(stderr, " (see lockwarden %s --help)\n", verb);
        return 2;
}

static void verb_args_done(VerbArgs *a) {
        for (size_t i = 0; i < a->n_locks; i++)
                free(a->locks[i]);
        a->n_locks = 0;
}

/* Does PATTERN (a glob) match any event type? */
static bool event_type_pattern_known(const char *pattern) {
        for (int k = 0; k < _EVENT_KIND_MAX; k++)
                if (fnmatch(pattern, event_kind_to_string(k), 0) == 0)
                        return true;
        return false;
}

/* PATH as the daemon writes it in its events: absolute, then escaped (escape_path). */
static char *event_path(const char *path) {
        _cleanup_free_ char *abs = path_absolute(path);
        char *slash;

        if (!abs)
                return NULL;
        slash = strrchr(abs, '/');
        if (!slash || slash == abs || !slash[1])
                return escape_path(NULL, abs);
        *slash = '\0';
        return escape_path(abs, slash + 1);
}

static int parse(const char *verb, int argc, char **argv, VerbArgs *a) {
        enum { ARG_SOCKET = 0x100, ARG_JSON, ARG_NO_LEGEND, ARG_ALL, ARG_FOLLOW, ARG_SINCE, ARG_FULL, ARG_LOCK,
               ARG_TYPE };
        static const struct option options[] = {
                { "help",      no_argument,       NULL, 'h'           },
                { "socket",    required_argument, NULL, ARG_SOCKET    },
                { "json",      no_argument,       NULL, ARG_JSON      },
                { "no-legend", no_argument,       NULL, ARG_NO_LEGEND },
                { "all",       no_argument,       NULL, ARG_ALL       },
                { "follow",    no_argument,       NULL, 'f'           },
                { "since",     required_argument, NULL, ARG_SINCE     },
                { "full",      no_argument,       NULL, ARG_FULL      },
                { "lock",      required_argument, NULL, ARG_LOCK      },
                { "type",      required_argument, NULL, ARG_TYPE      },
                { "lines",     required_argument, NULL, 'n'           },
                {}
        };
        bool takes_paths = strcmp(verb, "holders") == 0 || strcmp(verb, "cleanup") == 0 ||
                           strcmp(verb, "explain") == 0;
        bool events = strcmp(verb, "events") == 0;
        int c;

        *a = (VerbArgs) { .legend = true, .since_ms = -1, .lines = -1 };
        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, ":hfn:", options, NULL)) >= 0) {
                /* The option as given, for messages ("-n", "--lines", "--type=x"). */
                const char *given = optind > 0 && optind <= argc ? argv[optind - 1] : "?";

                switch (c) {
                case 'h':
                        verb_help(verb);
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
                case ARG_FULL:
                        if (strcmp(verb, "locks") != 0 && strcmp(verb, "holders") != 0 && !events &&
                            strcmp(verb, "cleanup") != 0)
                                return usage(verb, "%s: only for locks, holders, events, cleanup and scan", "--full");
                        a->full = true;
                        break;
                case 'f':
                        if (!events)
                                return usage(verb, "%s: only for 'events'", "--follow");
                        a->follow = true;
                        break;
                case ARG_SINCE:
                        if (!events)
                                return usage(verb, "%s: only for 'events'", "--since");
                        if (parse_duration_ms(optarg, &a->since_ms) < 0)
                                return usage(verb, "--since needs a duration such as 30s, 5m, 2h, not '%s'", optarg);
                        break;
                case ARG_LOCK:
                        if (!events)
                                return usage(verb, "%s: only for 'events'", "--lock");
                        if (!*optarg)
                                return usage(verb, "%s", "--lock needs a path");
                        if (a->n_locks >= ELEMENTSOF(a->locks))
                                return usage(verb, "at most %zu --lock", ELEMENTSOF(a->locks));
                        if (!(a->locks[a->n_locks] = event_path(optarg))) {
                                fprintf(stderr, "lockwarden: out of memory\n");
                                return 1;
                        }
                        a->n_locks++;
                        break;
                case ARG_TYPE:
                        if (!events)
                                return usage(verb, "%s: only for 'events'", "--type");
                        if (a->n_types >= ELEMENTSOF(a->types))
                                return usage(verb, "at most %zu --type", ELEMENTSOF(a->types));
                        if (!event_type_pattern_known(optarg))
                                return usage(verb, "--type '%s' matches no event type (such as lock.stale, race.*)",
                                             optarg);
                        a->types[a->n_types++] = optarg;
                        break;
                case 'n': {
                        char *end;
                        long long v;

                        if (!events)
                                return usage(verb, "%s: only for 'events'", "-n");
                        errno = 0;
                        v = strtoll(optarg, &end, 10);
                        if (errno || end == optarg || *end || v < 0 || v > INT_MAX || !isdigit((unsigned char) optarg[0]))
                                return usage(verb, "-n (--lines) needs a number of lines from 0 to %d, not '%s'",
                                             INT_MAX, optarg);
                        a->lines = v;
                        break;
                }
                case ':':
                        return usage(verb, "option '%s' needs a value", given);
                default:
                        if (optopt > 0 && optopt < 0x100 && given[0] == '-' && given[1] != '-')
                                return usage(verb, "unknown option '-%c'", optopt);
                        return usage(verb, "unknown option '%s'", given);
                }
        }
        a->paths = argv + optind;
        a->n_paths = argc - optind;
        if (a->n_paths > 0 && !takes_paths)
                return usage(verb, "unexpected argument '%s'", argv[optind]);
        if ((strcmp(verb, "holders") == 0 || strcmp(verb, "explain") == 0) && a->n_paths == 0)
                return usage(verb, "which files? (lockwarden %s PATH...)", verb);
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

/* "1 lock", "2 locks": N and its noun (the last few are kept: printf arguments). */
static const char *counted(long long n, const char *one, const char *many) {
        static char ring[16][64];
        static size_t next;
        char *b = ring[next];

        next = (next + 1) % ELEMENTSOF(ring);
        snprintf(b, sizeof(ring[0]), "%lld %s", n, plural(n, one, many));
        return b;
}

#define JINT(o, k) ((long long) json_integer_value(json_object_get((o), (k))))
#define JSIZE(o, k) ((long long) json_array_size(json_object_get((o), (k))))

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

static void event_time(const char *ts, char *buf, size_t size);

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
        char since[64];
        event_time(str(st, "started"), since, sizeof(since)); /* local time, as events says it */
        printf("lockwarden %s, pid %lld, up %s (since %s)\n", sstr(st, "version"),
               (long long) json_integer_value(json_object_get(st, "pid")), up, since);
        if (str(st, "exe"))
                printf("  program:   %s\n", safe(str(st, "exe")));
        printf("  backend:   %s (attribution: %s)\n", sstr(st, "backend"), sstr(st, "attribution"));
        /* The configuration in force: where it came from, and what it says. */
        if (str(st, "config"))
                printf("  config:    %s\n", sstr(st, "config"));
        else
                printf("  config:    none (the command line and the defaults)\n");
        printf("  cleanup:   %s; races: %s", sstr(st, "cleanup"), sstr(st, "races"));
        if (json_is_integer(json_object_get(st, "leak_grace_ms")))
                printf("; leak grace: %lld ms; race coalescing: %lld ms",
                       (long long) json_integer_value(json_object_get(st, "leak_grace_ms")),
                       (long long) json_integer_value(json_object_get(st, "race_coalesce_ms")));
        printf("\n");
        if (json_array_size(json_object_get(st, "ignore_races")) > 0) {
                printf("  ignored:  ");
                json_array_foreach(json_object_get(st, "ignore_races"), i, v)
                        printf(" %s", safe(json_string_value(v)));
                printf(" (race kinds not reported)\n");
        }
        json_array_foreach(json_object_get(st, "remote_cleanup"), i, v)
                printf("  %-10s %s (stale locks removed on a network or FUSE filesystem there)\n",
                       i == 0 ? "remote:" : "", safe(json_string_value(v)));
        /* Folder rules, one a line: PATH: key=value, ... */
        json_array_foreach(json_object_get(st, "folder_rules"), i, v) {
                const char *key;
                json_t *val;

                printf("  %-10s %s:", i == 0 ? "rules:" : "", sstr(v, "path"));
                json_object_foreach(v, key, val) {
                        if (strcmp(key, "path") == 0)
                                continue;
                        if (json_is_array(val)) {
                                json_t *k;
                                size_t j;

                                printf(" %s=", key);
                                json_array_foreach(val, j, k)
                                        printf("%s%s", j ? "," : "", safe(json_string_value(k)));
                        } else if (json_is_boolean(val))
                                printf(" %s=%s", key, json_is_true(val) ? "yes" : "no");
                        else if (json_is_integer(val))
                                printf(" %s=%lld", key, (long long) json_integer_value(val));
                        else
                                printf(" %s=%s", key, safe(json_string_value(val)));
                }
                printf("\n");
        }
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
        printf("  tracked:   %s, %s, %s\n", counted(JINT(st, "locks"), "lock", "locks"),
               counted(JINT(st, "sessions"), "transcript", "transcripts"),
               counted(JINT(st, "owners"), "owner", "owners"));
        printf("  counters:  %lld stale, %lld cleaned, %s, %s, %s\n", JINT(cnt, "stale"), JINT(cnt, "cleaned"),
               counted(JINT(cnt, "races"), "race", "races"), counted(JINT(cnt, "overflows"), "overflow", "overflows"),
               counted(JINT(cnt, "events"), "kernel event", "kernel events"));
        /* What clients cost (the control socket's limits). */
        json_t *ctl = json_object_get(st, "control");
        if (ctl)
                printf("  clients:   %s open, %lld refused over a share, %lld closed idle, %s lost by followers%s\n",
                       counted(JINT(ctl, "connections"), "connection", "connections"), JINT(ctl, "refused"),
                       JINT(ctl, "idle_closed"), counted(JINT(ctl, "lost_events"), "event", "events"),
                       json_is_false(json_object_get(ctl, "accepting")) ? "; NOT accepting (out of descriptors)" : "");
        json_decref(reply);
        return 0;
}

static int verb_locks(const VerbArgs *a) {
        static const char *const cols[] = { "/LOCK", ">OWNER", "COMM", "ALIVE", "HOLDING", ">AGE", "VERDICT", "?WHY", NULL };
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
                        /* As scan and explain name it: a stale lock by its reason. */
                        cell(json_object_get(l, "holding"), b2, sizeof(b2)), age,
                        str(l, "reason") ? str(l, "reason") : str(l, "verdict"), str(l, "why"),
                };
                table_add(t, row);
        }
        table_print(t, stdout, a->legend, a->full ? 0 : table_width(stdout));
        if (a->legend && a->all)
                printf("\n%zu %s and %zu %s without a lock listed.\n", table_rows(t) - unlocked,
                       plural((long long) (table_rows(t) - unlocked), "lock", "locks"), unlocked,
                       plural((long long) unlocked, "transcript", "transcripts"));
        else if (a->legend)
                printf("\n%zu %s listed.\n", table_rows(t), plural((long long) table_rows(t), "lock", "locks"));
        table_free(t);
        json_decref(reply);
        return 0;
}

/* The paths as the daemon must read them: absolute (its working folder is not ours). With
 * MUST_EXIST, a path that names nothing is said here, before anything is asked or printed. */
static json_t *paths_json(const VerbArgs *a, bool must_exist) {
        json_t *arr = json_array();

        for (int i = 0; arr && i < a->n_paths; i++) {
                _cleanup_free_ char *abs = path_absolute(a->paths[i]);
                struct stat st;

                if (!abs) {
                        fprintf(stderr, "lockwarden: %s: %s\n", safe(a->paths[i]), strerror(errno ? errno : ENOMEM));
                        json_decref(arr);
                        return NULL;
                }
                if (must_exist && lstat(abs, &st) < 0 && (errno == ENOENT || errno == ENOTDIR || errno == ELOOP)) {
                        fprintf(stderr, "lockwarden: %s: %s\n", safe(a->paths[i]), strerror(errno));
                        json_decref(arr);
                        return NULL;
                }
                json_array_append_new(arr, json_string(abs));
        }
        return arr;
}

static int verb_holders(const VerbArgs *a) {
        static const char *const cols[] = { "/PATH", ">PID", "COMM", "*UNIT", ">FD", "MODE", NULL };
        json_t *paths = paths_json(a, true), *reply, *h;
        int status = 0;
        Table *t;
        size_t i;

        if (!paths)
                return 1;
        reply = ask(a, json_pack("{s:s, s:o}", "verb", "holders", "paths", paths), NULL);
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
                        fprintf(stderr, "lockwarden: %s: %s\n", sstr(h, "path"), sstr(h, "error"));
                        status = 1;
                        continue;
                }
                const char *row[] = { str(h, "path"), cell(json_object_get(h, "pid"), pid, sizeof(pid)),
                                      str(h, "comm"), str(h, "unit"), cell(json_object_get(h, "fd"), fd, sizeof(fd)),
                                      json_is_null(json_object_get(h, "pid")) ? NULL : str(h, "mode") };
                table_add(t, row);
        }
        if (table_rows(t) > 0) /* nothing to show: no header alone */
                table_print(t, stdout, a->legend, a->full ? 0 : table_width(stdout));
        table_free(t);
        json_decref(reply);
        return status;
}

/* A duration for a person: "850 µs", "312 ms", "1.2 s", "42 s", "3m 12s", "5h 25m", "3d 4h". */
static void format_duration_us(long long us, char *buf, size_t size) {
        long long s = us / 1000000;

        if (us < 1000) /* negative ones too: said as they are */
                snprintf(buf, size, "%lld µs", us);
        else if (us < 1000000)
                snprintf(buf, size, "%lld ms", us / 1000);
        else if (us < 10000000)
                snprintf(buf, size, "%lld.%lld s", s, us / 100000 % 10);
        else if (s < 60)
                snprintf(buf, size, "%lld s", s);
        else if (s < 3600)
                snprintf(buf, size, "%lldm %llds", s / 60, s % 60);
        else if (s < 86400)
                snprintf(buf, size, "%lldh %lldm", s / 3600, s % 3600 / 60);
        else
                snprintf(buf, size, "%lldd %lldh", s / 86400, s % 86400 / 3600);
}

/* Is KEY a duration ("held_ms", "lag_us")? Then its name without the unit, and how many
 * microseconds one unit is. */
static long long duration_unit(const char *key, size_t *ret_len) {
        size_t n = strlen(key);

        if (n > 3 && strcmp(key + n - 3, "_ms") == 0) {
                *ret_len = n - 3;
                return 1000;
        }
        if (n > 3 && strcmp(key + n - 3, "_us") == 0) {
                *ret_len = n - 3;
                return 1;
        }
        return 0;
}

/* One field's value for a person: durations readable, lists as [a, b], objects as {k=v ...}. */
static void render_value(FILE *f, const char *key, json_t *v) {
        size_t len;
        long long unit = key ? duration_unit(key, &len) : 0;
        const char *k;
        json_t *x;
        size_t i;

        if (json_is_integer(v) && unit) {
                char b[48];
                format_duration_us((long long) json_integer_value(v) * unit, b, sizeof(b));
                fputs(b, f);
        } else if (json_is_integer(v))
                fprintf(f, "%lld", (long long) json_integer_value(v));
        else if (json_is_real(v))
                fprintf(f, "%g", json_real_value(v));
        else if (json_is_string(v))
                fputs(json_string_value(v), f);
        else if (json_is_boolean(v))
                fputs(json_is_true(v) ? "yes" : "no", f);
        else if (json_is_array(v)) {
                fputc('[', f);
                json_array_foreach(v, i, x) {
                        fputs(i ? ", " : "", f);
                        render_value(f, NULL, x);
                }
                fputc(']', f);
        } else if (json_is_object(v)) {
                bool first = true;
                fputc('{', f);
                json_object_foreach(v, k, x) {
                        if (strcmp(k, "mono_ns") == 0) /* the daemon's clock: says nothing here */
                                continue;
                        size_t kl;
                        fprintf(f, "%s%.*s=", first ? "" : " ", (int) (duration_unit(k, &kl) ? kl : strlen(k)), k);
                        render_value(f, k, x);
                        first = false;
                }
                fputc('}', f);
        } else
                fputs("-", f);
}

/* The field that names what event E is about (its lock, else its transcript, folder ...). */
static const char *event_subject_key(json_t *e) {
        static const char *const keys[] = { "lock", "session", "path", "folder", "state_dir" };

        for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                if (json_is_string(json_object_get(e, keys[i])))
                        return keys[i];
        return NULL;
}

/* "reason=dead-pid owner_pid=42 held=5h 25m recent=[...]": every field but the columns. */
static char *event_detail(json_t *e, const char *subject_key) {
        static const char *const skip[] = { "event", "ts", "mono_ns", "version" };
        const char *k, *subject = subject_key ? str(e, subject_key) : NULL;
        char *buf = NULL;
        size_t size = 0, n = 0;
        FILE *f = open_memstream(&buf, &size);
        json_t *v;

        if (!f)
                return NULL;
        json_object_foreach(e, k, v) {
                bool skipped = subject_key && strcmp(k, subject_key) == 0;
                size_t kl;

                for (size_t i = 0; i < ELEMENTSOF(skip); i++)
                        skipped = skipped || strcmp(k, skip[i]) == 0;
                skipped = skipped || json_is_null(v); /* not known: nothing to say */
                /* The transcript of the lock that is the subject says nothing more. */
                if (!skipped && strcmp(k, "session") == 0 && subject && json_is_string(v) &&
                    strlen(subject) == strlen(json_string_value(v)) + 5 &&
                    strncmp(subject, json_string_value(v), strlen(json_string_value(v))) == 0)
                        skipped = true;
                if (skipped)
                        continue;
                fprintf(f, "%s%.*s=", n++ ? " " : "", (int) (duration_unit(k, &kl) ? kl : strlen(k)), k);
                render_value(f, k, v);
        }
        if (fclose(f) != 0) {
                free(buf);
                return NULL;
        }
        return buf;
}

/* The widths of the fixed columns, known before any event comes. */
typedef struct EventLayout {
        int time_w, event_w;
        unsigned width;           /* the terminal's; 0: no limit */
} EventLayout;

static void event_layout(const VerbArgs *a, EventLayout *ret) {
        size_t zone = 0, ev = 5;

        tzset();
        for (int i = 0; i < 2; i++)
                zone = MAX_SIZE(zone, tzname[i] ? strlen(tzname[i]) : 0);
        for (int k = 0; k < _EVENT_KIND_MAX; k++)
                ev = MAX_SIZE(ev, strlen(event_kind_to_string(k)));
        *ret = (EventLayout) {
                .time_w = (int) (strlen("2026-01-01 00:00:00.000") + (zone ? 1 + zone : 0)),
                .event_w = (int) ev,
                .width = a->full ? 0 : table_width(stdout),
        };
}

/* The daemon's UTC time "2026-11-29T23:01:02.123456Z" in local time, as TZ says:
 * "2026-11-30 04:31:02.123 IST". */
static void event_time(const char *ts, char *buf, size_t size) {
        int64_t us;
        struct tm tm;
        time_t t;
        size_t n;

        if (!ts || parse_iso_ts(ts, &us) < 0) {
                snprintf(buf, size, "%s", ts ? ts : "-");
                return;
        }
        t = (time_t) (us >= 0 ? us / USEC_PER_SEC : (us - USEC_PER_SEC + 1) / USEC_PER_SEC);
        if (!localtime_r(&t, &tm) || (n = strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm)) == 0) {
                snprintf(buf, size, "%s", ts);
                return;
        }
        snprintf(buf + n, size - n, ".%03d%s%s", (int) ((us % USEC_PER_SEC + USEC_PER_SEC) % USEC_PER_SEC / 1000),
                 tm.tm_zone && *tm.tm_zone ? " " : "", tm.tm_zone ? tm.tm_zone : "");
}

static void event_header(const EventLayout *l) {
        printf("%-*s  %-*s  %s\n", l->time_w, "TIME", l->event_w, "EVENT", "SUBJECT  DETAIL");
}

/* One self-contained line: TIME and EVENT in their fixed widths, the subject (its folder
 * shortened on a narrow terminal, never its file name), the details. */
static void event_line(const EventLayout *l, json_t *e) {
        const char *subject_key = event_subject_key(e);
        const char *subject = subject_key ? str(e, subject_key) : NULL;
        _cleanup_free_ char *detail = event_detail(e, subject_key), *shortened = NULL;
        char time[64];

        event_time(str(e, "ts"), time, sizeof(time));
        if (subject && l->width > 0) {
                size_t room = (size_t) l->time_w + 2 + (size_t) l->event_w + 2;
                shortened = table_path_shorten(subject, l->width > room ? l->width - room : 0);
        }
        printf("%-*s  %-*s  %s%s%s\n", l->time_w, time, l->event_w, safe(str(e, "event")),
               safe(shortened ? shortened : subject ? subject : "-"), detail && *detail ? "  " : "",
               detail ? safe(detail) : "");
}

/* Does E pass the --type and --lock filters? */
static bool event_wanted(const VerbArgs *a, json_t *e) {
        const char *ev = str(e, "event");
        bool ok = a->n_types == 0;

        for (size_t i = 0; !ok && ev && i < a->n_types; i++)
                ok = fnmatch(a->types[i], ev, 0) == 0;
        if (!ok || a->n_locks == 0)
                return ok;
        for (size_t i = 0; i < a->n_locks; i++) {
                const char *want = a->locks[i];
                size_t wl = strlen(want);
                static const char *const keys[] = { "lock", "session", "path" };

                for (size_t k = 0; k < ELEMENTSOF(keys); k++) {
                        const char *v = str(e, keys[k]);
                        if (!v)
                                continue;
                        if (strcmp(v, want) == 0)
                                return true;
                        /* X.jsonl.lock: its transcript's events (a write without it) too. */
                        if (strcmp(keys[k], "session") == 0 && wl > 5 && strcmp(want + wl - 5, ".lock") == 0 &&
                            strlen(v) == wl - 5 && strncmp(v, want, wl - 5) == 0)
                                return true;
                }
        }
        return false;
}

static void event_print(const VerbArgs *a, const EventLayout *l, json_t *e) {
        if (a->json) {
                json_dumpf(e, stdout, JSON_COMPACT | json_flags());
                fputc('\n', stdout);
        } else
                event_line(l, e);
}

static volatile sig_atomic_t interrupted;

static void on_interrupt(int sig) {
        (void) sig;
        interrupted = 1;
}

static int verb_events(const VerbArgs *a) {
        json_t *req = json_pack("{s:s, s:b}", "verb", "events", "follow", a->follow), *reply, *e, *backlog;
        ControlClient *c = NULL;
        EventLayout layout;
        size_t i, n, first;

        event_layout(a, &layout);
        if (a->since_ms >= 0)
                json_object_set_new(req, "since_ms", json_integer(a->since_ms));
        reply = ask(a, req, &c);
        if (!reply)
                return 1;
        /* The backlog, filtered here (the daemon sends all it kept), then its last N. */
        backlog = json_array();
        json_array_foreach(json_object_get(reply, "events"), i, e)
                if (event_wanted(a, e))
                        json_array_append(backlog, e);
        n = json_array_size(backlog);
        first = a->lines >= 0 && (size_t) a->lines < n ? n - (size_t) a->lines : 0;
        if (!a->json && a->legend)
                event_header(&layout);
        for (i = first; i < n; i++)
                event_print(a, &layout, json_array_get(backlog, i));
        json_decref(backlog);
        json_decref(reply);
        fflush(stdout);

        if (a->follow) {
                struct sigaction sa = { .sa_handler = on_interrupt };
                sigaction(SIGINT, &sa, NULL);
                sigaction(SIGTERM, &sa, NULL);
                /* Live: one line per event in the same fixed columns as the backlog above. */
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
                                long long lost = (long long) json_integer_value(json_object_get(m, "lost"));
                                fprintf(stderr, "lockwarden: %lld %s lost: this client did not read them in time\n",
                                        lost, plural(lost, "event", "events"));
                                json_decref(m);
                                continue;
                        }
                        e = json_object_get(m, "event");
                        if (e && event_wanted(a, e)) {
                                event_print(a, &layout, e);
                                fflush(stdout);
                        }
                        json_decref(m);
                }
        }
        control_client_free(c);
        return 0;
}

static int verb_cleanup(const VerbArgs *a) {
        static const char *const cols[] = { "/LOCK", "EVENT", "REASON", "*WHY", NULL };
        json_t *paths = paths_json(a, true), *reply, *e;
        Table *t;
        size_t i;

        if (!paths)
                return 1;
        size_t n_paths = json_array_size(paths);
        reply = ask(a, json_pack("{s:s, s:o}", "verb", "cleanup", "paths", paths), NULL);
        if (!reply)
                return 1;
        /* A path lockwarden does not guard is an error (exit 1), not "Judged 0 locks"; what the
         * other paths gave is still shown. */
        size_t n_unguarded = json_array_size(json_object_get(reply, "unguarded"));
        json_array_foreach(json_object_get(reply, "unguarded"), i, e)
                fprintf(stderr, "lockwarden: %s: %s (see lockwarden status)\n", safe(str(e, "path")), safe(str(e, "why")));
        if (n_unguarded > 0 && n_unguarded == n_paths) {
                json_decref(reply);
                return 1;
        }
        if (a->json) {
                print_json(reply);
                json_decref(reply);
                return n_unguarded > 0;
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
                table_print(t, stdout, a->legend, a->full ? 0 : table_width(stdout));
        if (a->legend)
                printf("%sJudged %zu %s again: %zu %s.\n", table_rows(t) ? "\n" : "",
                       json_array_size(json_object_get(reply, "judged")),
                       plural((long long) json_array_size(json_object_get(reply, "judged")), "lock", "locks"),
                       table_rows(t), plural((long long) table_rows(t), "event", "events"));
        table_free(t);
        json_decref(reply);
        return n_unguarded > 0;
}

/* One event of a lock's history, on one line (local time, as events prints it); a race's
 * kernel sequence under it, one event per line. */
static void explain_event(json_t *e) {
        _cleanup_free_ char *detail = NULL;
        char time[64];
        json_t *r, *plain;
        size_t i;

        /* The sequence gets lines of its own: not in the detail too. */
        plain = json_deep_copy(e);
        if (plain)
                json_object_del(plain, "recent");
        detail = event_detail(plain ? plain : e, event_subject_key(e));
        json_decref(plain);
        event_time(str(e, "ts"), time, sizeof(time));
        printf("%12s %s  %s  %s\n", "", time, safe(str(e, "event")), detail ? safe(detail) : "");
        json_array_foreach(json_object_get(e, "recent"), i, r) {
                char pid[16], count[16];
                printf("%12s   %s %s by pid %s%s%s\n", "", safe(str(r, "file")), safe(str(r, "kind")),
                       cell(json_object_get(r, "pid"), pid, sizeof(pid)) ? pid : "?",
                       json_integer_value(json_object_get(r, "count")) > 1 ? ", times " : "",
                       json_integer_value(json_object_get(r, "count")) > 1 ?
                       cell(json_object_get(r, "count"), count, sizeof(count)) : "");
        }
}

static void explain_processes(const char *title, json_t *list) {
        json_t *h;
        size_t i;

        if (json_array_size(list) == 0) {
                printf("%12s -\n", title);
                return;
        }
        json_array_foreach(list, i, h) {
                char pid[16], fd[16];
                printf("%12s pid %s (%s)%s%s%s%s\n", i == 0 ? title : "",
                       cell(json_object_get(h, "pid"), pid, sizeof(pid)), safe(str(h, "comm")),
                       str(h, "unit") ? " in " : "", str(h, "unit") ? safe(str(h, "unit")) : "",
                       cell(json_object_get(h, "fd"), fd, sizeof(fd)) ? " fd " : "",
                       cell(json_object_get(h, "fd"), fd, sizeof(fd)) ? fd : "");
        }
}

static int verb_explain(const VerbArgs *a) {
        json_t *paths = paths_json(a, true), *reply, *x;
        int status = 0;
        size_t i;

        if (!paths)
                return 1;
        reply = ask(a, json_pack("{s:s, s:o}", "verb", "explain", "paths", paths), NULL);
        if (!reply)
                return 1;
        json_array_foreach(json_object_get(reply, "explained"), i, x)
                if (!json_is_true(json_object_get(x, "tracked"))) {
                        fprintf(stderr, "lockwarden: %s: %s\n", safe(str(x, "path")), safe(str(x, "error")));
                        status = 1;
                }
        if (a->json) {
                print_json(json_object_get(reply, "explained"));
                json_decref(reply);
                return status;
        }
        json_array_foreach(json_object_get(reply, "explained"), i, x) {
                json_t *p = json_object_get(x, "payload"), *o = json_object_get(x, "owner"), *e;
                char age[32], b[32];
                size_t k;

                if (!json_is_true(json_object_get(x, "tracked")))
                        continue;
                printf("%s%s\n", i ? "\n" : "", safe(str(x, "lock") ? str(x, "lock") : str(x, "session")));
                printf("%12s %s\n", "Session:", safe(str(x, "session")));
                printf("%12s %s%s%s%s (rule: %s)\n", "Verdict:", safe(str(x, "verdict")),
                       str(x, "reason") ? " (" : "", str(x, "reason") ? safe(str(x, "reason")) : "",
                       str(x, "reason") ? ")" : "", safe(str(x, "rule")));
                printf("%12s %s\n", "Why:", safe(str(x, "why")));
                if (str(x, "kept"))
                        printf("%12s %s\n", "Kept:", safe(str(x, "kept")));
                if (p) {
                        char st[32], mh[32];
                        if (json_is_true(json_object_get(p, "valid")))
                                printf("%12s pid %s, createdAt %s, starttime %s, maxHoldMs %s\n", "Payload:",
                                       cell(json_object_get(p, "pid"), b, sizeof(b)),
                                       str(p, "createdAt") ? safe(str(p, "createdAt")) : "-",
                                       cell(json_object_get(p, "starttime"), st, sizeof(st)) ? st : "-",
                                       cell(json_object_get(p, "maxHoldMs"), mh, sizeof(mh)) ? mh : "-");
                        else
                                printf("%12s unusable: %s\n", "Payload:", safe(str(p, "error")));
                        format_age(json_integer_value(json_object_get(x, "age_ms")), age, sizeof(age));
                        printf("%12s %s\n", "Age:", age);
                }
                if (o && json_is_integer(json_object_get(o, "pid"))) {
                        char hp[16];
                        printf("%12s pid %s (%s), pid %s here, namespace %s, %s%s%s\n", "Owner:",
                               cell(json_object_get(o, "pid"), b, sizeof(b)), safe(str(o, "comm")),
                               cell(json_object_get(o, "host_pid"), hp, sizeof(hp)) ? hp : "-",
                               safe(str(o, "namespace")),
                               json_is_true(json_object_get(o, "alive")) ? "alive" : "gone",
                               str(o, "unit") ? ", in " : "", str(o, "unit") ? safe(str(o, "unit")) : "");
                        if (str(o, "starttime_check"))
                                printf("%12s %s\n", "Start time:", safe(str(o, "starttime_check")));
                }
                explain_processes("Holders:", json_object_get(x, "holders"));
                explain_processes("Readers:", json_object_get(x, "readers"));
                printf("%12s%s\n", "Events:", json_array_size(json_object_get(x, "events")) ? "" : " -");
                json_array_foreach(json_object_get(x, "events"), k, e)
                        explain_event(e);
        }
        json_decref(reply);
        return status;
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
                                printf("Reloaded %s%s%s: %s added, %lld removed, %s changed; guarding %s.\n",
                                       str(e, "config") ? sstr(e, "config") : "with no configuration file (none at ",
                                       str(e, "config") ? "" : sstr(e, "looked_for"), str(e, "config") ? "" : ")",
                                       counted(JSIZE(e, "added"), "folder", "folders"),
                                       JSIZE(e, "removed"), counted(JSIZE(e, "changed"), "setting", "settings"),
                                       counted(JINT(e, "folders"), "sessions folder", "sessions folders"));
                }
        json_decref(reply);
        return ok ? 0 : 1;
}

/* The daemon sends the numbers (JSON); the text is made here, by the same code as the
 * daemon's --metrics-file. */
static int verb_metrics(const VerbArgs *a) {
        json_t *reply = ask(a, json_pack("{s:s}", "verb", "metrics"), NULL);
        _cleanup_free_ char *text = NULL;

        if (!reply)
                return 1;
        if (a->json) {
                json_object_del(reply, "version");
                print_json(reply);
                json_decref(reply);
                return 0;
        }
        text = metrics_format(reply);
        json_decref(reply);
        if (!text) {
                fprintf(stderr, "lockwarden metrics: out of memory\n");
                return 1;
        }
        fputs(text, stdout);
        return fflush(stdout) == 0 ? 0 : 1;
}

int verb_main(int argc, char **argv) {
        const char *verb = argv[1];
        VerbArgs a;
        int r;

        if (strcmp(verb, "scan") == 0)
                return scan_main(argc - 1, argv + 1);
        r = parse(verb, argc - 1, argv + 1, &a);
        if (r != 0) {
                verb_args_done(&a);
                return r;
        }
        if (strcmp(verb, "status") == 0)
                return verb_status(&a);
        if (strcmp(verb, "locks") == 0)
                return verb_locks(&a);
        if (strcmp(verb, "holders") == 0)
                return verb_holders(&a);
        if (strcmp(verb, "explain") == 0)
                return verb_explain(&a);
        if (strcmp(verb, "events") == 0) {
                r = verb_events(&a);
                verb_args_done(&a);
                return r;
        }
        if (strcmp(verb, "reload") == 0)
                return verb_reload(&a);
        if (strcmp(verb, "metrics") == 0)
                return verb_metrics(&a);
        return verb_cleanup(&a);
}
