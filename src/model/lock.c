/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lock.c: facts → verdict → action for one lock. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "cleanup.h"
#include "event-util.h"
#include "fs-event.h"
#include "lock-facts.h"
#include "lock.h"
#include "macro.h"
#include "model.h"
#include "owner.h"
#include "recovery.h"
#include "report.h"
#include "time-util.h"
#include "node.h"

json_t *lock_path_json(Lock *l) {
        return json_path(l->file->folder ? l->file->folder->path : NULL, l->file->name);
}

json_t *lock_session_json(Lock *l) {
        _cleanup_free_ char *s = strdup(l->file->name);
        size_t n;

        if (!s)
                return NULL;
        n = strlen(s);
        if (n > 5 && strcmp(s + n - 5, ".lock") == 0)
                s[n - 5] = '\0';
        return json_path(l->file->folder->path, s);
}

int lock_new(Model *m, TrackedFile *f, pid_t creator_pid, uint64_t now_ns, Lock **ret) {
        Lock *l = calloc(1, sizeof(*l));

        if (!l)
                return -ENOMEM;
        l->model = m;
        l->file = f;
        l->creator_pid = creator_pid;
        /* Read once per process (actor.h): a gateway takes a lock at every turn. */
        if (creator_pid > 0 && actor_cache_nspid(&m->actors, creator_pid, &l->creator_ns_pid) < 0)
                l->creator_ns_pid = -1; /* gone already: its pid alone ties nothing */
        l->owner_ns = OWNER_NS_UNVERIFIED;
        l->seen_ns = now_ns;
        /* A lock found by the start-up scan, or in a folder a reload added or that was renamed,
         * was acquired before we watched: don't claim we saw it being acquired. One found later
         * in a folder that just appeared is new. */
        l->acquired_reported = creator_pid <= 0 && (!m->started || m->adopting);
        l->verdict = _VERDICT_INVALID;
        f->lock = l;
        LIST_PREPEND(locks, m->locks, l);
        m->n_locks++;
        lock_mark_payload_dirty(l, now_ns);
        *ret = l;
        return 0;
}

static void lock_set_owner(Lock *l, Owner *o) {
        if (l->owner == o) {
                owner_unref(o);
                return;
        }
        if (l->owner) {
                LIST_REMOVE(owner, l->owner->locks, l);
                owner_unref(l->owner);
        }
        l->owner = o;
        if (o)
                LIST_PREPEND(owner, o->locks, l);
}

void lock_free(Lock *l) {
        Model *m;

        if (!l)
                return;
        m = l->model;
        if (l->dirty)
                LIST_REMOVE(dirty, m->dirty_locks, l);
        LIST_REMOVE(locks, m->locks, l);
        m->n_locks--;
        lock_set_owner(l, NULL);
        sd_event_source_disable_unref(l->grace_timer);
        sd_event_source_disable_unref(l->age_timer);
        if (l->file->lock == l)
                l->file->lock = NULL;
        free(l->payload_buf);
        free(l->judged_detail);
        free(l->kept_why);
        free(l);
}

void lock_mark_dirty(Lock *l, uint64_t now_ns) {
        if (now_ns > l->evidence_ns) {
                l->evidence_ns = now_ns;
                l->evidence_lag_ns = model_lag_ns(l->model, now_ns);
        }
        if (l->dirty)
                return;
        l->dirty = true;
        LIST_PREPEND(dirty, l->model->dirty_locks, l);
}

void lock_owner_gone(Owner *o, uint64_t now_ns) {
        Lock *l, *n;

        owner_mark_exited(o, now_ns);
        LIST_FOREACH_SAFE(owner, l, n, o->locks) {
                tracked_file_remove_holder(l->file, o->pid, now_ns);
                lock_mark_dirty(l, now_ns);
        }
}

void lock_mark_payload_dirty(Lock *l, uint64_t now_ns) {
        l->payload_dirty = true;
        lock_mark_dirty(l, now_ns);
}

