/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* report.h: every event lockwarden reports, and the three places it goes (none of which is
 * ever waited for: a reader that stops loses events, counted, never stops the daemon): the journal (one
 * MESSAGE_ID per kind, fields upper-cased), the --events NDJSON stream, and a readable line on
 * stderr unless stderr already is the journal. Event names are a contract; see the table. */
#pragma once

#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

typedef enum EventKind {
        EVENT_MONITOR_READY,
        EVENT_MONITOR_ERROR,
        EVENT_LOCK_ACQUIRED,
        EVENT_LOCK_RELEASED,
        EVENT_LOCK_REMOVED,
        EVENT_LOCK_STALE,
        EVENT_LOCK_CLEANED,
        EVENT_LOCK_KEPT,
        EVENT_LOCK_AGED,
        EVENT_MONITOR_DUMP,
        /* Takeover races, in the order of RaceKind (race.h). */
        EVENT_RACE_LOCK_STOLEN,
        EVENT_RACE_DOUBLE_HOLDER,
        EVENT_RACE_UNLOCKED_WRITE,
        EVENT_RACE_FOREIGN_WRITE,
        EVENT_RACE_SESSION_REPLACED,
        EVENT_RACE_LOCK_TAMPERED,
        EVENT_MONITOR_OVERFLOW,
        EVENT_MONITOR_RESYNC,
        EVENT_MONITOR_WARNING,
        EVENT_MONITOR_RELOADED,
        EVENT_MONITOR_RELEASE,
        EVENT_MONITOR_DROPPED,
        EVENT_MONITOR_FOLDER_ADDED,
        EVENT_MONITOR_FOLDER_REMOVED,
        EVENT_MONITOR_STOPPING,
        EVENT_MONITOR_DISCOVERED,
        _EVENT_KIND_MAX,
        _EVENT_KIND_INVALID = -EINVAL,
} EventKind;

#define REPORT_RING_MAX 1024
/* What the --events stream may keep for a reader that is behind (outbuf.h). */
#define REPORT_OUTPUT_MAX (4u * 1024 * 1024)

typedef struct OutBuf OutBuf;
typedef struct JournalSink JournalSink;
typedef struct sd_event sd_event;

/* Sees every event after it is emitted (the control socket's followers and captures). */
typedef void (*ReportTap)(json_t *event, void *userdata);
/* Sees every event as it is emitted, with its kind (the metrics' counters). */
typedef void (*ReportObserver)(EventKind kind, json_t *event, void *userdata);

typedef struct Reporter {
        OutBuf *events;           /* --events stream, or NULL */
        JournalSink *journal;     /* NULL: no socket for it */
        uint64_t n_unencoded;     /* events that did not serialise (out of memory) */
        json_t *ring[REPORT_RING_MAX];  /* the last events, oldest at ring_head once full */
        size_t ring_head, n_ring;
        ReportTap tap;
        void *tap_userdata;
        ReportObserver observer;
        void *observer_userdata;
        bool to_stderr;           /* stderr is not the journal */
        bool to_journal;
        uint64_t counts[_EVENT_KIND_MAX];
} Reporter;

/* events_path: NULL, "-" for stdout, or a file to append to. */
int reporter_init(Reporter *r, const char *events_path);
void reporter_done(Reporter *r);
/* Outputs that were not read are written when they take more, on E; when one drains after
 * dropping events, monitor.dropped says how many (output: events, stderr or journal). */
int reporter_attach_event(Reporter *r, sd_event *e);

/* Emits one event. Takes ownership of fields (a JSON object; NULL means none). */
void report_emit(Reporter *r, EventKind kind, json_t *fields);
/* The events kept (at most REPORT_RING_MAX), oldest first, whose mono_ns >= since_ns. */
json_t *report_ring_json(Reporter *r, uint64_t since_ns);

const char *event_kind_to_string(EventKind k);
EventKind event_kind_from_string(const char *s);
const char *event_kind_message_id(EventKind k);

/* A pid, or null when it is not known (no attribution, a scan). */
json_t *json_pid(pid_t pid);
/* How the actor of an event is known: "pid" (the kernel named it), "scan" (found on disk, no
 * event), "unavailable" (inotify names nobody). */
const char *attribution_to_string(pid_t pid);
/* A JSON string for a path or name made of arbitrary bytes (see escape.h). Never NULL unless
 * out of memory. */
json_t *json_path(const char *dir, const char *name);
/* A JSON string for text that may hold other users' bytes (a reason that quotes a file name):
 * invalid UTF-8 and control bytes become \xNN, so that json_pack never fails on it and no report
 * is lost to one field. Never NULL unless out of memory. */
json_t *json_text(const char *text);
