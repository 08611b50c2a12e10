/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* holder-map.h: the live holder map. Every session transcript and lock file in a guarded
 * folder, by inode and by kernel file handle, with the set of processes that hold it open
 * right now. Built from /proc at start-up, then kept by kernel events; whenever an event is
 * ambiguous (a close, a merged mask) the one pid concerned is confirmed against /proc (for a
 * transcript, when its holders are next asked for: see confirm_lazily in tracker.c). */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "file-id.h"
#include "size-cache.h"
#include "hashmap.h"

typedef struct Node Node;
typedef struct Lock Lock;

typedef enum FileKind {
        FILE_SESSION,  /* X.jsonl */
        FILE_LOCK,     /* X.jsonl.lock */
        _FILE_KIND_MAX,
        _FILE_KIND_INVALID = -22,
} FileKind;

typedef struct InodeKey {
        dev_t dev;
        ino_t ino;
} InodeKey;

/* One per tracked file, packed on purpose: a host may have 100,000 idle transcripts, and this
 * (96 bytes, then the file handle and the name it was found under, in one allocation: 176
 * bytes with malloc's header for a UUID-named transcript on ext4) and three map slots are all
 * the daemon keeps for each. */
typedef struct TrackedFile {
        InodeKey inode;
        Node *folder;            /* where it lives; NULL once gone from the folder */
        char *name;              /* its name there, NULL once unlinked or renamed away; points
                                  * into this allocation while name_inline */
        Lock *lock;              /* FILE_LOCK on disk: its lock state */
        pid_t *holders;          /* who has it open (a lock: for writing); room for the
                                  * smallest power of two >= max(n_holders, 2) */
        uint64_t unheld_since_ns;
        /* inotify names nobody, so our own payload reads come back as events: these count
         * the open and close still to come from them, valid while self_gen is the model's
         * drain_gen (once the queue was read empty, they have all come). */
        uint64_t self_gen;
        /* FILE_SESSION: its size and mtime when last seen, to tell a close-after-write that
         * changed it and by how much (a transcript's Session exists only once it sees events:
         * most transcripts of a host are idle, and this is all they need). */
        int64_t size;
        int64_t mtime_ns;
        uint32_t n_holders;
        uint32_t scan_slot;      /* 1 + its index in the pending holder scans, 0: none */
        uint16_t self_opens, self_closes;
        uint16_t size_slot;      /* 1 + its descriptor's slot in HolderMap.sizes, 0: none */
        uint8_t kind;            /* FileKind */
        bool have_size:1;
        bool orphaned:1;         /* on the model's list of files without a name */
        bool retired:1;          /* its inode number was reused by a new file: out of the maps */
        bool has_fid:1;          /* fid_storage holds its handle (tracked_file_fid()) */
        bool name_inline:1;
        bool lazy:1;             /* has closes on the model's lazy list (tracker.c) */
        /* A FileId, as long as its handle (the file's identity never changes), then the name
         * the file had when first seen (most files keep it for life). */
        _Alignas(FileId) unsigned char fid_storage[];
} TrackedFile;

typedef struct HolderMap {
        Hashmap *by_inode;
        Hashmap *by_fid;
        size_t n_files[_FILE_KIND_MAX];
        SizeCache sizes;         /* descriptors to recently written transcripts */
} HolderMap;

/* Its kernel file handle, or NULL if the filesystem gave none. */
static inline const FileId *tracked_file_fid(const TrackedFile *f) {
        return f->has_fid ? (const FileId *) (const void *) f->fid_storage : NULL;
}

int holder_map_init(HolderMap *h);
void holder_map_done(HolderMap *h);

/* NAME ends in ".jsonl" or ".jsonl.lock"? Returns the kind or _FILE_KIND_INVALID. */
FileKind file_kind_from_name(const char *name);

TrackedFile *holder_map_get_inode(HolderMap *h, dev_t dev, ino_t ino);
TrackedFile *holder_map_get_fid(HolderMap *h, const FileId *fid);
/* A new record for the file NAME holds now (NAME is copied; not yet in a folder's map). */
int holder_map_add(HolderMap *h, FileKind kind, dev_t dev, ino_t ino, const FileId *fid,
                   const char *name, TrackedFile **ret);
/* F's name (not in a folder's map): set to a copy of NAME, or forgotten with NULL. */
int tracked_file_set_name(TrackedFile *f, const char *name);
void holder_map_remove(HolderMap *h, TrackedFile *f);
/* Take F out of the lookups (its inode number now belongs to another file) but keep the
 * memory until the end of the batch, for pointers still queued. */
void holder_map_retire(HolderMap *h, TrackedFile *f);
/* Is F the file (dev, ino, fid)? See file_same(). */
bool tracked_file_is(const TrackedFile *f, dev_t dev, ino_t ino, const FileId *fid);
/* F's size and mtime now, through its kept descriptor (size-cache.h); NAME in DIRFD opens one.
 * 0, or -errno (-ESTALE: NAME is not F any more). */
int tracked_file_stat(HolderMap *h, TrackedFile *f, int dirfd, const char *name, struct statx *ret);

bool tracked_file_has_holder(const TrackedFile *f, pid_t pid);
/* Both return true when the holder set changed. remove keeps unheld_since_ns current. */
bool tracked_file_add_holder(TrackedFile *f, pid_t pid);
bool tracked_file_remove_holder(TrackedFile *f, pid_t pid, uint64_t now_ns);

/* PID's fd FD, whose inode number is F's (a /proc walk found it): PROC_FD_WRITE when it holds
 * F (a lock: open for writing; a transcript: open at all), PROC_FD_READ when it only reads a
 * lock, 0 when it is another file with that number. */
int tracked_file_fd_holds(const TrackedFile *f, pid_t pid, int fd);

/* What /proc says of PID and F, applied to F's holders: R = PROC_FD_WRITE or PROC_FD_READ
 * (it has F open so), 0 it does not, < 0 /proc cannot tell (the map keeps what the events
 * said). A lock's holders are the processes with a write descriptor on it; a transcript's,
 * any. WROTE: the event was a close of a write descriptor (CLOSE_WRITE), the only close that
 * can end a lock's holding. Returns true if the set (or unheld_since_ns) changed. */
bool holder_map_confirm_with(TrackedFile *f, pid_t pid, uint64_t now_ns, int r, bool wrote);

/* A file whose holders are to be found by a walk of /proc: with inotify, which names no
 * process, on each open or close of a lock. */
typedef struct HolderScan {
        TrackedFile *file;
        uint64_t ns;             /* of the latest event that asked for it */
        bool closed;             /* one of them was a close of a write descriptor */
        bool changed;            /* out: the holder set changed */
} HolderScan;

/* One walk of /proc/ * /fd (the processes we may inspect) sets the holder set of every file
 * in SCANS. A file that somebody closed and nobody holds is unheld since that close. */
int holder_map_rescan(HolderMap *h, HolderScan *scans, size_t n);

/* Adds every process that has a tracked file open, from a walk of /proc/ * /fd. */
int holder_map_seed(HolderMap *h);
/* After lost events: every holder set read again from /proc, all or nothing (on failure every
 * set is left as it was). */
int holder_map_reseed(HolderMap *h, uint64_t now_ns);
