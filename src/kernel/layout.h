/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* layout.h: which level of an OpenClaw state dir a folder is (STATE/agents/<id>/sessions/), so
 * that a folder configured at the wrong level (a state dir given to --watch, a sessions folder
 * given to --state-dir), which silently guards nothing, is said with the likely fix. Shared by
 * the daemon (tree) and `scan`. Looks only below the folder's fd, never following a symlink,
 * reading at most a bounded number of entries. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

typedef enum FolderLevel {
        FOLDER_LEVEL_UNKNOWN,   /* nothing clearly says */
        FOLDER_LEVEL_HOME,      /* holds the state dir .openclaw (a home folder) */
        FOLDER_LEVEL_STATE,     /* holds agents/<id>/sessions/ */
        FOLDER_LEVEL_AGENTS,    /* named agents, holds <id>/sessions/ */
        FOLDER_LEVEL_AGENT,     /* in a folder named agents, holds sessions/ */
        FOLDER_LEVEL_SESSIONS,  /* named sessions, holds *.jsonl or *.jsonl.lock */
        _FOLDER_LEVEL_MAX,
        _FOLDER_LEVEL_INVALID = -22,
} FolderLevel;

/* The level of folder PATH (absolute, as configured), open as DIRFD. */
FolderLevel layout_level(int dirfd, const char *path);

/* PATH, configured as a state dir (AS_STATE_DIR: --state-dir, state_dirs) or as a sessions
 * folder (--watch, watch_dirs), is at LEVEL: NULL when that fits (or nothing says), else what
 * it is and the likely fix, written to BUF (naming the configuration file's keys too when
 * CONFIG_KEYS: the daemon's folders may come from it). */
const char *layout_hint(const char *path, bool as_state_dir, bool config_keys, FolderLevel level,
                        char *buf, size_t size);
