/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* options.h: the command line. Its names are a contract relied on outside the project. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum CleanupMode {
        CLEANUP_MODE_AUTO,
        CLEANUP_MODE_REPORT,
        _CLEANUP_MODE_MAX,
        _CLEANUP_MODE_INVALID = -22,
} CleanupMode;

typedef enum BackendKind {
        BACKEND_AUTO,
        BACKEND_FANOTIFY,
        BACKEND_INOTIFY,
        _BACKEND_MAX,
        _BACKEND_INVALID = -22,
} BackendKind;

typedef enum RacesMode {
        RACES_REPORT,
        RACES_OFF,
        _RACES_MODE_MAX,
        _RACES_MODE_INVALID = -22,
} RacesMode;

typedef enum Command {
        COMMAND_RUN,
        COMMAND_HELP,
        COMMAND_VERSION,
} Command;

typedef struct RunOptions {
        char **state_dirs;
        size_t n_state_dirs;
        char **watch_dirs;
        size_t n_watch_dirs;
        char **remote_cleanup_dirs;   /* absolute: cleanup allowed on remote filesystems here */
        size_t n_remote_cleanup_dirs;
        CleanupMode cleanup;
        char *events_path;
        char *socket_path;            /* NULL: the default; "none": no control socket */
        uint64_t leak_grace_ms;
        BackendKind backend;
        RacesMode races;
        uint64_t race_coalesce_ms;
} RunOptions;

#define DEFAULT_LEAK_GRACE_MS 1000
#define DEFAULT_RACE_COALESCE_MS 250

/* Returns 0 and fills *ret_cmd / *ret; on bad usage prints why to stderr and returns -EINVAL. */
int options_parse(int argc, char **argv, Command *ret_cmd, RunOptions *ret);
void options_done(RunOptions *o);
/* When no --state-dir/--watch is given: $OPENCLAW_STATE_DIR, else ~/.openclaw. */
int options_default_state_dir(char **ret);
void options_help(void);

const char *cleanup_mode_to_string(CleanupMode m);
const char *races_mode_to_string(RacesMode m);
