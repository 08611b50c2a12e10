/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* reload.h: SIGHUP. The configuration is built again (command line, then the file); folders
 * added or removed are guarded or released live, per-folder settings are applied again, and
 * the holder map, the locks and their owners' pidfds are kept. A file with an error changes
 * nothing: the daemon goes on with the configuration it has and says why. */
#pragma once

typedef struct Manager Manager;

/* Reports monitor.reloaded, or monitor.error when the new configuration is refused.
 * Returns 0, or the negative errno of the refusal. */
int manager_reload(Manager *m);
