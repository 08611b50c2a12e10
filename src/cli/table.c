/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* table.c: the verbs' aligned tables, and how a path is shortened to fit: its folder, never
 * its file name (a session id is what the operator looks for). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "escape.h"
#include "macro.h"
#include "table.h"

#define TABLE_COLUMNS_MAX 12

struct Table {
        size_t n_cols;
        char *names[TABLE_COLUMNS_MAX];
        bool right[TABLE_COLUMNS_MAX], flex[TABLE_COLUMNS_MAX], path[TABLE_COLUMNS_MAX];
        bool optional[TABLE_COLUMNS_MAX];
        char **cells;            /* n_rows * n_cols */
        size_t n_rows, n_alloc;
};

Table *table_new(const char *const *names) {
        Table *t = calloc(1, sizeof(*t));

        if (!t)
                return NULL;
        for (; names[t->n_cols] && t->n_cols < TABLE_COLUMNS_MAX; t->n_cols++) {
                const char *n = names[t->n_cols];

                t->right[t->n_cols] = n[0] == '>';
                t->flex[t->n_cols] = n[0] == '*' || n[0] == '/' || n[0] == '?';
                t->path[t->n_cols] = n[0] == '/';
                t->optional[t->n_cols] = n[0] == '?';
                if (!(t->names[t->n_cols] = strdup(n + (n[0] == '>' || n[0] == '*' || n[0] == '/' || n[0] == '?'))))
                        return table_free(t);
        }
        return t;
}

Table *table_free(Table *t) {
        if (!t)
                return NULL;
        for (size_t i = 0; i < t->n_cols; i++)
                free(t->names[i]);
        for (size_t i = 0; i < t->n_rows * t->n_cols; i++)
                free(t->cells[i]);
        free(t->cells);
        free(t);
        return NULL;
}

int table_add(Table *t, const char *const *cells) {
        size_t need = (t->n_rows + 1) * t->n_cols;

        if (need > t->n_alloc) {
                size_t a = MAX_SIZE(need, t->n_alloc * 2);
                char **c = realloc(t->cells, a * sizeof(char *));
                if (!c)
                        return -ENOMEM;
                t->cells = c;
                t->n_alloc = a;
        }
        /* Cells carry other users' bytes (file names, comm, units): nothing in them may act on
         * the terminal (escape_terminal leaves text escaped by the daemon as it is). */
        for (size_t i = 0; i < t->n_cols; i++)
                t->cells[t->n_rows * t->n_cols + i] = escape_terminal(cells[i] ? cells[i] : "-");
        t->n_rows++;
        return 0;
}

size_t table_rows(const Table *t) {
        return t->n_rows;
}

/* Display width of UTF-8 text: code points (the escaped names are printable). */
static size_t text_width(const char *s) {
        size_t w = 0;

        if (!s)
                return 1; /* printed as "-" */
        for (; *s; s++)
                if (((unsigned char) *s & 0xC0) != 0x80)
                        w++;
        return w;
}

/* The width of PATH's file name (its last component), with the "…/" before it. */
static size_t name_min_width(const char *path) {
        const char *slash = strrchr(path, '/');

        return slash && slash != path ? text_width(slash + 1) + 2 : text_width(path);
}

char *table_path_shorten(const char *path, size_t width) {
        const char *tail = NULL;
        char *r;

        if (!path[0] || text_width(path) <= width)
                return strdup(path);
        /* The longest tail from a '/' that fits after "…": whole folder names, then the file's. */
        for (size_t i = 1; path[i]; i++) {
                if (path[i] != '/')
                        continue;
                tail = path + i;
                if (1 + text_width(tail) <= width)
                        break;
        }
        if (!tail) /* no folder to shorten: the name stays whole */
                return strdup(path);
        if (asprintf(&r, "…%s", tail) < 0)
                return NULL;
        return r;
}

/* Prints S in WIDTH columns, shortened in the middle with "…" when longer (a path column:
 * in its folder, table_path_shorten). */
