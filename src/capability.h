/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* capability.h: what the process may do, asked of the kernel with libcap. */
#pragma once

#include <stdbool.h>
#include <sys/capability.h>

/* Is CAP in our effective set? */
bool capability_have(cap_value_t cap);
