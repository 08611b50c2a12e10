/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* escape.h: file names are bytes; reports are UTF-8 text. Anything that is not printable,
 * valid UTF-8 is written as \xNN (and a backslash as \\), so every name has one unambiguous,
 * printable form in JSON, the journal and on stderr. */
#pragma once

#include <stddef.h>

/* Returns a malloc'd escaped copy, or NULL on ENOMEM. */
char *escape_bytes(const char *s);
/* Escaped "dir/name" (dir or name may be NULL: then the other alone). */
char *escape_path(const char *dir, const char *name);
