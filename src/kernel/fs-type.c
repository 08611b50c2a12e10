/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fs-type.c: statfs() magic numbers (linux/magic.h; a few are not in every header). */
#include <string.h>
#include <sys/vfs.h>

#include "fs-type.h"
#include "macro.h"

static const struct {
        unsigned long magic;
        const char *name;
        bool remote;
} table[] = {
        { 0xEF53,     "ext4",      false },  /* ext2/3/4 */
        { 0x58465342, "xfs",       false },
        { 0x9123683E, "btrfs",     false },
        { 0x01021994, "tmpfs",     false },
        { 0x794C7630, "overlayfs", false },
        { 0xF2F52010, "f2fs",      false },
        { 0x2FC12FC1, "zfs",       false },
        { 0x6969,     "nfs",       true  },
        { 0xFF534D42, "cifs",      true  },
        { 0xFE534D42, "smb2",      true  },
        { 0x517B,     "smb",       true  },
        { 0x65735546, "fuse",      true  },  /* sshfs, glusterfs, s3fs, ... */
        { 0x00C36400, "ceph",      true  },
        { 0x01021997, "9p",        true  },
        { 0x5346414F, "afs",       true  },
        { 0x6B414653, "afs",       true  },
        { 0x73757245, "coda",      true  },
        { 0x01161970, "gfs2",      true  },  /* cluster: other nodes write it too */
        { 0x7461636F, "ocfs2",     true  },
        { 0x0BD00BD0, "lustre",    true  },
};

FsType fs_type_from_magic(unsigned long magic) {
        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                if (table[i].magic == (magic & 0xFFFFFFFFUL))
                        return (FsType) { table[i].name, table[i].remote };
        return (FsType) { "unknown", false };
}

int fs_type_of(int fd, FsType *ret) {
        struct statfs sf;

#ifdef LW_TEST_HOOKS
        const char *fake = getenv("LOCKWARDEN_TEST_FS_TYPE");
        if (fake && strcmp(fake, "nfs") == 0) {
                *ret = fs_type_from_magic(0x6969);
                return 0;
        }
#endif
        if (fstatfs(fd, &sf) < 0)
                return negative_errno();
        *ret = fs_type_from_magic((unsigned long) sf.f_type);
        return 0;
}
