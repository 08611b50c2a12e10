/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* control.c: the control socket: connections, requests, the verbs' answers. */
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "config.h"
#include "config-file.h"
#include "control.h"
#include "discovery.h"
#include "fs-util.h"
#include "list.h"
#include "lock-facts.h"
#include "lock.h"
#include "macro.h"
#include "model.h"
#include "metrics.h"
#include "outbuf.h"
#include "owner.h"
#include "proc.h"
#include "reload.h"
#include "report.h"
#include "time-util.h"
#include "tracker.h"
#include "tree.h"

#ifndef SO_PEERGROUPS
#define SO_PEERGROUPS 59
#endif

/* What one follower (events --follow) may have waiting; past it, events are dropped for it
 * and counted, and it is told how many once it reads again. Replies are not bounded: a
 * connection gets one reply at a time (its next request is read once the reply is out). */
#define CONTROL_FOLLOW_MAX (256u * 1024)
/* Connections: each user but root and the daemon's own may hold this many, all of them
 * together CONTROL_CONNS_MAX; root and the daemon's user have CONTROL_CONNS_ADMIN of their own,
 * so that no member of the socket's group can lock them out. */
#define CONTROL_CONNS_PER_UID 16
#define CONTROL_CONNS_MAX 64
#define CONTROL_CONNS_ADMIN 16
/* A connection that sends no complete request (or does not read its reply) for this long. */
#define CONTROL_IDLE_USEC (10ull * USEC_PER_SEC)
/* Out of descriptors: accept again when a connection closes, or after this long. */
#define CONTROL_ACCEPT_RETRY_USEC (1ull * USEC_PER_SEC)
/* ... and says so at most this often: at the limit, one descriptor freed for a moment (a
 * /proc read done, a connection closed) lets one connection in and the next one fail again. */
#define CONTROL_ACCEPT_SAY_USEC (60ull * USEC_PER_SEC)

typedef struct Conn Conn;

struct ControlServer {
        const Host *host;
        char *path;
        dev_t dev;
        ino_t ino;
        int fd;
        sd_event_source *source;
        Conn *conns;
        unsigned n_conns, n_admin;
        sd_event_source *reaper;     /* frees broken connections outside their handlers */
        sd_event_source *retry;      /* accepting again after running out of descriptors */
        bool accept_paused, accept_said;
        uint64_t accept_said_usec;   /* when it was last said (CLOCK_MONOTONIC) */
        uint64_t idle_usec;
        uint64_t n_refused, n_accept_failures, n_idle_closed, n_lost;
        json_t *capture;             /* cleanup: the events its judgement caused */
};

struct Conn {
        ControlServer *server;
        LIST_FIELDS(Conn, conns);
        int fd;
        sd_event_source *source;
        sd_event_source *timer;      /* idle timeout */
        OutBuf *out;
        uid_t uid;
        gid_t gid;
        gid_t groups[64];
        int n_groups;
        bool follow;
        bool admin;                  /* root or the daemon's user: a slot of their own */
        bool broken;                 /* to be freed by the reaper */
        char in[CONTROL_REQUEST_MAX + 1];
        size_t in_len;
        bool in_discard;             /* skipping the rest of an oversized line */
};

char *control_default_path(bool server) {
        const char *rt = getenv("XDG_RUNTIME_DIR"), *sd = getenv("RUNTIME_DIRECTORY");
        char *p;

        /* A service with RuntimeDirectory=lockwarden gets it here, whatever its user. */
        if (server && sd && sd[0] == '/') {
                size_t n = strcspn(sd, ":");
                return asprintf(&p, "%.*s/control.sock", (int) n, sd) < 0 ? NULL : p;
        }
        if (geteuid() == 0)
                return strdup(CONTROL_SYSTEM_PATH);
        /* With no runtime folder, a client tries the system's daemon (and says when it is not
         * there); a daemon has nowhere to listen (the caller names XDG_RUNTIME_DIR). */
        if (!rt || rt[0] != '/')
                return server ? NULL : strdup(CONTROL_SYSTEM_PATH);
        if (asprintf(&p, "%s/lockwarden/control.sock", rt) < 0)
                return NULL;
        /* A user who runs a daemon of their own talks to it; else to the system's. */
        if (!server && access(p, F_OK) < 0 && access(CONTROL_SYSTEM_PATH, F_OK) == 0) {
                free(p);
                return strdup(CONTROL_SYSTEM_PATH);
        }
        return p;
}

int control_chown(ControlServer *s, uid_t uid, gid_t gid) {
        return fchownat(AT_FDCWD, s->path, uid, gid, AT_SYMLINK_NOFOLLOW) < 0 ? negative_errno() : 0;
}

/* ---- connections ---- */

static void accept_resume(ControlServer *s);

static void conn_free(Conn *c) {
        ControlServer *s = c->server;

        LIST_REMOVE(conns, s->conns, c);
        s->n_conns--;
        s->n_admin -= c->admin;
        sd_event_source_disable_unref(c->source);
        sd_event_source_disable_unref(c->timer);
        outbuf_free(c->out);
        close(c->fd);
        free(c);
        /* A descriptor is free again: if we ran out, accept again. */
        accept_resume(s);
}

/* Marks C for the reaper: events reach followers from anywhere in the daemon, even from inside
 * a connection's own handler. */
static void conn_break(Conn *c) {
        c->broken = true;
        (void) sd_event_source_set_enabled(c->source, SD_EVENT_OFF);
        (void) sd_event_source_set_enabled(c->timer, SD_EVENT_OFF);
        (void) sd_event_source_set_enabled(c->server->reaper, SD_EVENT_ONESHOT);
}

/* Progress (a request, bytes taken): the idle clock starts again. A follower may stay idle:
 * it waits for events, and what it does not read is bounded (CONTROL_FOLLOW_MAX). */
static void conn_touch(Conn *c) {
        if (c->follow) {
                (void) sd_event_source_set_enabled(c->timer, SD_EVENT_OFF);
                return;
        }
        (void) sd_event_source_set_time_relative(c->timer, c->server->idle_usec);
        (void) sd_event_source_set_enabled(c->timer, SD_EVENT_ONESHOT);
}

