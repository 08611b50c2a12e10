/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* options.h: the command line. Its names are a contract relied on outside the project. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "settings.h"

typedef enum Command {
        COMMAND_RUN,
        COMMAND_HELP,
        COMMAND_VERSION,
} Command;

#define DEFAULT_CONFIG_PATH "/etc/lockwarden/lockwarden.json"

/* Returns 0 and fills *ret_cmd / *ret; on bad usage prints why to stderr and returns -EINVAL. */
int options_parse(int argc, char **argv, Command *ret_cmd, RunOptions *ret);
void options_done(RunOptions *o);
/* A deep copy. */
int options_copy(const RunOptions *o, RunOptions *ret);
/* When no --state-dir/--watch is given: $OPENCLAW_STATE_DIR, else ~/.openclaw. */
int options_default_state_dir(char **ret);
void options_help(void);

const char *cleanup_mode_to_string(CleanupMode m);
const char *races_mode_to_string(RacesMode m);
/* "auto", "report" → CleanupMode, ... -EINVAL when unknown. */
int cleanup_mode_from_string(const char *s);
int races_mode_from_string(const char *s);
int backend_from_string(const char *s);
const char *backend_to_string(BackendKind b);
