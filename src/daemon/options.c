/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* options.c: getopt_long parsing of `lockwarden run ...`. */
#include <getopt.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "fs-util.h"
#include "macro.h"
#include "options.h"

static const char *const cleanup_mode_table[_CLEANUP_MODE_MAX] = {
        [CLEANUP_MODE_AUTO] = "auto",
        [CLEANUP_MODE_REPORT] = "report",
};

static const char *const backend_table[_BACKEND_MAX] = {
        [BACKEND_AUTO] = "auto",
        [BACKEND_FANOTIFY] = "fanotify",
        [BACKEND_INOTIFY] = "inotify",
};

static const char *const races_mode_table[_RACES_MODE_MAX] = {
        [RACES_REPORT] = "report",
        [RACES_OFF] = "off",
};

const char *races_mode_to_string(RacesMode m) {
        return m >= 0 && m < _RACES_MODE_MAX ? races_mode_table[m] : NULL;
}

const char *cleanup_mode_to_string(CleanupMode m) {
        return m >= 0 && m < _CLEANUP_MODE_MAX ? cleanup_mode_table[m] : NULL;
}

static int lookup(const char *const *table, size_t n, const char *s) {
        for (size_t i = 0; i < n; i++)
                if (strcmp(table[i], s) == 0)
                        return (int) i;
        return -EINVAL;
}

int cleanup_mode_from_string(const char *s) {
        return s ? lookup(cleanup_mode_table, _CLEANUP_MODE_MAX, s) : -EINVAL;
}

int races_mode_from_string(const char *s) {
        return s ? lookup(races_mode_table, _RACES_MODE_MAX, s) : -EINVAL;
}

int backend_from_string(const char *s) {
        return s ? lookup(backend_table, _BACKEND_MAX, s) : -EINVAL;
}

const char *backend_to_string(BackendKind b) {
        return b >= 0 && b < _BACKEND_MAX ? backend_table[b] : NULL;
}

void options_help(void) {
        printf("Usage: lockwarden run [OPTIONS]\n"
               "       lockwarden status|locks|holders|events|cleanup|reload|scan|metrics [OPTIONS] [ARGS]\n"
               "       lockwarden help | version | --help | --version | -V\n"
               "\n"
               "Guard OpenClaw session locks: follow every open, close, write, create, unlink and\n"
               "rename of session transcripts (*.jsonl) and their locks (*.jsonl.lock) through\n"
               "fanotify (or inotify, without privileges), keep a live map of which process holds\n"
               "which file open, and remove a lock the moment it is stale (owner exited, pid\n"
               "recycled, lock leaked). Report takeover races as they happen: a lock stolen from\n"
               "a live holder, two holders, a transcript written without the lock or by another\n"
               "process, replaced, or a lock rewritten by a process that does not own it.\n"
               "\n"
               "Options for run:\n"
               "  --state-dir DIR       guard every DIR/agents/*/sessions/ folder, including ones\n"
               "                        created later (repeatable)\n"
               "  --watch DIR           guard one sessions folder (repeatable)\n"
               "                        Default for both: $OPENCLAW_STATE_DIR, else ~/.openclaw,\n"
               "                        as a state dir. Missing folders are guarded once they appear;\n"
               "                        a folder at the wrong level is warned about (monitor.warning).\n"
               "                        With no folder configured, root also finds every gateway's\n"
               "                        state dir (running or started later) and every local\n"
               "                        user's ~/.openclaw (see DISCOVERY in lockwarden(8)).\n"
               "  --cleanup=auto|report remove stale locks (auto, the default) or only report them\n"
               "  --socket PATH|none    the control socket for the lockwarden verbs (default\n"
               "                        /run/lockwarden/control.sock as root, else\n"
               "                        $XDG_RUNTIME_DIR/lockwarden/control.sock)\n"
               "  --events FILE         also write every event as one JSON object per line to\n"
               "                        FILE (appended; '-' for standard output)\n"
               "  --metrics-file FILE   keep FILE up to date with the metrics (lockwarden metrics)\n"
               "                        for node_exporter's textfile collector: rewritten whole\n"
               "                        when something changed, at most once a second; its\n"
               "                        folder must be local and writable at start\n"
               "  --leak-grace-ms N     how long a lock may stay on disk with nobody holding it\n"
               "                        open before it counts as leaked (default %d)\n"
               "  --races=report|off    report takeover races (report, the default) or not\n"
               "  --race-coalesce-ms N  a burst of unlocked or foreign writes by one process is\n"
               "                        one race, reported when no write came for N ms or a\n"
               "                        lock appeared (default %d; 0 reports every write)\n"
               "  --remote-cleanup DIR  on a network or FUSE filesystem stale locks are only\n"
               "                        reported (a pid there may be another host's); remove them\n"
               "                        in sessions folders under DIR too (repeatable)\n"
               "  --backend=auto|fanotify|inotify\n"
               "                        event source (default auto: fanotify when permitted, else\n"
               "                        inotify). fanotify needs CAP_SYS_ADMIN and names the\n"
               "                        process behind every event; inotify needs no privilege,\n"
               "                        finds holders by scanning /proc when a lock is opened or\n"
               "                        closed, and cannot name who wrote or removed a file\n"
               "  --user USER           after start-up, run as USER (a name or uid), keeping only\n"
               "                        the capabilities the steady state needs (lockwarden(8),\n"
               "                        PRIVILEGES)\n"
               "  --config FILE         read the options from FILE, a JSON object (default\n"
               "                        /etc/lockwarden/lockwarden.json, when it exists; see\n"
               "                        lockwarden.json(5)); the command line wins over it.\n"
               "                        SIGHUP reads it again: folders are added or removed live\n"
               "  --check-config        check the configuration and exit: 'FILE: ok' or the error\n"
               "                        with its line and column on standard error, the effective\n"
               "                        options as JSON on standard output, the control socket\n"
               "                        it would serve worked out (exit 0 or 2)\n"
               "  -h, --help            show this help\n"
               "  -V, --version         show the version\n"
               "\n"
               "Exit status: 0 stopped by SIGTERM or SIGINT, 1 runtime failure, 2 bad usage or a bad\n"
               "configuration file. SIGHUP reloads the configuration, SIGUSR1 logs the state.\n"
               "Reports go to the journal (MESSAGE_ID per event kind), to --events, and to\n"
               "standard error unless standard error is the journal. See lockwarden(8).\n",
               DEFAULT_LEAK_GRACE_MS, DEFAULT_RACE_COALESCE_MS);
}