/* While a reply is being sent the next request waits (one reply per connection in memory). */
static int conn_update_io(Conn *c) {
        return sd_event_source_set_io_events(c->source, outbuf_pending(c->out) > 0 ? EPOLLOUT : EPOLLIN);
}

static int conn_flush(Conn *c) {
        size_t before = outbuf_pending(c->out);
        int r = outbuf_flush(c->out);

        if (r < 0)
                return r;
        if (outbuf_pending(c->out) < before)
                conn_touch(c);
        return conn_update_io(c);
}

/* jansson hands a reply over token by token: gathered here, one write per 64 KiB (not one
 * send() per token). */
typedef struct ReplyStage {
        OutBuf *out;
        size_t len;
        char buf[64 * 1024];
} ReplyStage;

static int stage_flush(ReplyStage *st) {
        int r = st->len ? outbuf_write(st->out, st->buf, st->len, true) : 0;

        st->len = 0;
        return r;
}

static int write_reply(const char *buffer, size_t size, void *userdata) {
        ReplyStage *st = userdata;

        if (st->len + size > sizeof(st->buf) && stage_flush(st) < 0)
                return -1;
        if (size > sizeof(st->buf))
                return outbuf_write(st->out, buffer, size, true) == 0 ? 0 : -1;
        memcpy(st->buf + st->len, buffer, size);
        st->len += size;
        return 0;
}

/* Queues a reply (a JSON object, consumed), whatever its size, and sends what the socket
 * takes now. Returns <0 when the connection is to be dropped. */
static int conn_reply(Conn *c, json_t *msg) {
        int r;

        if (!msg)
                return -ENOMEM;
        json_object_set_new(msg, "version", json_integer(CONTROL_PROTOCOL_VERSION));
        /* Written as it is serialised, 64 KiB at a time: no second copy of a large reply. */
        _cleanup_free_ ReplyStage *st = malloc(sizeof(ReplyStage));
        if (!st) {
                json_decref(msg);
                return -ENOMEM;
        }
        st->out = c->out;
        st->len = 0;
        r = json_dump_callback(msg, write_reply, st, JSON_COMPACT);
        json_decref(msg);
        if (r < 0 || write_reply("\n", 1, st) < 0 || stage_flush(st) < 0)
                return -EPIPE;
        conn_touch(c);
        return conn_update_io(c);
}

/* One event (a line, serialised once for all followers) for a follower: dropped (and counted)
 * when its backlog is full, never waited for. */
static int conn_event(Conn *c, const char *line, size_t n) {
        int r = outbuf_write(c->out, line, n, false);

        if (r == -ENOBUFS) {
                c->server->n_lost++;
                return 0;
        }
        if (r < 0)
                return r;
        conn_touch(c);
        return conn_update_io(c);
}

/* A follower read again after events were dropped for it: it is told how many. */
static void conn_drained(OutBuf *o, uint64_t dropped, void *userdata) {
        _cleanup_free_ char *s = NULL;

        (void) userdata;
        if (asprintf(&s, "{\"lost\":%" PRIu64 ",\"message\":\"you lost %" PRIu64 " events: this client "
                     "did not read them in time\",\"version\":%d}\n", dropped, dropped,
                     CONTROL_PROTOCOL_VERSION) >= 0)
                (void) outbuf_write(o, s, strlen(s), true);
}

static json_t *error_reply(const char *code, const char *message) {
        return json_pack("{s:{s:s, s:s}}", "error", "code", code, "message", message);
}

static bool peer_in_group(Conn *c, gid_t gid) {
        if (c->gid == gid)
                return true;
        for (int i = 0; i < c->n_groups; i++)
                if (c->groups[i] == gid)
                        return true;
        return false;
}

/* Root and the daemon's own user may do anything; the socket's group may read. */
static bool peer_may_write(Conn *c) {
        return c->uid == 0 || c->uid == geteuid();
}

static bool peer_may_read(Conn *c) {
        struct stat st;

        if (peer_may_write(c))
                return true;
        return stat(c->server->path, &st) == 0 && peer_in_group(c, st.st_gid);
}

/* ---- the verbs ---- */

static json_t *lock_json(Lock *l) {
        Owner *o = l->owner;
        json_t *holders = json_array(), *j;
        pid_t owner = l->payload.valid ? l->payload.pid : 0;
        LockFacts f;

        /* Alive and holding as the verdict sees them: the owner by its pid here (a container's
         * payload pid, 1 or 7, is not the holder's pid here). */
        lock_gather_facts(l, &f);

        for (unsigned i = 0; holders && i < l->file->n_holders; i++)
                json_array_append_new(holders, json_integer(l->file->holders[i]));
        j = json_pack("{s:o, s:o, s:o, s:s?, s:o, s:b, s:o, s:I, s:s, s:b}",
                      "lock", lock_path_json(l),
                      "session", json_null(),
                      "owner_pid", json_pid(owner),
                      "owner_comm", o && owner > 0 ? o->comm : NULL,
                      "owner_alive", f.payload_valid && f.owner != OWNER_UNKNOWN ? json_boolean(f.owner == OWNER_ALIVE)
                                                                                : json_null(),
                      "holding", f.owner_holds && !f.owner_holds_assumed,
                      "holders", holders ? holders : json_array(),
                      "age_ms", (json_int_t) lock_held_ms(l),
                      "verdict", verdict_to_string(l->verdict),
                      "payload_valid", l->payload.valid);
        if (j) {
                /* The verdict's rule and why; a stale lock kept says why it stays. */
                json_object_set_new(j, "reason", l->verdict == VERDICT_STALE
                                    ? json_string(stale_reason_to_string(l->judged_reason)) : json_null());
                json_object_set_new(j, "rule", l->judged_rule ? json_string(l->judged_rule) : json_null());
                char pending[160];
                json_object_set_new(j, "why", json_text(lock_why(l, true, now_mono_ns(), pending, sizeof(pending))));
                json_object_set_new(j, "kept", json_boolean(l->verdict == VERDICT_STALE && l->kept_reason));
        }
        if (j && l->file->folder && l->file->name)
                json_object_set_new(j, "session", lock_session_json(l));
        return j;
}

