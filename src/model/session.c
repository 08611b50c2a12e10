/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* session.c: per-session race state machine (see ARCHITECTURE.md, "Races"). */
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "event-util.h"
#include "fs-event.h"
#include "list.h"
#include "lock.h"
#include "macro.h"
#include "model.h"
#include "owner.h"
#include "proc.h"
#include "report.h"
#include "session.h"
#include "time-util.h"
#include "node.h"

#define SESSION_LOCKERS_MAX 8

typedef struct RecentEvent {
        uint64_t mono_ns;
        pid_t pid;
        uint32_t count;          /* identical consecutive events folded into one entry */
        uint8_t file;            /* FileKind */
        uint8_t op;              /* index into recent_ops */
} RecentEvent;

/* Who did it, read from /proc when it happened (the process may be gone by the report). */
typedef struct Actor {
        pid_t pid;
        char comm[COMM_MAX];
        char *exe;
        char *unit;              /* NULL: not in a systemd unit */
} Actor;

/* The owner of the lock concerned, as it was when the race happened. */
typedef struct OwnerSnap {
        pid_t pid;               /* 0: no owner */
        char comm[COMM_MAX];
        int64_t held_ms;         /* at taken_ns; -1 unknown */
        uint64_t taken_ns;
} OwnerSnap;

/* Writes by one actor, coalesced until the window ends. */
typedef struct Window {
        RaceKind kind;           /* _RACE_KIND_INVALID: no window open */
        Actor actor;
        OwnerSnap owner;
        unsigned writes;
        int64_t bytes;
        uint64_t first_ns, last_ns;
} Window;

/* The session's previous lock, if it went away while its owner still held it. */
typedef struct PrevLock {
        pid_t owner;             /* 0: none */
        dev_t dev;
        ino_t ino;
        pid_t removed_by;
        bool have_fid;
        FileId fid;
        OwnerSnap snap;
} PrevLock;

/* Race reports of one kind by one actor in one folder, after the first: a backup restore that
 * writes 10,000 transcripts without locks is one report and one follow-up that counts what it
 * covers, not 10,000 reports that push everything else out of the history. */
typedef struct BurstKey {
        Node *folder;
        pid_t actor;
} BurstKey;

struct Burst {
        Model *model;
        BurstKey key;            /* zeroed padding: hashed as bytes */
        Actor who;               /* as read for the first report */
        unsigned covers;         /* windows folded since the first report */
        unsigned writes;
        int64_t bytes;
        char *first, *last;      /* transcript names of the first and last folded window */
        uint64_t first_ns;       /* first write folded */
        uint64_t last_ns;        /* last report folded: the burst ends a coalescing time later */
        LIST_FIELDS(Burst, bursts);
};

static uint64_t burst_key_hash(const void *k, uint64_t seed) {
        return hash_bytes(k, sizeof(BurstKey), seed);
}

static bool burst_key_equal(const void *a, const void *b) {
        const BurstKey *x = a, *y = b;
        return x->folder == y->folder && x->actor == y->actor;
}

static const HashOps burst_key_ops = { burst_key_hash, burst_key_equal };

struct Session {
        Model *model;
        Node *folder;            /* NULL once the folder is gone */
        char *name;              /* X.jsonl */
        char *lock_name;         /* X.jsonl.lock */
        LIST_FIELDS(Session, all);
        LIST_FIELDS(Session, unsettled);
        LIST_FIELDS(Session, gc);
        LIST_FIELDS(Session, windows);  /* open windows, by deadline (Model.windows) */
        LIST_FIELDS(Session, size_pending); /* its window's actor wrote since the size was read
                                             * (window_settle) */
        bool in_unsettled, in_gc, in_windows, in_size_pending;

        RecentEvent recent[SESSION_RECENT_MAX];
        unsigned recent_head, n_recent;

        pid_t lockers[SESSION_LOCKERS_MAX];
        unsigned n_lockers;
        /* Is there a lock, by the order of the events read so far (not by the disk now)?
         * inotify keeps events in order but names no process: this is what tells a write
         * made under a lock from one made without, when the daemon reads late. It holds
         * until the queue is next drained (named_gen == drain_gen + 1); after that the names
         * on disk say it (session_lock_named): nothing walks every session at each drain. */
        bool lock_named;
        uint64_t named_gen;

        PrevLock prev;
        Window window;
        /* The holder whose own watchdog released the lock past its maxHoldMs (0: none): its
         * run goes on, and its next unlocked writes are named for that cause. */
        pid_t watchdog_pid;
};

/* The order bits of one merged record are listed in: the kernel merges a process's queued
 * events on one object into one mask, which keeps no order; this is the order of a normal
 * lifecycle. */
static const struct {
        uint64_t bit;
        const char *name;
} recent_ops[] = {
        { FAN_CREATE,        "create"        },
        { FAN_MOVED_TO,      "moved-to"      },
        { FAN_OPEN,          "open"          },
        { FAN_MODIFY,        "modify"        },
        { FAN_CLOSE_WRITE,   "close-write"   },
        { FAN_CLOSE_NOWRITE, "close-nowrite" },
        { FAN_DELETE,        "delete"        },
        { FAN_MOVED_FROM,    "moved-from"    },
};

static EventKind race_event(RaceKind k) {
        return (EventKind) (EVENT_RACE_LOCK_STOLEN + k);
}

/* ---- lifetime ---- */

static void window_end(Session *s);
static void window_settle(Session *s);

