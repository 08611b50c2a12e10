/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* manager.c: start-up, the loop's sources, shutdown. */
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <systemd/sd-daemon.h>

#include "capability.h"
#include "config.h"
#include "control.h"
#include "discovery.h"
#include "lock.h"
#include "log.h"
#include "macro.h"
#include "manager.h"
#include "owner.h"
#include "proc.h"
#include "reload.h"
#include "session.h"
#include "test-hook.h"
#include "time-util.h"
#include "tracker.h"
#include "tree.h"

/* An owner's pidfd turned readable: it exited. */
static int on_owner_exit(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Owner *o = userdata;
        Manager *m = o->table->userdata;
        uint64_t now_ns;

        (void) s;
        (void) fd;
        (void) revents;
        if (sd_event_now(m->event, CLOCK_MONOTONIC, &now_ns) < 0)
                now_ns = now_mono_ns();
        else
                now_ns *= NSEC_PER_USEC;

        /* Events queued before the exit (a reader's open just before the owner died) are
         * read before the owner is judged gone. */
        owner_ref(o);
        manager_drain_events(m);
        lock_owner_gone(o, now_ns);
        manager_flush(m);
        owner_unref(o);
        return 0;
}

/* A lock's grace ended. */
static int on_lock_deadline(sd_event_source *s, uint64_t usec, void *userdata) {
        Lock *l = userdata;
        Manager *m = l->model->userdata;

        (void) s;
        /* The deadline passing is the evidence: latency counts from it. Mark before draining:
         * the drain may free this lock (its unlink was queued), which also unlists it, so l
         * is not touched after the drain. */
        lock_mark_dirty(l, usec * NSEC_PER_USEC);
        manager_drain_events(m);
        manager_flush(m);
        return 0;
}

/* The deadline of a race window or burst passed. */
static int on_race_deadline(sd_event_source *s, uint64_t usec, void *userdata) {
        Manager *m = userdata;

        (void) s;
        (void) usec;
        session_timer_fired(&m->model);
        /* Writes or a lock may be queued: apply them first; they may end or extend windows.
         * Sessions are freed only by session_gc() at the end of a batch. */
        manager_drain_events(m);
        session_deadlines_passed(&m->model, now_mono_ns());
        manager_flush(m);
        return 0;
}

/* For those that take up the kernel's queue before they act (discovery's timer). */
static void drain_cb(void *userdata) {
        manager_drain_events(userdata);
}

static void flush_cb(void *userdata) {
        manager_flush(userdata);
}

static int reload_cb(void *userdata) {
        return manager_reload(userdata);
}

int manager_new(const RunOptions *cli, RunOptions *eff, Manager **ret) {
        Manager *m = calloc(1, sizeof(*m));
        int r;

        if (!m)
                return -ENOMEM;
        m->cli = cli;
        m->opts_storage = *eff;
        *eff = (RunOptions) {};
        m->opts = &m->opts_storage;
        m->source.fd = -1;
        m->model.self_pid = getpid();
        m->metrics.start_mono_ns = now_mono_ns();
        m->metrics.start_realtime_us = (uint64_t) now_realtime_us();
        m->model.opts = m->opts;
        m->model.source = &m->source;
        m->model.reporter = &m->reporter;
        m->model.on_lock_deadline = on_lock_deadline;
        m->model.on_race_deadline = on_race_deadline;
        m->model.userdata = m;
        m->model.nodes_by_fid = HASHMAP_NEW_INDIRECT(&file_id_hash_ops, Node, fid);
        m->model.owners.by_pid = HASHMAP_NEW(&pid_hash_ops, Owner, pid);
        m->model.owners.on_exit = on_owner_exit;
        m->model.owners.userdata = m;
        r = holder_map_init(&m->model.holders);
        if (r >= 0)
                r = actor_cache_init(&m->model.actors);
        if (r < 0 || !m->model.nodes_by_fid || !m->model.owners.by_pid) {
                manager_free(m);
                return -ENOMEM;
        }
        r = sd_event_default(&m->event);
        if (r < 0) {
                manager_free(m);
                return r;
        }
        m->model.event = m->event;
        m->model.owners.event = m->event;
        m->host = (Host) {
                .model = &m->model, .reporter = &m->reporter, .source = &m->source, .metrics = &m->metrics,
                .discovery = &m->discovery, .event = m->event, .opts = m->opts,
                .drain = drain_cb, .flush = flush_cb, .reload = reload_cb, .userdata = m,
        };
        m->discovery.host = &m->host;
        *ret = m;
        return 0;
}