static json_t *do_status(ControlServer *s) {
        const Host *m = s->host;
        const RunOptions *o = m->opts;
        char ts[ISO_TS_MAX];
        json_t *j, *st;

        j = json_pack("{s:{s:i, s:s, s:s, s:s, s:I, s:s, s:o, s:o, s:o, s:I, s:I, s:I, s:s, s:s, "
                         "s:{s:I, s:I, s:I, s:I, s:I, s:I}}}",
                         "status",
                         "pid", (int) getpid(),
                         "version", PACKAGE_VERSION,
                         "backend", source_attribution(m->source) ? "fanotify" : "inotify",
                         "attribution", source_attribution(m->source) ? "pid" : "holder-scan",
                         "uptime_ms", (json_int_t) ((now_mono_ns() - m->metrics->start_mono_ns) / NSEC_PER_MSEC),
                         "started", format_iso_ts(m->metrics->start_realtime_us, ts),
                         "folders", tree_guarded_json(m->model),
                         "waiting_for", tree_pending_json(m->model),
                         "releases", tree_releases_json(m->model),
                         "locks", (json_int_t) m->model->n_locks,
                         "sessions", (json_int_t) m->model->holders.n_files[FILE_SESSION],
                         "owners", (json_int_t) hashmap_size(m->model->owners.by_pid),
                         "cleanup", cleanup_mode_to_string(o->cleanup),
                         "races", races_mode_to_string(o->races),
                         "counters",
                         "stale", (json_int_t) m->model->n_stale,
                         "cleaned", (json_int_t) m->model->n_cleaned,
                         "races", (json_int_t) m->model->n_races,
                         "events", (json_int_t) m->metrics->n_events,
                         "overflows", (json_int_t) m->metrics->n_overflows,
                         "wakeups", (json_int_t) m->metrics->n_wakeups);
        /* What clients cost: connections held, refused over a user's share, closed for idling,
         * accept4 failures (out of descriptors), events dropped for followers not reading. */
        st = json_object_get(j, "status");
        /* The configuration in force: the file it came from (null: none), and the settings the
         * operator may wonder about, as the file would say them. */
        json_t *eff = st ? config_to_json(o) : NULL;
        if (eff) {
                static const char *const keys[] = { "leak_grace_ms", "race_coalesce_ms", "ignore_races",
                                                    "remote_cleanup" };
                json_object_set_new(st, "config", o->config_read ? json_string(o->config_read) : json_null());
                json_object_set_new(st, "socket", json_string(s->path));
                for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                        json_object_set(st, keys[i], json_object_get(eff, keys[i]));
                json_object_set(st, "folder_rules", json_object_get(eff, "folders"));
                json_decref(eff);
        }
        /* Which program answers (a build tree's, or the package's). */
        char exe[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
        if (st && n > 0) {
                exe[n] = '\0';
                json_object_set_new(st, "exe", json_text(exe));
        }
        /* The state dirs found with no folder configured, and how (discovery.h). */
        if (st && discovery_enabled(m->discovery))
                json_object_set_new(st, "discovered", discovery_json(m->discovery));
        if (st)
                json_object_set_new(st, "control",
                                    json_pack("{s:I, s:I, s:I, s:I, s:I, s:b}",
                                              "connections", (json_int_t) s->n_conns,
                                              "refused", (json_int_t) s->n_refused,
                                              "idle_closed", (json_int_t) s->n_idle_closed,
                                              "accept_failures", (json_int_t) s->n_accept_failures,
                                              "lost_events", (json_int_t) s->n_lost,
                                              "accepting", !s->accept_paused));
        return j;
}

static void add_unlocked_sessions(Node *n, json_t *arr) {
        for (; n; n = n->siblings_next) {
                TrackedFile *f;
                size_t i = 0;

                while (n->kind == NODE_SESSIONS && hashmap_iterate(n->files, &i, (void **) &f)) {
                        _cleanup_free_ char *lock = NULL;

                        if (f->kind != FILE_SESSION || asprintf(&lock, "%s.lock", f->name) < 0 ||
                            hashmap_get(n->files, lock))
                                continue;
                        json_array_append_new(arr, json_pack("{s:n, s:o, s:n, s:n, s:n, s:b, s:[], s:n, s:s, s:n}",
                                                             "lock", "session", json_path(n->path, f->name),
                                                             "owner_pid", "owner_comm", "owner_alive",
                                                             "holding", false, "holders", "age_ms",
                                                             "verdict", "unlocked", "payload_valid"));
                }
                add_unlocked_sessions(n->children, arr);
        }
}

static json_t *do_locks(ControlServer *s, json_t *req) {
        const Host *m = s->host;
        json_t *arr = json_array();

        for (Lock *l = m->model->locks; arr && l; l = l->locks_next)
                if (l->file->name)
                        json_array_append_new(arr, lock_json(l));
        if (arr && json_is_true(json_object_get(req, "all")))
                for (size_t i = 0; i < m->model->n_roots; i++)
                        add_unlocked_sessions(m->model->roots[i]->anchor, arr);
        return arr ? json_pack("{s:o}", "locks", arr) : NULL;
}

/* The tracked file PATH names (not following a final symlink), or NULL. */
static TrackedFile *find_tracked(const Host *m, const char *path) {
        _cleanup_close_ int fd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        struct stat st;
        TrackedFile *f;

        if (fd < 0 || fstat(fd, &st) < 0)
                return NULL;
        f = holder_map_get_inode(&m->model->holders, st.st_dev, st.st_ino);
        return f && f->name ? f : NULL;
}

/* Why PATH names no tracked file: it is missing, or what it is instead. Looked up as root: only
 * for root and the daemon's user (LOOK); to the socket's group it would tell what is in
 * folders it may not read. */
static const char *untracked_why(const char *path, bool look) {
        _cleanup_close_ int fd = -1;
        struct stat st;

        if (!look)
                return "not a session file lockwarden guards";
        fd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 || fstat(fd, &st) < 0)
                return strerror(errno);
        if (S_ISLNK(st.st_mode))
                return "a symlink (lockwarden follows none): not a session file it guards";
        if (S_ISDIR(st.st_mode))
                return "a directory, not a session file (a lock or a transcript)";
        if (!S_ISREG(st.st_mode))
                return "not a regular file: no session file (lockwarden reports it, never opens it)";
        return "not a session file lockwarden guards";
}

