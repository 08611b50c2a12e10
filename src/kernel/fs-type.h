/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fs-type.h: what kind of filesystem a guarded folder is on. On a network or FUSE
 * filesystem the kernel here sees only what this host's processes do, and a pid in a lock
 * may belong to another host: lockwarden warns, and only reports stale locks there unless
 * the operator opts in (--remote-cleanup). */
#pragma once

#include <stdbool.h>

typedef struct FsType {
        const char *name;   /* "ext4", "nfs", ...; "unknown" */
        bool remote;        /* changes by other hosts are invisible here */
} FsType;

/* The filesystem of the open folder FD. Test builds honour LOCKWARDEN_TEST_FS_TYPE=nfs. */
int fs_type_of(int fd, FsType *ret);
FsType fs_type_from_magic(unsigned long magic);
