/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* report.c: the event table and the three sinks. */
#include <ctype.h>
#include <fcntl.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <syslog.h>

#include "escape.h"
#include "journal-native.h"
#include "log.h"
#include "macro.h"
#include "outbuf.h"
#include "report.h"
#include "time-util.h"

typedef struct EventInfo {
        const char *name;
        const char *message_id;  /* listed in contrib/lockwarden.catalog; never change one */
        int priority;
} EventInfo;

static const EventInfo event_table[_EVENT_KIND_MAX] = {
        [EVENT_MONITOR_READY] = { "monitor.ready", "35c07aaab0c54db1899199736560c2d9", LOG_INFO },
        [EVENT_MONITOR_ERROR] = { "monitor.error", "3425677c130e48fb8da05c7ed26396d6", LOG_ERR },
        [EVENT_LOCK_ACQUIRED] = { "lock.acquired", "a2a403248a7b430290c1242fe1bb9bdb", LOG_DEBUG },
        [EVENT_LOCK_RELEASED] = { "lock.released", "d8ae6ce1cc1443a483b7bf9b97302344", LOG_DEBUG },
        [EVENT_LOCK_REMOVED]  = { "lock.removed",  "a6387696687b4cf0b21beabb273548f0", LOG_NOTICE },
        [EVENT_LOCK_STALE]    = { "lock.stale",    "c7f5220782cc4872ae98837092c95359", LOG_WARNING },
        [EVENT_LOCK_CLEANED]  = { "lock.cleaned",  "40421cfd85674fddb5db4a8b3a92c4d6", LOG_NOTICE },
        [EVENT_LOCK_KEPT]     = { "lock.kept",     "49e02139e12b461eb4acd895509c8427", LOG_WARNING },
        [EVENT_LOCK_AGED]     = { "lock.aged",     "8b3fdf9e89f94fcaa0622029f6e777f1", LOG_NOTICE },
        [EVENT_MONITOR_DUMP]  = { "monitor.dump",  "e5a0e0a2a3a84d8c9a6a2b8f3c1d7e42", LOG_INFO },
        [EVENT_RACE_LOCK_STOLEN]      = { "race.lock-stolen",      "7764b8465238456c8f452ac5398bfbab", LOG_WARNING },
        [EVENT_RACE_DOUBLE_HOLDER]    = { "race.double-holder",    "37b98053184a4c4fa1384564dc92466e", LOG_WARNING },
        [EVENT_RACE_UNLOCKED_WRITE]   = { "race.unlocked-write",   "a64b76109975407598ad3b2244629cd6", LOG_WARNING },
        [EVENT_RACE_FOREIGN_WRITE]    = { "race.foreign-write",    "c416227b4b6e472c97bedddc5db566a6", LOG_WARNING },
        [EVENT_RACE_SESSION_REPLACED] = { "race.session-replaced", "3ac152021a9c4ec288a7b7203e511eae", LOG_WARNING },
        [EVENT_RACE_LOCK_TAMPERED]    = { "race.lock-tampered",    "b0b83890b1f3468c8dc94ce041fb1409", LOG_WARNING },
        [EVENT_MONITOR_OVERFLOW] = { "monitor.overflow", "21cc8f17447746abbff8d69cf900ed36", LOG_WARNING },
        [EVENT_MONITOR_RESYNC]   = { "monitor.resync",   "a043b0b942434a8abe137f6dd55d2436", LOG_NOTICE },
        [EVENT_MONITOR_WARNING]  = { "monitor.warning",  "2069c20288a24beba4a64567a4f815bf", LOG_WARNING },
        [EVENT_MONITOR_RELOADED] = { "monitor.reloaded", "33ebb8ca2a1e4c46be568899e205d53c", LOG_NOTICE },
        [EVENT_MONITOR_RELEASE]  = { "monitor.release",  "cf14d5a7401a4029ae81749145689866", LOG_INFO },
        [EVENT_MONITOR_DROPPED]  = { "monitor.dropped",  "5d0b7e2f84a94c31a7d6e0c9b3f1a285", LOG_WARNING },
        [EVENT_MONITOR_FOLDER_ADDED]   = { "monitor.folder-added",   "5835d121ff954b378529a4c10274e795", LOG_INFO },
        [EVENT_MONITOR_FOLDER_REMOVED] = { "monitor.folder-removed", "b4b580f813304aa08d521b5eedd19268", LOG_NOTICE },
        [EVENT_MONITOR_STOPPING]       = { "monitor.stopping",       "500513f276084c558f451bb3fcfdbe84", LOG_NOTICE },
        [EVENT_MONITOR_DISCOVERED] = { "monitor.discovered", "14f91137f0514741b960f0dfc72e73ca", LOG_NOTICE },
};

