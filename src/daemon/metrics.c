/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* metrics.c: counters kept as events are reported, the exposition, and --metrics-file. */
#include <fcntl.h>
#include <limits.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "event-util.h"
#include "fs-type.h"
#include "fs-util.h"
#include "lock.h"
#include "macro.h"
#include "model.h"
#include "metrics.h"
#include "race.h"
#include "time-util.h"

/* The buckets' upper bounds: 100 us to 10 s. */
static const uint64_t bucket_us[METRICS_BUCKETS] = {
        100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 1000000, 2500000, 10000000,
};
static const char *const bucket_le[METRICS_BUCKETS] = {
        "0.0001", "0.00025", "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1",
        "0.25", "1", "2.5", "10",
};

static void histogram_observe(Histogram *h, uint64_t us) {
        size_t i = 0;

        while (i < METRICS_BUCKETS && us > bucket_us[i])
                i++;
        h->buckets[i]++;
        h->count++;
        h->sum_us += us;
}

/* ---- the file ---- */

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata);

/* Something the file shows changed: write it when the last attempt is a second old (now, if
 * it is), unless a write is due already. Nothing else ever arms the timer. A failing folder is
 * tried no more often than a working one. */
static void metrics_changed(Metrics *m) {
        uint64_t now, when;
        int enabled = SD_EVENT_OFF;

        if (!m->name || m->writing)
                return;
        if (m->timer && sd_event_source_get_enabled(m->timer, &enabled) >= 0 && enabled != SD_EVENT_OFF)
                return;
        now = now_mono_ns();
        when = m->last_attempt_ns > 0 && now < m->last_attempt_ns + METRICS_FILE_INTERVAL_NS
                       ? m->last_attempt_ns + METRICS_FILE_INTERVAL_NS : now;
        /* sd-event fires at or after the time, never before: the interval holds. */
        (void) event_arm_oneshot(m->event, &m->timer, CLOCK_MONOTONIC, when / NSEC_PER_USEC,
                                 100 * USEC_PER_MSEC, on_timer, m, "metrics-file");
}

static int write_all(int fd, const char *p, size_t n) {
        while (n > 0) {
                ssize_t k = write(fd, p, n);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return negative_errno();
                p += k;
                n -= (size_t) k;
        }
        return 0;
}

static int open_dir(const char *dir) {
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        return fd < 0 ? negative_errno() : fd;
}

/* TEXT into a new file beside the target, renamed over it: a reader sees the old file or the
 * new one, whole. Returns 0 or -errno, with the step that failed in *RET_STEP. */
static int file_replace(Metrics *m, const char *text, const char **ret_step) {
        char tmp[NAME_MAX + 1];
        _cleanup_close_ int fd = -1;
        int r;

        *ret_step = "open the folder";
        if (m->dirfd < 0) {
                /* After a failure: the folder may have been made again since. */
                r = open_dir(m->dir);
                if (r < 0)
                        return r;
                m->dirfd = r;
        }
        *ret_step = "create a temporary file";
        snprintf(tmp, sizeof(tmp), ".%.200s.%d.tmp", m->name, (int) getpid());
        for (int attempt = 0; attempt < 2; attempt++) {
                fd = openat(m->dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC, 0644);
                if (fd >= 0 || errno != EEXIST)
                        break;
                /* A crash's leftover (or someone's file): ours is a new one. */
                (void) unlinkat(m->dirfd, tmp, 0);
        }
        if (fd < 0)
                return negative_errno();
        /* node_exporter runs as its own user: readable whatever our umask. */
        (void) fchmod(fd, 0644);
        *ret_step = "write";
        r = write_all(fd, text, strlen(text));
        if (r >= 0 && close(TAKE_FD(fd)) < 0)
                r = negative_errno();
        if (r >= 0) {
                *ret_step = "rename the temporary file over it";
                r = renameat(m->dirfd, tmp, m->dirfd, m->name) < 0 ? negative_errno() : 0;
        }
        if (r < 0)
                (void) unlinkat(m->dirfd, tmp, 0);
        return r;
}

