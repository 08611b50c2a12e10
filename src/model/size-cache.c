/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* size-cache.c: transcript sizes through kept O_PATH descriptors (size-cache.h).
 *
 * The storm profile had fstatat, one path walk per transcript write, as the largest cost after
 * the wake-ups and the queue's own reads. A descriptor opened once per file (O_PATH: no open
 * of the file itself, no event, nothing a FIFO or device would do) turns the rest into statx on
 * the descriptor. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "macro.h"
#include "size-cache.h"

#define SIZE_MASK (STATX_TYPE | STATX_INO | STATX_SIZE | STATX_MTIME)

static SizeCacheEntry *at(SizeCache *c, uint16_t slot) {
        return slot ? &c->e[slot - 1] : NULL;
}

static void unlink_slot(SizeCache *c, uint16_t slot) {
        SizeCacheEntry *e = at(c, slot);

        if (e->prev)
                at(c, e->prev)->next = e->next;
        else
                c->head = e->next;
        if (e->next)
                at(c, e->next)->prev = e->prev;
        else
                c->tail = e->prev;
        e->prev = e->next = 0;
}

static void push_slot(SizeCache *c, uint16_t slot) {
        SizeCacheEntry *e = at(c, slot);

        e->prev = 0;
        e->next = c->head;
        if (c->head)
                at(c, c->head)->prev = slot;
        else
                c->tail = slot;
        c->head = slot;
}

static void release(SizeCache *c, uint16_t slot) {
        SizeCacheEntry *e = at(c, slot);

        if (!e || !e->slot)
                return; /* not in use */
        unlink_slot(c, slot);
        *e->slot = 0;
        e->slot = NULL;
        close(e->fd);
        e->fd = -1;
        c->n--;
}

void size_cache_init(SizeCache *c) {
        *c = (SizeCache) {};
        for (size_t i = 0; i < SIZE_CACHE_MAX; i++)
                c->e[i].fd = -1;
}

/* A free slot, or the least recently used one emptied. */
static uint16_t take_slot(SizeCache *c) {
        if (c->n == SIZE_CACHE_MAX)
                release(c, c->tail);
        for (uint16_t i = 0; i < SIZE_CACHE_MAX; i++)
                if (!c->e[i].slot)
                        return (uint16_t) (i + 1);
        return 0; /* not reached */
}

static int stat_fd(int fd, struct statx *ret) {
        if (statx(fd, "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC, SIZE_MASK, ret) < 0)
                return negative_errno();
        return 0;
}

int size_cache_stat(SizeCache *c, uint16_t *file_slot, dev_t dev, ino_t ino, const FileId *fid,
                    int dirfd, const char *name, struct statx *ret) {
        uint16_t slot = *file_slot;
        int fd, r;

        if (slot) {
                unlink_slot(c, slot);
                push_slot(c, slot);
                return stat_fd(at(c, slot)->fd, ret);
        }
        if (!name)
                return -ENOENT;
        fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        c->n_opens++;
        r = stat_fd(fd, ret);
        if (r >= 0 && (!S_ISREG(ret->stx_mode) ||
                       !file_same(dev, ino, fid, makedev(ret->stx_dev_major, ret->stx_dev_minor),
                                  ret->stx_ino, NULL)))
                r = -ESTALE; /* the name holds another file now */
        if (r < 0) {
                close(fd);
                return r;
        }
        slot = take_slot(c);
        at(c, slot)->slot = file_slot;
        at(c, slot)->fd = fd;
        *file_slot = slot;
        c->n++;
        push_slot(c, slot);
        return 0;
}

void size_cache_forget(SizeCache *c, uint16_t *slot) {
        if (*slot)
                release(c, *slot);
}

void size_cache_done(SizeCache *c) {
        while (c->head)
                release(c, c->head);
}
