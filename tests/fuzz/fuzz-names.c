/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzz target: file-name classification and escaping (names are chosen by other users and
 * may hold any byte but '/' and NUL). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "escape.h"
#include "holder-map.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *name = malloc(size + 1), *e;
        FileKind k;

        if (!name)
                return 0;
        memcpy(name, data, size);
        name[size] = '\0';
        k = file_kind_from_name(name);
        if (k == FILE_LOCK && (name[0] == '.' || strlen(name) < strlen(".jsonl.lock")))
                __builtin_trap();
        e = escape_path("/state/agents/a/sessions", name);
        /* The escaped form is printable and has no raw control bytes. */
        for (const char *c = e; c && *c; c++)
                if ((unsigned char) *c < 0x20 || (unsigned char) *c == 0x7f)
                        __builtin_trap();
        free(e);
        free(name);
        return 0;
}