static int metrics_write(Metrics *m, char *err, size_t err_size) {
        _cleanup_free_ char *text = NULL;
        const char *step = "render";
        json_t *j;
        int r;

        /* The file counts itself: the write it is, and the count does not make another. */
        m->n_writes++;
        j = metrics_json(m);
        text = j ? metrics_format(j) : NULL;
        json_decref(j);
        r = text ? file_replace(m, text, &step) : -ENOMEM;
        m->last_attempt_ns = now_mono_ns();
        if (r < 0) {
                m->n_writes--;
                m->n_write_errors++;
                snprintf(err, err_size, "cannot write the metrics file %s (%s): %s", m->path, step, strerror(-r));
                if (m->dirfd >= 0 && r != -ENOMEM) {
                        close(m->dirfd);
                        m->dirfd = -1;
                }
                return r;
        }
        return 0;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Metrics *m = userdata;
        char err[PATH_MAX + 256];

        (void) s;
        (void) usec;
        m->writing = true;
        if (metrics_write(m, err, sizeof(err)) < 0) {
                /* Said once, counted every time, tried again at the next change. */
                if (!m->warned)
                        report_emit(m->reporter, EVENT_MONITOR_WARNING,
                                    json_pack("{s:o, s:s+}", "path", json_path(NULL, m->path),
                                              "warning", err, "; tried again at the next change (counted in "
                                              "lockwarden_metrics_file_errors_total)"));
                m->warned = true;
        } else
                m->warned = false;
        m->writing = false;
        return 0;
}

/* ---- counting ---- */

static void observe(EventKind kind, json_t *event, void *userdata) {
        Metrics *m = userdata;
        const char *reason = json_string_value(json_object_get(event, "reason"));
        StaleReason sr = reason ? stale_reason_from_string(reason) : _STALE_REASON_INVALID;

        switch (kind) {
        case EVENT_LOCK_STALE:
                m->stale[sr >= 0 ? (size_t) sr : _STALE_REASON_MAX]++;
                break;
        case EVENT_LOCK_KEPT:
                m->kept[sr >= 0 ? (size_t) sr :
                        reason && strcmp(reason, "stranded") == 0 ? METRICS_KEPT_STRANDED : METRICS_KEPT_OTHER]++;
                break;
        case EVENT_LOCK_CLEANED: {
                json_int_t us = json_integer_value(json_object_get(event, "since_read_us"));
                histogram_observe(&m->cleanup_latency, us > 0 ? (uint64_t) us : 0);
                break;
        }
        default:
                break;
        }
        /* Every event counts (lockwarden_reports_total): every one is a change. */
        metrics_changed(m);
}

void metrics_note_read(Metrics *m, uint64_t lag_ns) {
        histogram_observe(&m->queue_lag, lag_ns / NSEC_PER_USEC);
        metrics_changed(m);
}

int metrics_init(Metrics *m, sd_event *event, Reporter *reporter, const Model *model, const char *path,
                 char *err, size_t err_size) {
        _cleanup_free_ char *abs = NULL;
        const char *slash;
        struct stat st;
        FsType fs;
        int r;

        m->event = event;
        m->reporter = reporter;
        m->model = model;
        m->dirfd = -1;
        reporter->observer = observe;
        reporter->observer_userdata = m;
        if (!path)
                return 0;

        abs = path_absolute(path);
        if (!abs)
                return -ENOMEM;
        slash = strrchr(abs, '/');
        if (!slash[1] || strcmp(slash + 1, ".") == 0 || strcmp(slash + 1, "..") == 0 ||
            strlen(slash + 1) > 200) {
                snprintf(err, err_size, "--metrics-file %s: not a file name", path);
                return -EINVAL;
        }
        m->name = strdup(slash + 1);
        m->dir = slash == abs ? strdup("/") : strndup(abs, (size_t) (slash - abs));
        m->path = TAKE_PTR(abs);
        if (!m->name || !m->dir)
                return -ENOMEM;
        r = open_dir(m->dir);
        if (r < 0) {
                snprintf(err, err_size, "--metrics-file %s: cannot open the folder %s: %s", path, m->dir, strerror(-r));
                return r;
        }
        m->dirfd = r;
        if (fstatat(m->dirfd, m->name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode)) {
                snprintf(err, err_size, "--metrics-file %s: is a folder; name a file in it (lockwarden.prom)", path);
                return -EISDIR;
        }
        /* The file is written on the event loop: a network or FUSE filesystem could stall it
         * there, for as long as its server does not answer. */
        if (fs_type_of(m->dirfd, &fs) >= 0 && fs.remote) {
                snprintf(err, err_size, "--metrics-file %s: %s is on a network or FUSE filesystem (%s), where a "
                         "write could stall the daemon: choose a local folder", path, m->dir, fs.name);
                return -EREMOTE;
        }
        /* Written once now: a folder we may not write is said at start, not at the first change. */
        return metrics_write(m, err, err_size);
}

void metrics_done(Metrics *m) {
        int enabled = SD_EVENT_OFF;

        if (!m->event)
                return; /* never set up */
        /* A write that is due is done now: the file keeps the last numbers of this run. */
        if (m->timer && sd_event_source_get_enabled(m->timer, &enabled) >= 0 && enabled != SD_EVENT_OFF)
                (void) on_timer(m->timer, 0, m);
        if (m->reporter->observer_userdata == m)
                m->reporter->observer = NULL;
        m->timer = sd_event_source_disable_unref(m->timer);
        if (m->dirfd >= 0)
                close(m->dirfd);
        m->dirfd = -1;
        free(m->dir);
        free(m->name);
        free(m->path);
        m->dir = m->name = m->path = NULL;
}