Manager *manager_free(Manager *m) {
        if (!m)
                return NULL;
        metrics_done(&m->metrics); /* first: a write that is due shows the locks as they are */
        discovery_free(&m->discovery);
        session_free_all(&m->model);
        while (m->model.locks)
                lock_free(m->model.locks);
        tree_free_all(&m->model);
        /* Files retired from the maps live only on the orphan list. */
        for (size_t i = 0; i < m->model.n_orphans; i++)
                if (m->model.orphans[i]->retired)
                        holder_map_remove(&m->model.holders, m->model.orphans[i]);
        m->model.n_orphans = 0;
        holder_map_done(&m->model.holders);
        hashmap_free(m->model.nodes_by_fid);
        hashmap_free(m->model.owners.by_pid);
        actor_cache_done(&m->model.actors);
        free(m->model.confirms);
        free(m->model.lazy);
        free(m->model.confirm_fds.v);
        free(m->model.scans);
        free(m->model.remote_warned);
        free(m->model.orphans);
        free(m->model.unseen);
        free(m->model.stranded);
        free(m->last_status);
        m->control = control_stop(m->control);
        sd_event_source_disable_unref(m->source_event);
        source_close(&m->source);
        reporter_done(&m->reporter);
        sd_event_unref(m->event);
        options_done(&m->opts_storage);
        free(m);
        return NULL;
}

static void manager_update_status(Manager *m) {
        _cleanup_free_ char *s = NULL;
        const uint64_t of[5] = { m->model.n_guarded, m->model.n_locks, m->model.n_stale,
                                 m->model.n_cleaned, m->model.n_races };

        /* Called at the end of every batch: formatted only when a number changed. */
        if (m->last_status && memcmp(of, m->last_status_of, sizeof(of)) == 0)
                return;
        memcpy(m->last_status_of, of, sizeof(of));
        if (asprintf(&s, "STATUS=Guarding %zu folders: %zu locks, %llu stale, %llu cleaned, %llu races",
                     m->model.n_guarded, m->model.n_locks, (unsigned long long) m->model.n_stale,
                     (unsigned long long) m->model.n_cleaned, (unsigned long long) m->model.n_races) < 0)
                return;
        if (m->last_status && strcmp(m->last_status, s) == 0)
                return;
        (void) sd_notify(false, s);
        free(m->last_status);
        m->last_status = TAKE_PTR(s);
}

void manager_flush(Manager *m) {
        session_sizes_read(&m->model);
        tracker_flush(&m->model);
        session_gc(&m->model);
        tree_reap(&m->model);
        if (m->model.started)
                manager_update_status(m);
}

int manager_reload(Manager *m) {
        const char *file = m->cli->config_path ? m->cli->config_path : DEFAULT_CONFIG_PATH;
        ReloadChanges c;
        char err[1024];
        int r;

        (void) sd_notifyf(false, "RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=Reloading the configuration",
                          (unsigned long long) (now_mono_ns() / NSEC_PER_USEC));
        r = reload_options(m->cli, &m->opts_storage, &m->model, &c, err, sizeof(err));
        if (r < 0 && c.refused) {
                report_emit(&m->reporter, EVENT_MONITOR_ERROR,
                            json_pack("{s:s+, s:s}", "error", "configuration not reloaded, the previous one stays: ",
                                      err, "path", file));
                goto finish;
        }
        /* Discovery looks again, or (folders configured now) drops what it found. */
        if (r >= 0 && discovery_reload(&m->discovery, c.removed))
                c.any_removed = true;
        if (r < 0) {
                report_emit(&m->reporter, EVENT_MONITOR_ERROR,
                            json_pack("{s:s, s:s}", "error", err, "path", file));
                goto finish;
        }
        reload_settle(&m->model, c.any_removed);

        /* No file (the default one does not exist): say so, and name none. */
        report_emit(&m->reporter, EVENT_MONITOR_RELOADED,
                    json_pack("{s:s?, s:s?, s:O, s:O, s:O, s:O, s:I}", "config", m->opts->config_read,
                              "looked_for", m->opts->config_read ? NULL : file, "added", c.added,
                              "removed", c.removed, "changed", c.changed, "restart_needed", c.restart,
                              "folders", (json_int_t) m->model.n_guarded));
finish:
        /* STATUS= says "Reloading" now: say the state again. */
        free(m->last_status);
        m->last_status = NULL;
        manager_flush(m);
        reload_changes_done(&c);
        (void) sd_notify(false, "READY=1");
        return r < 0 ? r : 0;
}