const char *event_kind_to_string(EventKind k) {
        return k >= 0 && k < _EVENT_KIND_MAX ? event_table[k].name : NULL;
}

EventKind event_kind_from_string(const char *s) {
        for (size_t i = 0; i < ELEMENTSOF(event_table); i++)
                if (s && strcmp(s, event_table[i].name) == 0)
                        return (EventKind) i;
        return _EVENT_KIND_INVALID;
}

const char *event_kind_message_id(EventKind k) {
        return k >= 0 && k < _EVENT_KIND_MAX ? event_table[k].message_id : NULL;
}

json_t *json_path(const char *dir, const char *name) {
        _cleanup_free_ char *e = escape_path(dir, name);

        return e ? json_string(e) : NULL;
}

json_t *json_text(const char *text) {
        _cleanup_free_ char *e = text ? escape_terminal(text) : NULL;
        json_t *j = e ? json_string(e) : NULL;

        return j ? j : text ? json_string("?") : json_null();
}

/* systemd's convention: JOURNAL_STREAM=dev:ino names the journal stream stderr is wired to. */
static bool stderr_is_journal(void) {
        const char *e = getenv("JOURNAL_STREAM");
        unsigned long long dev, ino;
        struct stat st;
        char *end;

        if (!e)
                return false;
        errno = 0;
        dev = strtoull(e, &end, 10);
        if (errno || end == e || *end != ':')
                return false;
        ino = strtoull(end + 1, &end, 10);
        if (errno || *end)
                return false;
        if (fstat(STDERR_FILENO, &st) < 0)
                return false;
        return st.st_dev == dev && st.st_ino == ino;
}