void lock_resynced(Lock *l, uint64_t now_ns) {
        Node *folder = l->file->folder;
        struct statx sx;

        /* A remote filesystem's attributes may be cached: read it. */
        if (!l->payload_settled || l->payload_dirty || !l->file->name || !folder || folder->remote ||
            statx(folder->dirfd, l->file->name, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT,
                  STATX_TYPE | STATX_INO | STATX_SIZE | STATX_CTIME, &sx) < 0 ||
            (sx.stx_mask & (STATX_TYPE | STATX_INO | STATX_SIZE | STATX_CTIME)) !=
                    (STATX_TYPE | STATX_INO | STATX_SIZE | STATX_CTIME) ||
            !tracked_file_is(l->file, makedev(sx.stx_dev_major, sx.stx_dev_minor), (ino_t) sx.stx_ino, NULL) ||
            sx.stx_size != (uint64_t) l->payload_size ||
            sx.stx_ctime.tv_sec * (int64_t) NSEC_PER_SEC + sx.stx_ctime.tv_nsec != l->payload_ctime_ns) {
                lock_mark_payload_dirty(l, now_ns);
                return;
        }
        lock_mark_dirty(l, now_ns);
}

static void report_error(Lock *l, const char *error) {
        report_emit(l->model->reporter, EVENT_MONITOR_ERROR,
                    json_pack("{s:o, s:o}", "error", json_text(error), "path", lock_path_json(l)));
}

/* inotify names nobody: the open and close we are about to make of the lock come back as
 * events, to be told from other processes' (tracker.c, drop_self_events). */
static void lock_expect_own_open(Lock *l) {
        TrackedFile *f = l->file;

        if (source_attribution(l->model->source))
                return;
        if (f->self_gen != l->model->drain_gen)
                f->self_opens = f->self_closes = 0;
        f->self_gen = l->model->drain_gen;
        f->self_opens++;
        f->self_closes++;
}

/* Returns false if the name no longer holds our inode (a later event will resync). */
static bool lock_read_payload(Lock *l) {
        _cleanup_(lock_read_done) LockRead rd = {};
        int r;

        l->payload_dirty = false;
        l->payload_settled = false;
        lock_expect_own_open(l);
        r = lock_facts_read(l->file->folder->dirfd, l->file->name, l->file->folder->fid->fsid, &rd);
        if (r == -ENOENT)
                return false;
        if (r < 0 && r != -EFBIG) {
                char e[128];
                snprintf(e, sizeof(e), "cannot read lock payload: %s", strerror(-r));
                report_error(l, e);
                return false;
        }
        /* The name may hold another file by now, even one with our inode number: a later event
         * resyncs the name; never take its payload for ours. */
        if (!tracked_file_is(l->file, rd.st.st_dev, rd.st.st_ino, rd.fid.len ? &rd.fid : NULL))
                return false;

        free(l->payload_buf);
        /* Too large (no bytes): judged malformed, and never removed unless it is still this
         * inode; the byte comparison at removal uses the empty buffer, so a huge file is never
         * removed. Reported. */
        l->payload_buf = TAKE_PTR(rd.buf);
        l->payload_len = rd.len;
        l->payload = rd.payload;
        if (r == -EFBIG)
                return true;
        /* A change in the same tick of the file clock as an earlier one may leave the ctime
         * as it was: only a file last changed a second before this read is known unchanged
         * by its ctime later. */
        l->payload_size = (int64_t) rd.st.st_size;
        l->payload_ctime_ns = timespec_ns(&rd.st.st_ctim);
        l->payload_read_ns = now_realtime_us() * (int64_t) NSEC_PER_USEC;
        l->payload_settled = timespec_ns(&rd.st.st_ctim) + (int64_t) NSEC_PER_SEC <= l->payload_read_ns;
        return true;
}

/* Which release the folder's gateway runs, from this owner's package.json, when neither the
 * configuration nor an earlier owner said it. Once per owner: a process's package does not
 * change under it. */
static void lock_learn_release(Lock *l) {
        Owner *o = l->owner;
        char version[24], source[48];
        Release r;

        if (!o || o->exited || o->release_tried || node_release_settled(l->file->folder))
                return;
        o->release_tried = true;
        if (owner_read_version(o, version, sizeof(version)) < 0)
                return;
        r = release_from_version(version);
        if (r == RELEASE_UNKNOWN)
                return;
        snprintf(source, sizeof(source), "package.json of pid %d", (int) o->pid);
        node_set_release(l->model, l->file->folder, r, version, source);
}

