/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* log.c: stderr diagnostics, through a bounded non-blocking writer (a stderr pipe nobody reads
 * must not stop the daemon) and escaped for a terminal. */
#include <stdarg.h>
#include <string.h>

#include "escape.h"
#include "log.h"
#include "outbuf.h"

static OutBuf *log_out;
static bool log_out_failed;

static void log_exit(void) {
        log_detach_event();
}

static OutBuf *log_stderr(void) {
        static bool registered;

        if (!log_out && !log_out_failed)
                log_out_failed = outbuf_new(STDERR_FILENO, LOG_STDERR_MAX, false, &log_out) < 0;
        /* A line kept for a slow terminal is not lost at exit (a command's last error). */
        if (log_out && !registered)
                registered = atexit(log_exit) == 0;
        return log_out;
}

void log_line(const char *text) {
        _cleanup_free_ char *safe = escape_terminal(text);
        OutBuf *o = log_stderr();
        size_t n;

        if (!safe)
                return;
        n = strlen(safe);
        safe[n] = '\n'; /* replaces the NUL: written by length */
        if (o)
                (void) outbuf_write(o, safe, n + 1, false);
        else
                (void) !write(STDERR_FILENO, safe, n + 1);
}

static void log_v(const char *fmt, va_list ap) {
        _cleanup_free_ char *m = NULL, *line = NULL;

        if (vasprintf(&m, fmt, ap) < 0 || asprintf(&line, "lockwarden: %s", m) < 0)
                return;
        log_line(line);
}

void log_error(const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        log_v(fmt, ap);
        va_end(ap);
}

int log_error_errno(int r, const char *fmt, ...) {
        va_list ap;

        errno = r < 0 ? -r : r;
        va_start(ap, fmt);
        log_v(fmt, ap);
        va_end(ap);
        return r < 0 ? r : -r;
}

int log_attach_event(sd_event *e, OutBufDrained drained, void *userdata) {
        OutBuf *o = log_stderr();

        if (!o)
                return 0;
        outbuf_set_drained(o, drained, userdata);
        return outbuf_attach_event(o, e);
}

void log_detach_event(void) {
        if (!log_out)
                return;
        /* On the way out: a moment for a slow reader, then what is left is lost. */
        outbuf_flush_final(log_out, 1000);
        log_out = outbuf_free(log_out);
}
