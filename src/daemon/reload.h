/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* reload.h: SIGHUP. The configuration is built again (command line, then the file); folders
 * added or removed are guarded or released live, per-folder settings are applied again, and
 * the holder map, the locks and their owners' pidfds are kept. A file with an error changes
 * nothing: the daemon goes on with the configuration it has and says why. The manager runs it
 * (manager_reload): these are its steps on the options and the model. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "options.h"

typedef struct Model Model;

/* What a reload changed, for monitor.reloaded. */
typedef struct ReloadChanges {
        json_t *added, *removed;      /* folders, as configured */
        json_t *changed;              /* names of the settings that changed */
        json_t *restart;              /* ... and of those only a restart applies */
        bool any_removed;             /* some folder went: the others look again */
        bool refused;                 /* the new configuration was refused: nothing changed */
} ReloadChanges;

/* Builds the configuration again from CLI (then the file) into RUNNING, keeping what only a
 * restart applies, and guards the folders it adds and releases those it drops in MODEL. 0, or
 * -errno with why in ERR: refused (C->refused; RUNNING as it was) or applied in part. */
int reload_options(const RunOptions *cli, RunOptions *running, Model *model, ReloadChanges *c, char *err,
                   size_t err_size);
/* Then: the folders look again where some went, and every folder and lock takes its
 * settings again. */
void reload_settle(Model *model, bool any_removed);
void reload_changes_done(ReloadChanges *c);