static void lock_update_owner(Lock *l) {
        Owner *o = NULL;
        pid_t host;
        OwnerNs ns;
        int r;

        if (!l->payload.valid) {
                lock_set_owner(l, NULL);
                return;
        }
        /* Tied once, it stays tied: the payload re-read after its owner died (its last write
         * read late) must not find it unaccounted for because it holds nothing now. */
        if (l->owner && l->owner_ns != OWNER_NS_UNVERIFIED && l->owner_for_pid == l->payload.pid)
                return;
        /* The creator first: its pid in its namespace was read when it created the lock (it
         * may be gone since). */
        ns = lock_facts_resolve_owner(&l->payload, l->creator_pid, l->creator_ns_pid, l->file, &host);
        l->owner_ns = ns;
        l->owner_for_pid = l->payload.pid;
        if (l->owner && l->owner->pid == host)
                return;
        r = owner_get(&l->model->owners, host, &o);
        if (r < 0) {
                char e[128];
                snprintf(e, sizeof(e), "cannot watch owner pid %d: %s", (int) host, strerror(-r));
                report_error(l, e);
                lock_set_owner(l, NULL);
                return;
        }
        lock_set_owner(l, o);
        lock_learn_release(l);
}

pid_t lock_owner_pid(Lock *l) {
        if (l->payload.valid)
                return l->owner ? l->owner->pid : l->payload.pid;
        return l->creator_pid;
}

/* Field by field: the struct has padding, whose bytes say nothing. */
static bool payload_equal(const LockPayload *a, const LockPayload *b) {
        return a->valid == b->valid && a->pid == b->pid && a->has_starttime == b->has_starttime &&
               a->starttime == b->starttime && a->has_created_at == b->has_created_at &&
               a->created_at_us == b->created_at_us && a->has_max_hold == b->has_max_hold &&
               a->max_hold_ms == b->max_hold_ms && strcmp(a->error, b->error) == 0;
}

bool lock_load_payload(Lock *l) {
        LockPayload old;

        if (!l->payload_dirty)
                return true;
        if (!l->file->name || !l->file->folder)
                return false;
        old = l->payload;
        if (!lock_read_payload(l))
                return false;
        if (!payload_equal(&old, &l->payload))
                l->stale_handled = l->stale_reported = false;
        lock_update_owner(l);
        return true;
}

int64_t lock_held_ms(Lock *l) {
        /* Since we saw it created; for a lock that predates us, since its payload says. */
        if (l->creator_pid <= 0 && l->payload.valid && l->payload.has_created_at)
                return (now_realtime_us() - l->payload.created_at_us) / USEC_PER_MSEC;
        return (int64_t) ((now_mono_ns() - l->seen_ns) / NSEC_PER_MSEC);
}

/* A removal kept on doubt is tried again after 1, 2, 4, ... 512 ms (a second in all), then
 * only at the lock's next event. */
#define DOUBT_RETRIES 10
#define DOUBT_BACKOFF_NS NSEC_PER_MSEC

static void lock_arm_grace(Lock *l, uint64_t deadline_ns) {
        uint64_t usec = (deadline_ns + NSEC_PER_USEC - 1) / NSEC_PER_USEC;

        if (event_arm_oneshot(l->model->event, &l->grace_timer, CLOCK_MONOTONIC, usec,
                              1 /* µs: no coalescing */, l->model->on_lock_deadline, l,
                              "lock-grace") < 0)
                report_error(l, "cannot arm grace timer");
}

static void lock_disarm_grace(Lock *l) {
        if (l->grace_timer)
                (void) sd_event_source_set_enabled(l->grace_timer, SD_EVENT_OFF);
}

static int on_age_timer(sd_event_source *s, uint64_t usec, void *userdata);

