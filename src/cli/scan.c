/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* scan.c: the one-shot scan. It shares the daemon's judgment and removal (payload, proc,
 * holder-map seeding, verdict, cleanup) but no Manager, no loop and no event source. */
#include <dirent.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "chase.h"
#include "cleanup.h"
#include "escape.h"
#include "file-id.h"
#include "fs-type.h"
#include "fs-util.h"
#include "holder-map.h"
#include "layout.h"
#include "lock-facts.h"
#include "macro.h"
#include "openclaw.h"
#include "owner.h"
#include "options.h"
#include "payload.h"
#include "proc.h"
#include "recovery.h"
#include "scan.h"
#include "table.h"
#include "time-util.h"
#include "verb-help.h"
#include "verdict.h"

typedef struct ScanLock {
        char *folder;            /* path, for reports */
        int dirfd;               /* borrowed from the folder list */
        uint64_t fsid;
        char *name;
        struct stat st;
        FileId fid;
        bool have_fid;
        char *buf;               /* NULL: too large to verify */
        size_t len;
        LockPayload payload;
        TrackedFile *file;       /* its holders (for writing) */
        int state;               /* its state dir in Scan.states, -1: a --watch folder */
        LockFacts facts;         /* what the verdict was given (lock-facts.h) */
        LockJudgement j;
        const char *action;      /* --fix: removed, kept */
        char why[256];
} ScanLock;

/* A state dir and the OpenClaw release found for it. */
typedef struct ScanState {
        const char *path;
        Release release;
        char version[24];
        char source[48];
} ScanState;

typedef struct Scan {
        bool fix, json, legend, full;
        ScanState states[64];
        size_t n_states;
        int cur_state;           /* while a state dir is read: its index; -1 otherwise */
        uint64_t grace_ms;
        int *dirfds;
        size_t n_dirfds;
        ScanLock *locks;
        size_t n_locks, n_alloc;
        HolderMap holders;
        int errors;
        const char *remote_cleanup[64]; /* --remote-cleanup: the daemon's opt-in, as given */
        size_t n_remote_cleanup;
} Scan;

static void scan_error(Scan *s, const char *path, const char *what) {
        fprintf(stderr, "lockwarden scan: %s: %s\n", path, what);
        s->errors++;
}

static void add_lock(Scan *s, const char *folder, int dirfd, uint64_t fsid, const char *name) {
        LockRead rd;
        ScanLock *l;
        int r;

        if (!grow_array((void **) &s->locks, &s->n_alloc, s->n_locks, sizeof(ScanLock), 16))
                return;
        l = &s->locks[s->n_locks];
        *l = (ScanLock) { .dirfd = dirfd, .fsid = fsid, .state = s->cur_state };
        r = lock_facts_read(dirfd, name, fsid, &rd);
        if (r == -ENOENT)
                return; /* gone meanwhile */
        if (r < 0 && r != -EFBIG) {
                _cleanup_free_ char *p = escape_path(folder, name);
                char e[128];
                snprintf(e, sizeof(e), "cannot read: %s (not a regular file? not followed)", strerror(-r));
                scan_error(s, p ? p : name, e);
                return;
        }
        l->folder = strdup(folder);
        l->name = strdup(name);
        l->st = rd.st;
        l->fid = rd.fid;
        l->have_fid = l->fid.len > 0;
        l->buf = TAKE_PTR(rd.buf); /* NULL: too large, and the payload says so */
        l->len = rd.len;
        l->payload = rd.payload;
        s->n_locks++;
}

static void scan_folder(Scan *s, const char *path, int dirfd) {
        uint64_t fsid = 0;
        struct dirent *de;
        DIR *d;

        (void) file_id_fsid(dirfd, &fsid);
        d = opendir_at(dirfd);
        if (!d) {
                scan_error(s, path, strerror(errno));
                close(dirfd);
                return;
        }
        while ((de = readdir(d)))
                if (file_kind_from_name(de->d_name) == FILE_LOCK)
                        add_lock(s, path, dirfd, fsid, de->d_name);
        closedir(d);
        /* Kept open for --fix: removal is relative to it. */
        int *fds = realloc(s->dirfds, (s->n_dirfds + 1) * sizeof(int));
        if (!fds) {
                close(dirfd);
                return;
        }
        s->dirfds = fds;
        s->dirfds[s->n_dirfds++] = dirfd;
}