static void on_fs_event(const FsEvent *ev, void *userdata) {
        Manager *m = userdata;

        m->metrics.n_events++;
        if (ev->mask & FAN_Q_OVERFLOW) {
                if (!m->model.lost_events) {
                        m->metrics.n_overflows++;
                        report_emit(&m->reporter, EVENT_MONITOR_OVERFLOW,
                                    json_pack("{s:s, s:I}", "backend",
                                              source_attribution(&m->source) ? "fanotify" : "inotify",
                                              "overflows", (json_int_t) m->metrics.n_overflows));
                }
                m->model.lost_events = true;
                test_hook("after-overflow");
                return;
        }
        discovery_dispatch(&m->discovery, ev);
        tree_dispatch(&m->model, ev, m->model.batch_ns);
}

/* After lost events, with the queue drained: the folders, the holder map and every payload
 * are read again, and every lock is judged on that (at the end of this batch). */
static void manager_resync(Manager *m) {
        uint64_t start = now_mono_ns(), holders = 0;
        size_t before = m->model.holders.n_files[FILE_LOCK] + m->model.holders.n_files[FILE_SESSION];
        TrackedFile *f;
        size_t i = 0;
        int r;

        tree_resync(&m->model, start);
        /* An entry script's open may be among the events lost: look for gateways again. */
        discovery_resync(&m->discovery);
        m->model.n_lazy = 0; /* every holder set is read again from /proc */
        r = holder_map_reseed(&m->model.holders, start);
        for (Lock *l = m->model.locks; l; l = l->locks_next)
                lock_resynced(l, start);
        if (r < 0) {
                /* The holder map is as it was: still blind, so races stay unreported and the
                 * walk is tried again after the next event. */
                char msg[160];

                snprintf(msg, sizeof(msg), "cannot read /proc for the resync (%s): holders kept as they were, "
                         "read again after the next event", strerror(-r));
                report_emit(&m->reporter, EVENT_MONITOR_ERROR, json_pack("{s:s, s:s}", "error", msg, "path", "/proc"));
                return;
        }
        m->model.lost_events = false;
        while (hashmap_iterate(m->model.holders.by_inode, &i, (void **) &f))
                holders += f->n_holders;
        report_emit(&m->reporter, EVENT_MONITOR_RESYNC,
                    json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}",
                              "folders", (json_int_t) m->model.n_guarded,
                              "files_before", (json_int_t) before,
                              "files", (json_int_t) m->model.holders.n_files[FILE_LOCK] +
                                       (json_int_t) m->model.holders.n_files[FILE_SESSION],
                              "locks", (json_int_t) m->model.n_locks,
                              "holders", (json_int_t) holders,
                              "duration_us", (json_int_t) ((now_mono_ns() - start) / NSEC_PER_USEC)));
}

/* Every event so far is applied: the view of the names is exact, or, after lost events, can
 * be made so now. */
static void on_drained(Manager *m) {
        if (m->model.lost_events)
                manager_resync(m);
        session_settle(&m->model);
        m->model.drain_gen++;
}

/* One read() of the event queue, dispatched. Returns the bytes read (0: none), and in *MORE
 * whether the queue still holds events. */
static int read_events_once(Manager *m, bool *more) {
        int r;

        *more = false;
        m->model.batch_ns = now_mono_ns();
        r = source_read(&m->source, on_fs_event, m);
        if (r > 0) {
                metrics_note_read(&m->metrics, model_lag_ns(&m->model, m->model.batch_ns));
                /* Read it all? Then this is the moment the queue was drained: the callers' read
                 * bound may stop before another read would have said so. */
                if (source_pending(&m->source) == 0)
                        on_drained(m);
                else
                        *more = true;
                return r;
        }
        if (r == 0)
                on_drained(m);
        else if (r != -EINTR)
                report_emit(&m->reporter, EVENT_MONITOR_ERROR,
                            json_pack("{s:s, s:n}", "error", strerror(-r), "path"));
        return 0;
}