/* Information only: a live lock older than its maxHoldMs, or older than 30 minutes. */
static void lock_check_age(Lock *l) {
        int64_t now_us = now_realtime_us(), next_us;
        AgedReason due;

        if (!l->payload.valid || !l->payload.has_created_at) {
                if (l->age_timer)
                        (void) sd_event_source_set_enabled(l->age_timer, SD_EVENT_OFF);
                return;
        }
        while ((due = verdict_aged(l->payload.created_at_us, l->payload.max_hold_ms,
                                   l->aged_reported, now_us, &next_us)) >= 0) {
                l->aged_reported |= 1u << due;
                Release rel = node_release(l->file->folder);

                /* What the application's contenders will do with it depends on the release. */
                report_emit(l->model->reporter, EVENT_LOCK_AGED,
                            json_pack("{s:o, s:s, s:I, s:i, s:I, s:s, s:s?}", "lock", lock_path_json(l),
                                      "reason", aged_reason_to_string(due),
                                      "age_ms", (json_int_t) ((now_us - l->payload.created_at_us) / 1000),
                                      "owner_pid", (int) l->payload.pid,
                                      "max_hold_ms", (json_int_t) (l->payload.max_hold_ms ? l->payload.max_hold_ms : DEFAULT_MAX_HOLD_MS),
                                      "release", release_to_string(rel), "contenders", release_contenders(rel)));
        }
        if (next_us == INT64_MAX) {
                if (l->age_timer)
                        (void) sd_event_source_set_enabled(l->age_timer, SD_EVENT_OFF);
                return;
        }
        /* To the millisecond: a 2026.5 contender takes the lock at maxHoldMs, and lock.aged
         * must come before the steal it explains. (One wake-up per deadline, never periodic.) */
        if (event_arm_oneshot(l->model->event, &l->age_timer, CLOCK_REALTIME, (uint64_t) next_us,
                              USEC_PER_MSEC, on_age_timer, l, "lock-age") < 0)
                report_error(l, "cannot arm age timer");
}

static int on_age_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Lock *l = userdata;

        (void) s;
        (void) usec;
        if (l->verdict == VERDICT_LIVE)
                lock_check_age(l);
        return 0;
}

void lock_gather_facts(Lock *l, LockFacts *f) {
        TrackedFile *file = l->file;
        OwnerProbe probe;
        LockFactsSource src = {
                .payload = &l->payload,
                .owner_ns = l->owner_ns,
                .file = file,
                .unheld_since_ns = file->unheld_since_ns,
                .now_ns = now_mono_ns(),
                /* (explain and locks may ask of a lock whose folder is gone) */
                .grace_ns = file->folder ? file->folder->leak_grace_ms * NSEC_PER_MSEC : 0,
        };

        /* The grace counts from when we could know. */
        if (file->n_holders == 0 && src.unheld_since_ns < l->seen_ns)
                src.unheld_since_ns = l->seen_ns;
        /* The owner as its pidfd says (without one, as /proc says now: owner_refresh). */
        if (l->owner) {
                owner_refresh(l->owner, src.now_ns);
                probe = (OwnerProbe) {
                        .pid = l->owner->pid,
                        .exited = l->owner->exited,
                        .have_starttime = l->owner->have_starttime,
                        .starttime = l->owner->starttime,
                        .fds_visible = l->owner->fds_visible,
                };
                src.owner = &probe;
        }
        lock_facts_gather(&src, f);
}

static void report_stale(Lock *l, const LockJudgement *j, const char *reason) {
        Model *m = l->model;

        if (l->stale_reported)
                return;
        l->stale_reported = true;
        m->n_stale++;
        report_emit(m->reporter, EVENT_LOCK_STALE,
                    json_pack("{s:o, s:o, s:s, s:i, s:o, s:s, s:o}", "lock", lock_path_json(l),
                              "session", lock_session_json(l), "reason", reason,
                              "owner_pid", (int) l->payload.pid,
                              "owner_host_pid", l->owner && l->payload.valid ? json_integer(l->owner->pid) : json_null(),
                              "owner_ns", owner_ns_to_string(l->owner_ns), "detail", json_text(j->detail)));
}

/* *S becomes a copy of V (NULL for an empty one), allocated only when it changed. */
static void set_text(char **s, const char *v) {
        if (!v || !*v) {
                free(*s);
                *s = NULL;
                return;
        }
        if (*s && strcmp(*s, v) == 0)
                return;
        free(*s);
        *s = strdup(v); /* NULL on ENOMEM: said as "" */
}

const char *lock_why(const Lock *l, bool kept, uint64_t now_ns, char *buf, size_t size) {
        LockJudgement j = { .verdict = l->verdict, .deadline_ns = l->judged_deadline_ns };

        if (kept && l->verdict == VERDICT_STALE && l->kept_reason)
                return l->kept_why ? l->kept_why : "";
        if (l->verdict != VERDICT_PENDING)
                return l->judged_detail ? l->judged_detail : "";
        return verdict_why(&j, now_ns, buf, size);
}

