/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* manager.h: the daemon. One Manager, one sd-event loop; every input is a source on it:
 * the kernel's event queue (fanotify or inotify), one pidfd per lock owner, one-shot grace timers, signals, the watchdog. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/fanotify.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "actor.h"
#include "hashmap.h"
#include "holder-map.h"
#include "discovery.h"
#include "metrics.h"
#include "model.h"
#include "options.h"
#include "owner.h"
#include "report.h"
#include "source.h"

typedef struct ControlServer ControlServer;

typedef struct Manager {
        const RunOptions *opts;       /* = &opts_storage: the effective options */
        RunOptions opts_storage;
        const RunOptions *cli;        /* the command line, which wins over the file at reloads */
        sd_event *event;
        int stop_signal;              /* the signal that ended the loop, and who sent it */
        pid_t stop_sender;

        Source source;                /* fanotify or inotify */
        const char *backend_why;      /* why auto chose inotify, or NULL */
        sd_event_source *source_event;
        bool source_yielding;         /* a burst: at normal priority for one turn */
        uint64_t kernel_iteration;    /* the loop iteration that last served the queue */
        unsigned kernel_streak;       /* ... and how many before it in a row did */

        Reporter reporter;
        Metrics metrics;              /* counters; --metrics-file */
        ControlServer *control;       /* NULL: --socket none */
        Host host;                    /* what control and discovery work with (host.h) */
        DiscoveryHost discovery;      /* .discovery NULL: off (folders configured, or not root) */

        Model model;                  /* what the model knows (model.h) */

        uint64_t n_turns;             /* loop turns that dispatched (monitor.dump loop_iterations) */
        char *last_status;
        uint64_t last_status_of[5];   /* the numbers it was made of (formatted only on change) */
} Manager;

/* Takes over EFF (the effective options); CLI must outlive the manager. */
int manager_new(const RunOptions *cli, RunOptions *eff, Manager **ret);
Manager *manager_free(Manager *m);
/* Opens the event source, guards the folders, seeds the holder map, reports ready. */
int manager_startup(Manager *m);
int manager_run(Manager *m);
/* End of a batch of input: settle holders, judge, act, update STATUS=. */
void manager_flush(Manager *m);
/* Read and dispatch what the event queue holds now, without settling. Every handler that
 * may lead to a decision (pidfd, timer) calls it first, so that verdicts never rest on a view
 * older than what the kernel has already reported. */
void manager_drain_events(Manager *m);
/* SIGHUP, or `lockwarden reload` (reload.h): reports monitor.reloaded, or monitor.error when the
 * new configuration is refused. Returns 0, or the negative errno of the refusal. */
int manager_reload(Manager *m);