/* Opens NAME below DIRFD as a folder without following a symlink. */
static int open_sub(int dirfd, const char *name) {
        return openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

/* Opens a configured folder as the daemon does (chase.h); on failure says why. */
static int open_configured(Scan *s, const char *path) {
        _cleanup_free_ char *unsafe = NULL;
        int fd = chase_dir(path, &unsafe);

        if (fd < 0) {
                char why[PATH_MAX + 128];

                chase_error(fd, unsafe, why, sizeof(why));
                scan_error(s, path, why);
        }
        return fd;
}

/* A configured folder at the wrong level, where no sessions folder was found: an error, with
 * the likely fix (as the daemon says it in monitor.warning). FD: the folder (-1: open it). */
static void check_level(Scan *s, const char *path, bool as_state_dir, int fd) {
        _cleanup_free_ char *abs = path_absolute(path);
        _cleanup_close_ int own = fd < 0 ? chase_dir(path, NULL) : -1;
        char hint[2 * PATH_MAX + 512];

        if (!abs || (fd < 0 && own < 0))
                return;
        if (layout_hint(abs, as_state_dir, false, layout_level(fd >= 0 ? fd : own, abs), hint, sizeof(hint)))
                scan_error(s, path, hint);
}

static void scan_state_dir(Scan *s, const char *state) {
        _cleanup_close_ int sfd = open_configured(s, state), afd = -1;
        ScanState *st = &s->states[s->n_states];
        struct dirent *de;
        DIR *d;

        if (sfd < 0)
                return;
        *st = (ScanState) { .path = state, .release = RELEASE_UNKNOWN };
        s->cur_state = (int) s->n_states++;
        afd = open_sub(sfd, "agents");
        if (afd < 0) {
                if (errno != ENOENT)
                        scan_error(s, state, "agents/: not a folder (a symlink is not followed)");
                return;
        }
        d = opendir_at(afd);
        if (!d) {
                scan_error(s, state, strerror(errno));
                return;
        }
        while ((de = readdir(d))) {
                _cleanup_free_ char *path = NULL;
                int agent, sessions;

                if (de->d_name[0] == '.')
                        continue;
                agent = open_sub(afd, de->d_name);
                if (agent < 0)
                        continue; /* a file, or a symlink: not followed */
                /* 2026.8 and later: a SQLite store and no session write locks. */
                struct stat sq;
                if (st->release == RELEASE_UNKNOWN &&
                    fstatat(agent, "agent/openclaw-agent.sqlite", &sq, AT_SYMLINK_NOFOLLOW) >= 0 && S_ISREG(sq.st_mode)) {
                        st->release = RELEASE_2026_8;
                        snprintf(st->source, sizeof(st->source), "SQLite session store");
                }
                sessions = open_sub(agent, "sessions");
                close(agent);
                if (sessions < 0)
                        continue;
                if (asprintf(&path, "%s/agents/%s/sessions", state, de->d_name) < 0) {
                        close(sessions);
                        continue;
                }
                scan_folder(s, path, sessions);
        }
        closedir(d);
        s->cur_state = -1;
}

/* The release of L's state dir, from its live owner's package.json if not known yet (a lock in
 * use says more than a store on disk). */
static void learn_release(Scan *s, ScanLock *l) {
        ScanState *st = l->state >= 0 ? &s->states[l->state] : NULL;
        char version[24];
        Release r;

        if (!st || (st->release != RELEASE_UNKNOWN && st->version[0]) || l->facts.owner != OWNER_ALIVE ||
            owner_version_of_pid(l->facts.owner_host_pid, version, sizeof(version)) < 0)
                return;
        r = release_from_version(version);
        if (r == RELEASE_UNKNOWN)
                return;
        st->release = r;
        snprintf(st->version, sizeof(st->version), "%s", version);
        snprintf(st->source, sizeof(st->source), "package.json of pid %d", (int) l->facts.owner_host_pid);
}

static bool leftover(Scan *s, const ScanLock *l) {
        return l->state >= 0 && s->states[l->state].release == RELEASE_2026_8;
}

/* The verdict's facts from /proc now, gathered as the daemon gathers them (lock-facts.h), with
 * no history: no creator known, and "unheld since" is the file's last change. */
static void judge(Scan *s, ScanLock *l) {
        uint64_t now = now_mono_ns();
        int64_t age_us = now_realtime_us() - ((int64_t) l->st.st_mtim.tv_sec * 1000000 + l->st.st_mtim.tv_nsec / 1000);
        uint64_t since = age_us > 0 ? (uint64_t) age_us * NSEC_PER_USEC : 0;
        OwnerProbe owner;
        LockFactsSource src = {
                .payload = &l->payload,
                .file = l->file,
                .unheld_since_ns = since < now ? now - since : 0,
                .now_ns = now,
                .grace_ns = s->grace_ms * NSEC_PER_MSEC,
        };

        if (l->payload.valid) {
                pid_t host;

                /* Through the writers' pid namespaces, as the daemon does (no creator known). */
                src.owner_ns = lock_facts_resolve_owner(&l->payload, 0, 0, l->file, &host);
                lock_facts_probe_owner(host, &owner);
                src.owner = &owner;
        }
        lock_facts_gather(&src, &l->facts);
        verdict_judge(&l->facts, &l->j);
}

static bool under_remote_cleanup(const Scan *s, const char *folder) {
        _cleanup_free_ char *abs = path_absolute(folder);

        for (size_t i = 0; abs && i < s->n_remote_cleanup; i++) {
                _cleanup_free_ char *dir = path_absolute(s->remote_cleanup[i]);
                if (dir && path_is_under(abs, dir))
                        return true;
        }
        return false;
}

static void fix(Scan *s, ScanLock *l) {
        int r;

        if (leftover(s, l) && l->j.reason != STALE_DEAD_PID && l->j.reason != STALE_RECYCLED_PID) {
                l->action = "kept";
                snprintf(l->why, sizeof(l->why), "a leftover of OpenClaw 2026.8+ (no session write locks): "
                         "removed once its owner is gone");
                return;
        }
        if (!l->buf) {
                l->action = "kept";
                snprintf(l->why, sizeof(l->why), "payload too large to verify; remove it by hand");
                return;
        }
        /* A gone owner's argv is past knowing here (the process with its pid now is another
         * one): on doubt, whatever sessions.json asks for is kept. */
        if (recovery_keeps(l->dirfd, l->name, l->j.reason, TRISTATE_UNKNOWN, NULL, l->why, sizeof(l->why))) {
                l->action = "kept";
                return;
        }
        /* The daemon's rule: on a network or FUSE filesystem the owner pid may be another
         * host's, so only a folder under --remote-cleanup is cleaned. */
        FsType t;
        if (fs_type_of(l->dirfd, &t) >= 0 && t.remote && !under_remote_cleanup(s, l->folder)) {
                l->action = "kept";
                snprintf(l->why, sizeof(l->why), "on a remote filesystem (%s): reported only; --remote-cleanup opts in",
                         t.name);
                return;
        }
        r = cleanup_remove_lock(l->dirfd, l->name, l->st.st_dev, l->st.st_ino, l->have_fid ? &l->fid : NULL,
                                l->buf, l->len, l->why, sizeof(l->why), NULL);
        l->action = r == CLEANUP_REMOVED ? "removed" : "kept";
}

static void print(Scan *s) {
        static const char *const cols[] = { "/LOCK", ">OWNER", "ALIVE", "HOLDING", ">AGE", "VERDICT", "*WHY", NULL };
        static const char *const cols_fix[] = { "/LOCK", ">OWNER", "ALIVE", "HOLDING", ">AGE", "VERDICT", "*WHY", "ACTION", NULL };
        json_t *arr = s->json ? json_array() : NULL;
        Table *t = s->json ? NULL : table_new(s->fix ? cols_fix : cols);
        size_t stale = 0, removed = 0;

        for (size_t i = 0; i < s->n_locks; i++) {
                ScanLock *l = &s->locks[i];
                _cleanup_free_ char *path = escape_path(l->folder, l->name);
                char pid[16] = "-", age[32];
                /* As judged: the same facts, not read again. */
                bool alive = l->facts.payload_valid && l->facts.owner == OWNER_ALIVE;
                bool holding = l->facts.owner_holds && !l->facts.owner_holds_assumed;
                const char *verdict = leftover(s, l) && l->j.verdict != VERDICT_LIVE ? "leftover" :
                                      l->j.verdict == VERDICT_STALE ? stale_reason_to_string(l->j.reason)
                                                                    : verdict_to_string(l->j.verdict);
                long long age_ms = l->payload.has_created_at ? (now_realtime_us() - l->payload.created_at_us) / 1000
                                   : (now_realtime_us() - (long long) l->st.st_mtim.tv_sec * 1000000) / 1000;

                char pending[160];
                const char *why = verdict_why(&l->j, now_mono_ns(), pending, sizeof(pending));

                stale += l->j.verdict == VERDICT_STALE;
                removed += l->action && strcmp(l->action, "removed") == 0;
                if (l->payload.valid)
                        snprintf(pid, sizeof(pid), "%d", (int) l->payload.pid);
                format_age(age_ms, age, sizeof(age));
                if (arr) {
                        json_t *o = json_pack(
                                "{s:s, s:o, s:o, s:b, s:I, s:s, s:s?, s:s?, s:s, s:s?, s:s, s:b, s:o}",
                                "lock", path ? path : l->name,
                                "owner_pid", l->payload.valid ? json_integer(l->payload.pid) : json_null(),
                                "owner_alive", l->payload.valid ? json_boolean(alive) : json_null(),
                                "holding", holding, "age_ms", (json_int_t) age_ms,
                                "verdict", verdict_to_string(l->j.verdict),
                                "reason", l->j.verdict == VERDICT_STALE ? stale_reason_to_string(l->j.reason) : NULL,
                                "rule", l->j.rule,
                                "detail", l->j.detail,
                                "action", l->action, "why", l->action ? l->why : why,
                                "leftover", leftover(s, l),
                                /* What the verdict was given, as explain --json says it too. */
                                "facts", lock_facts_json(&l->facts));
                        json_array_append_new(arr, o);
                        continue;
                }
                const char *row[] = { path ? path : l->name, pid, l->payload.valid ? (alive ? "yes" : "no") : "-",
                                      holding ? "yes" : "no", age, verdict, l->action && strcmp(l->action, "removed") != 0 ? l->why : why,
                                      l->action };
                table_add(t, row);
        }
        if (arr) {
                json_t *rel = json_array();
                for (size_t i = 0; rel && i < s->n_states; i++)
                        json_array_append_new(rel, json_pack("{s:s, s:s, s:s?, s:s?}", "state_dir", s->states[i].path,
                                "release", release_to_string(s->states[i].release),
                                "version", s->states[i].version[0] ? s->states[i].version : NULL,
                                "source", s->states[i].source[0] ? s->states[i].source : NULL));
                json_t *o = json_pack("{s:o, s:I, s:I, s:I, s:o}", "locks", arr, "stale", (json_int_t) stale,
                                      "removed", (json_int_t) removed, "errors", (json_int_t) s->errors,
                                      "releases", rel ? rel : json_array());
                json_dumpf(o, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
                fputc('\n', stdout);
                json_decref(o);
                return;
        }
        table_print(t, stdout, s->legend, s->full ? 0 : table_width(stdout));
        if (s->legend) {
                printf("\n%zu %s, %zu stale%s.\n", s->n_locks, plural((long long) s->n_locks, "lock", "locks"), stale,
                       s->fix ? (removed ? ", removed" : ", none removed") : stale ? " (run with --fix to remove)" : "");
                for (size_t i = 0; i < s->n_states; i++) {
                        const ScanState *st = &s->states[i];
                        printf("%s: OpenClaw %s%s%s%s%s%s\n", st->path, release_to_string(st->release),
                               st->version[0] ? " (" : "", st->version, st->version[0] ? ")" : "",
                               st->source[0] ? ", from the " : " (no live lock owner to ask)", st->source);
                }
        }
        table_free(t);
}

void scan_help(void) {
        fputs("Usage: lockwarden scan [OPTIONS]\n\n"
              "One shot, no daemon: find every lock in the sessions folders, judge it from /proc and\n"
              "print it with its verdict and why; remove stale ones only with --fix.\n\n"
              "Options:\n"
              "      --state-dir DIR  every DIR/agents/*/sessions/ folder (repeatable)\n"
              "      --watch DIR      one sessions folder (repeatable); default for both:\n"
              "                       $OPENCLAW_STATE_DIR, else ~/.openclaw, as a state dir\n"
              "      --fix            remove the stale locks (on a network or FUSE filesystem only\n"
              "                       under --remote-cleanup)\n"
              "      --leak-grace-ms N\n"
              "                       how long a lock may stay with nobody holding it open\n"
              "      --remote-cleanup DIR\n"
              "                       remove stale locks on a network filesystem under DIR too\n"
              HELP_FULL
              "      --json           print JSON (field names: lockwarden(8))\n"
              HELP_LEGEND HELP_HELP
              "\nExit status: 0 nothing stale, 1 stale found, 2 an error (a folder that cannot be read,\n"
              "a folder given at the wrong level with no sessions folder found there, bad usage).\n", stdout);
}

int scan_main(int argc, char **argv) {
        enum { ARG_STATE_DIR = 0x100, ARG_WATCH, ARG_FIX, ARG_JSON, ARG_NO_LEGEND, ARG_GRACE, ARG_REMOTE_CLEANUP,
               ARG_FULL };
        static const struct option options[] = {
                { "help",          no_argument,       NULL, 'h'           },
                { "state-dir",     required_argument, NULL, ARG_STATE_DIR },
                { "watch",         required_argument, NULL, ARG_WATCH     },
                { "fix",           no_argument,       NULL, ARG_FIX       },
                { "json",          no_argument,       NULL, ARG_JSON      },
                { "no-legend",     no_argument,       NULL, ARG_NO_LEGEND },
                { "leak-grace-ms", required_argument, NULL, ARG_GRACE     },
                { "remote-cleanup", required_argument, NULL, ARG_REMOTE_CLEANUP },
                { "full",          no_argument,       NULL, ARG_FULL      },
                {}
        };
        Scan s = { .legend = true, .grace_ms = DEFAULT_LEAK_GRACE_MS, .cur_state = -1 };
        const char *states[64], *watches[64];
        size_t n_states = 0, n_watches = 0, stale = 0;
        _cleanup_free_ char *dflt = NULL;
        int c;

        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, ":h", options, NULL)) >= 0) {
                switch (c) {
                case 'h':
                        scan_help();
                        return 0;
                case ARG_FULL:
                        s.full = true;
                        break;
                case ARG_STATE_DIR:
                case ARG_WATCH:
                        if ((c == ARG_WATCH ? n_watches : n_states) >= 64) {
                                fprintf(stderr, "lockwarden scan: at most 64 folders of each kind\n");
                                return 2;
                        }
                        if (c == ARG_WATCH)
                                watches[n_watches++] = optarg;
                        else
                                states[n_states++] = optarg;
                        break;
                case ARG_FIX:
                        s.fix = true;
                        break;
                case ARG_REMOTE_CLEANUP:
                        if (s.n_remote_cleanup >= ELEMENTSOF(s.remote_cleanup)) {
                                fprintf(stderr, "lockwarden scan: at most 64 --remote-cleanup folders\n");
                                return 2;
                        }
                        s.remote_cleanup[s.n_remote_cleanup++] = optarg;
                        break;
                case ARG_JSON:
                        s.json = true;
                        break;
                case ARG_NO_LEGEND:
                        s.legend = false;
                        break;
                case ARG_GRACE: {
                        char *end;
                        errno = 0;
                        unsigned long long v = strtoull(optarg, &end, 10);
                        if (errno || end == optarg || *end || optarg[0] == '-' || v > 3600000) {
                                fprintf(stderr, "lockwarden scan: --leak-grace-ms needs milliseconds (0..3600000), not '%s'\n", optarg);
                                return 2;
                        }
                        s.grace_ms = v;
                        break;
                }
                case ':':
                        fprintf(stderr, "lockwarden scan: option '%s' needs a value\n", argv[optind - 1]);
                        return 2;
                default:
                        fprintf(stderr, "lockwarden scan: unknown option '%s'\n", argv[optind - 1]);
                        return 2;
                }
        }
        if (optind < argc) {
                fprintf(stderr, "lockwarden scan: unexpected argument '%s'\n", argv[optind]);
                return 2;
        }
        if (n_states == 0 && n_watches == 0) {
                if (options_default_state_dir(&dflt) < 0) {
                        fprintf(stderr, "lockwarden scan: no --state-dir or --watch and no home directory\n");
                        return 2;
                }
                states[n_states++] = dflt;
        }

        for (size_t i = 0; i < n_states; i++) {
                size_t folders = s.n_dirfds;
                int errors = s.errors;

                scan_state_dir(&s, states[i]);
                /* No sessions folder there: is it one, or an agent's, given at the wrong level? */
                if (s.n_dirfds == folders && s.errors == errors)
                        check_level(&s, states[i], true, -1);
        }
        for (size_t i = 0; i < n_watches; i++) {
                int fd = open_configured(&s, watches[i]);
                if (fd >= 0) {
                        check_level(&s, watches[i], false, fd);
                        scan_folder(&s, watches[i], fd);
                }
        }

        /* Who holds what: one walk of /proc for every lock found. */
        if (holder_map_init(&s.holders) >= 0) {
                for (size_t i = 0; i < s.n_locks; i++) {
                        ScanLock *l = &s.locks[i];
                        /* Two names for one file (a hard link) share its holders. */
                        l->file = holder_map_get_inode(&s.holders, l->st.st_dev, l->st.st_ino);
                        if (!l->file && holder_map_add(&s.holders, FILE_LOCK, l->st.st_dev, l->st.st_ino,
                                                       l->have_fid ? &l->fid : NULL, l->name, &l->file) < 0) {
                                scan_error(&s, l->name, "out of memory");
                                l->file = NULL;
                        }
                }
                (void) holder_map_seed(&s.holders);
        }
        for (size_t i = 0; i < s.n_locks; i++) {
                judge(&s, &s.locks[i]);
                learn_release(&s, &s.locks[i]);
        }
        for (size_t i = 0; i < s.n_locks; i++)
                if (s.locks[i].j.verdict == VERDICT_STALE) {
                        stale++;
                        if (s.fix)
                                fix(&s, &s.locks[i]);
                }
        print(&s);

        for (size_t i = 0; i < s.n_locks; i++) {
                free(s.locks[i].folder);
                free(s.locks[i].name);
                free(s.locks[i].buf);
        }
        free(s.locks);
        for (size_t i = 0; i < s.n_dirfds; i++)
                close(s.dirfds[i]);
        free(s.dirfds);
        holder_map_done(&s.holders);
        return s.errors ? 2 : stale ? 1 : 0;
}