static void report_kept(Lock *l, const char *reason, const char *why) {
        l->kept_reason = reason;
        set_text(&l->kept_why, why);
        report_emit(l->model->reporter, EVENT_LOCK_KEPT,
                    json_pack("{s:o, s:s, s:o}", "lock", lock_path_json(l), "reason", reason, "why", json_text(why)));
}

/* Stale, and kept for its folder's settings: reported once, acted on again after a reload
 * (lock_settings_changed). */
static void keep_by_setting(Lock *l, const LockJudgement *j, const char *reason, const char *why, bool again) {
        if (!again) {
                report_stale(l, j, reason);
                report_kept(l, reason, why);
        }
        l->kept_by_setting = true;
}

/* Was the owner a gateway? Its argv was read when lockwarden first met it alive; but a
 * recycled pid, or one nothing tied to the writer, named another process then: unknown. */
static Tristate lock_owner_gateway(Lock *l, const LockJudgement *j) {
        if (!l->owner || !l->payload.valid || j->reason == STALE_RECYCLED_PID || l->owner_ns == OWNER_NS_UNVERIFIED)
                return TRISTATE_UNKNOWN;
        return l->owner->gateway;
}

static void lock_after_set(LockAfter *a, LockAfterKind what, Lock *l, uint64_t ns) {
        a->what = what;
        a->file = l->file;
        a->ns = ns;
}

static void lock_act_stale(Lock *l, const LockJudgement *j, LockAfter *after) {
        Model *m = l->model;
        const char *reason = stale_reason_to_string(j->reason);
        CleanupHeld held;
        uint64_t done;
        char why[320];
        bool again;
        int r;

        if (l->stale_handled)
                return;
        l->stale_handled = true;
        /* Judged again after a reload: it was reported already, and kept by a setting. */
        again = l->kept_by_setting;
        l->kept_by_setting = false;

        if (l->file->folder->cleanup == CLEANUP_MODE_REPORT) {
                keep_by_setting(l, j, reason, "report-only mode", again);
                return;
        }

        /* On a network filesystem the owner pid may be another host's: report only, unless the
         * operator opted in for this folder. */
        if (l->file->folder->remote && !l->file->folder->remote_cleanup) {
                char w[160];

                snprintf(w, sizeof(w), "on a remote filesystem (%s): reported only; --remote-cleanup opts in",
                         l->file->folder->fs_type);
                keep_by_setting(l, j, reason, w, again);
                return;
        }

        /* 2026.8 and later keep sessions in SQLite: a lock file there is a leftover nothing
         * uses, and only `scan --fix` removes it (when its owner is gone). */
        if (node_release(l->file->folder) == RELEASE_2026_8) {
                keep_by_setting(l, j, reason, "a leftover of a state dir on OpenClaw 2026.8+ (SQLite store, no "
                                "session write locks): inert; `lockwarden scan --fix` removes it once its owner is gone",
                                again);
                return;
        }

        /* A payload over the size cap was never read: never remove what we could not compare. */
        if (!l->payload_buf) {
                report_stale(l, j, reason);
                report_kept(l, reason, "payload too large to verify; remove it by hand");
                return;
        }

        /* Evidence the application's restart recovery reads: reported at once, kept. */
        Node *folder = l->file->folder;
        if (!folder->recovery)
                folder->recovery = calloc(1, sizeof(RecoveryCache)); /* NULL: read it each time */
        if (recovery_keeps(folder->dirfd, l->file->name, j->reason, lock_owner_gateway(l, j), folder->recovery,
                           why, sizeof(why))) {
                keep_by_setting(l, j, reason, why, again);
                return;
        }

        /* lock.stale is reported after the removal: neither building nor writing the report is
         * allowed to delay it. */
        lock_expect_own_open(l);
        r = cleanup_remove_lock(l->file->folder->dirfd, l->file->name, l->file->inode.dev,
                                l->file->inode.ino, tracked_file_fid(l->file), l->payload_buf, l->payload_len,
                                why, sizeof(why), &held);
        done = now_mono_ns();
        if (r == CLEANUP_HELD) {
                /* Not stale after all: holders no open event told us of (inherited, passed over
                 * a socket), now known; their close events settle it. */
                report_kept(l, reason, why);
                for (size_t i = 0; i < held.n_writers && i < CLEANUP_WRITERS_MAX; i++)
                        (void) tracked_file_add_holder(l->file, held.writers[i]);
                l->stale_handled = false;
                lock_mark_dirty(l, done);
                return;
        }
        report_stale(l, j, reason);
        if (r == CLEANUP_REMOVED) {
                json_t *lockp = lock_path_json(l);

                m->n_cleaned++;
                report_emit(m->reporter, EVENT_LOCK_CLEANED,
                            json_pack("{s:o, s:s, s:i, s:I, s:I}", "lock", lockp, "reason", reason,
                                      "owner_pid", (int) l->payload.pid,
                                      "since_read_us", (json_int_t) ((done - l->evidence_ns) / NSEC_PER_USEC),
                                      "lag_us", (json_int_t) (l->evidence_lag_ns / NSEC_PER_USEC)));
                /* Our own rename/unlink events are ignored: the tracker forgets the name (and
                 * frees l), and puts back a lock an earlier removal had to leave aside from it. */
                lock_after_set(after, LOCK_AFTER_REMOVED, l, done);
                return;
        }
        if (r < 0) {
                report_emit(m->reporter, EVENT_MONITOR_ERROR,
                            json_pack("{s:o, s:o}", "error", json_text(why), "path", lock_path_json(l)));
                return;
        }
        if (r == CLEANUP_STRANDED) {
                report_kept(l, reason, why);
                lock_after_set(after, LOCK_AFTER_STRANDED, l, done);
                snprintf(after->hidden, sizeof(after->hidden), "%s", held.stranded);
                l->stale_handled = false;
                lock_mark_payload_dirty(l, done); /* the name holds another lock now */
                return;
        }
        if (r == CLEANUP_DOUBT) {
                /* Tried again at the lock's next event (a writer we could not see closing it,
                 * a reload), said once. And after a backoff, a few times: a writer's close is
                 * queued before the kernel drops its write access, so a lease asked for right
                 * after we read that close is refused, by a writer /proc no longer shows, and
                 * no event follows. */
                if (!l->doubt_reported)
                        report_kept(l, reason, why);
                l->doubt_reported = true;
                l->stale_handled = false;
                if (l->doubt_retries < DOUBT_RETRIES) {
                        lock_arm_grace(l, done + (DOUBT_BACKOFF_NS << l->doubt_retries));
                        l->doubt_retries++;
                }
                return;
        }
        report_kept(l, reason, why);
        /* It changed under us: the events that changed it will bring fresh facts. */
        l->stale_handled = false;
        lock_mark_payload_dirty(l, now_mono_ns());
        /* Unless the new lock we put back is a new inode to the kernel now: its creator's
         * events name another file. The tracker reads the name again (l may be freed). */
        if (held.relinked)
                lock_after_set(after, LOCK_AFTER_PUT_BACK, l, done);
}