static json_t *untracked_json(const char *path, bool look) {
        return json_pack("{s:s, s:b, s:s}", "path", path, "tracked", false, "error", untracked_why(path, look));
}

/* F's holders (open for writing) and, for a lock, its readers (from /proc, now), appended to
 * ARR; "reader" tells them apart. With none, one row with pid null. */
static void holders_json(TrackedFile *f, json_t *arr) {
        for (unsigned k = 0; k < f->n_holders; k++) {
                        pid_t pid = f->holders[k];
                        char comm[COMM_MAX], unit[256];
                        int fd = -1;

                        proc_comm(pid, comm);
                        if (proc_pid_find_fd(pid, f->inode.dev, f->inode.ino, tracked_file_fid(f), 0, &fd) <= 0)
                                fd = -1;
                        json_array_append_new(arr, json_pack(
                                "{s:o, s:b, s:s, s:i, s:s, s:s?, s:o, s:s}",
                                "path", json_path(f->folder ? f->folder->path : NULL, f->name),
                                "tracked", true, "kind", f->kind == FILE_LOCK ? "lock" : "transcript",
                                "pid", (int) pid, "comm", comm,
                                "unit", proc_unit(pid, unit, sizeof(unit)) >= 0 ? unit : NULL,
                                "fd", fd >= 0 ? json_integer(fd) : json_null(),
                                "mode", fd >= 0 ? proc_fd_mode(pid, fd) : "?", "reader", false));
                }
                /* A lock's readers (contenders polling its payload, a `cat`) hold nothing, but an
                 * operator asking who has it open wants to see them: from /proc, now. */
                pid_t readers[32];
                size_t n_readers = 0;
                if (f->kind == FILE_LOCK) {
                        pid_t w[1];
                        bool hidden;
                        if (proc_find_writers(f->inode.dev, f->inode.ino, tracked_file_fid(f), w, 0, readers,
                                              ELEMENTSOF(readers), &n_readers, &hidden) < 0)
                                n_readers = 0;
                        n_readers = MIN_SIZE(n_readers, ELEMENTSOF(readers));
                }
                for (size_t k = 0; k < n_readers; k++) {
                        char comm[COMM_MAX], unit[256];
                        proc_comm(readers[k], comm);
                        json_array_append_new(arr, json_pack(
                                "{s:o, s:b, s:s, s:i, s:s, s:s?, s:n, s:s, s:b}",
                                "path", json_path(f->folder ? f->folder->path : NULL, f->name),
                                "tracked", true, "kind", "lock", "pid", (int) readers[k], "comm", comm,
                                "unit", proc_unit(readers[k], unit, sizeof(unit)) >= 0 ? unit : NULL,
                                "fd", "mode", "r", "reader", true));
                }
                if (f->n_holders == 0 && n_readers == 0)
                        json_array_append_new(arr, json_pack("{s:o, s:b, s:s, s:n}",
                                "path", json_path(f->folder ? f->folder->path : NULL, f->name),
                                "tracked", true, "kind", f->kind == FILE_LOCK ? "lock" : "transcript", "pid"));
}

static json_t *do_holders(ControlServer *s, json_t *req, bool look) {
        const Host *m = s->host;
        json_t *paths = json_object_get(req, "paths"), *p, *arr = json_array();
        size_t i;

        tracker_settle_holders(m->model); /* transcripts' closes taken on trust so far */

        json_array_foreach(paths, i, p) {
                _cleanup_free_ char *abs = path_absolute(json_string_value(p));
                TrackedFile *f = abs ? find_tracked(m, abs) : NULL;

                if (!f)
                        json_array_append_new(arr, untracked_json(abs ? abs : json_string_value(p), look));
                else
                        holders_json(f, arr);
        }
        return json_pack("{s:o}", "holders", arr);
}

