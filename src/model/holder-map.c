/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* holder-map.c */
#include <stdlib.h>
#include <string.h>

#include "holder-map.h"
#include "macro.h"
#include "proc.h"

static uint64_t inode_hash(const void *key, uint64_t seed) {
        return hash_bytes(key, sizeof(InodeKey), seed);
}

static bool inode_equal(const void *a, const void *b) {
        const InodeKey *x = a, *y = b;
        return x->dev == y->dev && x->ino == y->ino;
}

static const HashOps inode_hash_ops = { inode_hash, inode_equal };

static bool has_suffix(const char *s, const char *suffix) {
        size_t n = strlen(s), k = strlen(suffix);
        return n > k && strcmp(s + n - k, suffix) == 0;
}

FileKind file_kind_from_name(const char *name) {
        if (name[0] == '.')
                return _FILE_KIND_INVALID; /* hidden: temporaries, our own quarantine names */
        if (has_suffix(name, ".jsonl.lock"))
                return FILE_LOCK;
        if (has_suffix(name, ".jsonl"))
                return FILE_SESSION;
        return _FILE_KIND_INVALID;
}

/* The layout is packed for the 100,000-transcript host (see holder-map.h); say so if it grows. */
_Static_assert(sizeof(void *) != 8 || sizeof(TrackedFile) <= 96, "TrackedFile grew past 96 bytes");

int holder_map_init(HolderMap *h) {
        *h = (HolderMap) {
                .by_inode = HASHMAP_NEW(&inode_hash_ops, TrackedFile, inode),
                .by_fid = HASHMAP_NEW(&file_id_hash_ops, TrackedFile, fid_storage),
        };
        if (!h->by_inode || !h->by_fid)
                return -ENOMEM;
        size_cache_init(&h->sizes);
        return 0;
}

void holder_map_done(HolderMap *h) {
        TrackedFile *f;
        size_t i = 0;

        size_cache_done(&h->sizes);
        /* Collect first: the map must not change while it is iterated. */
        while (hashmap_iterate(h->by_inode, &i, (void **) &f)) {
                (void) tracked_file_set_name(f, NULL);
                free(f->holders);
                free(f);
        }
        hashmap_free(h->by_inode);
        hashmap_free(h->by_fid);
        *h = (HolderMap) {};
}

TrackedFile *holder_map_get_inode(HolderMap *h, dev_t dev, ino_t ino) {
        InodeKey k = { dev, ino };
        return hashmap_get(h->by_inode, &k);
}

TrackedFile *holder_map_get_fid(HolderMap *h, const FileId *fid) {
        return hashmap_get(h->by_fid, fid);
}

int holder_map_add(HolderMap *h, FileKind kind, dev_t dev, ino_t ino, const FileId *fid,
                   const char *name, TrackedFile **ret) {
        size_t fid_size = fid ? file_id_size(fid) : 0;
        size_t name_size = strlen(name) + 1;
        TrackedFile *f = calloc(1, sizeof(*f) + fid_size + name_size);
        int r;

        if (!f)
                return -ENOMEM;
        f->name = memcpy(f->fid_storage + fid_size, name, name_size);
        f->name_inline = true;
        f->inode = (InodeKey) { dev, ino };
        f->kind = (uint8_t) kind;
        r = hashmap_put(h->by_inode, f);
        if (r < 0) {
                free(f);
                return r;
        }
        if (fid) {
                memcpy(f->fid_storage, fid, fid_size);
                f->has_fid = true;
                /* A handle may already belong to a file we are about to forget: newest wins. */
                if (hashmap_put(h->by_fid, f) < 0) {
                        TrackedFile *old = hashmap_remove(h->by_fid, fid);
                        if (old)
                                old->has_fid = false;
                        (void) hashmap_put(h->by_fid, f);
                }
        }
        h->n_files[kind]++;
        *ret = f;
        return 0;
}

void holder_map_retire(HolderMap *h, TrackedFile *f) {
        if (f->retired)
                return;
        if (hashmap_get(h->by_inode, &f->inode) == f)
                hashmap_remove(h->by_inode, &f->inode);
        if (tracked_file_fid(f) && hashmap_get(h->by_fid, tracked_file_fid(f)) == f)
                hashmap_remove(h->by_fid, tracked_file_fid(f));
        h->n_files[f->kind]--;
        f->retired = true;
}

int tracked_file_set_name(TrackedFile *f, const char *name) {
        char *c = NULL;

        if (name && !(c = strdup(name)))
                return -ENOMEM;
        if (!f->name_inline)
                free(f->name);
        f->name = c;
        f->name_inline = false;
        return 0;
}