int reporter_init(Reporter *r, const char *events_path) {
        int fd, k;

        *r = (Reporter) { .to_journal = true, .to_stderr = !stderr_is_journal() };
        /* No journal socket (a container without journald): the other sinks still say it. */
        if (journal_sink_new(&r->journal) < 0)
                r->journal = NULL;

        if (!events_path)
                return 0;
        if (strcmp(events_path, "-") == 0)
                return outbuf_new(STDOUT_FILENO, REPORT_OUTPUT_MAX, false, &r->events);
        /* A FIFO waits here for its reader, at start-up, as before; from then on nothing waits. */
        fd = open(events_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
        if (fd < 0)
                return negative_errno();
        k = outbuf_new(fd, REPORT_OUTPUT_MAX, true, &r->events);
        if (k < 0)
                close(fd);
        return k;
}

static void on_drained(Reporter *r, const char *output, uint64_t dropped) {
        report_emit(r, EVENT_MONITOR_DROPPED,
                    json_pack("{s:s, s:I}", "output", output, "dropped", (json_int_t) dropped));
}

static void events_drained(OutBuf *o, uint64_t dropped, void *userdata) {
        (void) o;
        on_drained(userdata, "events", dropped);
}

static void stderr_drained(OutBuf *o, uint64_t dropped, void *userdata) {
        (void) o;
        on_drained(userdata, "stderr", dropped);
}

static void journal_drained(uint64_t dropped, void *userdata) {
        on_drained(userdata, "journal", dropped);
}

int reporter_attach_event(Reporter *r, sd_event *e) {
        int k;

        if (r->events) {
                outbuf_set_drained(r->events, events_drained, r);
                k = outbuf_attach_event(r->events, e);
                if (k < 0)
                        return k;
        }
        if (r->journal) {
                k = journal_sink_attach_event(r->journal, e, journal_drained, r);
                if (k < 0)
                        return k;
        }
        return log_attach_event(e, stderr_drained, r);
}

json_t *report_ring_json(Reporter *r, uint64_t since_ns) {
        json_t *a = json_array();
        size_t start = r->n_ring < REPORT_RING_MAX ? 0 : r->ring_head;

        for (size_t i = 0; a && i < r->n_ring; i++) {
                json_t *e = r->ring[(start + i) % REPORT_RING_MAX];
                if ((uint64_t) json_integer_value(json_object_get(e, "mono_ns")) >= since_ns)
                        json_array_append(a, e);
        }
        return a;
}

void reporter_done(Reporter *r) {
        for (size_t i = 0; i < r->n_ring; i++)
                json_decref(r->ring[i]);
        r->n_ring = r->ring_head = 0;
        /* On the way out: a moment for a slow reader, then what is left is lost. */
        outbuf_flush_final(r->events, 1000);
        r->events = outbuf_free(r->events);
        r->journal = journal_sink_free(r->journal);
        log_detach_event();
}

static const char *sget(json_t *o, const char *k) {
        const char *s = json_string_value(json_object_get(o, k));
        return s ? s : "?";
}

static long long iget(json_t *o, const char *k) {
        return json_integer_value(json_object_get(o, k));
}

json_t *json_pid(pid_t pid) {
        return pid > 0 ? json_integer(pid) : json_null();
}

const char *attribution_to_string(pid_t pid) {
        return pid > 0 ? "pid" : pid == 0 ? "scan" : "unavailable";
}

/* "pid 42 (comm)", or what a report without attribution says instead. */
static const char *who(json_t *f, const char *pid_key, const char *comm_key, char *buf, size_t size) {
        if (!json_is_integer(json_object_get(f, pid_key)))
                return "an unknown process (no attribution)";
        snprintf(buf, size, "pid %lld (%s)", iget(f, pid_key), sget(f, comm_key));
        return buf;
}

/* The plural ending of a count: "1 write", "2 writes". */
#define S(n) ((n) == 1 ? "" : "s")

static char *message_for(EventKind k, json_t *f) {
        char *m = NULL, w[64];
        int r = -1;

        switch (k) {
        case EVENT_MONITOR_READY: {
                const char *waiting = json_string_value(json_array_get(json_object_get(f, "waiting_for"), 0));

                r = asprintf(&m, "Watching %lld sessions folders with %s: %lld locks, %lld sessions%s%s",
                             (long long) json_array_size(json_object_get(f, "dirs")),
                             sget(f, "backend"), iget(f, "locks"), iget(f, "sessions"),
                             waiting ? "; waiting for " : "", waiting ? waiting : "");
                break;
        }
        case EVENT_MONITOR_ERROR:
                r = asprintf(&m, "%s: %s", sget(f, "path"), sget(f, "error"));
                break;
        case EVENT_LOCK_ACQUIRED:
                /* A pid in a container's own namespace names a process here too. */
                if (json_is_integer(json_object_get(f, "owner_host_pid")) && iget(f, "owner_host_pid") != iget(f, "pid"))
                        r = asprintf(&m, "Lock %s acquired by pid %lld (%s; pid %lld here)", sget(f, "lock"),
                                     iget(f, "pid"), sget(f, "comm"), iget(f, "owner_host_pid"));
                else
                        r = asprintf(&m, "Lock %s acquired by pid %lld (%s)", sget(f, "lock"),
                                     iget(f, "pid"), sget(f, "comm"));
                break;
        case EVENT_LOCK_RELEASED:
                r = asprintf(&m, "Lock %s released by %s after %lld ms", sget(f, "lock"),
                             who(f, "pid", "comm", w, sizeof(w)), iget(f, "held_ms"));
                break;
        case EVENT_LOCK_REMOVED:
                r = asprintf(&m, "Lock %s of pid %lld removed by %s", sget(f, "lock"),
                             iget(f, "owner_pid"), who(f, "pid", "comm", w, sizeof(w)));
                break;
        case EVENT_LOCK_STALE:
                r = asprintf(&m, "Lock %s is stale (%s): %s", sget(f, "lock"), sget(f, "reason"),
                             sget(f, "detail"));
                break;
        case EVENT_LOCK_CLEANED:
                r = asprintf(&m, "Removed stale lock %s (%s, owner pid %lld) %lld us after the evidence was read "
                             "(the daemon had been busy for %lld us when it read it)",
                             sget(f, "lock"), sget(f, "reason"), iget(f, "owner_pid"),
                             iget(f, "since_read_us"), iget(f, "lag_us"));
                break;
        case EVENT_LOCK_KEPT:
                r = asprintf(&m, "Kept stale-looking lock %s (%s): %s", sget(f, "lock"),
                             sget(f, "reason"), sget(f, "why"));
                break;
        case EVENT_MONITOR_DUMP:
                r = asprintf(&m, "State on request: %lld locks, %lld tracked files",
                             (long long) json_array_size(json_object_get(f, "locks")), iget(f, "files"));
                break;
        case EVENT_LOCK_AGED:
                r = asprintf(&m, "Lock %s is live but %s (%lld ms old)", sget(f, "lock"),
                             sget(f, "reason"), iget(f, "age_ms"));
                break;
        case EVENT_RACE_LOCK_STOLEN:
                r = asprintf(&m, "Takeover race: lock %s of pid %lld (%s), held and open, removed by %s",
                             sget(f, "lock"), iget(f, "owner_pid"), sget(f, "owner_comm"),
                             who(f, "actor_pid", "actor_comm", w, sizeof(w)));
                break;
        case EVENT_RACE_DOUBLE_HOLDER:
                r = asprintf(&m, "Takeover race: %s took a new lock %s while pid %lld (%s) still holds the old one: two holders of %s",
                             who(f, "actor_pid", "actor_comm", w, sizeof(w)), sget(f, "lock"),
                             iget(f, "owner_pid"), sget(f, "owner_comm"), sget(f, "session"));
                break;
        case EVENT_RACE_UNLOCKED_WRITE:
                if (json_object_get(f, "covers")) { /* the follow-up of a burst across a folder */
                        r = asprintf(&m, "Takeover race: %lld more transcripts written without their locks by %s, "
                                     "from %s to %s: %lld write%s, %lld byte%s", iget(f, "covers"),
                                     who(f, "actor_pid", "actor_comm", w, sizeof(w)), sget(f, "first"), sget(f, "last"),
                                     iget(f, "writes"), S(iget(f, "writes")), iget(f, "bytes"), S(iget(f, "bytes")));
                        break;
                }
                r = asprintf(&m, "Takeover race: %s written without its lock by %s: %lld write%s, %lld byte%s",
                             sget(f, "session"), who(f, "actor_pid", "actor_comm", w, sizeof(w)),
                             iget(f, "writes"), S(iget(f, "writes")), iget(f, "bytes"), S(iget(f, "bytes")));
                break;
        case EVENT_RACE_FOREIGN_WRITE:
                r = asprintf(&m, "Takeover race: %s written by %s while pid %lld (%s) holds its lock: %lld write%s, %lld byte%s",
                             sget(f, "session"), who(f, "actor_pid", "actor_comm", w, sizeof(w)),
                             iget(f, "owner_pid"), sget(f, "owner_comm"), iget(f, "writes"), S(iget(f, "writes")),
                             iget(f, "bytes"), S(iget(f, "bytes")));
                break;
        case EVENT_RACE_SESSION_REPLACED:
                r = asprintf(&m, "Takeover race: %s %s by %s%s; fingerprints taken under the lock are void",
                             sget(f, "session"), sget(f, "how"), who(f, "actor_pid", "actor_comm", w, sizeof(w)),
                             json_is_true(json_object_get(f, "locked")) ? " while its lock was held" :
                                                                         " while no lock was held");
                break;
        case EVENT_RACE_LOCK_TAMPERED:
                r = asprintf(&m, "Takeover race: lock %s of pid %lld (%s) rewritten by %s",
                             sget(f, "lock"), iget(f, "owner_pid"), sget(f, "owner_comm"),
                             who(f, "actor_pid", "actor_comm", w, sizeof(w)));
                break;
        case EVENT_MONITOR_OVERFLOW:
                r = asprintf(&m, "The kernel's %s queue overflowed: events were lost; every guarded folder "
                             "and /proc will be read again once the queue is drained", sget(f, "backend"));
                break;
        case EVENT_MONITOR_RESYNC:
                r = asprintf(&m, "Resynced after lost events in %lld us: %lld folders, %lld files "
                             "(%lld before), %lld locks, %lld holders",
                             iget(f, "duration_us"), iget(f, "folders"), iget(f, "files"),
                             iget(f, "files_before"), iget(f, "locks"), iget(f, "holders"));
                break;
        case EVENT_MONITOR_WARNING:
                r = asprintf(&m, "%s: %s", sget(f, "path"), sget(f, "warning"));
                break;
        case EVENT_MONITOR_RELOADED:
                r = asprintf(&m, "Reloaded %s%s%s: %zu folders added, %zu removed, %zu settings changed%s; "
                             "guarding %lld sessions folders",
                             json_string_value(json_object_get(f, "config")) ? sget(f, "config") :
                                     "with no configuration file (none at ",
                             json_string_value(json_object_get(f, "config")) ? "" : sget(f, "looked_for"),
                             json_string_value(json_object_get(f, "config")) ? "" : ")",
                             json_array_size(json_object_get(f, "added")),
                             json_array_size(json_object_get(f, "removed")),
                             json_array_size(json_object_get(f, "changed")),
                             json_array_size(json_object_get(f, "restart_needed")) ?
                                     " (some changes need a restart)" : "",
                             iget(f, "folders"));
                break;
        case EVENT_MONITOR_RELEASE:
                r = asprintf(&m, "%s runs OpenClaw %s%s%s%s (%s): its rules apply", sget(f, "state_dir"),
                             sget(f, "release"), json_string_value(json_object_get(f, "version")) ? " (" : "",
                             json_string_value(json_object_get(f, "version")) ? sget(f, "version") : "",
                             json_string_value(json_object_get(f, "version")) ? ")" : "", sget(f, "source"));
                break;
        case EVENT_MONITOR_DISCOVERED:
                r = asprintf(&m, "Guarding state dir %s, found by discovery: %s", sget(f, "state_dir"),
                             sget(f, "how"));
                break;
        case EVENT_MONITOR_DROPPED:
                r = asprintf(&m, "%lld event%s dropped: output was not read (%s)", iget(f, "dropped"),
                             S(iget(f, "dropped")), sget(f, "output"));
                break;
        case EVENT_MONITOR_FOLDER_ADDED:
                if (json_string_value(json_object_get(f, "from")))
                        r = asprintf(&m, "Sessions folder %s renamed to %s, still guarded: %lld locks, %lld sessions",
                                     sget(f, "from"), sget(f, "path"), iget(f, "locks"), iget(f, "sessions"));
                else
                        r = asprintf(&m, "Guarding sessions folder %s (%s): %lld locks, %lld sessions",
                                     sget(f, "path"), sget(f, "how"), iget(f, "locks"), iget(f, "sessions"));
                break;
        case EVENT_MONITOR_FOLDER_REMOVED:
                r = asprintf(&m, "No longer guarding sessions folder %s (%s): %lld locks there are not followed",
                             sget(f, "path"), sget(f, "how"), iget(f, "locks"));
                break;
        case EVENT_MONITOR_STOPPING:
                if (json_is_integer(json_object_get(f, "sender_pid")))
                        r = asprintf(&m, "Stopping on %s from pid %lld (%s): %lld locks no longer guarded",
                                     sget(f, "signal"), iget(f, "sender_pid"), sget(f, "sender_comm"),
                                     iget(f, "locks"));
                else if (json_string_value(json_object_get(f, "signal")))
                        r = asprintf(&m, "Stopping on %s: %lld locks no longer guarded", sget(f, "signal"),
                                     iget(f, "locks"));
                else
                        r = asprintf(&m, "Stopping (%s): %s; %lld locks no longer guarded", sget(f, "reason"),
                                     sget(f, "error"), iget(f, "locks"));
                break;
        default:
                break;
        }
        return r < 0 ? NULL : m;
}

/* "lock" → LOCK_PATH, "owner_pid" → OWNER_PID: journal field names are [A-Z0-9_]. */
static void journal_field_name(const char *key, char *buf, size_t size) {
        size_t i = 0;

        if (strcmp(key, "lock") == 0)
                key = "lock_path";
        else if (strcmp(key, "session") == 0)
                key = "session_path";
        else if (strcmp(key, "event") == 0)
                key = "lockwarden_event";
        for (; *key && i + 1 < size; key++)
                buf[i++] = isalnum((unsigned char) *key) ? (char) toupper((unsigned char) *key) : '_';
        buf[i] = '\0';
}

static void send_journal(Reporter *r, EventKind k, json_t *obj, const char *message) {
        struct iovec iov[48];
        char *owned[48];
        size_t n = 0, n_owned = 0;
        const char *key;
        json_t *v;
        char *s;

        if (asprintf(&s, "MESSAGE=%s", message ? message : event_table[k].name) >= 0)
                iov[n++] = (struct iovec) { s, strlen(s) }, owned[n_owned++] = s;
        if (asprintf(&s, "MESSAGE_ID=%s", event_table[k].message_id) >= 0)
                iov[n++] = (struct iovec) { s, strlen(s) }, owned[n_owned++] = s;
        if (asprintf(&s, "PRIORITY=%d", event_table[k].priority) >= 0)
                iov[n++] = (struct iovec) { s, strlen(s) }, owned[n_owned++] = s;
        iov[n++] = (struct iovec) { (char *) "SYSLOG_IDENTIFIER=lockwarden", 28 };

        json_object_foreach(obj, key, v) {
                char name[64];
                _cleanup_free_ char *dumped = NULL;
                const char *value;

                if (n >= ELEMENTSOF(iov) || json_is_null(v))
                        continue;
                journal_field_name(key, name, sizeof(name));
                if (json_is_string(v))
                        value = json_string_value(v);
                else {
                        dumped = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
                        value = dumped ? dumped : "";
                }
                if (asprintf(&s, "%s=%s", name, value) >= 0)
                        iov[n++] = (struct iovec) { s, strlen(s) }, owned[n_owned++] = s;
        }

        /* Never sd_journal_sendv: it waits while journald does not read. No journal (a
         * container without journald): the other sinks still have it. */
        (void) journal_sink_send(r->journal, iov, n);
        for (size_t i = 0; i < n_owned; i++)
                free(owned[i]);
}

void report_emit(Reporter *r, EventKind kind, json_t *fields) {
        char ts[ISO_TS_MAX];
        json_t *obj;
        _cleanup_free_ char *message = NULL;

        if (kind < 0 || kind >= _EVENT_KIND_MAX) {
                json_decref(fields);
                return;
        }
        r->counts[kind]++;

        obj = json_pack("{s:s, s:s, s:I}", "event", event_table[kind].name,
                        "ts", format_iso_ts(now_realtime_us(), ts),
                        "mono_ns", (json_int_t) now_mono_ns());
        if (!obj) {
                json_decref(fields);
                return;
        }
        if (fields) {
                json_object_update(obj, fields);
                json_decref(fields);
        }

        message = message_for(kind, obj);

        if (r->events) {
                /* One object per line, written as the reader takes it: never waited for. */
                _cleanup_free_ char *line = json_dumps(obj, JSON_COMPACT);
                if (line) {
                        size_t n = strlen(line);
                        line[n] = '\n'; /* replaces the NUL: written by length */
                        (void) outbuf_write(r->events, line, n + 1, false);
                } else
                        r->n_unencoded++;
        }
        if (r->to_journal && r->journal)
                send_journal(r, kind, obj, message);
        if (r->to_stderr) {
                _cleanup_free_ char *line = NULL;
                if (asprintf(&line, "lockwarden: %s: %s", event_table[kind].name, message ? message : "") >= 0)
                        log_line(line);
        }

        /* Kept for `lockwarden events`; the ring owns this reference. */
        if (r->n_ring == REPORT_RING_MAX)
                json_decref(r->ring[r->ring_head]);
        else
                r->n_ring++;
        r->ring[r->ring_head] = obj;
        r->ring_head = (r->ring_head + 1) % REPORT_RING_MAX;
        if (r->observer)
                r->observer(kind, obj, r->observer_userdata);
        if (r->tap)
                r->tap(obj, r->tap_userdata);
}