static void print_cell(FILE *f, const char *s, size_t width, bool right, bool last, bool path) {
        _cleanup_free_ char *shortened = NULL;
        size_t w;

        if (!s)
                s = "-";
        w = text_width(s);
        if (w > width && path && (shortened = table_path_shorten(s, width))) {
                s = shortened;
                w = text_width(s);
        }
        if (w > width && width >= 2 && !path) {
                /* Keep the start and the end: paths differ at both. */
                size_t keep_end = (width - 1) / 2, keep_start = width - 1 - keep_end, n = 0;
                const char *p = s, *tail = s + strlen(s);

                for (; *p && n < keep_start; p++)
                        if ((((unsigned char) p[1]) & 0xC0) != 0x80)
                                n++;
                fwrite(s, 1, (size_t) (p - s), f);
                fputs("…", f);
                for (n = 0; tail > s && n < keep_end;) {
                        tail--;
                        if (((unsigned char) *tail & 0xC0) != 0x80)
                                n++;
                }
                fputs(tail, f);
                return;
        }
        if (w >= width || last)
                fputs(s, f);
        else if (right)
                fprintf(f, "%*s%s", (int) (width - w), "", s);
        else
                fprintf(f, "%s%*s", s, (int) (width - w), "");
}

void table_print(const Table *t, FILE *f, bool legend, unsigned width) {
        size_t w[TABLE_COLUMNS_MAX] = {}, least[TABLE_COLUMNS_MAX] = {}, total = 0;

        for (size_t c = 0; c < t->n_cols; c++) {
                if (legend)
                        w[c] = least[c] = text_width(t->names[c]);
                for (size_t r = 0; r < t->n_rows; r++) {
                        const char *s = t->cells[r * t->n_cols + c];
                        size_t sw = text_width(s);

                        w[c] = MAX_SIZE(w[c], sw);
                        /* A path column keeps every file name whole; others keep 12 columns. */
                        least[c] = MAX_SIZE(least[c], t->path[c] ? MIN_SIZE(sw, name_min_width(s)) : MIN_SIZE(sw, 12));
                }
                total += w[c] + (c + 1 < t->n_cols ? 2 : 0);
        }
        /* Too wide even with every column at its least: an optional column goes whole (the
         * last first), rather than make every row wrap. */
        bool hidden[TABLE_COLUMNS_MAX] = {};
        size_t least_total = 0;
        for (size_t c = 0; c < t->n_cols; c++)
                least_total += (t->flex[c] ? least[c] : w[c]) + (c + 1 < t->n_cols ? 2 : 0);
        for (size_t c = t->n_cols; width > 0 && least_total > width && c-- > 0;)
                if (t->optional[c]) {
                        hidden[c] = true;
                        total -= w[c] + 2;
                        least_total -= least[c] + 2;
                }
        /* Too wide for the terminal: shorten flexible columns, widest first, down to their
         * least (what stays then wider than the terminal wraps: no file name is cut). */
        while (width > 0 && total > width) {
                size_t widest = TABLE_COLUMNS_MAX;
                for (size_t c = 0; c < t->n_cols; c++)
                        if (!hidden[c] && t->flex[c] && w[c] > least[c] && (widest == TABLE_COLUMNS_MAX || w[c] > w[widest]))
                                widest = c;
                if (widest == TABLE_COLUMNS_MAX)
                        break;
                size_t cut = MIN_SIZE(total - width, w[widest] - least[widest]);
                w[widest] -= cut;
                total -= cut;
        }
        size_t last = 0;
        for (size_t c = 0; c < t->n_cols; c++)
                if (!hidden[c])
                        last = c;
        for (size_t r = legend ? 0 : 1; r <= t->n_rows; r++) {
                for (size_t c = 0; c < t->n_cols; c++) {
                        const char *s = r == 0 ? t->names[c] : t->cells[(r - 1) * t->n_cols + c];
                        if (hidden[c])
                                continue;
                        print_cell(f, s, w[c], t->right[c], c == last, r > 0 && t->path[c]);
                        if (c < last)
                                fputs("  ", f);
                }
                fputc('\n', f);
        }
}

unsigned table_width(FILE *f) {
        const char *e = getenv("COLUMNS");
        struct winsize ws;

        /* $COLUMNS wins, as in systemd's tools; a pipe is otherwise never cut. */
        long cols = e ? strtol(e, NULL, 10) : 0;

        if (cols > 0 && cols < 100000)
                return (unsigned) cols;
        if (!isatty(fileno(f)))
                return 0;
        if (ioctl(fileno(f), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
                return ws.ws_col;
        return 80;
}
