/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A file name is any bytes its creator likes: a session named with terminal control sequences
 * (ESC ] 0;owned BEL retitles a terminal, ESC [2J clears it, U+009B is the 8-bit CSI) is
 * reported like any other, and no control byte of it reaches an operator's terminal: not
 * through `lockwarden events`, `lockwarden locks`, `lockwarden holders`, nor the daemon's
 * stderr; every report is there, escaped (\xNN). */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "lwtest.h"

#define EVIL "s\x1b]0;owned\x07\x1b[2J\xc2\x9b" "2J"

/* A byte a terminal acts on: C0 but newline, DEL, or C1 (U+0080..U+009F in UTF-8). */
static const char *control_in(const char *s, size_t n) {
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char) s[i];
                if ((c < 0x20 && c != '\n') || c == 0x7f ||
                    (c == 0xc2 && i + 1 < n && (unsigned char) s[i + 1] >= 0x80 && (unsigned char) s[i + 1] < 0xa0))
                        return s + i;
        }
        return NULL;
}

static void check_clean(const char *what, const char *s, size_t n) {
        const char *c = control_in(s, n);

        CHECK(!c, "%s wrote a control byte 0x%02x at %zu", what, (unsigned char) *c, (size_t) (c - s));
}

static char out[1 << 20], err[1 << 16];

static void run(LwDaemon *d, const char *verb, const char *arg, const char *expect) {
        const char *args[] = { verb, "--socket", d->socket, arg, NULL };

        CHECK(lw_run(args, -1, out, sizeof(out), err, sizeof(err)) == 0, "lockwarden %s: %s", verb, err);
        check_clean(verb, out, strlen(out));
        check_clean(verb, err, strlen(err));
        CHECK(strstr(out, expect), "lockwarden %s does not show %s:\n%s", verb, expect, out);
}

int main(void) {
        char *state = lw_path(lw_tmpdir(), "state"), *sessions = lw_path(state, "agents/main/sessions");
        char *log = lw_path(lw_tmpdir(), "stderr.log");
        int logfd, saved;

        lw_require_backend();
        lw_mkdir_p(sessions);
        /* The daemon's stderr goes to a file this test reads. */
        logfd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        saved = dup(STDERR_FILENO);
        CHECK(logfd >= 0 && saved >= 0, "open %s", log);
        dup2(logfd, STDERR_FILENO);
        LwDaemon *d = lw_daemon_start(NULL, (const char *[]) { "--state-dir", state, "--leak-grace-ms", "200", NULL }, NULL);
        dup2(saved, STDERR_FILENO);
        close(logfd);
        lw_daemon_ready(d);

        char *lock = lw_path(sessions, EVIL ".jsonl.lock");
        pid_t h = lw_holder_start(lock, NULL);
        json_t *a = lw_expect(d, LW_TIMEOUT_MS, "lock.acquired", NULL, NULL);
        const char *reported = jstr(a, "lock");
        check_clean("lock.acquired's lock field", reported, strlen(reported));
        CHECK(strstr(reported, "s\\x1b]0;owned\\x07\\x1b[2J\\xc2\\x9b2J.jsonl.lock"), "lock %s", reported);

        run(d, "locks", NULL, "owned");
        run(d, "holders", lock, "owned");
        run(d, "events", NULL, "lock.acquired");

        lw_kill_wait(h, SIGKILL);
        lw_expect(d, LW_TIMEOUT_MS, "lock.cleaned", NULL, NULL);
        run(d, "events", NULL, "lock.cleaned");
        CHECK(!lw_exists(lock), "lock still there");
        CHECK(lw_daemon_stop(d) == 0, "exit status");

        /* stderr, once the daemon is gone (all written). */
        FILE *f = fopen(log, "re");
        CHECK(f, "%s", log);
        size_t n = fread(out, 1, sizeof(out) - 1, f);
        fclose(f);
        out[n] = '\0';
        check_clean("the daemon's stderr", out, n);
        CHECK(strstr(out, "lock.cleaned: Removed stale lock") && strstr(out, "owned"), "stderr:\n%s", out);
        return 0;
}