void manager_drain_events(Manager *m) {
        /* What the kernel queued before this moment, not what a burst adds while we read: a
         * decision must not rest on a view older than the events already queued, but it need
         * not wait for the end of someone's burst (a pidfd handler that read until the queue
         * was empty kept a dead owner's lock for as long as 100,000 writes went on). Bounded
         * too; what is left is read by the queue's own handler. */
        int backlog = source_pending(&m->source);
        bool more = true;

        if (backlog <= 0) {
                (void) read_events_once(m, &more); /* empty: settles (and resyncs after losses) */
                return;
        }
        for (int i = 0; i < 64 && more && backlog > 0; i++)
                backlog -= read_events_once(m, &more);
}

/* How many wake-ups in a row (loop iterations that served nothing else) the kernel's queue
 * may have before the other sources get a turn. */
#define KERNEL_STREAK_MAX 8

static int on_kernel_events(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Manager *m = userdata;
        uint64_t iteration = 0;
        bool more = false;

        (void) s;
        (void) fd;
        (void) revents;
        m->metrics.n_wakeups++;
        (void) sd_event_get_iteration(m->event, &iteration);
        if (m->source_yielding) {
                /* Served at the normal priority: the sources ready meanwhile had their turn. */
                (void) sd_event_source_set_priority(m->source_event, SD_EVENT_PRIORITY_IMPORTANT);
                m->source_yielding = false;
                m->kernel_streak = 0;
        } else if (iteration == m->kernel_iteration + 1)
                m->kernel_streak++; /* the previous iteration served the queue too */
        else
                m->kernel_streak = 0;
        m->kernel_iteration = iteration;

        /* Bounded: at most a few reads per wake-up, so timers and pidfds are served too.
         * Settle per read: a batch is what one read returned. The read that finds the queue
         * empty is settled too: a resync after lost events happens there. */
        for (int i = 0; i < 8; i++) {
                (void) read_events_once(m, &more);
                manager_flush(m);
                if (!more)
                        break;
        }

        /* A burst: at the highest priority the queue would be served again before anything
         * else for as long as it goes on, and the control socket and every owner's exit would
         * wait for its end (one user's 100,000 new files made `status` wait for as long as they
         * were being created). For one turn at the normal priority the sources ready meanwhile
         * go first; the pidfd and timer handlers drain the queue themselves (bounded) before
         * they decide, so nothing is judged on an older view. */
        if (more || m->kernel_streak >= KERNEL_STREAK_MAX) {
                (void) sd_event_source_set_priority(m->source_event, SD_EVENT_PRIORITY_NORMAL);
                m->source_yielding = true;
        }
        return 0;
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        Manager *m = userdata;

        /* Who asked us to stop, for monitor.stopping (the first signal, if several came). */
        if (m->stop_signal == 0) {
                m->stop_signal = (int) si->ssi_signo;
                m->stop_sender = (pid_t) si->ssi_pid;
        }
        return sd_event_exit(sd_event_source_get_event(s), 0);
}

/* monitor.stopping: why the loop ended (a signal and its sender, or the error), and what is
 * no longer guarded from now on. */
static void report_stopping(Manager *m, int r) {
        char comm[COMM_MAX];
        const char *sig = m->stop_signal == SIGTERM ? "SIGTERM" : m->stop_signal == SIGINT ? "SIGINT" : NULL;
        bool sender = m->stop_signal && m->stop_sender > 0;

        if (sender)
                proc_comm(m->stop_sender, comm);
        report_emit(&m->reporter, EVENT_MONITOR_STOPPING,
                    json_pack("{s:s, s:s?, s:o?, s:s?, s:s?, s:I, s:I, s:I}",
                              "reason", r < 0 ? "error" : "signal",
                              "signal", r < 0 ? NULL : sig,
                              "sender_pid", sender && r >= 0 ? json_integer(m->stop_sender) : NULL,
                              "sender_comm", sender && r >= 0 ? comm : NULL,
                              "error", r < 0 ? strerror(-r) : NULL,
                              "uptime_ms", (json_int_t) ((now_mono_ns() - m->metrics.start_mono_ns) / NSEC_PER_MSEC),
                              "folders", (json_int_t) m->model.n_guarded,
                              "locks", (json_int_t) m->model.n_locks));
}