static void gc_candidate(Session *s) {
        if (s->in_gc)
                return;
        s->in_gc = true;
        LIST_PREPEND(gc, s->model->sessions_gc, s);
}

static void session_free(Session *s) {
        Model *m = s->model;

        window_end(s);
        if (s->folder && s->folder->sessions)
                hashmap_remove(s->folder->sessions, s->name);
        LIST_REMOVE(all, m->sessions, s);
        m->n_sessions--;
        if (s->in_unsettled)
                LIST_REMOVE(unsettled, m->sessions_unsettled, s);
        if (s->in_size_pending)
                LIST_REMOVE(size_pending, m->sessions_size_pending, s);
        if (s->in_gc)
                LIST_REMOVE(gc, m->sessions_gc, s);
        free(s->name);
        free(s->lock_name);
        free(s);
}

Session *session_get(Model *m, Node *n, const char *name, FileKind kind) {
        char base[NAME_MAX + 1];
        size_t len = strlen(name);
        Session *s;

        if (m->opts->races == RACES_OFF || !n->files || len > NAME_MAX)
                return NULL;
        /* Called for every event: the lookup key is built on the stack. */
        memcpy(base, name, len + 1);
        if (kind == FILE_LOCK && len > 5)
                base[len - 5] = '\0'; /* strip ".lock" */

        if (!n->sessions) {
                n->sessions = HASHMAP_NEW_INDIRECT(&string_hash_ops, Session, name);
                if (!n->sessions)
                        return NULL;
        }
        s = hashmap_get(n->sessions, base);
        if (s)
                return s;

        s = calloc(1, sizeof(*s));
        if (!s)
                return NULL;
        *s = (Session) { .model = m, .folder = n, .window.kind = _RACE_KIND_INVALID };
        s->name = strdup(base);
        if (!s->name || asprintf(&s->lock_name, "%s.lock", s->name) < 0) {
                free(s->name);
                free(s);
                return NULL;
        }
        if (hashmap_put(n->sessions, s) < 0) {
                free(s->lock_name);
                free(s->name);
                free(s);
                return NULL;
        }
        LIST_PREPEND(all, m->sessions, s);
        m->n_sessions++;
        s->lock_named = hashmap_get(n->files, s->lock_name) != NULL;
        s->named_gen = m->drain_gen + 1;
        gc_candidate(s); /* until a file of it is seen on disk */
        return s;
}

static TrackedFile *session_file(Session *s, FileKind kind) {
        if (!s->folder || !s->folder->files)
                return NULL;
        return hashmap_get(s->folder->files, kind == FILE_LOCK ? s->lock_name : s->name);
}

static Lock *session_lock(Session *s) {
        TrackedFile *f = session_file(s, FILE_LOCK);
        return f ? f->lock : NULL;
}

/* Is the previous lock's owner still holding that inode, per the holder map? Returns the
 * inode's file if so. */
static TrackedFile *prev_maybe_held(Session *s) {
        TrackedFile *f;

        if (s->prev.owner <= 0)
                return NULL;
        f = holder_map_get_inode(&s->model->holders, s->prev.dev, s->prev.ino);
        if (f && !f->name && tracked_file_is(f, s->prev.dev, s->prev.ino, s->prev.have_fid ? &s->prev.fid : NULL) &&
            tracked_file_has_holder(f, s->prev.owner))
                return f;
        return NULL;
}

static bool session_idle(Session *s) {
        /* Lock takers not yet settled are evidence for writes still queued: a lock created and
         * removed before we read its creation leaves no file here, yet its creator's writes
         * read in the next batch were made under it. Kept until the queue is drained. */
        if (s->window.kind >= 0 || s->in_unsettled)
                return false;
        if (!s->folder)
                return true;
        if (session_file(s, FILE_SESSION) || session_file(s, FILE_LOCK))
                return false;
        if (prev_maybe_held(s))
                return false;
        return true;
}

void session_gc(Model *m) {
        Session *s, *next;

        for (s = m->sessions_gc; s; s = next) {
                next = s->gc_next;
                m->n_session_visits++;
                /* An open window or unsettled lock takers keep it: each makes it a candidate
                 * again when it ends, so it is not looked at in every batch until then. */
                if (s->window.kind >= 0 || s->in_unsettled ||
                    (s->folder && (session_file(s, FILE_SESSION) || session_file(s, FILE_LOCK)))) {
                        LIST_REMOVE(gc, m->sessions_gc, s);
                        s->in_gc = false;
                } else if (session_idle(s))
                        session_free(s);
        }
}

static void burst_free(Burst *b);
static void burst_end(Burst *b);

void session_free_all(Model *m) {
        while (m->sessions)
                session_free(m->sessions);
        while (m->bursts)
                burst_free(m->bursts);
        m->bursts_by_key = hashmap_free(m->bursts_by_key);
        m->race_timer = sd_event_source_disable_unref(m->race_timer);
}

void session_flush_all(Model *m) {
        /* Windows first: they may fold into bursts. */
        while (m->windows)
                window_end(m->windows);
        while (m->bursts)
                burst_end(m->bursts);
}

void session_forget_folder(Model *m, Node *n) {
        Session *s;
        size_t i = 0;

        if (!n->sessions)
                return;
        while (hashmap_iterate(n->sessions, &i, (void **) &s)) {
                window_end(s);      /* while the folder's path is still known */
                s->folder = NULL;
                gc_candidate(s);
        }
        /* The sessions no longer point at the folder: the map can go. */
        hashmap_free(n->sessions);
        n->sessions = NULL;
        /* And the bursts there end, while the path is known (folders go rarely: a walk). */
        for (Burst *b = m->bursts, *next; b; b = next) {
                next = b->bursts_next;
                if (b->key.folder == n)
                        burst_end(b);
        }
}

