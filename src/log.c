/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* log.c: plain stderr diagnostics. */
#include <stdarg.h>

#include "log.h"

static void log_v(const char *fmt, va_list ap) {
        fputs("lockwarden: ", stderr);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
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
