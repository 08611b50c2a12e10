/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* log.h: diagnostics for the operator running lockwarden by hand (start-up, usage, fatal
 * errors). Events about locks are reports (report.h), not log lines. Everything written to
 * stderr goes through one bounded non-blocking writer (outbuf.h) and is escaped for a
 * terminal (escape_terminal): a stalled reader loses lines, never stops the daemon. */
#pragma once

#include <systemd/sd-event.h>

#include "macro.h"
#include "outbuf.h"

/* What stderr may keep for a reader that is behind. */
#define LOG_STDERR_MAX (256u * 1024)

_printf_(1, 2) void log_error(const char *fmt, ...);
/* Logs with errno set from r (so %m works) and returns r, which must be negative. */
_printf_(2, 3) int log_error_errno(int r, const char *fmt, ...);
/* One line of TEXT (no newline) on stderr, escaped for a terminal. */
void log_line(const char *text);
/* From now on, stderr is written when it takes more, on E; DRAINED says what was dropped. */
int log_attach_event(sd_event *e, OutBufDrained drained, void *userdata);
/* Gives a slow reader a moment (bounded) for what is kept, then lets go of E. */
void log_detach_event(void);