static int append(char ***list, size_t *n, const char *s) {
        char **l = realloc(*list, (*n + 1) * sizeof(char *));

        if (!l)
                return -ENOMEM;
        *list = l;
        if (!(l[*n] = strdup(s)))
                return -ENOMEM;
        (*n)++;
        return 0;
}

_printf_(1, 2) static int usage_error(const char *fmt, ...) {
        va_list ap;

        fputs("lockwarden: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputs("\nTry 'lockwarden --help'.\n", stderr);
        return -EINVAL;
}

static int parse_ms(const char *s, uint64_t max, uint64_t *ret) {
        char *end;
        unsigned long long v;

        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno || end == s || *end || s[0] == '-' || v > max)
                return -EINVAL;
        *ret = v;
        return 0;
}

int options_parse(int argc, char **argv, Command *ret_cmd, RunOptions *ret) {
        enum {
                ARG_VERSION = 0x100,
                ARG_STATE_DIR,
                ARG_WATCH,
                ARG_CLEANUP,
                ARG_EVENTS,
                ARG_LEAK_GRACE,
                ARG_BACKEND,
                ARG_RACES,
                ARG_RACE_COALESCE,
                ARG_REMOTE_CLEANUP,
                ARG_SOCKET,
                ARG_CONFIG,
                ARG_CHECK_CONFIG,
                ARG_USER,
                ARG_METRICS_FILE,
        };
        static const struct option options[] = {
                { "help",          no_argument,       NULL, 'h'            },
                { "version",       no_argument,       NULL, ARG_VERSION    },
                { "state-dir",     required_argument, NULL, ARG_STATE_DIR  },
                { "watch",         required_argument, NULL, ARG_WATCH      },
                { "cleanup",       required_argument, NULL, ARG_CLEANUP    },
                { "events",        required_argument, NULL, ARG_EVENTS     },
                { "leak-grace-ms", required_argument, NULL, ARG_LEAK_GRACE },
                { "backend",       required_argument, NULL, ARG_BACKEND    },
                { "races",         required_argument, NULL, ARG_RACES      },
                { "race-coalesce-ms", required_argument, NULL, ARG_RACE_COALESCE },
                { "remote-cleanup", required_argument, NULL, ARG_REMOTE_CLEANUP },
                { "socket",        required_argument, NULL, ARG_SOCKET     },
                { "config",        required_argument, NULL, ARG_CONFIG     },
                { "check-config",  no_argument,       NULL, ARG_CHECK_CONFIG },
                { "user",          required_argument, NULL, ARG_USER       },
                { "metrics-file",  required_argument, NULL, ARG_METRICS_FILE },
                {}
        };
        RunOptions o = { .leak_grace_ms = DEFAULT_LEAK_GRACE_MS,
                         .race_coalesce_ms = DEFAULT_RACE_COALESCE_MS };
        bool have_verb = false;
        int c, r;

        *ret_cmd = COMMAND_RUN;
        /* The verb comes first; options may also precede it ("lockwarden --help"). */
        if (argc > 1 && argv[1][0] != '-') {
                if (strcmp(argv[1], "run") != 0)
                        return usage_error("unknown command '%s' (commands: run, status, locks, holders, "
                                           "events, cleanup, reload, scan, metrics, help, version)", argv[1]);
                have_verb = true;
                argv++;
                argc--;
        }

        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, ":hV", options, NULL)) >= 0) {
                switch (c) {
                case 'V':
                        *ret_cmd = COMMAND_VERSION;
                        options_done(&o);
                        return 0;
                case 'h':
                        *ret_cmd = COMMAND_HELP;
                        options_done(&o);
                        return 0;
                case ARG_VERSION:
                        *ret_cmd = COMMAND_VERSION;
                        options_done(&o);
                        return 0;
                case ARG_STATE_DIR:
                case ARG_WATCH:
                        o.set |= OPT_SET_FOLDERS;
                        if (!optarg[0]) {
                                options_done(&o);
                                return usage_error("%s needs a folder", c == ARG_WATCH ? "--watch" : "--state-dir");
                        }
                        r = c == ARG_WATCH ? append(&o.watch_dirs, &o.n_watch_dirs, optarg)
                                           : append(&o.state_dirs, &o.n_state_dirs, optarg);
                        if (r < 0) {
                                options_done(&o);
                                return r;
                        }
                        break;
                case ARG_REMOTE_CLEANUP: {
                        _cleanup_free_ char *abs = NULL;

                        o.set |= OPT_SET_REMOTE_CLEANUP;
                        if (!optarg[0]) {
                                options_done(&o);
                                return usage_error("--remote-cleanup needs a folder");
                        }
                        abs = path_absolute(optarg);
                        r = abs ? append(&o.remote_cleanup_dirs, &o.n_remote_cleanup_dirs, abs) : -ENOMEM;
                        if (r < 0) {
                                options_done(&o);
                                return r;
                        }
                        break;
                }
                case ARG_CLEANUP:
                        o.set |= OPT_SET_CLEANUP;
                        r = lookup(cleanup_mode_table, _CLEANUP_MODE_MAX, optarg);
                        if (r < 0) {
                                options_done(&o);
                                return usage_error("--cleanup must be auto or report, not '%s'", optarg);
                        }
                        o.cleanup = (CleanupMode) r;
                        break;
                case ARG_CONFIG:
                        free(o.config_path);
                        o.config_path = optarg[0] ? strdup(optarg) : NULL;
                        if (!o.config_path) {
                                options_done(&o);
                                return usage_error("--config needs a file");
                        }
                        o.config_given = true;
                        break;
                case ARG_CHECK_CONFIG:
                        o.check_config = true;
                        break;
                case ARG_USER:
                        o.set |= OPT_SET_USER;
                        free(o.user);
                        o.user = optarg[0] ? strdup(optarg) : NULL;
                        if (!o.user) {
                                options_done(&o);
                                return usage_error("--user needs a user name or uid");
                        }
                        break;
                case ARG_SOCKET:
                        o.set |= OPT_SET_SOCKET;
                        if (!optarg[0]) {
                                options_done(&o);
                                return usage_error("--socket needs a path (or 'none')");
                        }
                        free(o.socket_path);
                        o.socket_path = strdup(optarg);
                        if (!o.socket_path) {
                                options_done(&o);
                                return -ENOMEM;
                        }
                        break;
                case ARG_METRICS_FILE:
                        o.set |= OPT_SET_METRICS_FILE;
                        free(o.metrics_file);
                        o.metrics_file = optarg[0] ? path_absolute(optarg) : NULL;
                        if (!o.metrics_file) {
                                options_done(&o);
                                return optarg[0] ? -ENOMEM : usage_error("--metrics-file needs a file");
                        }
                        break;
                case ARG_EVENTS:
                        o.set |= OPT_SET_EVENTS;
                        free(o.events_path);
                        o.events_path = strdup(optarg);
                        if (!o.events_path) {
                                options_done(&o);
                                return -ENOMEM;
                        }
                        break;
                case ARG_LEAK_GRACE:
                        o.set |= OPT_SET_LEAK_GRACE;
                        if (parse_ms(optarg, 86400000, &o.leak_grace_ms) < 0) {
                                options_done(&o);
                                return usage_error("--leak-grace-ms takes milliseconds from 0 to 86400000, not '%s'", optarg);
                        }
                        break;
                case ARG_RACE_COALESCE:
                        o.set |= OPT_SET_RACE_COALESCE;
                        if (parse_ms(optarg, 60000, &o.race_coalesce_ms) < 0) {
                                options_done(&o);
                                return usage_error("--race-coalesce-ms takes milliseconds from 0 to 60000, not '%s'", optarg);
                        }
                        break;
                case ARG_RACES:
                        o.set |= OPT_SET_RACES;
                        r = lookup(races_mode_table, _RACES_MODE_MAX, optarg);
                        if (r < 0) {
                                options_done(&o);
                                return usage_error("--races must be report or off, not '%s'", optarg);
                        }
                        o.races = (RacesMode) r;
                        break;
                case ARG_BACKEND:
                        o.set |= OPT_SET_BACKEND;
                        r = lookup(backend_table, _BACKEND_MAX, optarg);
                        if (r < 0) {
                                options_done(&o);
                                return usage_error("--backend must be auto, fanotify or inotify, not '%s'", optarg);
                        }
                        o.backend = (BackendKind) r;
                        break;
                case ':':
                        options_done(&o);
                        return usage_error("option '%s' needs a value", argv[optind - 1]);
                default:
                        options_done(&o);
                        return usage_error("unknown option '%s'", argv[optind - 1]);
                }
        }
        if (optind < argc) {
                options_done(&o);
                return usage_error("unexpected argument '%s'", argv[optind]);
        }
        if (!have_verb) {
                options_done(&o);
                return usage_error("%s", "no command given (did you mean 'lockwarden run'?)");
        }
        *ret = o;
        return 0;
}