/* Everything lockwarden knows of one lock, and why it judged it so. */
static json_t *explain_lock(const Host *m, Lock *l) {
        json_t *j, *holders = json_array(), *writers = json_array(), *readers = json_array(), *events, *mine = json_array(), *h;
        const LockPayload *p = &l->payload;
        Owner *o = l->owner;
        pid_t host = lock_owner_pid(l);
        char unit[256], exe[256], ts[ISO_TS_MAX], pending[160];
        const char *check;
        size_t i;

        holders_json(l->file, holders);
        json_array_foreach(holders, i, h)
                if (!json_is_null(json_object_get(h, "pid")))
                        json_array_append(json_is_true(json_object_get(h, "reader")) ? readers : writers, h);
        json_decref(holders);

        /* That lock's own reports from the ring (a race quotes the kernel events before it):
         * those naming it, or naming no lock but its transcript. Paths as reports write them. */
        json_t *lock_path = l->file->folder && l->file->name ? lock_path_json(l) : NULL;
        json_t *session_path = lock_path ? lock_session_json(l) : NULL;
        events = report_ring_json(m->reporter, 0);
        json_array_foreach(events, i, h) {
                json_t *lp = json_object_get(h, "lock");
                if (lock_path && (json_is_string(lp) ? json_equal(lp, lock_path)
                                                      : json_equal(json_object_get(h, "session"), session_path)))
                        json_array_append(mine, h);
        }
        json_decref(events);
        json_decref(lock_path);
        json_decref(session_path);

        check = !p->valid ? NULL : !p->has_starttime ? "the payload has no start time"
                : !o || o->exited ? "the owner is gone"
                : !o->have_starttime ? "the owner's start time cannot be read"
                : o->starttime == p->starttime ? "matches the payload" : "differs from the payload: a recycled pid";
        if (o && !o->exited) {
                proc_exe(o->pid, exe, sizeof(exe));
                if (proc_unit(o->pid, unit, sizeof(unit)) < 0)
                        unit[0] = '\0';
        } else
                exe[0] = unit[0] = '\0';

        j = json_pack("{s:o, s:o, s:s, s:o, s:o, s:o, s:o, s:{s:b, s:s?, s:o, s:o, s:o, s:o, s:o}, "
                      "s:{s:o, s:o, s:s?, s:s?, s:s?, s:s?, s:o, s:o, s:s?}, s:o, s:o, s:o, s:I}",
                      "lock", lock_path_json(l),
                      "session", json_null(),
                      "verdict", verdict_to_string(l->verdict),
                      "reason", l->verdict == VERDICT_STALE ? json_string(stale_reason_to_string(l->judged_reason)) : json_null(),
                      "rule", l->judged_rule ? json_string(l->judged_rule) : json_null(),
                      "why", json_text(lock_why(l, false, now_mono_ns(), pending, sizeof(pending))),
                      "kept", l->verdict == VERDICT_STALE && l->kept_reason ? json_text(l->kept_why ? l->kept_why : "")
                                                                              : json_null(),
                      "payload",
                      "valid", p->valid, "error", p->error[0] ? p->error : NULL,
                      "pid", p->valid ? json_integer(p->pid) : json_null(),
                      "createdAt", p->has_created_at ? json_string(format_iso_ts((uint64_t) p->created_at_us, ts)) : json_null(),
                      "starttime", p->has_starttime ? json_integer((json_int_t) p->starttime) : json_null(),
                      "maxHoldMs", p->has_max_hold ? json_integer((json_int_t) p->max_hold_ms) : json_null(),
                      "text", l->payload_buf ? json_text(l->payload_buf) : json_null(),
                      "owner",
                      "pid", p->valid ? json_integer(p->pid) : json_null(),
                      "host_pid", host > 0 ? json_integer(host) : json_null(),
                      "namespace", p->valid ? owner_ns_to_string(l->owner_ns) : NULL,
                      "comm", o && p->valid ? o->comm : NULL,
                      "exe", exe[0] ? exe : NULL, "unit", unit[0] ? unit : NULL,
                      "alive", o && p->valid ? json_boolean(!o->exited) : json_null(),
                      "starttime", o && o->have_starttime ? json_integer((json_int_t) o->starttime) : json_null(),
                      "starttime_check", check,
                      "holders", writers, "readers", readers, "events", mine,
                      "age_ms", (json_int_t) lock_held_ms(l));
        if (j && l->file->folder && l->file->name)
                json_object_set_new(j, "session", lock_session_json(l));
        /* What the verdict is given, gathered by the code that judged it (lock-facts.h), in
         * the form scan --json prints too. */
        LockFacts f;
        lock_gather_facts(l, &f);
        if (j)
                json_object_set_new(j, "facts", lock_facts_json(&f));
        return j;
}

/* PATH: a lock, or a transcript (then its lock, if it has one). */
static json_t *do_explain(ControlServer *s, json_t *req, bool look) {
        const Host *m = s->host;
        json_t *paths = json_object_get(req, "paths"), *p, *arr = json_array();
        size_t i;

        /* What the kernel said so far first: the answer is about now. */
        m->drain(m->userdata);
        m->flush(m->userdata);
        tracker_settle_holders(m->model);
        json_array_foreach(paths, i, p) {
                _cleanup_free_ char *abs = path_absolute(json_string_value(p)), *lock_name = NULL;
                TrackedFile *f = abs ? find_tracked(m, abs) : NULL, *lf = NULL;

                if (!f) {
                        json_array_append_new(arr, untracked_json(abs ? abs : json_string_value(p), look));
                        continue;
                }
                if (f->kind == FILE_LOCK)
                        lf = f;
                else if (f->folder && asprintf(&lock_name, "%s.lock", f->name) >= 0)
                        lf = hashmap_get(f->folder->files, lock_name);
                if (lf && lf->lock) {
                        json_t *e = explain_lock(m, lf->lock);
                        if (e)
                                json_object_set_new(e, "tracked", json_true());
                        json_array_append_new(arr, e);
                        continue;
                }
                /* A transcript without a lock: nobody claims it now; its writers are shown. */
                json_t *h = json_array();
                holders_json(f, h);
                json_array_append_new(arr, json_pack("{s:o, s:b, s:n, s:o, s:s, s:s, s:s, s:o}",
                        "session", json_path(f->folder ? f->folder->path : NULL, f->name), "tracked", true,
                        "lock", "holders", h, "verdict", "unlocked", "rule", "no-lock",
                        "why", "no lock names this transcript now: nobody claims it", "events", json_array()));
        }
        return json_pack("{s:o}", "explained", arr);
}

static json_t *do_events(Conn *c, json_t *req) {
        const Host *m = c->server->host;
        json_t *since = json_object_get(req, "since_ms");
        uint64_t since_ns = 0, now = now_mono_ns();

        if (since) {
                /* Longer ago than the clock counts (it would wrap): all of the backlog. */
                uint64_t ms = (uint64_t) json_integer_value(since);
                uint64_t back = ms > UINT64_MAX / NSEC_PER_MSEC ? UINT64_MAX : ms * NSEC_PER_MSEC;
                since_ns = back < now ? now - back : 0;
        }
        c->follow = json_is_true(json_object_get(req, "follow"));
        return json_pack("{s:o, s:b}", "events", report_ring_json(m->reporter, since_ns), "follow", c->follow);
}