static int on_dump(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        Manager *m = userdata;
        json_t *locks = json_array();

        (void) s;
        (void) si;
        for (Lock *l = m->model.locks; locks && l; l = l->locks_next) {
                json_t *holders = json_array();
                for (unsigned i = 0; holders && i < l->file->n_holders; i++)
                        json_array_append_new(holders, json_integer(l->file->holders[i]));
                json_array_append_new(locks, json_pack(
                        "{s:o, s:s?, s:i, s:b, s:o, s:b}",
                        "lock", json_path(l->file->folder ? l->file->folder->path : NULL, l->file->name),
                        "verdict", verdict_to_string(l->verdict),
                        "owner_pid", (int) l->payload.pid,
                        "owner_exited", l->owner && l->owner->exited,
                        "holders", holders ? holders : json_array(),
                        "grace_armed", l->grace_timer && sd_event_source_get_enabled(l->grace_timer, NULL) > 0));
        }
        report_emit(&m->reporter, EVENT_MONITOR_DUMP,
                    json_pack("{s:o, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "locks", locks ? locks : json_array(),
                              "loop_iterations", (json_int_t) m->n_turns,
                              "wakeups", (json_int_t) m->metrics.n_wakeups,
                              "files", (json_int_t) m->model.holders.n_files[FILE_LOCK] +
                                       (json_int_t) m->model.holders.n_files[FILE_SESSION],
                              "owners", (json_int_t) hashmap_size(m->model.owners.by_pid),
                              "events", (json_int_t) m->metrics.n_events,
                              "sessions", (json_int_t) m->model.n_sessions,
                              "races", (json_int_t) m->model.n_races,
                              /* Work per event stays bounded: test-race-flood checks this. */
                              "session_visits", (json_int_t) m->model.n_session_visits,
                              /* Facts read from /proc per acting process: test-actor checks this. */
                              "actor_reads", (json_int_t) m->model.actors.n_reads));
        return 0;
}

static int on_reload(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        Manager *m = userdata;

        (void) s;
        (void) si;
        /* Settle what the kernel has reported first: folders are added and removed on an
         * exact view. */
        manager_drain_events(m);
        manager_flush(m);
        (void) manager_reload(m);
        return 0;
}

