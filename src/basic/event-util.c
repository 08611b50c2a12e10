/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* event-util.c */
#include "event-util.h"

int event_arm_oneshot(sd_event *e, sd_event_source **source, clockid_t clock, uint64_t usec,
                      uint64_t accuracy, sd_event_time_handler_t handler, void *userdata,
                      const char *description) {
        int r;

        if (*source) {
                r = sd_event_source_set_time(*source, usec);
                if (r >= 0)
                        r = sd_event_source_set_enabled(*source, SD_EVENT_ONESHOT);
                return r;
        }
        r = sd_event_add_time(e, source, clock, usec, accuracy, handler, userdata);
        if (r >= 0)
                (void) sd_event_source_set_description(*source, description);
        return r;
}