/* ---- what happened: recent events, lock takers ---- */

/* S holds evidence about events still queued: kept (session_idle) until the queue is drained
 * (session_settle). */
static void unsettled(Session *s) {
        if (!s->in_unsettled) {
                s->in_unsettled = true;
                LIST_PREPEND(unsettled, s->model->sessions_unsettled, s);
        }
}

void session_record(Session *s, FileKind kind, uint64_t mask, pid_t pid, uint64_t now_ns) {
        if (!s)
                return;
        for (size_t i = 0; i < ELEMENTSOF(recent_ops); i++) {
                RecentEvent *last;

                if (!(mask & recent_ops[i].bit))
                        continue;
                last = s->n_recent ? &s->recent[(s->recent_head + SESSION_RECENT_MAX - 1) % SESSION_RECENT_MAX] : NULL;
                if (last && last->pid == pid && last->file == kind && last->op == i) {
                        if (last->count < UINT32_MAX)
                                last->count++;
                        continue;
                }
                s->recent[s->recent_head] = (RecentEvent) {
                        .mono_ns = now_ns, .pid = pid, .count = 1, .file = (uint8_t) kind, .op = (uint8_t) i,
                };
                s->recent_head = (s->recent_head + 1) % SESSION_RECENT_MAX;
                if (s->n_recent < SESSION_RECENT_MAX)
                        s->n_recent++;
        }

        if (kind == FILE_LOCK && (mask & (FAN_CREATE | FAN_MOVED_TO | FAN_DELETE | FAN_MOVED_FROM))) {
                /* Meaningful in order only (inotify); fanotify's merged records use lockers. */
                s->lock_named = (mask & (FAN_CREATE | FAN_MOVED_TO)) && !(mask & (FAN_DELETE | FAN_MOVED_FROM));
                s->named_gen = s->model->drain_gen + 1;
                /* Evidence until the queue is drained, as lock takers are: a lock created and
                 * removed before we read its creation leaves no file here, and the session
                 * freed at the end of this batch would forget it was there when its writes,
                 * read in the next batch, come. */
                unsettled(s);
        }

        if (kind != FILE_LOCK || pid <= 0)
                return;
        /* Lock takers. A create makes PID one. Only a record that is nothing but a removal
         * places the removal exactly: the kernel merges a process's later events on the same
         * file (its open, writes, close, even its unlink) into the record of its first one
         * still queued, so a removal merged with anything else may have happened any time
         * after that record's place in the queue. Its author keeps the benefit of the doubt
         * until the queue is drained (session_settle). */
        bool removal = mask & (FAN_DELETE | FAN_MOVED_FROM);
        bool pure_removal = removal && !(mask & ~(uint64_t) (FAN_DELETE | FAN_MOVED_FROM | FAN_ONDIR));

        if (pure_removal) {
                for (unsigned i = 0; i < s->n_lockers; i++)
                        if (s->lockers[i] == pid) {
                                s->lockers[i] = s->lockers[--s->n_lockers];
                                break;
                        }
                return;
        }
        if (!(mask & (FAN_CREATE | FAN_MOVED_TO)) && !removal)
                return;
        for (unsigned i = 0; i < s->n_lockers; i++)
                if (s->lockers[i] == pid)
                        return;
        if (s->n_lockers < SESSION_LOCKERS_MAX)
                s->lockers[s->n_lockers++] = pid;
        unsettled(s);
}

void session_sizes_read(Model *m) {
        Session *s;

        while ((s = m->sessions_size_pending))
                window_settle(s);
}

void session_settle(Model *m) {
        Session *s;

        while ((s = m->sessions_unsettled)) {
                LIST_REMOVE(unsettled, m->sessions_unsettled, s);
                s->in_unsettled = false;
                s->n_lockers = 0;
                gc_candidate(s); /* its lock takers kept it */
                m->n_session_visits++;
        }
        /* Every event is applied: the disk and the event order agree again. lock_named of
         * the sessions that had events expires with this drain (drain_gen moves on). */
}

/* Is there a lock, by the order of the events read (inotify)? */
static bool session_lock_named(Session *s) {
        if (s->named_gen == s->model->drain_gen + 1)
                return s->lock_named;
        return session_file(s, FILE_LOCK) != NULL;
}

static bool is_locker(Session *s, pid_t pid) {
        for (unsigned i = 0; i < s->n_lockers; i++)
                if (s->lockers[i] == pid)
                        return true;
        return false;
}

/* ---- facts ---- */

/* The actor's facts as kept since its first event (actor.h): no /proc read here. */
static void actor_capture(Model *m, Actor *a, pid_t pid) {
        const ActorInfo *i;

        *a = (Actor) { .pid = pid };
        if (pid <= 0)
                return; /* no attribution: nothing to read */
        i = actor_cache_get(&m->actors, pid);
        memcpy(a->comm, i->comm, sizeof(a->comm));
        a->exe = i->exe ? strdup(i->exe) : NULL;
        a->unit = i->unit ? strdup(i->unit) : NULL;
}

static void actor_done(Actor *a) {
        free(a->exe);
        free(a->unit);
        *a = (Actor) {};
}

/* After lost events, until the resync: the facts cannot be trusted, judge nothing. */
static bool blind(Session *s) {
        return s->model->lost_events;
}

static pid_t lock_effective_owner(Lock *l) {
        return lock_owner_pid(l);
}

