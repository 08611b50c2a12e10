/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cleanup.c: verify → lease → quarantine rename → verify → unlink.
 *
 * 1. Open the name (O_NOFOLLOW, non-blocking, read-only) relative to the folder fd; it must be
 *    a regular file with the judged dev/inode. Take a read lease on it (F_SETLEASE F_RDLCK):
 *    the kernel grants it only while no open file description of it is open for writing, in
 *    any process, however it got there (an open we saw, a fork, dup, SCM_RIGHTS), and while
 *    we hold it an open() for writing waits for us. Readers (contenders polling the payload)
 *    do not stand in its way: they hold nothing. So from here to the unlink nobody holds it.
 *    Refused because a writer has it: who is looked up in /proc (holders we did not know of)
 *    and it is kept. Refused by the filesystem (no leases there): the same /proc look-up
 *    decides, and where /proc cannot show every process it is kept on doubt. Refused for want
 *    of CAP_LEASE: kept on doubt.
 *    Then it must hold exactly the judged payload bytes.
 * 2. Rename it to a hidden quarantine name in the same folder, random (nobody can plant it in
 *    advance), with RENAME_NOREPLACE; where the filesystem lacks it (NFS, 9p, many FUSE
 *    servers: EINVAL) with a plain rename after checking the name is free. A rename moves
 *    whatever the name points to *now*; so:
 * 3. Check that the quarantined inode is the judged one. If not, a new owner created its lock
 *    between 1 and 2: put it back without replacing anything (RENAME_NOREPLACE, else a hard
 *    link and the hidden name unlinked) and keep it.
 * 4. Unlink the quarantine name. Nothing but us ever uses that name. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "fs-util.h"
#include "macro.h"
#include "proc.h"
#include "test-hook.h"
#include "time-util.h"


static int same_payload(int fd, const char *payload, size_t len) {
        /* One byte more than expected is enough to see that the file grew. */
        _cleanup_free_ char *buf = malloc(len + 1);
        ssize_t n;

        if (!buf)
                return -ENOMEM;
        n = read_all_at(fd, buf, len + 1);
        if (n < 0)
                return (int) n;
        return (size_t) n == len && memcmp(buf, payload, len) == 0;
}

/* Is what NAME holds now (stat ST) the judged file? A new lock that got the judged one's inode
 * number (ext4 reuses them at once) differs in its file handle. */
static bool same_file(const struct stat *st, dev_t dev, ino_t ino, const FileId *fid,
                      int dirfd, const char *name) {
        FileId now;

        if (!S_ISREG(st->st_mode))
                return false;
        if (!fid)
                return file_same(st->st_dev, st->st_ino, NULL, dev, ino, NULL);
        return file_id_at(dirfd, name, fid->fsid, &now) >= 0 &&
               file_same(st->st_dev, st->st_ino, &now, dev, ino, fid);
}

/* The lease was refused with R: who holds the file open for writing decides. Returns a
 * CleanupResult to give up with, or 0 with *ret_go_on set when the removal may go on (a
 * filesystem without leases, and /proc shows no writer anywhere). */
static int lease_refused(int r, dev_t dev, ino_t ino, const FileId *fid, char *why, size_t why_size,
                         CleanupHeld *held, bool *ret_go_on) {
        CleanupHeld scratch;
        size_t readers = 0;
        bool hidden = false;
        int n;

        *ret_go_on = false;
        if (!held)
                held = &scratch;
        if (r == -EACCES || r == -EPERM) {
                /* Not ours, and no CAP_LEASE: nothing proves that nobody holds it. */
                snprintf(why, why_size, "cannot prove that nobody holds it: the kernel refused a lease "
                         "(%s; lockwarden needs CAP_LEASE for other users' locks): kept on doubt", strerror(-r));
                return CLEANUP_DOUBT;
        }
        n = proc_find_writers(dev, ino, fid, held->writers, CLEANUP_WRITERS_MAX, NULL, 0, &readers, &hidden);
        if (n < 0) {
                snprintf(why, why_size, "lease refused (%s) and /proc unreadable (%s): kept on doubt",
                         strerror(-r), strerror(-n));
                return CLEANUP_DOUBT;
        }
        held->n_writers = (size_t) n;
        if (n > 0) {
                snprintf(why, why_size, "held open for writing by pid %d%s", (int) held->writers[0],
                         n > 1 ? " and others" : "");
                return CLEANUP_HELD;
        }
        if (r == -EAGAIN) {
                /* A writer the kernel knows of and /proc does not show us (a process whose files
                 * we may not read, or one that closed it a moment ago: its close, an event,
                 * brings fresh facts). */
                snprintf(why, why_size, "open for writing by a process lockwarden cannot see (the kernel "
                         "refused a read lease): kept on doubt");
                return CLEANUP_DOUBT;
        }
        if (hidden) {
                snprintf(why, why_size, "this filesystem refuses leases (%s) and some processes' files are "
                         "not visible: kept on doubt", strerror(-r));
                return CLEANUP_DOUBT;
        }
        *ret_go_on = true; /* no leases here, and /proc shows no writer */
        return 0;
}

/* Filesystems without RENAME_NOREPLACE (NFS, 9p, FUSE servers such as bindfs) say EINVAL. */
static bool noreplace_unsupported(int r) {
        return r == -EINVAL || r == -ENOSYS || r == -EOPNOTSUPP;
}