/* ---- the exposition ---- */

static json_t *family(json_t *list, const char *name, const char *type, const char *help) {
        json_t *f = json_pack("{s:s, s:s, s:s, s:[]}", "name", name, "type", type, "help", help, "samples");

        if (f)
                json_array_append_new(list, f);
        return f;
}

static void sample(json_t *f, const char *label, const char *value, uint64_t v) {
        json_t *s = label ? json_pack("{s:{s:s}, s:I}", "labels", label, value, "value", (json_int_t) v)
                          : json_pack("{s:{}, s:I}", "labels", "value", (json_int_t) v);

        if (f && s)
                json_array_append_new(json_object_get(f, "samples"), s);
        else
                json_decref(s);
}

static void single(json_t *list, const char *name, const char *type, const char *help, uint64_t v) {
        sample(family(list, name, type, help), NULL, NULL, v);
}

static void histogram(json_t *list, const char *name, const char *help, const Histogram *h) {
        json_t *buckets = json_array(), *f;
        uint64_t cumulative = 0;

        for (size_t i = 0; buckets && i <= METRICS_BUCKETS; i++) {
                cumulative += h->buckets[i];
                json_array_append_new(buckets, json_pack("{s:s, s:I}", "le", i < METRICS_BUCKETS ? bucket_le[i] : "+Inf",
                                                         "count", (json_int_t) cumulative));
        }
        f = json_pack("{s:s, s:s, s:s, s:o, s:f, s:I}", "name", name, "type", "histogram", "help", help,
                      "buckets", buckets ? buckets : json_array(), "sum", (double) h->sum_us / 1e6,
                      "count", (json_int_t) h->count);
        if (f)
                json_array_append_new(list, f);
}

json_t *metrics_json(Metrics *mt) {
        const Reporter *rep = mt->reporter;
        uint64_t by_verdict[_VERDICT_MAX] = {};
        json_t *list = json_array(), *f;
        int enabled = SD_EVENT_OFF;

        if (!list)
                return NULL;
        f = family(list, "lockwarden_build_info", "gauge", "Always 1; the version that runs is the label.");
        sample(f, "version", PACKAGE_VERSION, 1);
        single(list, "lockwarden_start_time_seconds", "gauge", "When the daemon started, in seconds since the epoch.",
               mt->start_realtime_us / USEC_PER_SEC);
        single(list, "lockwarden_folders", "gauge", "Sessions folders guarded.", mt->model->n_guarded);

        for (Lock *l = mt->model->locks; l; l = l->locks_next)
                if (l->file->name && l->verdict >= 0 && l->verdict < _VERDICT_MAX)
                        by_verdict[l->verdict]++;
        f = family(list, "lockwarden_locks", "gauge", "Locks on disk, by the verdict on each now.");
        for (Verdict v = 0; v < _VERDICT_MAX; v++)
                sample(f, "verdict", verdict_to_string(v), by_verdict[v]);

        f = family(list, "lockwarden_stale_total", "counter", "Locks found stale (lock.stale), by reason.");
        for (StaleReason r = 0; r < _STALE_REASON_MAX; r++)
                sample(f, "reason", stale_reason_to_string(r), mt->stale[r]);
        if (mt->stale[_STALE_REASON_MAX])
                sample(f, "reason", "other", mt->stale[_STALE_REASON_MAX]);
        single(list, "lockwarden_cleaned_total", "counter", "Stale locks removed (lock.cleaned).",
               rep->counts[EVENT_LOCK_CLEANED]);
        f = family(list, "lockwarden_kept_total", "counter",
                   "Stale-looking locks kept (lock.kept), by the reason they looked stale.");
        for (StaleReason r = 0; r < _STALE_REASON_MAX; r++)
                sample(f, "reason", stale_reason_to_string(r), mt->kept[r]);
        sample(f, "reason", "stranded", mt->kept[METRICS_KEPT_STRANDED]);
        if (mt->kept[METRICS_KEPT_OTHER])
                sample(f, "reason", "other", mt->kept[METRICS_KEPT_OTHER]);
        single(list, "lockwarden_released_total", "counter", "Locks released by their holders (lock.released).",
               rep->counts[EVENT_LOCK_RELEASED]);

        f = family(list, "lockwarden_races_total", "counter", "Takeover races reported, by kind (race.*).");
        for (RaceKind k = 0; k < _RACE_KIND_MAX; k++)
                sample(f, "kind", race_kind_to_string(k) + strlen("race."), rep->counts[EVENT_RACE_LOCK_STOLEN + k]);

        single(list, "lockwarden_overflows_total", "counter", "Times the kernel's event queue overflowed.",
               mt->n_overflows);
        single(list, "lockwarden_resyncs_total", "counter", "Resyncs of the folders and /proc after lost events.",
               rep->counts[EVENT_MONITOR_RESYNC]);
        single(list, "lockwarden_events_read_total", "counter", "Kernel file events read.", mt->n_events);
        single(list, "lockwarden_errors_total", "counter", "Errors reported (monitor.error).",
               rep->counts[EVENT_MONITOR_ERROR]);
        f = family(list, "lockwarden_reports_total", "counter", "Events reported, by name.");
        for (EventKind k = 0; k < _EVENT_KIND_MAX; k++)
                sample(f, "event", event_kind_to_string(k), rep->counts[k]);

        histogram(list, "lockwarden_queue_lag_seconds",
                  "How long the loop had been busy when it read a batch of kernel events: how far behind "
                  "the kernel's queue it may have been.", &mt->queue_lag);
        histogram(list, "lockwarden_cleanup_latency_seconds",
                  "From reading the evidence that made a lock stale to its removal (since_read_us of lock.cleaned).",
                  &mt->cleanup_latency);

        single(list, "lockwarden_metrics_file_writes_total", "counter",
               "Writes of the --metrics-file (this one included, in the file).", mt->n_writes);
        single(list, "lockwarden_metrics_file_errors_total", "counter", "Failed writes of the --metrics-file.",
               mt->n_write_errors);
        if (mt->timer)
                (void) sd_event_source_get_enabled(mt->timer, &enabled);
        /* The write being made is not one due (at stop, a finished loop keeps the timer on). */
        single(list, "lockwarden_metrics_file_pending", "gauge",
               "1 while a write of the --metrics-file is due (a change waits for it), else 0.",
               enabled != SD_EVENT_OFF && !mt->writing);
        return json_pack("{s:o}", "metrics", list);
}