static OwnerSnap owner_snap(Lock *l) {
        OwnerSnap o = { .pid = l ? lock_effective_owner(l) : 0, .held_ms = -1, .taken_ns = now_mono_ns() };

        if (o.pid <= 0)
                return o;
        if (l->owner && l->owner->pid == o.pid)
                memcpy(o.comm, l->owner->comm, sizeof(o.comm));
        else
                memcpy(o.comm, actor_cache_get(&l->model->actors, o.pid)->comm, sizeof(o.comm));
        o.held_ms = lock_held_ms(l);
        return o;
}

/* The facts about lock L (the session's current one, or the one going away). The /proc
 * checks are made only when the actor is not the lock's owner: they matter only then. */
static void facts_for_lock(RaceFacts *f, Lock *l, pid_t actor) {
        bool held_then;

        f->unattributed = actor == PID_UNKNOWN;
        f->lock_present = l && l->file->name;
        if (!l)
                return;
        f->owner_pid = lock_effective_owner(l);
        f->creator_pid = l->creator_pid;
        f->actor_holds_lock = actor > 0 && tracked_file_has_holder(l->file, actor);
        if (race_actor_is_owner(f) || f->owner_pid <= 0)
                return;
        /* In event order: the owner's open was seen and no close of it came before this
         * event. That is what held when the event happened, even if by now (a daemon reading
         * late) the owner has closed the file or died: the close events of both come later
         * in the queue. (The kernel may merge a later close into an earlier record of the
         * same process: then nobody can tell whether it held, and the benefit of the doubt
         * goes to the protocol: no race; lock.removed says owner_holds null.) */
        held_then = !f->unattributed && tracked_file_has_holder(l->file, f->owner_pid) &&
                    model_pending_close(l->model, l->file, f->owner_pid) == PENDING_NONE;
        if (held_then) {
                f->owner_alive = f->owner_holds = true;
                return;
        }
        if (l->owner && l->owner->pid == f->owner_pid) {
                owner_refresh(l->owner, now_mono_ns());
                f->owner_alive = !l->owner->exited;
        } else
                f->owner_alive = proc_alive(f->owner_pid);
        /* Else the kernel's word, now. Without the actor, only the fd the owner took the lock
         * with counts: its release re-reads the lock through another fd after closing it. */
        f->owner_holds = f->owner_alive &&
                proc_pid_find_fd(f->owner_pid, l->file->inode.dev, l->file->inode.ino, tracked_file_fid(l->file),
                                 f->unattributed ? PROC_FD_FOR_WRITE : 0, NULL) > 0;
}

/* ---- reports ---- */

static json_t *recent_json(Session *s) {
        json_t *a = json_array();
        unsigned start = (s->recent_head + SESSION_RECENT_MAX - s->n_recent) % SESSION_RECENT_MAX;

        for (unsigned i = 0; a && i < s->n_recent; i++) {
                const RecentEvent *e = &s->recent[(start + i) % SESSION_RECENT_MAX];
                json_t *o = json_pack("{s:s, s:s, s:o, s:I}",
                                      "file", e->file == FILE_LOCK ? "lock" : "transcript",
                                      "kind", recent_ops[e->op].name, "pid", json_pid(e->pid),
                                      "mono_ns", (json_int_t) e->mono_ns);
                if (o && e->count > 1)
                        json_object_set_new(o, "count", json_integer(e->count));
                if (o)
                        json_array_append_new(a, o);
        }
        return a;
}

/* Reports KIND about transcript NAME in FOLDER (and its lock LOCK_NAME, or null). Returns
 * whether it was reported: the operator may have asked not to hear of this kind. */
static bool race_emit(Model *m, Node *folder, const char *name, const char *lock_name, RaceKind kind,
                      const Actor *a, const OwnerSnap *o, json_t *recent, json_t *extra) {
        unsigned ignored = folder ? folder->ignore_races : m->opts->ignore_races;
        json_t *f;

        if (m->opts->races == RACES_OFF || (ignored & (1u << kind)) ||
            (folder && node_release(folder) == RELEASE_2026_8)) {
                /* Not wanted, or legacy import input there (no protocol). */
                json_decref(recent);
                json_decref(extra);
                return false;
        }
        m->n_races++;
        f = json_pack("{s:o, s:o, s:o, s:s, s:s?, s:s?, s:s?}",
                      "session", json_path(folder ? folder->path : NULL, name),
                      "lock", lock_name ? json_path(folder ? folder->path : NULL, lock_name) : json_null(),
                      "actor_pid", json_pid(a->pid), "attribution", attribution_to_string(a->pid),
                      "actor_comm", a->pid > 0 ? a->comm : NULL,
                      "actor_exe", a->exe && strcmp(a->exe, "?") != 0 ? a->exe : NULL,
                      "actor_unit", a->unit);
        if (!f) {
                json_decref(recent);
                json_decref(extra);
                return false;
        }
        if (o && o->pid > 0) {
                json_object_set_new(f, "owner_pid", json_integer(o->pid));
                json_object_set_new(f, "owner_comm", json_string(o->comm));
                if (o->held_ms >= 0)
                        json_object_set_new(f, "owner_held_ms", json_integer(
                                o->held_ms + (int64_t) ((now_mono_ns() - o->taken_ns) / NSEC_PER_MSEC)));
        }
        json_object_set_new(f, "recent", recent ? recent : json_array());
        if (extra) {
                json_object_update(f, extra);
                json_decref(extra);
        }
        report_emit(m->reporter, race_event(kind), f);
        return true;
}

