/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzz target: the lock payload parser (untrusted bytes any user can write into a lock). */
#include <stdint.h>
#include <string.h>

#include "payload.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        LockPayload p;

        payload_parse((const char *) data, size, &p);
        /* What it claims must hold together. */
        if (p.valid && p.pid <= 0)
                __builtin_trap();
        if (memchr(p.error, '\0', sizeof(p.error)) == NULL)
                __builtin_trap();
        return 0;
}
