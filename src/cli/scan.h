/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* scan.h: `lockwarden scan`, one shot with no daemon: find every lock in the configured
 * folders, judge it from /proc with the daemon's own verdict, and with --fix remove the stale
 * ones with the daemon's own safe removal. The drop-in replacement for a cleanup cron job:
 * exit 0 nothing stale, 1 stale found (and removed with --fix), 2 error. With no running
 * history, "nobody has held it since" is measured from the lock file's mtime. */
#pragma once

/* Its --help (lockwarden help scan, lockwarden scan --help). */
void scan_help(void);
/* argv[0] is "scan". */
int scan_main(int argc, char **argv);
