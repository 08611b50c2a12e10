/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* layout.c: which level of an OpenClaw state dir a folder is, and the fix for a folder
 * configured at the wrong one. */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs-util.h"
#include "layout.h"
#include "macro.h"

/* Entries read in one folder at most: the answer is a hint, never worth a long walk. */
#define LAYOUT_ENTRIES_MAX 4096

static bool has_suffix(const char *s, const char *suffix) {
        size_t n = strlen(s), k = strlen(suffix);

        return n >= k && strcmp(s + n - k, suffix) == 0;
}

static const char *base_name(const char *path) {
        const char *slash = strrchr(path, '/');

        return slash ? slash + 1 : path;
}

/* Is NAME below DIRFD a folder (not following a symlink)? */
static bool is_dir_at(int dirfd, const char *name) {
        struct stat st;

        return fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) >= 0 && S_ISDIR(st.st_mode);
}

static int open_dir_at(int dirfd, const char *name) {
        return openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

/* Does DIRFD hold a transcript or a lock? */
static bool holds_session_files(int dirfd) {
        DIR *d = opendir_at(dirfd);
        struct dirent *de;
        bool found = false;

        for (size_t n = 0; d && !found && n < LAYOUT_ENTRIES_MAX && (de = readdir(d)); n++)
                found = de->d_name[0] != '.' && (has_suffix(de->d_name, ".jsonl") ||
                                                 has_suffix(de->d_name, ".jsonl.lock"));
        if (d)
                closedir(d);
        return found;
}

/* Does DIRFD (an agents/ folder) hold some <id>/sessions/? */
static bool holds_agents(int dirfd) {
        DIR *d = opendir_at(dirfd);
        struct dirent *de;
        bool found = false;

        for (size_t n = 0; d && !found && n < LAYOUT_ENTRIES_MAX && (de = readdir(d)); n++) {
                _cleanup_close_ int fd = -1;

                if (de->d_name[0] == '.' || (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN))
                        continue;
                fd = open_dir_at(dirfd, de->d_name);
                found = fd >= 0 && is_dir_at(fd, "sessions");
        }
        if (d)
                closedir(d);
        return found;
}

/* Does DIRFD hold agents/<id>/sessions/ (a state dir)? */
static bool holds_state(int dirfd) {
        _cleanup_close_ int fd = open_dir_at(dirfd, "agents");

        return fd >= 0 && holds_agents(fd);
}

static bool parent_named(const char *path, const char *name) {
        const char *end = strrchr(path, '/'), *start;
        size_t n = strlen(name);

        if (!end || end == path)
                return false;
        for (start = end; start > path && start[-1] != '/'; start--)
                ;
        return (size_t) (end - start) == n && strncmp(start, name, n) == 0;
}

FolderLevel layout_level(int dirfd, const char *path) {
        const char *base = base_name(path);

        /* Transcripts or locks right here: a sessions folder, whatever else it holds; clearly
         * so only when it has the name. */
        if (holds_session_files(dirfd))
                return strcmp(base, "sessions") == 0 ? FOLDER_LEVEL_SESSIONS : FOLDER_LEVEL_UNKNOWN;
        if (holds_state(dirfd))
                return FOLDER_LEVEL_STATE;
        if (parent_named(path, "agents") && is_dir_at(dirfd, "sessions"))
                return FOLDER_LEVEL_AGENT;
        if (strcmp(base, "agents") == 0 && holds_agents(dirfd))
                return FOLDER_LEVEL_AGENTS;
        if (!has_suffix(path, "/.openclaw")) {
                _cleanup_close_ int fd = open_dir_at(dirfd, ".openclaw");
                if (fd >= 0 && holds_state(fd))
                        return FOLDER_LEVEL_HOME;
        }
        return FOLDER_LEVEL_UNKNOWN;
}

/* PATH without its last N components ("/" at most). */
static void up(const char *path, unsigned n, char *buf, size_t size) {
        size_t len = strlen(path);

        while (n-- > 0) {
                while (len > 1 && path[len - 1] != '/')
                        len--;
                if (len > 1)
                        len--; /* the slash */
        }
        snprintf(buf, size, "%.*s", (int) len, path);
}

const char *layout_hint(const char *path, bool as_state_dir, bool config_keys, FolderLevel level,
                        char *buf, size_t size) {
        char a[PATH_MAX], b[PATH_MAX];
        const char *given = as_state_dir ?
                (config_keys ? "given as a state dir (--state-dir, state_dirs)" : "given as a state dir (--state-dir)") :
                (config_keys ? "given as a sessions folder (--watch, watch_dirs)" : "given as a sessions folder (--watch)");
        const char *sk = config_keys ? " (state_dirs)" : "", *wk = config_keys ? " (watch_dirs)" : "";
        const char *none = config_keys ? "nothing there is guarded" : "nothing there is scanned";

        switch (level) {
        case FOLDER_LEVEL_STATE:
                if (as_state_dir)
                        return NULL;
                snprintf(buf, size, "%s, but this is a state dir: %s; use --state-dir %s%s", given, none, path, sk);
                return buf;
        case FOLDER_LEVEL_SESSIONS:
                if (!as_state_dir)
                        return NULL;
                up(path, 1, b, sizeof(b));
                if (!parent_named(b, "agents")) {
                        snprintf(buf, size, "%s, but this is a sessions folder: %s; use --watch %s%s", given, none,
                                 path, wk);
                        return buf;
                }
                up(path, 3, a, sizeof(a));
                snprintf(buf, size, "%s, but this is a sessions folder: %s; use --watch %s%s, or --state-dir "
                         "%s%s for every agent", given, none, path, wk, a, sk);
                return buf;
        case FOLDER_LEVEL_AGENT:
                up(path, 2, a, sizeof(a));
                snprintf(b, sizeof(b), "%s/sessions", path);
                snprintf(buf, size, "%s, but this is an agent folder: %s; use --state-dir %s%s, or --watch %s%s "
                         "for this agent only", given, none, a, sk, b, wk);
                return buf;
        case FOLDER_LEVEL_AGENTS:
                up(path, 1, a, sizeof(a));
                snprintf(buf, size, "%s, but this is the agents folder of a state dir: %s; use --state-dir %s%s",
                         given, none, a, sk);
                return buf;
        case FOLDER_LEVEL_HOME:
                snprintf(buf, size, "%s, but this folder holds a state dir: %s; use --state-dir %s%s.openclaw%s",
                         given, none, path, strcmp(path, "/") ? "/" : "", sk);
                return buf;
        default:
                return NULL;
        }
}
