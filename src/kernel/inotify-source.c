/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* inotify-source.c: inotify_init1/inotify_add_watch and the event walk.
 *
 * A watch is added through /proc/self/fd/N of the folder fd the tree opened (O_NOFOLLOW,
 * relative to its parent), so the watch is on exactly that folder, never on whatever a path
 * would resolve to by now. inotify does not merge a process's events out of order (only
 * identical consecutive ones), but it does not name the actor or the file either: events
 * carry the folder (by watch) and the entry name. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "inotify-source.h"
#include "macro.h"

/* The decoder hands inotify masks on as FAN_* masks: the kernel uses the same bits. */
_Static_assert(IN_MODIFY == FAN_MODIFY && IN_CLOSE_WRITE == FAN_CLOSE_WRITE &&
               IN_CLOSE_NOWRITE == FAN_CLOSE_NOWRITE && IN_OPEN == FAN_OPEN &&
               IN_MOVED_FROM == FAN_MOVED_FROM && IN_MOVED_TO == FAN_MOVED_TO &&
               IN_CREATE == FAN_CREATE && IN_DELETE == FAN_DELETE &&
               IN_DELETE_SELF == FAN_DELETE_SELF && IN_MOVE_SELF == FAN_MOVE_SELF &&
               IN_Q_OVERFLOW == FAN_Q_OVERFLOW && IN_ISDIR == FAN_ONDIR,
               "inotify and fanotify event bits differ");

#define IN_OURS (IN_OPEN | IN_CLOSE_WRITE | IN_CLOSE_NOWRITE | IN_MODIFY | IN_CREATE | IN_DELETE | \
                 IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF)

typedef struct Watch {
        int wd;
        FileId *fid;
} Watch;

static uint64_t wd_hash(const void *key, uint64_t seed) {
        return hash_bytes(key, sizeof(int), seed);
}

static bool wd_equal(const void *a, const void *b) {
        return *(const int *) a == *(const int *) b;
}

static const HashOps wd_hash_ops = { wd_hash, wd_equal };

int inotify_source_open(InotifySource *s) {
        *s = (InotifySource) { .fd = -1 };
        s->watches = HASHMAP_NEW(&wd_hash_ops, Watch, wd);
        if (!s->watches)
                return -ENOMEM;
        s->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (s->fd < 0) {
                int r = negative_errno();
                s->watches = hashmap_free(s->watches);
                return r;
        }
        return 0;
}

static void watch_free(InotifySource *s, Watch *w) {
        hashmap_remove(s->watches, &w->wd);
        free(w->fid);
        free(w);
}

void inotify_source_close(InotifySource *s) {
        Watch *w;
        size_t i = 0;

        if (s->watches) {
                /* Restart after each removal: the map must not change while it is iterated. */
                while (hashmap_iterate(s->watches, &i, (void **) &w)) {
                        watch_free(s, w);
                        i = 0;
                }
                s->watches = hashmap_free(s->watches);
        }
        if (s->fd >= 0)
                close(s->fd);
        s->fd = -1;
}

int inotify_source_watch(InotifySource *s, int dirfd, const FileId *fid, uint64_t mask, int *ret_wd) {
        char path[sizeof("/proc/self/fd/") + 12];
        Watch *w;
        int wd;

        snprintf(path, sizeof(path), "/proc/self/fd/%d", dirfd);
        /* The magic link is followed to the open folder itself; IN_MASK_ADD keeps the bits of
         * another node on the same folder. */
        wd = inotify_add_watch(s->fd, path, (uint32_t) (mask & IN_OURS) | IN_ONLYDIR | IN_MASK_ADD);
        if (wd < 0)
                return negative_errno();
        if (!hashmap_get(s->watches, &wd)) {
                w = calloc(1, sizeof(*w));
                if (w) {
                        w->wd = wd; /* the key: set before it goes into the map */
                        w->fid = file_id_dup(fid);
                }
                if (!w || !w->fid || hashmap_put(s->watches, w) < 0) {
                        if (w)
                                free(w->fid);
                        free(w);
                        (void) inotify_rm_watch(s->fd, wd);
                        return -ENOMEM;
                }
        }
        *ret_wd = wd;
        return 0;
}

void inotify_source_unwatch(InotifySource *s, int wd) {
        /* The Watch stays until IN_IGNORED: events queued before it still name the folder. */
        (void) inotify_rm_watch(s->fd, wd);
}

size_t inotify_source_decode(InotifySource *s, const void *buf, size_t len, FsEventCallback cb,
                             void *userdata) {
        const char *p = buf;
        size_t n = 0;

        while (len >= sizeof(struct inotify_event)) {
                struct inotify_event ie;
                const char *name;
                Watch *w;

                memcpy(&ie, p, sizeof(ie));
                if (ie.len > len - sizeof(ie))
                        break;
                name = p + sizeof(ie);
                p += sizeof(ie) + ie.len;
                len -= sizeof(ie) + ie.len;

                if (ie.mask & IN_Q_OVERFLOW) {
                        cb(&(FsEvent) { .mask = FAN_Q_OVERFLOW, .pid = PID_UNKNOWN }, userdata);
                        n++;
                        continue;
                }
                w = hashmap_get(s->watches, &ie.wd);
                if (!w)
                        continue;
                if (ie.mask & IN_IGNORED) {
                        /* The kernel dropped the watch (removed, or the folder is gone). */
                        watch_free(s, w);
                        continue;
                }
                FsEvent ev = { .mask = ie.mask & (IN_OURS | IN_ISDIR), .pid = PID_UNKNOWN, .dir = w->fid };
                if (ie.mask & IN_UNMOUNT)
                        ev.mask |= FAN_DELETE_SELF; /* gone from our view as if deleted */
                if (ie.len > 0) {
                        /* NUL-padded; an empty name is a self event. */
                        if (!memchr(name, '\0', ie.len))
                                continue;
                        if (name[0])
                                ev.name = name;
                }
                if (!ev.mask || (!ev.name && !(ev.mask & (FAN_DELETE_SELF | FAN_MOVE_SELF))))
                        continue;
                cb(&ev, userdata);
                n++;
        }
        return n;
}