static bool race_report(Session *s, RaceKind kind, const Actor *a, const OwnerSnap *o,
                        bool with_lock, json_t *extra) {
        return race_emit(s->model, s->folder, s->name, with_lock ? s->lock_name : NULL, kind, a, o,
                         recent_json(s), extra);
}

/* ---- bursts: one actor's unlocked writes across a folder ---- */

static uint64_t coalesce_ns(Model *m) {
        return m->opts->race_coalesce_ms * NSEC_PER_MSEC;
}

static void bursts_unlink(Burst *b) {
        Model *m = b->model;

        if (m->bursts_tail == b)
                m->bursts_tail = b->bursts_prev;
        LIST_REMOVE(bursts, m->bursts, b);
}

/* The latest deadline: the one just folded. */
static void bursts_append(Burst *b) {
        Model *m = b->model;

        b->bursts_next = NULL;
        b->bursts_prev = m->bursts_tail;
        if (m->bursts_tail)
                m->bursts_tail->bursts_next = b;
        else
                m->bursts = b;
        m->bursts_tail = b;
}

static void timer_arm(Model *m);

static void burst_free(Burst *b) {
        bursts_unlink(b);
        hashmap_remove(b->model->bursts_by_key, &b->key);
        actor_done(&b->who);
        free(b->first);
        free(b->last);
        free(b);
}

/* The burst is over: the follow-up report says what the first one stood for. */
static void burst_end(Burst *b) {
        Node *n = b->key.folder;

        if (b->covers > 0)
                (void) race_emit(b->model, n, b->first ? b->first : "", NULL, RACE_UNLOCKED_WRITE, &b->who, NULL,
                                 NULL, json_pack("{s:i, s:o, s:o, s:i, s:I, s:I}",
                                                 "covers", (int) b->covers,
                                                 "first", json_path(n->path, b->first ? b->first : ""),
                                                 "last", json_path(n->path, b->last ? b->last : ""),
                                                 "writes", (int) b->writes,
                                                 "bytes", (json_int_t) b->bytes,
                                                 "window_ms", (json_int_t) ((b->last_ns - b->first_ns) / NSEC_PER_MSEC)));
        burst_free(b);
}

/* S's window of unlocked writes ends: if its actor's burst in this folder is on, it is folded
 * into it (true) instead of being reported. */
static bool burst_fold(Session *s) {
        Model *m = s->model;
        Window *w = &s->window;
        BurstKey key;
        Burst *b;

        /* A holder writing on after its own watchdog released its lock is named for that
         * cause, on its own. */
        if (w->kind != RACE_UNLOCKED_WRITE || !s->folder || !m->bursts_by_key ||
            (w->actor.pid > 0 && w->actor.pid == s->watchdog_pid))
                return false;
        memset(&key, 0, sizeof(key));
        key.folder = s->folder;
        key.actor = w->actor.pid;
        b = hashmap_get(m->bursts_by_key, &key);
        if (!b)
                return false;
        if (b->covers == 0) {
                b->first = strdup(s->name);
                b->first_ns = w->first_ns;
        }
        free(b->last);
        b->last = strdup(s->name);
        b->covers++;
        b->writes += w->writes;
        b->bytes += w->bytes;
        b->last_ns = now_mono_ns();
        bursts_unlink(b);
        bursts_append(b);
        timer_arm(m);
        return true;
}

/* A window opens for ACTOR while its burst in this folder is on: who it is was read from /proc
 * for the burst's first report already (a flood of new transcripts would read it again for
 * each). Returns false when there is no such burst. */
static bool burst_actor(Session *s, RaceKind kind, pid_t actor, Actor *ret) {
        Model *m = s->model;
        BurstKey key;
        Burst *b;

        if (kind != RACE_UNLOCKED_WRITE || !s->folder || !m->bursts_by_key)
                return false;
        memset(&key, 0, sizeof(key));
        key.folder = s->folder;
        key.actor = actor;
        b = hashmap_get(m->bursts_by_key, &key);
        if (!b)
                return false;
        *ret = b->who;
        ret->exe = b->who.exe ? strdup(b->who.exe) : NULL;
        ret->unit = b->who.unit ? strdup(b->who.unit) : NULL;
        return true;
}

/* S's unlocked writes were just reported: the actor's further ones in this folder are folded
 * until it pauses for a coalescing time. */
static void burst_open(Session *s) {
        Model *m = s->model;
        Window *w = &s->window;
        Burst *b;

        if (w->kind != RACE_UNLOCKED_WRITE || !s->folder || coalesce_ns(m) == 0)
                return;
        if (!m->bursts_by_key) {
                m->bursts_by_key = hashmap_new(&burst_key_ops, offsetof(Burst, key), false);
                if (!m->bursts_by_key)
                        return;
        }
        b = calloc(1, sizeof(*b));
        if (!b)
                return;
        b->model = m;
        b->key.folder = s->folder;
        b->key.actor = w->actor.pid;
        b->who = w->actor;
        b->who.exe = w->actor.exe ? strdup(w->actor.exe) : NULL;
        b->who.unit = w->actor.unit ? strdup(w->actor.unit) : NULL;
        b->last_ns = now_mono_ns();
        if (hashmap_put(m->bursts_by_key, b) < 0) {
                actor_done(&b->who);
                free(b);
                return;
        }
        bursts_append(b);
        timer_arm(m);
}