static json_t *do_cleanup(ControlServer *s, json_t *req) {
        const Host *m = s->host;
        json_t *paths = json_object_get(req, "paths"), *judged = json_array(), *events;
        uint64_t now;

        /* Everything the kernel said so far first, then fresh payloads for the chosen locks. */
        m->drain(m->userdata);
        m->flush(m->userdata);
        now = now_mono_ns();
        for (Lock *l = m->model->locks; l; l = l->locks_next) {
                bool chosen = !paths || json_array_size(paths) == 0;
                json_t *p;
                size_t i;

                json_array_foreach(paths, i, p) {
                        _cleanup_free_ char *abs = json_is_string(p) ? path_absolute(json_string_value(p)) : NULL;
                        if (abs && l->file->folder && l->file->name &&
                            (path_is_under(l->file->folder->path, abs) || find_tracked(m, abs) == l->file))
                                chosen = true;
                }
                if (!chosen)
                        continue;
                lock_mark_payload_dirty(l, now);
                lock_mark_dirty(l, now);
                l->stale_handled = l->kept_by_setting = false; /* asked again: act and say again */
                json_array_append_new(judged, json_path(l->file->folder ? l->file->folder->path : NULL, l->file->name));
        }
        s->capture = json_array();
        m->flush(m->userdata);
        events = s->capture;
        s->capture = NULL;

        /* A path that is no guarded folder, inside none and holding none: said, not judged. */
        json_t *unguarded = json_array(), *folders = tree_guarded_json(m->model), *p, *g;
        size_t i, k;
        json_array_foreach(paths, i, p) {
                _cleanup_free_ char *abs = path_absolute(json_string_value(p));
                struct stat st;
                /* A lock or transcript it tracks, or a folder that is, holds or is inside a
                 * guarded sessions folder. */
                bool dir = abs && lstat(abs, &st) == 0 && S_ISDIR(st.st_mode);
                bool guarded = abs && find_tracked(m, abs);
                json_array_foreach(folders, k, g)
                        guarded = guarded || (dir && (path_is_under(abs, json_string_value(g)) ||
                                                      path_is_under(json_string_value(g), abs)));
                if (!guarded)
                        json_array_append_new(unguarded, json_pack("{s:s, s:s}", "path", abs ? abs : json_string_value(p),
                                "why", dir ? "a folder lockwarden does not guard, nor one inside or above one"
                                           : untracked_why(abs ? abs : json_string_value(p), true)));
        }
        json_decref(folders);
        return json_pack("{s:o, s:o, s:o}", "judged", judged, "events", events ? events : json_array(),
                         "unguarded", unguarded);
}

/* SIGHUP's work, asked over the socket (systemctl reload runs `lockwarden reload`): the reply
 * says whether the new configuration was taken, and the events that say what changed or why it
 * was refused. */
static json_t *do_reload(ControlServer *s) {
        const Host *m = s->host;
        json_t *events;
        int r;

        m->drain(m->userdata);
        m->flush(m->userdata);
        s->capture = json_array();
        r = m->reload(m->userdata);
        events = s->capture;
        s->capture = NULL;
        return json_pack("{s:b, s:o}", "reloaded", r >= 0, "events", events ? events : json_array());
}

static bool all_strings(json_t *a) {
        json_t *v;
        size_t i;

        json_array_foreach(a, i, v)
                if (!json_is_string(v))
                        return false;
        return json_is_array(a);
}

const char *control_request_check(json_t *req, const char **ret_code) {
        json_t *v = json_object_get(req, "version"), *paths = json_object_get(req, "paths");
        json_t *since = json_object_get(req, "since_ms");
        const char *verb = json_string_value(json_object_get(req, "verb"));

        *ret_code = "bad-request";
        if (!json_is_object(req))
                return "a request is one JSON object";
        if (!json_is_integer(v) || json_integer_value(v) != CONTROL_PROTOCOL_VERSION) {
                *ret_code = "unsupported-version";
                return "\"version\" must be 1";
        }
        if (!verb)
                return "\"verb\" must be a string";
        if (strcmp(verb, "metrics") == 0) {
                *ret_code = NULL;
                return NULL;
        }
        if ((strcmp(verb, "holders") == 0 || strcmp(verb, "explain") == 0) &&
            (!all_strings(paths) || json_array_size(paths) == 0))
                return "holders and explain need \"paths\": a non-empty array of strings";
        if (strcmp(verb, "cleanup") == 0 && paths && !all_strings(paths))
                return "\"paths\" must be an array of strings";
        /* Each path may cost a walk of /proc (a lock's readers): a bounded number per request. */
        if (json_array_size(paths) > CONTROL_PATHS_MAX)
                return "at most 64 \"paths\" in one request";
        if (strcmp(verb, "events") == 0 && since && (!json_is_integer(since) || json_integer_value(since) < 0))
                return "\"since_ms\" must be a non-negative integer";
        if (strcmp(verb, "status") != 0 && strcmp(verb, "locks") != 0 && strcmp(verb, "holders") != 0 &&
            strcmp(verb, "events") != 0 && strcmp(verb, "cleanup") != 0 && strcmp(verb, "reload") != 0 &&
            strcmp(verb, "explain") != 0) {
                *ret_code = "unknown-verb";
                return "verbs: status, locks, holders, explain, events, cleanup, reload, metrics";
        }
        *ret_code = NULL;
        return NULL;
}

static json_t *handle(Conn *c, json_t *req) {
        ControlServer *s = c->server;
        const char *code, *why = control_request_check(req, &code);
        const char *verb;

        if (why)
                return error_reply(code, why);
        verb = json_string_value(json_object_get(req, "verb"));
        if (strcmp(verb, "cleanup") == 0)
                return peer_may_write(c) ? do_cleanup(s, req)
                                         : error_reply("permission-denied", "cleanup is for root only");
        if (strcmp(verb, "reload") == 0)
                return peer_may_write(c) ? do_reload(s)
                                         : error_reply("permission-denied", "reload is for root and the daemon's user only");
        if (!peer_may_read(c))
                return error_reply("permission-denied", "only root and the socket's group may ask");
        if (strcmp(verb, "status") == 0)
                return do_status(s);
        if (strcmp(verb, "metrics") == 0)
                return metrics_json(s->host->metrics);
        if (strcmp(verb, "locks") == 0)
                return do_locks(s, req);
        if (strcmp(verb, "holders") == 0)
                return do_holders(s, req, peer_may_write(c));
        if (strcmp(verb, "explain") == 0)
                return do_explain(s, req, peer_may_write(c));
        return do_events(c, req);
}

static int on_reap(sd_event_source *src, void *userdata) {
        ControlServer *s = userdata;
        Conn *c, *next;

        (void) src;
        for (c = s->conns; c; c = next) {
                next = c->conns_next;
                if (c->broken)
                        conn_free(c);
        }
        return 0;
}