bool tracked_file_is(const TrackedFile *f, dev_t dev, ino_t ino, const FileId *fid) {
        return file_same(f->inode.dev, f->inode.ino, tracked_file_fid(f), dev, ino, fid);
}

int tracked_file_stat(HolderMap *h, TrackedFile *f, int dirfd, const char *name, struct statx *ret) {
        return size_cache_stat(&h->sizes, &f->size_slot, f->inode.dev, f->inode.ino,
                               tracked_file_fid(f), dirfd, name, ret);
}

void holder_map_remove(HolderMap *h, TrackedFile *f) {
        size_cache_forget(&h->sizes, &f->size_slot);
        holder_map_retire(h, f);
        (void) tracked_file_set_name(f, NULL);
        free(f->holders);
        free(f);
}

bool tracked_file_has_holder(const TrackedFile *f, pid_t pid) {
        for (unsigned i = 0; i < f->n_holders; i++)
                if (f->holders[i] == pid)
                        return true;
        return false;
}

bool tracked_file_add_holder(TrackedFile *f, pid_t pid) {
        if (tracked_file_has_holder(f, pid))
                return false;
        /* The room is not stored: it is at least the smallest power of two >= max(n, 2), so
         * it is full at 0 (room 2 is made, whatever was there before) and at each power of
         * two from 2 on (the room doubles). Removals never shrink it. */
        if (f->n_holders == 0 || (f->n_holders >= 2 && (f->n_holders & (f->n_holders - 1)) == 0)) {
                size_t n = f->n_holders ? (size_t) f->n_holders * 2 : 2;
                pid_t *p = realloc(f->holders, n * sizeof(pid_t));
                if (!p)
                        return false; /* the next confirm or close event will retry */
                f->holders = p;
        }
        f->holders[f->n_holders++] = pid;
        return true;
}

bool tracked_file_remove_holder(TrackedFile *f, pid_t pid, uint64_t now_ns) {
        for (unsigned i = 0; i < f->n_holders; i++)
                if (f->holders[i] == pid) {
                        f->holders[i] = f->holders[--f->n_holders];
                        if (f->n_holders == 0)
                                f->unheld_since_ns = now_ns;
                        return true;
                }
        return false;
}

bool holder_map_confirm_with(TrackedFile *f, pid_t pid, uint64_t now_ns, int r, bool wrote) {
        /* A lock is held by a write descriptor only: a contender polling its payload, a `cat`,
         * lockwarden's own read are readers, and readers never make it live or busy. */
        if (f->kind == FILE_LOCK && r == PROC_FD_READ)
                r = 0;
        if (r > 0)
                return tracked_file_add_holder(f, pid);
        if (r == 0) {
                if (tracked_file_remove_holder(f, pid, now_ns))
                        return true;
                /* PID held it for writing until this close even if we never saw it as a holder
                 * (its open, writes and close came merged in one event): nobody holds it since
                 * now. A reader's close says nothing about that: it never restarts the grace. */
                if (wrote && f->n_holders == 0 && now_ns > f->unheld_since_ns) {
                        f->unheld_since_ns = now_ns;
                        return true;
                }
                return false;
        }
        /* /proc cannot tell (-EACCES): keep what the events said. */
        return false;
}

/* Does the walk's (PID, FD) count as holding F? A lock only through a write descriptor. */
int tracked_file_fd_holds(const TrackedFile *f, pid_t pid, int fd) {
        int r;

        /* Any fd holds a transcript, even one closing as we look (its close event follows):
         * how it is open does not matter, and a storm's confirmations do not read fdinfo. */
        if (f->kind != FILE_LOCK)
                return proc_fd_is(pid, fd, tracked_file_fid(f)) ? PROC_FD_WRITE : 0;
        /* A lock only through an fd open for writing, proven of one open file. */
        r = proc_fd_access_of(pid, fd, f->inode.ino, tracked_file_fid(f));
        if (r == 0)
                return 0; /* the inode number, but another (newer) file */
        return r == PROC_FD_WRITE ? PROC_FD_WRITE : PROC_FD_READ;
}

static bool fd_holds(const TrackedFile *f, pid_t pid, int fd) {
        return tracked_file_fd_holds(f, pid, fd) == PROC_FD_WRITE;
}

static int seed_cb(pid_t pid, int fd, dev_t dev, ino_t ino, void *userdata) {
        TrackedFile *f = holder_map_get_inode(userdata, dev, ino);

        if (f && (f->kind != FILE_LOCK || fd_holds(f, pid, fd)))
                tracked_file_add_holder(f, pid);
        return 0;
}