static void race_report_now(Session *s, RaceKind kind, pid_t actor, const OwnerSnap *o,
                            bool with_lock, json_t *extra) {
        Actor a;

        actor_capture(s->model, &a, actor);
        race_report(s, kind, &a, o, with_lock, extra);
        actor_done(&a);
}

/* ---- coalescing window ---- */

/* Every open window is on one list ordered by deadline (last write + the coalescing time, the
 * same for all), and the bursts on another: one timer, armed for the earliest of both heads,
 * serves them all. A write moves its window to the tail (its deadline is the latest), so a
 * write costs O(1) and a wake-up ends every window due at once. */

static void windows_unlink(Session *s) {
        Model *m = s->model;

        if (!s->in_windows)
                return;
        if (m->windows_tail == s)
                m->windows_tail = s->windows_prev;
        LIST_REMOVE(windows, m->windows, s);
        s->in_windows = false;
}

/* Inserted by deadline, searching from the tail: the clock moves forward, so this is the tail
 * but for a write read out of turn. */
static void windows_insert(Session *s) {
        Model *m = s->model;
        Session *after = m->windows_tail;

        while (after && after->window.last_ns > s->window.last_ns)
                after = after->windows_prev;
        s->windows_prev = after;
        s->windows_next = after ? after->windows_next : m->windows;
        if (s->windows_next)
                s->windows_next->windows_prev = s;
        else
                m->windows_tail = s;
        if (after)
                after->windows_next = s;
        else
                m->windows = s;
        s->in_windows = true;
}

/* The transcript's size (through its kept descriptor, size-cache.h): its growth since it was
 * last read. Returns whether anything changed. Under load it may include later writes: it is
 * forensics, not accounting. */
static bool transcript_size_read(Session *s, TrackedFile *f, int64_t *ret_delta) {
        struct statx stx;
        bool changed = false;
        int64_t mtime_ns;

        *ret_delta = 0;
        if (!f || !f->name || !s->folder ||
            tracked_file_stat(&s->model->holders, f, s->folder->dirfd, s->name, &stx) < 0)
                return false;
        mtime_ns = (int64_t) stx.stx_mtime.tv_sec * (int64_t) NSEC_PER_SEC + stx.stx_mtime.tv_nsec;
        if (f->have_size) {
                *ret_delta = (int64_t) stx.stx_size - f->size;
                changed = *ret_delta != 0 || mtime_ns != f->mtime_ns;
        }
        f->have_size = true;
        f->size = (int64_t) stx.stx_size;
        f->mtime_ns = mtime_ns;
        return changed;
}

/* The window's actor went on writing without a size read per write: one read now accounts for
 * all of them (the sizes telescope). Done at the end of the batch (before its reports), before
 * anyone else's write to it is applied, and when the window ends. */
static void window_settle(Session *s) {
        Window *w = &s->window;
        int64_t delta;

        if (!s->in_size_pending)
                return;
        LIST_REMOVE(size_pending, s->model->sessions_size_pending, s);
        s->in_size_pending = false;
        (void) transcript_size_read(s, session_file(s, FILE_SESSION), &delta);
        if (w->kind >= 0)
                w->bytes += delta;
}

static void window_end(Session *s) {
        Window *w = &s->window;

        if (w->kind < 0)
                return;
        window_settle(s);
        windows_unlink(s);
        if (!burst_fold(s)) {
                /* A foreign write happened under a lock; an unlocked one did not. */
                if (race_report(s, w->kind, &w->actor, &w->owner, w->kind == RACE_FOREIGN_WRITE,
                            json_pack("{s:i, s:I, s:I, s:s?}", "writes", (int) w->writes,
                                      "bytes", (json_int_t) w->bytes,
                                      "window_ms", (json_int_t) ((w->last_ns - w->first_ns) / NSEC_PER_MSEC),
                                      "cause", w->kind == RACE_UNLOCKED_WRITE && w->actor.pid > 0 &&
                                               w->actor.pid == s->watchdog_pid ? "holder-watchdog" : NULL)))
                        burst_open(s);
        }
        actor_done(&w->actor);
        w->kind = _RACE_KIND_INVALID;
        gc_candidate(s);
}

void session_timer_fired(Model *m) {
        m->timer_usec = 0; /* a one-shot source is off once it fired */
}

void session_deadlines_passed(Model *m, uint64_t now_ns) {
        Session *s;
        Burst *b;

        while ((s = m->windows) && now_ns >= s->window.last_ns + coalesce_ns(m)) {
                m->n_session_visits++;
                window_end(s);
        }
        while ((b = m->bursts) && now_ns >= b->last_ns + coalesce_ns(m)) {
                m->n_session_visits++;
                burst_end(b);
        }
        timer_arm(m);
}

/* Arms the one timer for the earliest deadline, unless it is armed for one as early. */
static void timer_arm(Model *m) {
        uint64_t ns = UINT64_MAX, usec;

        if (m->windows)
                ns = m->windows->window.last_ns;
        if (m->bursts && m->bursts->last_ns < ns)
                ns = m->bursts->last_ns;
        if (ns == UINT64_MAX)
                return;
        usec = (ns + coalesce_ns(m) + NSEC_PER_USEC - 1) / NSEC_PER_USEC;
        if (m->timer_usec != 0 && m->timer_usec <= usec)
                return; /* it fires first and re-arms for what is due then */
        if (event_arm_oneshot(m->event, &m->race_timer, CLOCK_MONOTONIC, usec, USEC_PER_MSEC,
                              m->on_race_deadline, m->userdata, "race-window") < 0) {
                /* Cannot wait: report what we have. */
                while (m->windows)
                        window_end(m->windows);
                while (m->bursts)
                        burst_end(m->bursts);
                return;
        }
        m->timer_usec = usec;
}