static void tap(json_t *event, void *userdata) {
        ControlServer *s = userdata;
        _cleanup_free_ char *line = NULL;
        size_t n = 0;

        if (s->capture)
                json_array_append(s->capture, event);
        for (Conn *c = s->conns; c; c = c->conns_next) {
                if (!c->follow || c->broken)
                        continue;
                if (!line) {
                        json_t *msg = json_pack("{s:O, s:i}", "event", event, "version", CONTROL_PROTOCOL_VERSION);
                        line = msg ? json_dumps(msg, JSON_COMPACT) : NULL;
                        json_decref(msg);
                        if (!line)
                                return;
                        n = strlen(line);
                        line[n++] = '\n'; /* replaces the NUL: written by length */
                }
                if (conn_event(c, line, n) < 0)
                        conn_break(c);
        }
}

/* Each complete line is one request; the next one waits until the reply is out. */
static int conn_process(Conn *c) {
        char *nl;

        while (outbuf_pending(c->out) == 0 && (nl = memchr(c->in, '\n', c->in_len))) {
                size_t len = (size_t) (nl - c->in);
                json_error_t err;
                json_t *req, *reply;

                if (c->in_discard) {
                        c->in_discard = false;
                        reply = error_reply("too-large", "requests are capped at 64 KiB");
                } else {
                        req = json_loadb(c->in, len, JSON_REJECT_DUPLICATES, &err);
                        reply = req ? handle(c, req) : error_reply("bad-request", err.text);
                        json_decref(req);
                }
                memmove(c->in, nl + 1, c->in_len - len - 1);
                c->in_len -= len + 1;
                if (conn_reply(c, reply ? reply : error_reply("internal", "out of memory")) < 0)
                        return -1;
        }
        if (c->in_len == CONTROL_REQUEST_MAX) {
                /* No newline in 64 KiB: drop what came, answer at its end. */
                c->in_len = 0;
                c->in_discard = true;
        }
        return 0;
}

static int on_conn(sd_event_source *src, int fd, uint32_t revents, void *userdata) {
        Conn *c = userdata;

        (void) src;
        if (c->broken)
                return 0;
        if (revents & EPOLLOUT) {
                if (conn_flush(c) < 0 || conn_process(c) < 0) {
                        conn_free(c);
                        return 0;
                }
        }
        if (revents & (EPOLLIN | EPOLLHUP | EPOLLERR) && outbuf_pending(c->out) == 0) {
                ssize_t n = recv(fd, c->in + c->in_len, CONTROL_REQUEST_MAX - c->in_len, MSG_DONTWAIT);

                if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
                        conn_free(c);
                        return 0;
                }
                if (n > 0) {
                        c->in_len += (size_t) n;
                        if (conn_process(c) < 0)
                                conn_free(c);
                }
        } else if (revents & (EPOLLHUP | EPOLLERR) && !(revents & EPOLLOUT))
                conn_free(c); /* gone while a reply was waiting for it */
        return 0;
}

static int on_idle(sd_event_source *src, uint64_t usec, void *userdata) {
        Conn *c = userdata;

        (void) src;
        (void) usec;
        /* No complete request, or its reply not read, for the whole timeout: it costs a slot. */
        c->server->n_idle_closed++;
        conn_break(c);
        return 0;
}

/* ---- accepting ---- */

static void accept_resume(ControlServer *s) {
        if (!s->accept_paused)
                return;
        s->accept_paused = false;
        (void) sd_event_source_set_enabled(s->retry, SD_EVENT_OFF);
        (void) sd_event_source_set_enabled(s->source, SD_EVENT_ON);
}

static int on_retry(sd_event_source *src, uint64_t usec, void *userdata) {
        (void) src;
        (void) usec;
        accept_resume(userdata);
        return 0;
}

/* Out of descriptors: the pending connection stays in the queue, so the socket stays readable
 * and accept4 would fail again at once, for ever. Stop listening until a descriptor is freed
 * (a connection closes) or, for descriptors freed elsewhere, a second has passed; say so once
 * per episode, and not again within a minute (every failure is counted in `status`). */
static void accept_pause(ControlServer *s, int error) {
        uint64_t now = 0;

        s->accept_paused = true;
        (void) sd_event_source_set_enabled(s->source, SD_EVENT_OFF);
        (void) sd_event_source_set_time_relative(s->retry, CONTROL_ACCEPT_RETRY_USEC);
        (void) sd_event_source_set_enabled(s->retry, SD_EVENT_ONESHOT);
        (void) sd_event_now(sd_event_source_get_event(s->source), CLOCK_MONOTONIC, &now);
        if (s->accept_said || (s->accept_said_usec > 0 && now < s->accept_said_usec + CONTROL_ACCEPT_SAY_USEC))
                return;
        s->accept_said = true;
        s->accept_said_usec = now;
        report_emit(s->host->reporter, EVENT_MONITOR_WARNING,
                    json_pack("{s:s, s:s, s:s}", "path", s->path, "error", strerror(error),
                              "warning", "out of descriptors: the control socket accepts no connection until "
                                         "one is freed (raise LimitNOFILE=)"));
}

/* Refuses a connection over its user's share, with a reason it can read. */
static void refuse(ControlServer *s, int cfd, const char *why) {
        _cleanup_free_ char *line = NULL;
        json_t *j = error_reply("too-many-connections", why);

        s->n_refused++;
        if (j) {
                json_object_set_new(j, "version", json_integer(CONTROL_PROTOCOL_VERSION));
                line = json_dumps(j, JSON_COMPACT);
                json_decref(j);
        }
        if (line) {
                size_t n = strlen(line);
                line[n] = '\n';
                (void) !send(cfd, line, n + 1, MSG_DONTWAIT | MSG_NOSIGNAL);
        }
        close(cfd);
}

static unsigned conns_of(ControlServer *s, uid_t uid) {
        unsigned n = 0;

        for (Conn *c = s->conns; c; c = c->conns_next)
                n += c->uid == uid && !c->broken;
        return n;
}

