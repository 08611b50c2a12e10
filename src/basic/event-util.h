/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* event-util.h: sd-event helpers shared by the modules that keep one-shot deadlines. */
#pragma once

#include <stdint.h>
#include <systemd/sd-event.h>
#include <time.h>

/* Arms *SOURCE to fire once at USEC on CLOCK, creating it (with DESCRIPTION) on first use and
 * re-arming it after. Returns 0 or a negative errno. */
int event_arm_oneshot(sd_event *e, sd_event_source **source, clockid_t clock, uint64_t usec,
                      uint64_t accuracy, sd_event_time_handler_t handler, void *userdata,
                      const char *description);
