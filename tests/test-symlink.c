/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A symlink planted as X.jsonl.lock pointing at a file outside the folder: reported, never
 * followed, never removed; the target is untouched. Same for a fifo (which must not block
 * the daemon), a directory named like a lock, and a symlink planted where an agent's
 * sessions folder should be. */
#include <sys/stat.h>
#include <unistd.h>

#include "lwtest.h"

int main(void) {
        LwEnv e;
        lw_env_start(&e, "200", NULL);
        char *outside = lw_tmpdir();
        char *target = lw_path(outside, "precious");
        char *link = lw_path(e.sessions, "evil.jsonl.lock");
        char *fifo = lw_path(e.sessions, "fifo.jsonl.lock");
        const char *content = "{\"pid\": 999999}\n";

        lw_write_file(target, content, strlen(content));
        CHECK(symlink(target, link) == 0, "symlink");
        json_t *err = lw_expect(e.d, LW_TIMEOUT_MS, "monitor.error", "path", link);
        CHECK(strstr(jstr(err, "error"), "symlink"), "error text: %s", jstr(err, "error"));

        CHECK(mkfifo(fifo, 0600) == 0, "mkfifo");
        err = lw_expect(e.d, LW_TIMEOUT_MS, "monitor.error", "path", fifo);
        CHECK(strstr(jstr(err, "error"), "fifo"), "error text: %s", jstr(err, "error"));

        /* A directory where a lock should be. */
        char *dirlock = lw_path(e.sessions, "dir.jsonl.lock");
        CHECK(mkdir(dirlock, 0700) == 0, "mkdir");
        err = lw_expect(e.d, LW_TIMEOUT_MS, "monitor.error", "path", dirlock);
        CHECK(strstr(jstr(err, "error"), "directory"), "error text: %s", jstr(err, "error"));

        /* A symlink where agents/<id>/sessions should be. */
        char *agent = lw_path(e.state, "agents/sneaky");
        lw_mkdir_p(agent);
        char *slink = lw_path(agent, "sessions");
        CHECK(symlink(outside, slink) == 0, "symlink sessions");
        lw_expect(e.d, LW_TIMEOUT_MS, "monitor.error", "path", slink);

        /* Give the daemon several grace periods to do something wrong. */
        lw_expect_none_after_grace(e.d, e.sessions, "lock.cleaned", NULL, NULL);
        struct stat st;
        CHECK(lstat(link, &st) == 0 && S_ISLNK(st.st_mode), "symlink removed");
        CHECK(lstat(fifo, &st) == 0 && S_ISFIFO(st.st_mode), "fifo removed");
        CHECK(lstat(dirlock, &st) == 0 && S_ISDIR(st.st_mode), "directory removed");
        CHECK(lstat(target, &st) == 0 && (size_t) st.st_size == strlen(content), "target touched");
        CHECK(lw_daemon_stop(e.d) == 0, "exit status");
        return 0;
}