int options_default_state_dir(char **ret) {
        const char *e = getenv("OPENCLAW_STATE_DIR"), *home;
        char *s;

        if (e && e[0]) {
                s = strdup(e);
        } else {
                home = getenv("HOME");
                if (!home || home[0] != '/') {
                        struct passwd *pw = getpwuid(getuid());
                        home = pw ? pw->pw_dir : NULL;
                }
                if (!home)
                        return -ENOENT;
                if (asprintf(&s, "%s/.openclaw", home) < 0)
                        s = NULL;
        }
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

void options_done(RunOptions *o) {
        for (size_t i = 0; i < o->n_state_dirs; i++)
                free(o->state_dirs[i]);
        for (size_t i = 0; i < o->n_watch_dirs; i++)
                free(o->watch_dirs[i]);
        for (size_t i = 0; i < o->n_remote_cleanup_dirs; i++)
                free(o->remote_cleanup_dirs[i]);
        free(o->state_dirs);
        free(o->watch_dirs);
        free(o->remote_cleanup_dirs);
        free(o->events_path);
        free(o->socket_path);
        free(o->config_path);
        free(o->config_read);
        free(o->user);
        free(o->metrics_file);
        for (size_t i = 0; i < o->n_rules; i++)
                free(o->rules[i].path);
        free(o->rules);
        *o = (RunOptions) {};
}

static int copy_list(char **from, size_t n, char ***to) {
        *to = n ? calloc(n, sizeof(char *)) : NULL;
        if (n && !*to)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                if (!((*to)[i] = strdup(from[i])))
                        return -ENOMEM;
        return 0;
}

int options_copy(const RunOptions *o, RunOptions *ret) {
        RunOptions c = *o;

        c.state_dirs = c.watch_dirs = c.remote_cleanup_dirs = NULL;
        c.events_path = c.socket_path = c.config_path = c.config_read = c.user = c.metrics_file = NULL;
        c.rules = NULL;
        c.n_state_dirs = c.n_watch_dirs = c.n_remote_cleanup_dirs = c.n_rules = 0;
        if (copy_list(o->state_dirs, o->n_state_dirs, &c.state_dirs) < 0)
                goto fail;
        c.n_state_dirs = o->n_state_dirs;
        if (copy_list(o->watch_dirs, o->n_watch_dirs, &c.watch_dirs) < 0)
                goto fail;
        c.n_watch_dirs = o->n_watch_dirs;
        if (copy_list(o->remote_cleanup_dirs, o->n_remote_cleanup_dirs, &c.remote_cleanup_dirs) < 0)
                goto fail;
        c.n_remote_cleanup_dirs = o->n_remote_cleanup_dirs;
        if ((o->events_path && !(c.events_path = strdup(o->events_path))) ||
            (o->socket_path && !(c.socket_path = strdup(o->socket_path))) ||
            (o->config_path && !(c.config_path = strdup(o->config_path))) ||
            (o->config_read && !(c.config_read = strdup(o->config_read))) ||
            (o->user && !(c.user = strdup(o->user))) ||
            (o->metrics_file && !(c.metrics_file = strdup(o->metrics_file))))
                goto fail;
        if (o->n_rules) {
                c.rules = calloc(o->n_rules, sizeof(FolderRule));
                if (!c.rules)
                        goto fail;
                for (; c.n_rules < o->n_rules; c.n_rules++) {
                        c.rules[c.n_rules] = o->rules[c.n_rules];
                        if (!(c.rules[c.n_rules].path = strdup(o->rules[c.n_rules].path)))
                                goto fail;
                }
        }
        *ret = c;
        return 0;
fail:
        options_done(&c);
        return -ENOMEM;
}