void lock_settings_changed(Lock *l, uint64_t now_ns) {
        /* Kept for its folder's settings: act on it again under the new ones. */
        if (l->kept_by_setting)
                l->stale_handled = false;
        lock_mark_dirty(l, now_ns);
}

void lock_refresh(Lock *l, LockAfter *after) {
        Model *m = l->model;
        LockFacts facts;
        LockJudgement j;

        *after = (LockAfter) { .what = LOCK_AFTER_NONE };

        if (l->dirty) {
                LIST_REMOVE(dirty, m->dirty_locks, l);
                l->dirty = false;
        }
        if (!l->file->name || !l->file->folder)
                return;
        if (l->payload_dirty && !lock_load_payload(l))
                return;
        /* A pid nothing tied to a process here may be a writer's that we know of only now. */
        if (l->payload.valid && l->owner_ns == OWNER_NS_UNVERIFIED && l->file->n_holders > 0)
                lock_update_owner(l);

        lock_gather_facts(l, &facts);
        verdict_judge(&facts, &j);
        if (j.verdict != VERDICT_STALE) {
                l->stale_handled = l->kept_by_setting = l->stale_reported = l->doubt_reported = false;
                l->doubt_retries = 0;
                l->kept_reason = NULL;
        }
        l->verdict = j.verdict;
        l->judged_reason = j.reason;
        l->judged_rule = j.rule;
        l->judged_deadline_ns = j.deadline_ns;
        set_text(&l->judged_detail, j.detail);

        switch (j.verdict) {
        case VERDICT_LIVE:
                lock_disarm_grace(l);
                if (!l->acquired_reported) {
                        l->acquired_reported = true;
                        /* pid as the payload says it (a container's: 1, 7...), and that
                         * process's pid here. */
                        report_emit(m->reporter, EVENT_LOCK_ACQUIRED,
                                    json_pack("{s:o, s:o, s:i, s:o, s:s}", "lock", lock_path_json(l),
                                              "session", lock_session_json(l),
                                              "pid", (int) l->payload.pid,
                                              "owner_host_pid", l->owner ? json_integer(l->owner->pid) : json_null(),
                                              "comm", l->owner ? l->owner->comm : "?"));
                }
                lock_check_age(l);
                break;
        case VERDICT_BUSY:
                lock_disarm_grace(l);
                break;
        case VERDICT_PENDING:
                lock_arm_grace(l, j.deadline_ns);
                break;
        case VERDICT_STALE:
                lock_disarm_grace(l);
                lock_act_stale(l, &j, after);
                break;
        default:
                break;
        }
}

