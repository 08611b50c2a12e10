/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzz target: the configuration parser and its line:column scanner. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "config-file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        RunOptions o = { .leak_grace_ms = DEFAULT_LEAK_GRACE_MS, .race_coalesce_ms = DEFAULT_RACE_COALESCE_MS };
        char err[1024];
        int r;

        err[0] = '\0';
        r = config_parse("fuzz.json", (const char *) data, size, &o, err, sizeof(err));
        /* An error always says where and what. */
        if (r == -EINVAL && strncmp(err, "fuzz.json:", 10) != 0)
                __builtin_trap();
        options_done(&o);
        return 0;
}