int manager_startup(Manager *m) {
        const RunOptions *o = m->opts;
        _cleanup_(caps_user_done) CapsUser user = {};
        char err[512];
        sigset_t ss;
        json_t *dirs, *ready;
        int r;

        /* Each guarded folder costs a descriptor (two with inotify) and each owner a pidfd:
         * the usual soft limit of 1,024 is a few hundred agent folders, which any user can
         * make. The hard limit is what the service manager allows (LimitNOFILE=); sd-event
         * uses epoll, so descriptors past 1,024 are fine. */
        struct rlimit nofile;
        if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
                nofile.rlim_cur = nofile.rlim_max;
                (void) setrlimit(RLIMIT_NOFILE, &nofile);
        }
        if (getrlimit(RLIMIT_NOFILE, &nofile) < 0)
                nofile.rlim_cur = 0;

        if (o->user) {
                r = caps_lookup_user(o->user, &user);
                if (r < 0)
                        return log_error_errno(r, "--user %s: %s", o->user,
                                               r == -ESRCH ? "no such user" : strerror(-r));
        }

        r = reporter_init(&m->reporter, o->events_path);
        if (r < 0)
                return log_error_errno(r, "cannot open events file %s: %m", o->events_path);
        r = reporter_attach_event(&m->reporter, m->event);
        if (r < 0)
                return log_error_errno(r, "cannot watch the outputs: %m");
        /* Opened (and written once) while we may still open anything: after --user, the
         * folder is written through this descriptor. */
        r = metrics_init(&m->metrics, m->event, &m->reporter, &m->model, o->metrics_file, err, sizeof(err));
        if (r < 0)
                return log_error_errno(r, "%s", r == -ENOMEM ? "out of memory" : err);

        r = source_open(&m->source, o->backend, &m->backend_why);
        if (r < 0)
                return r;

        if (!o->socket_path || strcmp(o->socket_path, "none") != 0) {
                _cleanup_free_ char *dflt = o->socket_path ? NULL : control_default_path(true);
                const char *path = o->socket_path ? o->socket_path : dflt;

                r = path ? control_start(&m->host, path, &m->control) : -ENOENT;
                if (r == -EADDRINUSE)
                        return log_error_errno(r, "another lockwarden is running on the control socket %s", path);
                if (r < 0 && o->socket_path)
                        return log_error_errno(r, "cannot serve the control socket %s: %m", path);
                if (r < 0)
                        /* The default place is not ours (no /run, no XDG_RUNTIME_DIR): guard anyway. */
                        report_emit(&m->reporter, EVENT_MONITOR_ERROR,
                                    path ? json_pack("{s:s, s:s}", "error",
                                                     "no control socket (pass --socket PATH): the lockwarden verbs "
                                                     "cannot reach this daemon", "path", path)
                                         : json_pack("{s:s}", "error",
                                                     "no control socket: XDG_RUNTIME_DIR is unset and this is no "
                                                     "service with RuntimeDirectory= (pass --socket PATH): the "
                                                     "lockwarden verbs cannot reach this daemon"));
        }

        sigemptyset(&ss);
        sigaddset(&ss, SIGTERM);
        sigaddset(&ss, SIGINT);
        sigaddset(&ss, SIGUSR1);
        sigaddset(&ss, SIGHUP);
        sigprocmask(SIG_BLOCK, &ss, NULL);
        signal(SIGPIPE, SIG_IGN);
        r = sd_event_add_signal(m->event, NULL, SIGTERM, on_signal, m);
        if (r >= 0)
                r = sd_event_add_signal(m->event, NULL, SIGINT, on_signal, m);
        if (r >= 0)
                r = sd_event_add_signal(m->event, NULL, SIGUSR1, on_dump, m);
        if (r >= 0)
                r = sd_event_add_signal(m->event, NULL, SIGHUP, on_reload, m);
        if (r < 0)
                return log_error_errno(r, "cannot watch signals: %m");

        r = sd_event_add_io(m->event, &m->source_event, m->source.fd, EPOLLIN, on_kernel_events, m);
        if (r < 0)
                return log_error_errno(r, "cannot watch the event queue: %m");
        (void) sd_event_source_set_description(m->source_event,
                                               source_attribution(&m->source) ? "fanotify" : "inotify");
        /* Kernel events first: a pidfd or timer is never handled while older file events
         * wait in the queue (they also drain it themselves before deciding). */
        (void) sd_event_source_set_priority(m->source_event, SD_EVENT_PRIORITY_IMPORTANT);

        /* Pings WATCHDOG=1 at half of WATCHDOG_USEC when the service manager asks for it;
         * otherwise adds nothing, so an idle daemon never wakes. */
        r = sd_event_set_watchdog(m->event, true);
        if (r < 0)
                return log_error_errno(r, "cannot set up the watchdog: %m");

        /* Marks first, scans second: anything that changes during the scan is queued as an
         * event and reconciled afterwards. */
        for (size_t i = 0; i < o->n_state_dirs; i++) {
                r = tree_add_root(&m->model, o->state_dirs[i], NODE_STATE);
                if (r < 0)
                        return log_error_errno(r, "cannot guard %s: %m", o->state_dirs[i]);
        }
        for (size_t i = 0; i < o->n_watch_dirs; i++) {
                r = tree_add_root(&m->model, o->watch_dirs[i], NODE_SESSIONS);
                if (r < 0)
                        return log_error_errno(r, "cannot guard %s: %m", o->watch_dirs[i]);
        }
        /* No folder configured: the gateways of the host, found (discovery.h). */
        r = discovery_start(&m->discovery);
        if (r < 0)
                return log_error_errno(r, "cannot start discovery: %m");

        r = holder_map_seed(&m->model.holders);
        if (r < 0)
                return log_error_errno(r, "cannot read /proc: %m");

        /* Started with some privilege but not all the steady state uses: say what fails. */
        json_t *missing = caps_missing_steady();
        if (json_array_size(missing) > 0)
                report_emit(&m->reporter, EVENT_MONITOR_WARNING,
                            json_pack("{s:s, s:s, s:O}", "path", "/",
                                      "warning", "running without some capabilities: without cap_dac_override "
                                      "other users' folders cannot be guarded and their stale locks cannot "
                                      "be removed; without cap_sys_ptrace other users' holders are not "
                                      "seen, so their locks go stale only when the owner exits; without "
                                      "cap_lease nothing proves at removal that nobody holds another user's "
                                      "lock, so such locks are kept",
                                      "missing", missing));
        json_decref(missing);

        /* Start-up is over: keep only what the steady state needs (capability.h). */
        if (o->user && m->control) {
                r = control_chown(m->control, user.uid, user.gid);
                if (r < 0)
                        return log_error_errno(r, "cannot give the control socket to %s: %m", user.name);
        }
        r = caps_enter_steady_state(o->user ? &user : NULL, err, sizeof(err));
        if (r < 0)
                return log_error_errno(r, "%s", err);
        m->model.started = true;

        /* Read every lock's payload and owner now: which release each state dir runs is known
         * from its gateways' package.json by the time monitor.ready says it. */
        for (Lock *l = m->model.locks; l; l = l->locks_next)
                (void) lock_load_payload(l);

        dirs = tree_guarded_json(&m->model);
        ready = json_pack("{s:s, s:s, s:s?, s:o, s:o, s:I, s:I, s:s, s:I, s:s, s:I, s:s, s:o, s:i, s:s?, s:o, s:I, s:s?}",
                              "backend", source_attribution(&m->source) ? "fanotify" : "inotify",
                              "attribution", source_attribution(&m->source) ? "pid" : "holder-scan",
                              "backend_reason", m->backend_why,
                              "dirs", dirs ? dirs : json_array(),
                              "waiting_for", tree_pending_json(&m->model),
                              "locks", (json_int_t) m->model.holders.n_files[FILE_LOCK],
                              "sessions", (json_int_t) m->model.holders.n_files[FILE_SESSION],
                              "cleanup", cleanup_mode_to_string(o->cleanup),
                              "leak_grace_ms", (json_int_t) o->leak_grace_ms,
                              "races", races_mode_to_string(o->races),
                              "race_coalesce_ms", (json_int_t) o->race_coalesce_ms,
                              "version", PACKAGE_VERSION,
                              "capabilities", caps_effective_json(),
                              "uid", (int) geteuid(),
                              "user", user.name,
                              "releases", tree_releases_json(&m->model),
                              "nofile", (json_int_t) nofile.rlim_cur,
                              "config", o->config_read);
        /* The state dirs discovery found, and how (discovery.h). */
        if (ready && discovery_enabled(&m->discovery))
                json_object_set_new(ready, "discovered", discovery_json(&m->discovery));
        report_emit(&m->reporter, EVENT_MONITOR_READY, ready);

        /* Judge every lock found, now that the holder map is seeded. */
        for (Lock *l = m->model.locks; l; l = l->locks_next)
                lock_mark_dirty(l, now_mono_ns());
        manager_update_status(m);
        (void) sd_notify(false, "READY=1");
        manager_flush(m);
        return 0;
}

