/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* reload.c: a new configuration, applied to the running daemon. */
#include <string.h>
#include <systemd/sd-daemon.h>

#include "config-file.h"
#include "discovery.h"
#include "lock.h"
#include "macro.h"
#include "manager.h"
#include "reload.h"
#include "report.h"
#include "time-util.h"
#include "tree.h"

static bool str_eq(const char *a, const char *b) {
        return a == b || (a && b && strcmp(a, b) == 0);
}

static bool list_has(char **list, size_t n, const char *s) {
        for (size_t i = 0; i < n; i++)
                if (strcmp(list[i], s) == 0)
                        return true;
        return false;
}

static bool lists_equal(char **a, size_t na, char **b, size_t nb) {
        if (na != nb)
                return false;
        for (size_t i = 0; i < na; i++)
                if (!list_has(b, nb, a[i]))
                        return false;
        return true;
}

static bool rules_equal(const RunOptions *a, const RunOptions *b) {
        if (a->n_rules != b->n_rules)
                return false;
        for (size_t i = 0; i < a->n_rules; i++) {
                const FolderRule *x = &a->rules[i], *y = &b->rules[i];
                if (strcmp(x->path, y->path) != 0 || x->cleanup != y->cleanup ||
                    x->leak_grace_ms != y->leak_grace_ms || x->remote_cleanup != y->remote_cleanup ||
                    x->ignore_races != y->ignore_races)
                        return false;
        }
        return true;
}

/* A string option only a restart applies: the running value stays (it moves into the new
 * options), and RESTART names it when the file asks for another. */
static void keep_running(json_t *restart, const char *name, char **wanted, char **running) {
        if (str_eq(*wanted, *running))
                return;
        json_array_append_new(restart, json_string(name));
        SWAP(*wanted, *running);
}

/* Folders in OLD (of KIND) that NEW no longer has go; those NEW adds come. */
static int diff_folders(Manager *m, char **old, size_t n_old, char **new, size_t n_new, NodeKind kind,
                        json_t *added, json_t *removed, bool *any_removed) {
        for (size_t i = 0; i < n_old; i++)
                if (!list_has(new, n_new, old[i]) && tree_has_root(&m->model, old[i], kind)) {
                        tree_remove_root(&m->model, old[i], kind);
                        json_array_append_new(removed, json_path(NULL, old[i]));
                        *any_removed = true;
                }
        for (size_t i = 0; i < n_new; i++)
                if (!list_has(old, n_old, new[i]) && !tree_has_root(&m->model, new[i], kind)) {
                        int r = tree_add_root(&m->model, new[i], kind);
                        if (r < 0)
                                return r;
                        json_array_append_new(added, json_path(NULL, new[i]));
                }
        return 0;
}

int manager_reload(Manager *m) {
        RunOptions *old = &m->opts_storage, new;
        const char *file = m->cli->config_path ? m->cli->config_path : DEFAULT_CONFIG_PATH;
        json_t *added = json_array(), *removed = json_array(), *changed = json_array(),
               *restart = json_array();
        bool any_removed = false;
        char err[1024];
        int r;

        (void) sd_notifyf(false, "RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=Reloading the configuration",
                          (unsigned long long) (now_mono_ns() / NSEC_PER_USEC));
        r = config_build(m->cli, &new, NULL, err, sizeof(err));
        if (r < 0) {
                report_emit(&m->reporter, EVENT_MONITOR_ERROR,
                            json_pack("{s:s+, s:s}", "error", "configuration not reloaded, the previous one stays: ",
                                      err[0] ? err : strerror(-r), "path", file));
                goto finish;
        }

        /* What the daemon opened at start-up stays as it is until a restart. */
        if (new.backend != old->backend) {
                json_array_append_new(restart, json_string("backend"));
                new.backend = old->backend;
        }
        keep_running(restart, "socket", &new.socket_path, &old->socket_path);
        keep_running(restart, "user", &new.user, &old->user);
        keep_running(restart, "events", &new.events_path, &old->events_path);
        keep_running(restart, "metrics_file", &new.metrics_file, &old->metrics_file);

#define CHANGED(cond, name) do { if (cond) json_array_append_new(changed, json_string(name)); } while (0)
        CHANGED(new.cleanup != old->cleanup, "cleanup");
        CHANGED(new.leak_grace_ms != old->leak_grace_ms, "leak_grace_ms");
        CHANGED(new.races != old->races, "races");
        CHANGED(new.race_coalesce_ms != old->race_coalesce_ms, "race_coalesce_ms");
        CHANGED(new.ignore_races != old->ignore_races, "ignore_races");
        CHANGED(!lists_equal(new.remote_cleanup_dirs, new.n_remote_cleanup_dirs, old->remote_cleanup_dirs,
                             old->n_remote_cleanup_dirs), "remote_cleanup");
        CHANGED(!rules_equal(&new, old), "folders");
#undef CHANGED

        /* The new options first: folders guarded from now on take their settings from them. */
        SWAP(m->opts_storage, new);
        old = &new;
        r = diff_folders(m, old->state_dirs, old->n_state_dirs, m->opts->state_dirs, m->opts->n_state_dirs,
                         NODE_STATE, added, removed, &any_removed);
        if (r >= 0)
                r = diff_folders(m, old->watch_dirs, old->n_watch_dirs, m->opts->watch_dirs,
                                 m->opts->n_watch_dirs, NODE_SESSIONS, added, removed, &any_removed);
        options_done(&new);
        /* Discovery looks again, or (folders configured now) drops what it found. */
        if (r >= 0 && discovery_reload(m, removed))
                any_removed = true;
        if (r < 0) {
                report_emit(&m->reporter, EVENT_MONITOR_ERROR,
                            json_pack("{s:s, s:s}", "error", "configuration reloaded in part: out of memory",
                                      "path", file));
                goto finish;
        }
        /* A folder reached by a removed root and by one that stays is guarded once, by the
         * first: let the others find it again. */
        if (any_removed) {
                m->model.adopting = true;
                tree_resync(&m->model, now_mono_ns());
                m->model.adopting = false;
        }
        tree_apply_settings(&m->model);
        for (Lock *l = m->model.locks; l; l = l->locks_next)
                lock_settings_changed(l, now_mono_ns());

        /* No file (the default one does not exist): say so, and name none. */
        report_emit(&m->reporter, EVENT_MONITOR_RELOADED,
                    json_pack("{s:s?, s:s?, s:O, s:O, s:O, s:O, s:I}", "config", m->opts->config_read,
                              "looked_for", m->opts->config_read ? NULL : file, "added", added,
                              "removed", removed, "changed", changed, "restart_needed", restart,
                              "folders", (json_int_t) m->model.n_guarded));
finish:
        /* STATUS= says "Reloading" now: say the state again. */
        free(m->last_status);
        m->last_status = NULL;
        manager_flush(m);
        json_decref(added);
        json_decref(removed);
        json_decref(changed);
        json_decref(restart);
        (void) sd_notify(false, "READY=1");
        return r < 0 ? r : 0;
}
