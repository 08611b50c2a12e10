/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* escape.c: byte-exact, reversible escaping into printable UTF-8. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "escape.h"

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if invalid. Rejects overlong forms,
 * surrogates and code points above U+10FFFF. */
static size_t utf8_len(const unsigned char *s) {
        if (s[0] < 0x80)
                return 1;
        if (s[0] >= 0xc2 && s[0] <= 0xdf)
                return (s[1] & 0xc0) == 0x80 ? 2 : 0;
        if (s[0] >= 0xe0 && s[0] <= 0xef) {
                if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
                        return 0;
                if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0))
                        return 0;
                return 3;
        }
        if (s[0] >= 0xf0 && s[0] <= 0xf4) {
                if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 || (s[3] & 0xc0) != 0x80)
                        return 0;
                if ((s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] >= 0x90))
                        return 0;
                return 4;
        }
        return 0;
}

/* A byte a terminal acts on: C0, DEL, and C1 (U+0080..U+009F: 8-bit CSI, OSC...). */
static bool is_control(const unsigned char *s, size_t k) {
        return *s < 0x20 || *s == 0x7f || (k == 2 && s[0] == 0xc2 && s[1] < 0xa0);
}

static char *escape_full(const char *str, bool backslash) {
        const unsigned char *s = (const unsigned char *) str;
        size_t n = strlen(str);
        char *out = malloc(n * 4 + 1), *o = out;

        if (!out)
                return NULL;
        while (*s) {
                size_t k = utf8_len(s);

                if (*s == '\\' && backslash) {
                        *o++ = '\\';
                        *o++ = '\\';
                        s++;
                } else if (k == 0 || is_control(s, k)) {
                        o += sprintf(o, "\\x%02x", *s);
                        s++;
                } else {
                        memcpy(o, s, k);
                        o += k;
                        s += k;
                }
        }
        *o = '\0';
        return out;
}

char *escape_bytes(const char *str) {
        return escape_full(str, true);
}

char *escape_terminal(const char *str) {
        return escape_full(str, false);
}

void escape_into(const char *str, char *buf, size_t size) {
        const unsigned char *s = (const unsigned char *) str;
        size_t used = 0;

        while (*s) {
                char one[8];
                size_t k = utf8_len(s), len;

                if (*s == '\\') {
                        one[0] = one[1] = '\\';
                        len = 2;
                        k = 1;
                } else if (k == 0 || is_control(s, k)) {
                        len = (size_t) snprintf(one, sizeof(one), "\\x%02x", *s);
                        k = 1;
                } else {
                        memcpy(one, s, k);
                        len = k;
                }
                if (used + len + 1 > size)
                        break;
                memcpy(buf + used, one, len);
                used += len;
                s += k;
        }
        buf[used] = '\0';
}

char *escape_path(const char *dir, const char *name) {
        char *joined, *r;

        if (!dir || !name)
                return escape_bytes(dir ? dir : name);
        if (asprintf(&joined, "%s/%s", dir, name) < 0)
                return NULL;
        r = escape_bytes(joined);
        free(joined);
        return r;
}