/* sd_event_loop(), but knowing when the loop last had nothing to do: from the wake-up after
 * that on, what it takes up came no earlier than that wake-up (or woke it), so it waited at
 * most as long as the loop has been busy, plus the kernel's wake-up (model_lag_ns). */
static int manager_loop(Manager *m) {
        int r, exit_code = 0;

        while (sd_event_get_state(m->event) != SD_EVENT_FINISHED) {
                r = sd_event_prepare(m->event);
                if (r == 0)
                        /* Is anything ready? Asked without sleeping: a busy loop (a storm) pays
                         * one epoll_wait per turn, as sd_event_run() would. */
                        r = sd_event_wait(m->event, 0);
                if (r == 0) {
                        /* Nothing was: the loop is idle. The wait sleeps, and what wakes it is
                         * taken up at once. (sd_event_wait() that found nothing is back in its
                         * initial state: prepared again.) */
                        r = sd_event_prepare(m->event);
                        if (r == 0)
                                r = sd_event_wait(m->event, UINT64_MAX);
                        m->model.busy_since_ns = now_mono_ns();
                }
                if (r > 0) {
                        m->n_turns++;
                        r = sd_event_dispatch(m->event);
                }
                if (r < 0)
                        return r;
        }
        r = sd_event_get_exit_code(m->event, &exit_code);
        return r < 0 ? r : exit_code;
}

int manager_run(Manager *m) {
        int r = manager_loop(m);

        /* Coalesced races still waiting for their window to end are reported, not lost. */
        manager_drain_events(m);
        session_flush_all(&m->model);
        manager_flush(m);
        report_stopping(m, r);
        (void) sd_notify(false, "STOPPING=1\nSTATUS=Stopping");
        if (r < 0)
                return log_error_errno(r, "event loop failed: %m");
        return 0;
}
