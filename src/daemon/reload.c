/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* reload.c: a new configuration, applied to the running daemon. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "config-file.h"
#include "lock.h"
#include "macro.h"
#include "model.h"
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
static int diff_folders(Model *model, char **old, size_t n_old, char **new, size_t n_new, NodeKind kind,
                        ReloadChanges *c) {
        for (size_t i = 0; i < n_old; i++)
                if (!list_has(new, n_new, old[i]) && tree_has_root(model, old[i], kind)) {
                        tree_remove_root(model, old[i], kind);
                        json_array_append_new(c->removed, json_path(NULL, old[i]));
                        c->any_removed = true;
                }
        for (size_t i = 0; i < n_new; i++)
                if (!list_has(old, n_old, new[i]) && !tree_has_root(model, new[i], kind)) {
                        int r = tree_add_root(model, new[i], kind);
                        if (r < 0)
                                return r;
                        json_array_append_new(c->added, json_path(NULL, new[i]));
                }
        return 0;
}

void reload_changes_done(ReloadChanges *c) {
        json_decref(c->added);
        json_decref(c->removed);
        json_decref(c->changed);
        json_decref(c->restart);
        *c = (ReloadChanges) {};
}

int reload_options(const RunOptions *cli, RunOptions *running, Model *model, ReloadChanges *c, char *err,
                   size_t err_size) {
        RunOptions *old = running, new;
        int r;

        *c = (ReloadChanges) { .added = json_array(), .removed = json_array(), .changed = json_array(),
                               .restart = json_array() };
        if (!c->added || !c->removed || !c->changed || !c->restart) {
                c->refused = true;
                snprintf(err, err_size, "out of memory");
                return -ENOMEM;
        }
        err[0] = '\0';
        r = config_build(cli, &new, NULL, err, err_size);
        if (r < 0) {
                c->refused = true;
                if (!err[0])
                        snprintf(err, err_size, "%s", strerror(-r));
                return r;
        }

        /* What the daemon opened at start-up stays as it is until a restart. */
        if (new.backend != old->backend) {
                json_array_append_new(c->restart, json_string("backend"));
                new.backend = old->backend;
        }
        keep_running(c->restart, "socket", &new.socket_path, &old->socket_path);
        keep_running(c->restart, "user", &new.user, &old->user);
        keep_running(c->restart, "events", &new.events_path, &old->events_path);
        keep_running(c->restart, "metrics_file", &new.metrics_file, &old->metrics_file);

#define CHANGED(cond, name) do { if (cond) json_array_append_new(c->changed, json_string(name)); } while (0)
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
        SWAP(*running, new);
        old = &new;
        r = diff_folders(model, old->state_dirs, old->n_state_dirs, running->state_dirs, running->n_state_dirs,
                         NODE_STATE, c);
        if (r >= 0)
                r = diff_folders(model, old->watch_dirs, old->n_watch_dirs, running->watch_dirs,
                                 running->n_watch_dirs, NODE_SESSIONS, c);
        options_done(&new);
        if (r < 0)
                snprintf(err, err_size, "configuration reloaded in part: out of memory");
        return r;
}

void reload_settle(Model *model, bool any_removed) {
        /* A folder reached by a removed root and by one that stays is guarded once, by the
         * first: let the others find it again. */
        if (any_removed) {
                model->adopting = true;
                tree_resync(model, now_mono_ns());
                model->adopting = false;
        }
        tree_apply_settings(model);
        for (Lock *l = model->locks; l; l = l->locks_next)
                lock_settings_changed(l, now_mono_ns());
}
