/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* host.h: what the daemon's parts below the manager (the control socket, discovery) work
 * with: the manager's model, reporter, event source, metrics, discovery, loop and options, and
 * its drain, flush and reload as callbacks. A part that must take up the kernel's queue
 * before it acts (an answer about now, a timer's walk of /proc), or reload, asks the manager
 * through them: none of them includes manager.h. The manager embeds one (Manager.host),
 * filled in manager_new; the parts keep a pointer to it. */
#pragma once

#include <systemd/sd-event.h>

#include "options.h"

typedef struct DiscoveryHost DiscoveryHost;
typedef struct Metrics Metrics;
typedef struct Model Model;
typedef struct Reporter Reporter;
typedef struct Source Source;

typedef struct Host {
        Model *model;
        Reporter *reporter;
        Source *source;
        Metrics *metrics;
        DiscoveryHost *discovery;
        sd_event *event;
        const RunOptions *opts;
        void (*drain)(void *userdata);
        void (*flush)(void *userdata);
        int (*reload)(void *userdata);
        void *userdata;
} Host;
