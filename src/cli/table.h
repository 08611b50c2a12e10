/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* table.h: aligned text tables for the verbs, like lslocks or systemctl list-units: a header
 * (unless --no-legend), one row per item, columns as wide as their widest cell, and on a
 * terminal the widest flexible column shortened (with "…") so that a row fits the width. */
#pragma once

#include <stdbool.h>
#include <stdio.h>

typedef struct Table Table;

/* NAMES: the header, NULL-terminated. A name starting with '>' is right-aligned (the '>' is
 * not printed); one starting with '*' may be shortened to fit the terminal (in the middle);
 * one starting with '/' is a path column, shortened in the folder only; one starting with '?'
 * is shortened as '*', and left out when the table cannot fit the terminal otherwise. */
Table *table_new(const char *const *names);
Table *table_free(Table *t);
/* One row: exactly as many cells as columns (NULL prints "-"). Copied. */
int table_add(Table *t, const char *const *cells);
size_t table_rows(const Table *t);
/* WIDTH 0: no limit (not a terminal). */
void table_print(const Table *t, FILE *f, bool legend, unsigned width);
/* PATH in at most WIDTH columns when its file name fits: the folder replaced from its start by
 * "…" ("…/sessions/ID.jsonl.lock"); the file name is never cut, however narrow WIDTH is. A new
 * string (NULL: out of memory). */
char *table_path_shorten(const char *path, size_t width);
/* $COLUMNS if set, else the terminal's width when F is a terminal, else 0. */
unsigned table_width(FILE *f);

/* ONE when N is 1, else MANY: "1 lock", "2 locks", "0 locks" (a table's summary line). */
static inline const char *plural(long long n, const char *one, const char *many) {
        return n == 1 ? one : many;
}
