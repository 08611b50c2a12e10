/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* metrics.h: the daemon's counters in the Prometheus text exposition format (0.0.4, what
 * Prometheus scrapes and node_exporter's textfile collector reads). Counters are counted as
 * events are reported (the reporter's observer), so they agree with the events; gauges (locks
 * by verdict) are read from the maps when asked. No label ever holds a path: every label value
 * comes from a fixed set (verdicts, stale reasons, race kinds, event names).
 *
 * `lockwarden metrics` asks the daemon ("verb": "metrics"); --metrics-file keeps a file
 * up to date for the textfile collector: written when something changed, at most once a
 * second (one one-shot timer, armed only by a change: an idle daemon writes nothing), whole
 * (a new file renamed over the old one). */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "report.h"
#include "verdict.h"

typedef struct Model Model;
typedef struct Reporter Reporter;

/* Upper bounds of the histograms' buckets, in microseconds (+Inf is added). */
#define METRICS_BUCKETS 14

typedef struct Histogram {
        uint64_t buckets[METRICS_BUCKETS + 1];  /* not cumulative; the last one is +Inf */
        uint64_t count;
        uint64_t sum_us;
} Histogram;

/* Kept locks by reason: the stale reasons, then "stranded", then anything else. */
#define METRICS_KEPT_STRANDED _STALE_REASON_MAX
#define METRICS_KEPT_OTHER (_STALE_REASON_MAX + 1)

/* At most one write of the file per this long. */
#define METRICS_FILE_INTERVAL_NS (1000ull * 1000 * 1000)

typedef struct Metrics {
        sd_event *event;                             /* NULL: never set up */
        Reporter *reporter;                          /* observed: what it reports is counted */
        const Model *model;
        /* The loop's own counters (the manager counts) */
        uint64_t start_mono_ns, start_realtime_us;
        uint64_t n_events, n_wakeups, n_overflows;
        uint64_t stale[_STALE_REASON_MAX + 1];       /* the last: a reason not known here */
        uint64_t kept[METRICS_KEPT_OTHER + 1];
        Histogram queue_lag, cleanup_latency;

        /* --metrics-file */
        char *path, *dir, *name;                     /* NULL: no file */
        int dirfd;                                   /* -1: open it again at the next write */
        sd_event_source *timer;                      /* one-shot, armed by a change only */
        uint64_t last_attempt_ns;                    /* the last write, or failed try */
        uint64_t n_writes, n_write_errors;
        bool warned;                                 /* a failed write said so; reset by a good one */
        bool writing;                                /* our own warning is no change to write */
} Metrics;

/* Sets up M on EVENT for the daemon whose REPORTER it observes and whose MODEL it counts
 * locks of. PATH: the file to keep, or NULL. A folder that cannot be opened, or a file that
 * cannot be written there now, is an error (-errno) with why in ERR: the daemon does not
 * start. */
int metrics_init(Metrics *m, sd_event *event, Reporter *reporter, const Model *model, const char *path,
                 char *err, size_t err_size);
/* Writes the file if a write is due, then lets go of it. */
void metrics_done(Metrics *m);

/* A read of the kernel's queue that returned events, with the loop busy for LAG_NS then. */
void metrics_note_read(Metrics *m, uint64_t lag_ns);

/* {"metrics": [family, ...]}: each family {"name", "type", "help"} with "samples"
 * ([{"labels": {...}, "value": N}]) or, for a histogram, "buckets" ([{"le", "count"}],
 * cumulative, the last "+Inf"), "sum" and "count". The control socket's reply. */
json_t *metrics_json(Metrics *m);
/* The text exposition of such an object (malloc'd, NUL-terminated), or NULL (out of memory). */
char *metrics_format(json_t *metrics);
