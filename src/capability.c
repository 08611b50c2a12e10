/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* capability.c: capability queries. Note why this is needed for fanotify: since Linux 5.13 an
 * unprivileged process may create a FID-mode group and inode marks, but the kernel then
 * reports pid 0 for every other process's events. A daemon that tracks holders by pid must
 * not run like that by accident, so it asks for CAP_SYS_ADMIN explicitly. */
#include "capability.h"

bool capability_have(cap_value_t cap) {
        cap_flag_value_t v = CAP_CLEAR;
        cap_t caps = cap_get_proc();

        if (!caps)
                return false;
        if (cap_get_flag(caps, cap, CAP_EFFECTIVE, &v) < 0)
                v = CAP_CLEAR;
        cap_free(caps);
        return v == CAP_SET;
}
