/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* escape.h: file names are bytes; reports are UTF-8 text. Anything that is not printable,
 * valid UTF-8 is written as \xNN (and a backslash as \\), so every name has one unambiguous,
 * printable form (no C0, DEL or C1 control) in JSON, the journal and on stderr. */
#pragma once

#include <stddef.h>

/* Returns a malloc'd escaped copy, or NULL on ENOMEM. */
char *escape_bytes(const char *s);
/* Escapes S into BUF (SIZE > 0), always NUL-terminated; cut short, if it must be, at a whole
 * character or escape, never inside one. For what /proc says of other processes (their comm,
 * executable, unit: bytes a user chooses), so that no report is lost to invalid UTF-8 and no
 * terminal control sequence reaches an operator's terminal. */
void escape_into(const char *s, char *buf, size_t size);
/* For a terminal, text that may hold escaped names already: control bytes (C0, DEL, C1) and
 * invalid UTF-8 become \xNN, a backslash stays as it is (so escaped text is left unchanged).
 * Malloc'd, NULL on ENOMEM. */
char *escape_terminal(const char *s);
/* Escaped "dir/name" (dir or name may be NULL: then the other alone). */
char *escape_path(const char *dir, const char *name);
