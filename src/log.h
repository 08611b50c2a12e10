/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* log.h: diagnostics for the operator running lockwarden by hand (start-up, usage, fatal
 * errors). Events about locks are reports (report.h), not log lines. */
#pragma once

#include "macro.h"

_printf_(1, 2) void log_error(const char *fmt, ...);
/* Logs with errno set from r (so %m works) and returns r, which must be negative. */
_printf_(2, 3) int log_error_errno(int r, const char *fmt, ...);