static void window_add(Session *s, RaceKind kind, pid_t actor, Lock *l, int64_t bytes,
                       uint64_t now_ns) {
        Window *w = &s->window;

        if (w->kind != kind || w->actor.pid != actor)
                window_end(s);
        if (w->kind < 0) {
                *w = (Window) { .kind = kind, .owner = owner_snap(l), .first_ns = now_ns };
                if (!burst_actor(s, kind, actor, &w->actor))
                        actor_capture(s->model, &w->actor, actor);
        }
        w->writes++;
        w->bytes += bytes;
        w->last_ns = now_ns;
        if (coalesce_ns(s->model) == 0) {
                window_end(s);
                return;
        }
        windows_unlink(s);
        windows_insert(s);
        timer_arm(s->model);
}

/* ---- the hooks ---- */

void session_transcript_baseline(TrackedFile *f, const struct stat *st, bool created) {
        /* A file we saw created started empty: what it holds now was written since. */
        f->have_size = true;
        f->size = created ? 0 : st->st_size;
        f->mtime_ns = created ? 0 : timespec_ns(&st->st_mtim);
}

void session_on_transcript_gone(Session *s, pid_t actor, uint64_t mask, bool replaced) {
        OwnerSnap o;
        Lock *l;
        RaceFacts f;
        RaceKind k;
        const char *how;

        if (!s)
                return;
        gc_candidate(s);
        if (blind(s))
                return;

        l = session_lock(s);
        f = (RaceFacts) {
                .op = replaced ? SESSION_OP_TRANSCRIPT_REPLACED : SESSION_OP_TRANSCRIPT_GONE,
                .actor = actor,
                .actor_is_locker = is_locker(s, actor),
        };
        if (f.actor == 0 || f.actor_is_locker)
                return;
        if (l)
                lock_load_payload(l);
        facts_for_lock(&f, l, actor);
        if (f.unattributed)
                f.lock_present = session_lock_named(s);
        k = race_judge(&f);
        if (k < 0)
                return;
        how = replaced ? ((mask & FAN_MOVED_TO) ? "renamed-over" : "recreated") :
                         ((mask & FAN_MOVED_FROM) ? "renamed-away" : "unlinked");
        o = owner_snap(l);
        race_report_now(s, k, actor, &o, l != NULL,
                        json_pack("{s:s, s:b}", "how", how, "locked", f.owner_alive && f.owner_holds));
}

void session_on_transcript_write(Session *s, TrackedFile *f, pid_t actor, uint64_t mask,
                                 uint64_t now_ns) {
        int64_t delta = 0;
        bool changed = (mask & FAN_MODIFY) != 0;
        Window *w;
        RaceFacts facts;
        Lock *l;
        RaceKind k;

        if (!s || !s->folder || !f->name)
                return; /* a transcript already replaced: its writes land nowhere visible */
        if (node_release(s->folder) == RELEASE_2026_8)
                return; /* legacy import input: no protocol, decided at the write */

        w = &s->window;
        if (w->kind >= 0 && actor > 0 && w->actor.pid == actor && changed && f == session_file(s, FILE_SESSION)) {
                /* The window's actor writes on: its size is read once per batch, or when
                 * someone else's write comes or the window ends (a storm of writes is not a
                 * storm of stats). */
                if (!s->in_size_pending) {
                        s->in_size_pending = true;
                        LIST_PREPEND(size_pending, s->model->sessions_size_pending, s);
                }
        } else {
                window_settle(s);
                changed = transcript_size_read(s, f, &delta) || changed;
        }
        /* A bare close-after-write that changed nothing is the end of writes already seen. */
        if (!changed || actor == 0 || blind(s))
                return;

        l = session_lock(s);
        facts = (RaceFacts) {
                .op = SESSION_OP_TRANSCRIPT_WRITE,
                .actor = actor,
                .actor_is_locker = is_locker(s, actor),
        };
        if (facts.actor_is_locker)
                return;
        if (l && actor != l->creator_pid)
                lock_load_payload(l);
        facts_for_lock(&facts, l, actor);
        if (facts.unattributed)
                facts.lock_present = session_lock_named(s); /* at the write, not now */
        k = race_judge(&facts);
        if (k < 0) {
                /* Allowed writes do not end a window by another actor: its own writes may
                 * still follow in the same unlocked stretch. */
                return;
        }
        window_add(s, k, actor, l, delta, now_ns);
}

void session_on_lock_new(Session *s, Lock *l, pid_t actor) {
        TrackedFile *prev;
        RaceFacts f;
        RaceKind k;

        if (!s)
                return;
        /* A lock appeared: an unlocked stretch (and any foreign one under the old lock) ends. */
        window_end(s);
        if (actor == s->watchdog_pid)
                s->watchdog_pid = 0; /* it locks again: its writes are its own again */
        if (actor == 0 || s->prev.owner <= 0 || blind(s))
                return;

        f = (RaceFacts) {
                .op = SESSION_OP_LOCK_NEW,
                .actor = actor,
                .unattributed = actor == PID_UNKNOWN,
                .prev_owner_pid = s->prev.owner,
        };
        prev = prev_maybe_held(s);
        if (prev && s->prev.owner != actor &&
            !tracked_file_is(l->file, s->prev.dev, s->prev.ino, s->prev.have_fid ? &s->prev.fid : NULL))
                /* In event order, as for a stolen lock: its open was seen and no close of its
                 * write descriptor came before this creation. A close still waiting for its
                 * confirmation (or merged out of order) is asked of the kernel, now. */
                f.prev_owner_holds_prev =
                        model_pending_close(s->model, prev, s->prev.owner) == PENDING_NONE ||
                        proc_pid_find_fd(s->prev.owner, s->prev.dev, s->prev.ino,
                                         s->prev.have_fid ? &s->prev.fid : NULL, 0, NULL) > 0;
        if (!f.prev_owner_holds_prev) {
                s->prev.owner = 0; /* it let go: nothing to compare the next lock with */
                return;
        }
        k = race_judge(&f);
        if (k >= 0)
                race_report_now(s, k, actor, &s->prev.snap, true,
                                json_pack("{s:o}", "old_lock_removed_by", json_pid(s->prev.removed_by)));
}