static int rescan_cb(pid_t pid, int fd, dev_t dev, ino_t ino, void *userdata) {
        TrackedFile *f = holder_map_get_inode(userdata, dev, ino);

        if (f && f->scan_slot > 0 && fd_holds(f, pid, fd))
                tracked_file_add_holder(f, pid);
        return 0;
}

static bool same_set(const pid_t *a, unsigned na, const pid_t *b, unsigned nb) {
        if (na != nb)
                return false;
        for (unsigned i = 0; i < na; i++) {
                bool found = false;
                for (unsigned j = 0; j < nb && !found; j++)
                        found = a[i] == b[j];
                if (!found)
                        return false;
        }
        return true;
}

int holder_map_rescan(HolderMap *h, HolderScan *scans, size_t n) {
        _cleanup_free_ pid_t *old = NULL;
        size_t n_old = 0;
        unsigned *old_n = calloc(n, sizeof(unsigned));
        int r;

        if (!old_n)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                n_old += scans[i].file->n_holders;
        old = malloc((n_old + 1) * sizeof(pid_t));
        if (!old) {
                free(old_n);
                return -ENOMEM;
        }
        /* Keep the old sets, start the new ones empty. */
        n_old = 0;
        for (size_t i = 0; i < n; i++) {
                TrackedFile *f = scans[i].file;

                if (f->n_holders > 0)
                        memcpy(old + n_old, f->holders, f->n_holders * sizeof(pid_t));
                old_n[i] = f->n_holders;
                n_old += f->n_holders;
                f->n_holders = 0;
        }
        r = proc_walk_fds(0, rescan_cb, h);

        n_old = 0;
        for (size_t i = 0; i < n; i++) {
                TrackedFile *f = scans[i].file;

                if (r < 0) {
                        /* A walk cut short proves nothing: keep what was known. */
                        f->n_holders = 0;
                        for (unsigned k = 0; k < old_n[i]; k++)
                                tracked_file_add_holder(f, old[n_old + k]);
                        n_old += old_n[i];
                        f->scan_slot = 0;
                        scans[i].changed = false;
                        continue;
                }
                scans[i].changed = !same_set(old + n_old, old_n[i], f->holders, f->n_holders);
                if (f->n_holders == 0 && (old_n[i] > 0 || scans[i].closed) &&
                    scans[i].ns > f->unheld_since_ns) {
                        f->unheld_since_ns = scans[i].ns;
                        scans[i].changed = true;
                }
                n_old += old_n[i];
                f->scan_slot = 0;
        }
        free(old_n);
        return r;
}

#ifdef LW_TEST_HOOKS
/* Test builds only: LOCKWARDEN_TEST_FAIL_RESEED=N makes the Nth reseed's walk fail at once
 * (-EMFILE), as running out of descriptors would. */
static bool test_reseed_fails(void) {
        static unsigned n_reseeds;
        const char *want = getenv("LOCKWARDEN_TEST_FAIL_RESEED");

        return want && (unsigned) atoi(want) == ++n_reseeds;
}
#else
static inline bool test_reseed_fails(void) {
        return false;
}
#endif

/* Every holder set read again from /proc. All or nothing: a walk cut short (out of
 * descriptors, out of memory) leaves every set as it was, never half-built: a live lock whose
 * holder the walk had not reached yet would look unheld and later leaked. */
int holder_map_reseed(HolderMap *h, uint64_t now_ns) {
        struct saved {
                pid_t *holders;
                uint32_t n;
        } *old;
        size_t n = hashmap_size(h->by_inode), i = 0, k = 0;
        TrackedFile *f;
        int r;

        old = calloc(n + 1, sizeof(*old));
        if (!old)
                return -ENOMEM;
        while (hashmap_iterate(h->by_inode, &i, (void **) &f)) {
                old[k++] = (struct saved) { f->holders, f->n_holders };
                f->holders = NULL;
                f->n_holders = 0;
        }

        r = test_reseed_fails() ? -EMFILE : holder_map_seed(h);

        /* The walk only adds holders to files already known: the iteration order is the
         * same. */
        i = k = 0;
        while (hashmap_iterate(h->by_inode, &i, (void **) &f)) {
                struct saved *o = &old[k++];

                if (r < 0) {
                        free(f->holders);
                        f->holders = o->holders;
                        f->n_holders = o->n;
                        continue;
                }
                if (o->n > 0)
                        f->unheld_since_ns = now_ns;
                free(o->holders);
        }
        free(old);
        return r;
}

int holder_map_seed(HolderMap *h) {
        return proc_walk_fds(0, seed_cb, h);
}
