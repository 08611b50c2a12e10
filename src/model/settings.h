/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* settings.h: what the daemon runs with, as the command line (options.h) and the configuration
 * file (config-file.h) set it: the types only, read by the model (per folder in the tree, the
 * race settings in the sessions) below the daemon that parses them. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "source.h"

typedef enum CleanupMode {
        CLEANUP_MODE_AUTO,
        CLEANUP_MODE_REPORT,
        _CLEANUP_MODE_MAX,
        _CLEANUP_MODE_INVALID = -22,
} CleanupMode;

typedef enum RacesMode {
        RACES_REPORT,
        RACES_OFF,
        _RACES_MODE_MAX,
        _RACES_MODE_INVALID = -22,
} RacesMode;

/* Settings for the sessions folders at or under PATH (the configuration file's "folders"). */
typedef struct FolderRule {
        char *path;                   /* absolute */
        int cleanup;                  /* CleanupMode; -1: as configured globally */
        int64_t leak_grace_ms;        /* -1: as configured globally */
        int remote_cleanup;           /* -1: as configured globally; 0 or 1 */
        unsigned ignore_races;        /* 1 << RaceKind, on top of the global ones */
        int release;                  /* Release (openclaw.h) the folder's gateway runs; -1:
                                       * found out (package.json of its owners, SQLite store) */
} FolderRule;

/* Which options the command line gave: they win over the configuration file. */
enum {
        OPT_SET_FOLDERS        = 1 << 0,   /* --state-dir or --watch */
        OPT_SET_CLEANUP        = 1 << 1,
        OPT_SET_EVENTS         = 1 << 2,
        OPT_SET_SOCKET         = 1 << 3,
        OPT_SET_LEAK_GRACE     = 1 << 4,
        OPT_SET_BACKEND        = 1 << 5,
        OPT_SET_RACES          = 1 << 6,
        OPT_SET_RACE_COALESCE  = 1 << 7,
        OPT_SET_REMOTE_CLEANUP = 1 << 8,
        OPT_SET_USER           = 1 << 9,
        OPT_SET_METRICS_FILE   = 1 << 10,
};

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
        char *user;                   /* --user: run as this user after start-up, or NULL */
        char *metrics_file;           /* --metrics-file: kept for node_exporter, or NULL */
        uint64_t leak_grace_ms;
        BackendKind backend;
        RacesMode races;
        uint64_t race_coalesce_ms;
        unsigned ignore_races;        /* 1 << RaceKind: never reported */
        FolderRule *rules;
        size_t n_rules;
        char *config_path;            /* NULL: DEFAULT_CONFIG_PATH if it exists */
        char *config_read;            /* effective options: the file they were read from; NULL:
                                       * none (no default file, or --config /dev/null) */
        bool config_given;            /* --config: the file must exist */
        bool check_config;            /* --check-config: validate and exit */
        unsigned set;                 /* OPT_SET_*: given on the command line */
        bool discover;                /* no folder configured: find the gateways (discovery.h) */
} RunOptions;

#define DEFAULT_LEAK_GRACE_MS 1000
#define DEFAULT_RACE_COALESCE_MS 250
