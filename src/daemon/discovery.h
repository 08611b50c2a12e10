/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* discovery.h: the gateways found by the daemon itself. When no folder is configured (no
 * --state-dir, --watch or state_dirs/watch_dirs: RunOptions.discover) a root daemon guards,
 * beyond the default state dir:
 *   - the state dir of every running gateway (the application's argv rule on /proc/PID/cmdline;
 *     OPENCLAW_STATE_DIR, else HOME/.openclaw, from /proc/PID/environ, else the passwd home),
 *     accepted only when it is a directory owned by the gateway's user or root,
 *   - ~/.openclaw of every local user (/etc/passwd: uid 0 or 1000..65533 with a home), even
 *     before it exists: the tree waits for it to appear,
 *   - gateways started later with another state dir: their open of the entry script a running
 *     gateway named (its folder is watched for opens) leads to them.
 * A state dir found stays guarded when its gateway exits (its stale locks are what must be
 * cleaned); a configuration that names folders turns discovery off and drops what it found. */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include <systemd/sd-event.h>

#include "fs-event.h"
#include "host.h"

typedef struct Discovery Discovery;

/* Discovery's state (NULL: off, folders configured or not root) and what it works with. */
typedef struct DiscoveryHost {
        Discovery *discovery;
        const Host *host;
} DiscoveryHost;

/* At start-up, after the configured roots: looks for gateways and local users' state dirs
 * when the options say discover and the daemon runs as root. Failures are reported, never fatal. */
int discovery_start(DiscoveryHost *m);
/* Every kernel event, before the tree: an open of a watched entry script leads to its
 * gateway (fanotify: the opener; inotify: one walk of /proc, at most one a second). */
void discovery_dispatch(DiscoveryHost *m, const FsEvent *ev);
/* A reload applied the new options: discovery still on looks again (additively); turned off,
 * the state dirs it found and that are not configured stop being guarded (each appended to
 * REMOVED). Returns whether any root was removed. */
bool discovery_reload(DiscoveryHost *m, json_t *removed);
/* Events were lost (an entry script's open among them, perhaps): one walk of /proc. */
void discovery_resync(DiscoveryHost *m);
/* [{"state_dir": ..., "how": ...}] for monitor.ready and status (empty when off). */
json_t *discovery_json(DiscoveryHost *m);
/* Is discovery on? */
bool discovery_enabled(DiscoveryHost *m);
void discovery_free(DiscoveryHost *m);
