/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzz target: a control-socket request, as the daemon reads it (jansson, duplicates
 * rejected) and checks it before acting. */
#include <jansson.h>
#include <stdint.h>

#include "control.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        json_error_t e;
        json_t *req = json_loadb((const char *) data, size, JSON_REJECT_DUPLICATES, &e);
        const char *code = NULL, *why;

        if (!req)
                return 0;
        why = control_request_check(req, &code);
        if ((why == NULL) != (code == NULL))
                __builtin_trap();
        json_decref(req);
        return 0;
}