int cleanup_put_back(int dirfd, const char *stranded, const char *name) {
        if (renameat2(dirfd, stranded, dirfd, name, RENAME_NOREPLACE) == 0)
                return 1;
        if (errno == EEXIST)
                return 0;
        if (!noreplace_unsupported(negative_errno()))
                return negative_errno();
        /* A hard link never replaces either (EEXIST): the name first, then the hidden one
         * goes. */
        if (linkat(dirfd, stranded, dirfd, name, 0) < 0)
                return errno == EEXIST ? 0 : negative_errno();
        (void) unlinkat(dirfd, stranded, 0);
        return 2;
}

/* Moves NAME aside to the new hidden name QNAME. Without RENAME_NOREPLACE a plain rename
 * would replace a file already named QNAME: the name is random (nobody can plant it in
 * advance) and checked absent first. */
static int quarantine(int dirfd, const char *name, const char *qname) {
        struct stat st;

        if (renameat2(dirfd, name, dirfd, qname, RENAME_NOREPLACE) == 0)
                return 0;
        if (!noreplace_unsupported(negative_errno()))
                return negative_errno();
        if (fstatat(dirfd, qname, &st, AT_SYMLINK_NOFOLLOW) == 0)
                return -EEXIST;
        if (errno != ENOENT)
                return negative_errno();
        return renameat(dirfd, name, dirfd, qname) < 0 ? negative_errno() : 0;
}

int cleanup_remove_lock(int dirfd, const char *name, dev_t dev, ino_t ino, const FileId *fid,
                        const char *payload, size_t payload_len, char *why, size_t why_size,
                        CleanupHeld *held) {
        static unsigned long counter;
        _cleanup_close_ int fd = -1;
        char qname[64];
        struct stat st;
        int r;

        if (held) {
                held->n_writers = 0;
                held->relinked = false;
        }
        test_hook("before-verify");

        fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
                r = negative_errno();
                if (r == -ENOENT) {
                        snprintf(why, why_size, "already gone");
                        return CLEANUP_KEPT;
                }
                snprintf(why, why_size, "cannot open: %s", strerror(-r));
                return r;
        }
        if (fstat(fd, &st) < 0) {
                r = negative_errno();
                snprintf(why, why_size, "cannot stat: %s", strerror(-r));
                return r;
        }
        if (!same_file(&st, dev, ino, fid, fd, "")) {
                snprintf(why, why_size, "replaced by another file before removal");
                return CLEANUP_KEPT;
        }
        /* The lease goes with the fd: released when it is closed, on every return. */
        if (fcntl(fd, F_SETLEASE, F_RDLCK) < 0) {
                bool go_on;

                r = lease_refused(negative_errno(), dev, ino, fid, why, why_size, held, &go_on);
                if (!go_on)
                        return r;
        }
        r = same_payload(fd, payload, payload_len);
        if (r < 0) {
                snprintf(why, why_size, "cannot re-read: %s", strerror(-r));
                return r;
        }
        if (r == 0) {
                snprintf(why, why_size, "payload changed before removal");
                return CLEANUP_KEPT;
        }

        test_hook("before-rename");

        uint64_t nonce;
        if (getrandom(&nonce, sizeof(nonce), GRND_NONBLOCK) != sizeof(nonce))
                nonce = now_mono_ns();
        snprintf(qname, sizeof(qname), ".lockwarden-quarantine-%d-%lu-%016" PRIx64, (int) getpid(), ++counter, nonce);
        r = quarantine(dirfd, name, qname);
        if (r < 0) {
                if (r == -ENOENT) {
                        snprintf(why, why_size, "already gone");
                        return CLEANUP_KEPT;
                }
                snprintf(why, why_size, "cannot rename to quarantine: %s", strerror(-r));
                return r;
        }
        if (fstatat(dirfd, qname, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
            !same_file(&st, dev, ino, fid, dirfd, qname)) {
                /* Not ours: a new lock took the name between verify and rename. Put it back. */
                test_hook("before-putback");
                r = cleanup_put_back(dirfd, qname, name);
                if (r == 0) {
                        /* Taken again meanwhile: two new locks, two processes that each believe
                         * they hold the session. The first waits under the hidden name until the
                         * name frees (the caller keeps track), never lost. */
                        if (held)
                                snprintf(held->stranded, sizeof(held->stranded), "%s", qname);
                        snprintf(why, why_size, "two new locks took the name during removal: the first, "
                                 "moved aside, is kept as %s and put back when the name frees (two "
                                 "processes each believe they hold this session)", qname);
                        return CLEANUP_STRANDED;
                }
                if (r < 0) {
                        snprintf(why, why_size, "a new lock took the name during removal and could not be put "
                                 "back (%s); it is kept as %s", strerror(-r), qname);
                        return r;
                }
                if (held)
                        held->relinked = r == 2;
                snprintf(why, why_size, "a new lock took the name during removal; put back");
                return CLEANUP_KEPT;
        }

        test_hook("before-unlink");

        if (unlinkat(dirfd, qname, 0) < 0) {
                r = negative_errno();
                snprintf(why, why_size, "cannot unlink quarantined %s: %s", qname, strerror(-r));
                return r;
        }
        return CLEANUP_REMOVED;
}