static int on_accept(sd_event_source *src, int fd, uint32_t revents, void *userdata) {
        ControlServer *s = userdata;
        struct ucred cred;
        socklen_t len = sizeof(cred);
        Conn *c;
        int cfd;
        bool admin;

        (void) src;
        (void) revents;
        cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd < 0) {
                if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                        s->n_accept_failures++;
                        accept_pause(s, errno);
                }
                return 0;
        }
        s->accept_said = false; /* an episode of running out ends with an accepted connection */
        if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
                close(cfd);
                return 0;
        }
        admin = cred.uid == 0 || cred.uid == geteuid();
        if (admin ? s->n_admin >= CONTROL_CONNS_ADMIN : s->n_conns - s->n_admin >= CONTROL_CONNS_MAX) {
                refuse(s, cfd, "too many connections: try again later");
                return 0;
        }
        if (!admin && conns_of(s, cred.uid) >= CONTROL_CONNS_PER_UID) {
                refuse(s, cfd, "too many connections from this user (16)");
                return 0;
        }
        c = calloc(1, sizeof(*c));
        if (!c) {
                close(cfd);
                return 0;
        }
        *c = (Conn) { .server = s, .fd = cfd, .uid = cred.uid, .gid = cred.gid, .admin = admin };
        len = sizeof(c->groups);
        if (getsockopt(cfd, SOL_SOCKET, SO_PEERGROUPS, c->groups, &len) == 0)
                c->n_groups = (int) (len / sizeof(gid_t));
        if (outbuf_new(cfd, CONTROL_FOLLOW_MAX, false, &c->out) < 0 ||
            sd_event_add_io(sd_event_source_get_event(s->source), &c->source, cfd, EPOLLIN, on_conn, c) < 0 ||
            sd_event_add_time_relative(sd_event_source_get_event(s->source), &c->timer, CLOCK_MONOTONIC,
                                       s->idle_usec, 0, on_idle, c) < 0) {
                sd_event_source_disable_unref(c->source);
                outbuf_free(c->out);
                close(cfd);
                free(c);
                return 0;
        }
        outbuf_set_drained(c->out, conn_drained, c);
        (void) sd_event_source_set_description(c->source, "control-conn");
        (void) sd_event_source_set_description(c->timer, "control-idle");
        LIST_PREPEND(conns, s->conns, c);
        s->n_conns++;
        s->n_admin += admin;
        return 0;
}

/* ---- the socket ---- */

/* A socket file is there: is a daemon answering? Then refuse; else it is stale. */
static int path_check_free(const char *path) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = -1;
        struct stat st;

        if (lstat(path, &st) < 0)
                return errno == ENOENT ? 0 : negative_errno();
        if (!S_ISSOCK(st.st_mode))
                return -ENOTSOCK;
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return negative_errno();
        strncpy(sa.sun_path, path, sizeof(sa.sun_path) - 1);
        if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) == 0)
                return -EADDRINUSE;
        if (errno != ECONNREFUSED)
                return negative_errno();
        return unlink(path) < 0 && errno != ENOENT ? negative_errno() : 0;
}

int control_start(const Host *m, const char *path, ControlServer **ret) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_free_ char *dir = NULL;
        ControlServer *s;
        struct stat st;
        mode_t old;
        char *slash;
        int r;

        if (strlen(path) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        dir = strdup(path);
        if (!dir)
                return -ENOMEM;
        slash = strrchr(dir, '/');
        if (slash && slash != dir) {
                *slash = '\0';
                if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                        return negative_errno();
        }
        r = path_check_free(path);
        if (r < 0)
                return r;

        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        *s = (ControlServer) { .host = m, .fd = -1, .idle_usec = CONTROL_IDLE_USEC };
#ifdef LW_TEST_HOOKS
        if (getenv("LOCKWARDEN_TEST_IDLE_MS"))
                s->idle_usec = strtoull(getenv("LOCKWARDEN_TEST_IDLE_MS"), NULL, 10) * USEC_PER_MSEC;
#endif
        s->path = strdup(path);
        s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (!s->path || s->fd < 0) {
                r = s->path ? negative_errno() : -ENOMEM;
                control_stop(s);
                return r;
        }
        memcpy(sa.sun_path, path, strlen(path) + 1); /* length checked above */
        old = umask(0117); /* 0660: root (or our user) and the socket's group */
        r = bind(s->fd, (struct sockaddr *) &sa, sizeof(sa));
        umask(old);
        if (r < 0 || listen(s->fd, 16) < 0 || stat(path, &st) < 0) {
                r = negative_errno();
                control_stop(s);
                return r;
        }
        s->dev = st.st_dev;
        s->ino = st.st_ino;
        r = sd_event_add_io(m->event, &s->source, s->fd, EPOLLIN, on_accept, s);
        if (r < 0) {
                control_stop(s);
                return r;
        }
        (void) sd_event_source_set_description(s->source, "control");
        r = sd_event_add_defer(m->event, &s->reaper, on_reap, s);
        if (r < 0) {
                control_stop(s);
                return r;
        }
        (void) sd_event_source_set_enabled(s->reaper, SD_EVENT_OFF);
        r = sd_event_add_time_relative(m->event, &s->retry, CLOCK_MONOTONIC, CONTROL_ACCEPT_RETRY_USEC, 0,
                                       on_retry, s);
        if (r < 0) {
                control_stop(s);
                return r;
        }
        (void) sd_event_source_set_enabled(s->retry, SD_EVENT_OFF);
        m->reporter->tap = tap;
        m->reporter->tap_userdata = s;
        *ret = s;
        return 0;
}

ControlServer *control_stop(ControlServer *s) {
        struct stat st;

        if (!s)
                return NULL;
        if (s->host->reporter->tap_userdata == s)
                s->host->reporter->tap = NULL;
        s->accept_paused = false;
        while (s->conns)
                conn_free(s->conns);
        sd_event_source_disable_unref(s->retry);
        sd_event_source_disable_unref(s->reaper);
        sd_event_source_disable_unref(s->source);
        if (s->fd >= 0)
                close(s->fd);
        /* Remove the socket file only if it is still ours. */
        if (s->path && s->dev && lstat(s->path, &st) == 0 && st.st_dev == s->dev && st.st_ino == s->ino)
                (void) unlink(s->path);
        json_decref(s->capture);
        free(s->path);
        free(s);
        return NULL;
}