/* Label values: backslash, double quote and line feed escaped; HELP: backslash and line feed. */
static void put_escaped(FILE *out, const char *s, bool quote) {
        for (; s && *s; s++) {
                if (*s == '\\')
                        fputs("\\\\", out);
                else if (*s == '\n')
                        fputs("\\n", out);
                else if (*s == '"' && quote)
                        fputs("\\\"", out);
                else
                        fputc(*s, out);
        }
}

static void put_value(FILE *out, json_t *v) {
        if (json_is_integer(v))
                fprintf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        else if (json_is_real(v))
                fprintf(out, "%.6f", json_real_value(v));
        else
                fputs("NaN", out);
}

static void put_sample(FILE *out, const char *name, const char *suffix, json_t *labels, json_t *value) {
        const char *key;
        json_t *v;
        bool first = true;

        fprintf(out, "%s%s", name, suffix);
        json_object_foreach(labels, key, v) {
                fprintf(out, "%s%s=\"", first ? "{" : ",", key);
                put_escaped(out, json_string_value(v), true);
                fputc('"', out);
                first = false;
        }
        fputs(first ? " " : "} ", out);
        put_value(out, value);
        fputc('\n', out);
}

char *metrics_format(json_t *metrics) {
        char *buf = NULL;
        size_t size = 0;
        FILE *out = open_memstream(&buf, &size);
        json_t *f, *s;
        size_t i, k;

        if (!out)
                return NULL;
        json_array_foreach(json_object_get(metrics, "metrics"), i, f) {
                const char *name = json_string_value(json_object_get(f, "name"));
                const char *type = json_string_value(json_object_get(f, "type"));

                if (!name || !type)
                        continue;
                fprintf(out, "# HELP %s ", name);
                put_escaped(out, json_string_value(json_object_get(f, "help")), false);
                fprintf(out, "\n# TYPE %s %s\n", name, type);
                if (strcmp(type, "histogram") == 0) {
                        json_array_foreach(json_object_get(f, "buckets"), k, s) {
                                json_t *labels = json_pack("{s:O}", "le", json_object_get(s, "le"));
                                put_sample(out, name, "_bucket", labels, json_object_get(s, "count"));
                                json_decref(labels);
                        }
                        put_sample(out, name, "_sum", NULL, json_object_get(f, "sum"));
                        put_sample(out, name, "_count", NULL, json_object_get(f, "count"));
                        continue;
                }
                json_array_foreach(json_object_get(f, "samples"), k, s)
                        put_sample(out, name, "", json_object_get(s, "labels"), json_object_get(s, "value"));
        }
        if (fclose(out) != 0) {
                free(buf);
                return NULL;
        }
        return buf;
}