/* 2026.2 – 2026.5: a contender takes a live holder's lock once it is older than its maxHoldMs
 * or 30 minutes, by the application's own rules. Such a steal is named for what it is (the
 * reason it was aged), a takeover the application made itself. */
static const char *application_steal(Session *s, Lock *l) {
        int64_t age_ms, max_hold;

        if (!s->folder || node_release(s->folder) != RELEASE_2026_5 || !l->payload.valid ||
            !l->payload.has_created_at)
                return NULL;
        age_ms = (now_realtime_us() - l->payload.created_at_us) / USEC_PER_MSEC;
        max_hold = (int64_t) (l->payload.max_hold_ms ? l->payload.max_hold_ms : DEFAULT_MAX_HOLD_MS);
        return age_ms >= AGED_TOO_OLD_MS ? "too-old" : age_ms >= max_hold ? "hold-exceeded" : NULL;
}

void session_on_watchdog_release(Session *s, pid_t pid) {
        if (s && pid > 0)
                s->watchdog_pid = pid;
}

void session_on_lock_gone(Session *s, Lock *l, pid_t actor) {
        const char *aged;
        OwnerSnap o;
        RaceFacts f;
        RaceKind k;

        if (!s)
                return;
        window_end(s);
        if (actor == 0 || blind(s))
                return;

        f = (RaceFacts) { .op = SESSION_OP_LOCK_GONE, .actor = actor };
        facts_for_lock(&f, l, actor);
        k = race_judge(&f);
        if (k < 0) {
                s->prev.owner = 0;
                return;
        }
        aged = k == RACE_LOCK_STOLEN ? application_steal(s, l) : NULL;
        o = owner_snap(l);
        race_report_now(s, k, actor, &o, true, json_pack("{s:b, s:s?, s:s?}", "owner_alive", f.owner_alive,
                                                         "cause", aged ? "application-steal" : NULL, "aged", aged));

        /* Stolen (the one race a removal can be) from an owner that still holds it open: that
         * owner still believes it holds the session, so the next lock makes two holders. An
         * owner that removed its own lock believes nothing of the kind, even if its re-read is
         * still open for a moment: that is no race, and leaves no previous lock. */
        s->prev = (PrevLock) { .owner = f.owner_pid, .dev = l->file->inode.dev, .ino = l->file->inode.ino,
                               .removed_by = actor, .snap = o };
        if (tracked_file_fid(l->file)) {
                s->prev.have_fid = true;
                /* Handles are allocated to their length: copy just that. */
                memcpy(&s->prev.fid, tracked_file_fid(l->file), file_id_size(tracked_file_fid(l->file)));
        }
}

void session_on_unseen_lock_gone(Session *s, pid_t creator, pid_t actor) {
        OwnerSnap o = { .pid = creator, .held_ms = -1, .taken_ns = now_mono_ns() };
        RaceFacts f;
        RaceKind k;

        if (!s)
                return;
        window_end(s);
        if (actor <= 0 || blind(s))
                return;
        /* Its payload was never read: its creator is its owner (the protocol's way). */
        f = (RaceFacts) { .op = SESSION_OP_LOCK_GONE, .actor = actor, .lock_present = true,
                          .owner_pid = creator, .creator_pid = creator,
                          .owner_alive = true, .owner_holds = true };
        k = race_judge(&f);
        if (k < 0)
                return;
        memcpy(o.comm, actor_cache_get(&s->model->actors, creator)->comm, sizeof(o.comm));
        /* No previous lock is kept for a double-holder report: its inode was never read. */
        race_report_now(s, k, actor, &o, true,
                        json_pack("{s:b, s:b}", "owner_alive", true, "lock_read", false));
}

void session_on_lock_write(Session *s, Lock *l, pid_t actor) {
        OwnerSnap o;
        RaceFacts f;
        RaceKind k;

        if (!s || actor <= 0 || blind(s))
                return;
        /* The owner is who it was before this write: the payload as last read, or the
         * creator. A payload never read yet is read now only when nothing else names one. */
        if (!l->payload.valid && l->creator_pid <= 0)
                lock_load_payload(l);
        f = (RaceFacts) { .op = SESSION_OP_LOCK_WRITE, .actor = actor };
        facts_for_lock(&f, l, actor);
        k = race_judge(&f);
        if (k < 0)
                return;
        /* One rewrite is one report, however many reads of the queue its writes (truncate,
         * write) were split over: the same writer of the same lock is not reported again. */
        if (k == RACE_LOCK_TAMPERED && l->tampered_by == actor)
                return;
        if (k == RACE_LOCK_TAMPERED)
                l->tampered_by = actor;
        o = owner_snap(l);
        race_report_now(s, k, actor, &o, true, NULL);
}
