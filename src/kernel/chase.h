/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* chase.h: configured paths resolved the way a root daemon may trust them. A folder the
 * operator named (--state-dir, --watch, "folders" in the configuration) is opened component
 * by component from "/", never following a symlink that lies in a folder a user other than
 * root can write: such a user could point it at any folder of the host, and lockwarden, as
 * root, would then delete in there (the rule of systemd-tmpfiles' safe mode, in its simplest
 * form). Symlinks in folders only root writes (/home -> /usr/home) are the operator's own. */
#pragma once

#include <stddef.h>

/* Opens the directory PATH (made absolute against the working directory) for reading, as above. Returns the fd or:
 *   -ENOENT   a component does not exist (yet),
 *   -ENOTDIR  a component is not a directory,
 *   -ELOOP    more than 40 symlinks,
 *   -EPERM    a symlink in a folder another user can write: *RET_UNSAFE (may be NULL) gets
 *             that symlink's path (free it), to be reported,
 *   -EREMOTE  (CHASE_NO_FUSE only) a component is on a FUSE filesystem,
 *   or another -errno. */
int chase_dir(const char *path, char **ret_unsafe);

/* Flags for chase_dir_flags(). */
enum {
        /* A path another user named (discovery): no component may be on a FUSE filesystem,
         * told from each one's mount (its attributes as the kernel has them cached: nothing is
         * asked of the filesystem), before anything is looked up in it. The path as written
         * says nothing: ".." and root's symlinks (/var/lock -> /run/lock) lead elsewhere.
         * -EREMOTE then. (".." up out of a mount made inside a FUSE mount is not looked at:
         * only root makes such mounts here.) */
        CHASE_NO_FUSE = 1 << 0,
};

/* chase_dir() with FLAGS (CHASE_*). */
int chase_dir_flags(const char *path, unsigned flags, char **ret_unsafe);

/* May a symlink in the directory DIRFD be followed? Only when root alone can write it: owned
 * by root, no write permission for group or others. 1 yes, 0 no, -errno. */
int chase_dir_is_safe(int dirfd);

/* What went wrong, for a report: R from chase_dir(), UNSAFE its symlink (or NULL). */
void chase_error(int r, const char *unsafe, char *buf, size_t size);