bool lock_on_unlinked(Lock *l, pid_t pid) {
        Model *m = l->model;
        pid_t owner = lock_owner_pid(l);
        char comm[COMM_MAX];
        bool released, owner_holds, holds_unknown = false, watchdog = false;
        PendingClose pending;

        if (pid == PID_UNKNOWN) {
                /* No attribution (inotify): a release closes the lock before unlinking it, so
                 * an owner still holding it open for writing did not release it, nor did an
                 * owner whose exit we knew before reading this removal (the exit handler
                 * drains the event queue first: an exit handled earlier happened earlier).
                 * An owner that released and exited at once is no thief: that /proc says it
                 * is gone by now proves nothing about the order. */
                owner_holds = owner > 0 && proc_pid_find_fd(owner, l->file->inode.dev, l->file->inode.ino,
                                                             tracked_file_fid(l->file), PROC_FD_FOR_WRITE, NULL) > 0;
                released = owner > 0 && !owner_holds &&
                           !(l->owner && l->owner->exited && l->owner->exited_ns < m->batch_ns);
                comm[0] = '\0';
        } else {
                released = pid > 0 && pid == owner;
                /* In event order: a close of the owner's earlier in this batch counts. */
                bool held = l->payload.valid && tracked_file_has_holder(l->file, owner);
                pending = held ? model_pending_close(m, l->file, owner) : PENDING_NONE;
                owner_holds = held && pending == PENDING_NONE;
                holds_unknown = held && pending == PENDING_UNORDERED;
                proc_comm(pid, comm);
        }
        if (released) {
                int64_t held_ms = lock_held_ms(l);
                uint64_t max_hold = l->payload.max_hold_ms ? l->payload.max_hold_ms : DEFAULT_MAX_HOLD_MS;
                /* Released past its maxHoldMs: the holder's own watchdog (every 60 s) let it go,
                 * and the run that took it goes on and may write the transcript unlocked. Its
                 * age by the payload's createdAt, as the holder counts it (we may have seen the
                 * creation late). */
                int64_t age_ms = l->payload.has_created_at ? (now_realtime_us() - l->payload.created_at_us) / USEC_PER_MSEC
                                                           : held_ms;
                watchdog = l->payload.valid && age_ms >= (int64_t) max_hold;
                report_emit(m->reporter, EVENT_LOCK_RELEASED,
                            json_pack("{s:o, s:o, s:s?, s:I, s:s, s:b}", "lock", lock_path_json(l),
                                      "pid", json_pid(pid), "comm", comm[0] ? comm : NULL,
                                      "held_ms", (json_int_t) held_ms,
                                      "attribution", attribution_to_string(pid), "watchdog", watchdog));
        } else {
                bool owner_alive = l->owner && !l->owner->exited;
                /* owner_holds null: the owner's close and this removal came merged out of order
                 * (model.h): whether it still held the lock then nobody can tell. */
                report_emit(m->reporter, EVENT_LOCK_REMOVED,
                            json_pack("{s:o, s:o, s:s?, s:i, s:b, s:o, s:s}", "lock", lock_path_json(l),
                                      "pid", json_pid(pid), "comm", comm[0] ? comm : NULL,
                                      "owner_pid", (int) l->payload.pid,
                                      "owner_alive", owner_alive,
                                      "owner_holds", holds_unknown ? json_null() : json_boolean(owner_holds),
                                      "attribution", attribution_to_string(pid)));
        }
        lock_free(l);
        return watchdog;
}
