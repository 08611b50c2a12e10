/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit test of layout on a real tree HOME/.openclaw/agents/main/sessions/: each folder is told
 * at its level, a folder is told as SESSIONS only by its name, a symlink is not followed, and
 * layout_hint says the fix for a folder configured at the wrong level, and nothing when it
 * fits. */
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "layout.h"
#include "lwtest.h"

static FolderLevel level_of(const char *path) {
        int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        FolderLevel l;

        CHECK(fd >= 0, "open %s", path);
        l = layout_level(fd, path);
        close(fd);
        return l;
}

static void level(const char *path, FolderLevel want) {
        FolderLevel l = level_of(path);

        CHECK(l == want, "layout_level(%s) = %d, want %d", path, l, want);
}

static void hint(const char *path, bool as_state, FolderLevel lvl, const char *want) {
        char buf[1024];
        const char *h = layout_hint(path, as_state, false, lvl, buf, sizeof(buf));

        CHECK(want ? h && strcmp(h, want) == 0 : !h, "layout_hint(%s, %d, %d) = %s\n want %s", path,
              as_state, lvl, h, want);
}

int main(void) {
        char *home = lw_tmpdir();
        char *state = lw_path(home, ".openclaw"), *agents = lw_path(state, "agents");
        char *agent = lw_path(agents, "main"), *sessions = lw_path(agent, "sessions");
        char *other = lw_path(home, "other");

        lw_mkdir_p(sessions);
        lw_mkdir_p(other);

        /* An empty sessions folder: its name alone does not say (it could be anything). */
        level(sessions, FOLDER_LEVEL_UNKNOWN);
        level(agent, FOLDER_LEVEL_AGENT);
        level(agents, FOLDER_LEVEL_AGENTS);
        level(state, FOLDER_LEVEL_STATE);
        level(home, FOLDER_LEVEL_HOME);
        level(other, FOLDER_LEVEL_UNKNOWN);

        /* A transcript or a lock makes it a sessions folder, by its name only. */
        char *t = lw_path(sessions, "x.jsonl.lock");
        lw_write_file(t, "{}", 2);
        level(sessions, FOLDER_LEVEL_SESSIONS);
        char *u = lw_path(other, "y.jsonl");
        lw_write_file(u, "", 0);
        level(other, FOLDER_LEVEL_UNKNOWN);
        /* A hidden file is no transcript. */
        CHECK(unlink(u) == 0, "unlink");
        char *h = lw_path(other, ".x.jsonl");
        lw_write_file(h, "", 0);
        level(other, FOLDER_LEVEL_UNKNOWN);

        /* Symlinks are not followed: a link to the state dir is no state dir. */
        char *l = lw_path(other, ".openclaw");
        CHECK(symlink(state, l) == 0, "symlink");
        level(other, FOLDER_LEVEL_UNKNOWN);
        char *lagents = lw_path(home, "s2");
        char *lagents_a = lw_path(lagents, "agents");
        lw_mkdir_p(lagents_a);
        char *la = lw_path(lagents_a, "main");
        CHECK(symlink(agent, la) == 0, "symlink agent");
        level(lagents, FOLDER_LEVEL_UNKNOWN);
        level(lagents_a, FOLDER_LEVEL_UNKNOWN);

        /* The hints: nothing when the level fits (or nothing says). */
        hint("/h/.openclaw", true, FOLDER_LEVEL_STATE, NULL);
        hint("/h/.openclaw/agents/main/sessions", false, FOLDER_LEVEL_SESSIONS, NULL);
        hint("/x", true, FOLDER_LEVEL_UNKNOWN, NULL);
        hint("/x", false, FOLDER_LEVEL_UNKNOWN, NULL);
        hint("/h/.openclaw", false, FOLDER_LEVEL_STATE,
             "given as a sessions folder (--watch), but this is a state dir: nothing there is scanned; "
             "use --state-dir /h/.openclaw");
        hint("/h/.openclaw/agents/main/sessions", true, FOLDER_LEVEL_SESSIONS,
             "given as a state dir (--state-dir), but this is a sessions folder: nothing there is scanned; "
             "use --watch /h/.openclaw/agents/main/sessions, or --state-dir /h/.openclaw for every agent");
        hint("/srv/sessions", true, FOLDER_LEVEL_SESSIONS,
             "given as a state dir (--state-dir), but this is a sessions folder: nothing there is scanned; "
             "use --watch /srv/sessions");
        hint("/h/.openclaw/agents/main", true, FOLDER_LEVEL_AGENT,
             "given as a state dir (--state-dir), but this is an agent folder: nothing there is scanned; "
             "use --state-dir /h/.openclaw, or --watch /h/.openclaw/agents/main/sessions for this agent only");
        hint("/h/.openclaw/agents", false, FOLDER_LEVEL_AGENTS,
             "given as a sessions folder (--watch), but this is the agents folder of a state dir: nothing "
             "there is scanned; use --state-dir /h/.openclaw");
        hint("/h", true, FOLDER_LEVEL_HOME,
             "given as a state dir (--state-dir), but this folder holds a state dir: nothing there is "
             "scanned; use --state-dir /h/.openclaw");
        hint("/", true, FOLDER_LEVEL_HOME,
             "given as a state dir (--state-dir), but this folder holds a state dir: nothing there is "
             "scanned; use --state-dir /.openclaw");
        char buf[256];
        const char *k = layout_hint("/h", false, true, FOLDER_LEVEL_HOME, buf, sizeof(buf));
        CHECK(k && strstr(k, "(--watch, watch_dirs)") && strstr(k, "guarded") && strstr(k, "(state_dirs)"),
              "with the configuration's keys: %s", k);

        free(state);
        free(agents);
        free(agent);
        free(sessions);
        free(other);
        free(t);
        free(u);
        free(h);
        free(l);
        free(lagents);
        free(lagents_a);
        free(la);
        return 0;
}
