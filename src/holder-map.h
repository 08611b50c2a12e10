/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* holder-map.h: the live holder map. Every session transcript and lock file in a guarded
 * folder, by inode and by kernel file handle, with the set of processes that hold it open
 * right now. Built from /proc at start-up, then kept by kernel events; whenever an event is
 * ambiguous (a close, a merged mask) the one pid concerned is confirmed against /proc. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "file-id.h"
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

typedef struct TrackedFile {
        InodeKey inode;
        FileId *fid;             /* NULL if the filesystem gave none */
        FileKind kind;
        Node *folder;            /* where it lives; NULL once gone from the folder */
        char *name;              /* its name there, NULL once unlinked or renamed away */
        Lock *lock;              /* FILE_LOCK on disk: its lock state */
        pid_t *holders;
        unsigned n_holders, n_holders_alloc;
        uint64_t unheld_since_ns;
        unsigned scan_slot;      /* 1 + its index in the pending holder scans, 0: none */
        /* inotify names nobody, so our own payload reads come back as events: these count
         * the open and close still to come from them, valid while self_gen is the manager's
         * drain_gen (once the queue was read empty, they have all come). */
        uint16_t self_opens, self_closes;
        uint64_t self_gen;
        /* FILE_SESSION: its size and mtime when last seen, to tell a close-after-write that
         * changed it and by how much (a transcript's Session exists only once it sees events:
         * most transcripts of a host are idle, and this is all they need). */
        bool have_size;
        int64_t size;
        struct timespec mtime;
        bool orphaned;           /* on the manager's list of files without a name */
        bool retired;            /* its inode number was reused by a new file: out of the maps */
} TrackedFile;

typedef struct HolderMap {
        Hashmap *by_inode;
        Hashmap *by_fid;
        size_t n_files[_FILE_KIND_MAX];
} HolderMap;

int holder_map_init(HolderMap *h);
void holder_map_done(HolderMap *h);

/* NAME ends in ".jsonl" or ".jsonl.lock"? Returns the kind or _FILE_KIND_INVALID. */
FileKind file_kind_from_name(const char *name);

TrackedFile *holder_map_get_inode(HolderMap *h, dev_t dev, ino_t ino);
TrackedFile *holder_map_get_fid(HolderMap *h, const FileId *fid);
int holder_map_add(HolderMap *h, FileKind kind, dev_t dev, ino_t ino, const FileId *fid,
                   TrackedFile **ret);
void holder_map_remove(HolderMap *h, TrackedFile *f);
/* Take F out of the lookups (its inode number now belongs to another file) but keep the
 * memory until the end of the batch, for pointers still queued. */
void holder_map_retire(HolderMap *h, TrackedFile *f);
/* Is F the file (dev, ino, fid)? See file_same(). */
bool tracked_file_is(const TrackedFile *f, dev_t dev, ino_t ino, const FileId *fid);

bool tracked_file_has_holder(const TrackedFile *f, pid_t pid);
/* Both return true when the holder set changed. remove keeps unheld_since_ns current. */
bool tracked_file_add_holder(TrackedFile *f, pid_t pid);
bool tracked_file_remove_holder(TrackedFile *f, pid_t pid, uint64_t now_ns);

/* Ask /proc whether PID still holds F and update the set. Returns true if it changed. */
bool holder_map_confirm(TrackedFile *f, pid_t pid, uint64_t now_ns);
/* The same with the answer already known: R > 0 PID holds F, 0 it does not, < 0 /proc cannot
 * tell (the map keeps what the events said). */
bool holder_map_confirm_with(TrackedFile *f, pid_t pid, uint64_t now_ns, int r);

/* A file whose holders are to be found by a walk of /proc: with inotify, which names no
 * process, on each open or close of a lock. */
typedef struct HolderScan {
        TrackedFile *file;
        uint64_t ns;             /* of the latest event that asked for it */
        bool closed;             /* one of them was a close */
        bool changed;            /* out: the holder set changed */
} HolderScan;

/* One walk of /proc/ * /fd (the processes we may inspect) sets the holder set of every file
 * in SCANS. A file that somebody closed and nobody holds is unheld since that close. */
int holder_map_rescan(HolderMap *h, HolderScan *scans, size_t n);

/* Adds every process that has a tracked file open, from a walk of /proc/ * /fd. */
int holder_map_seed(HolderMap *h);
/* After lost events: forget every holder and seed again. */
int holder_map_reseed(HolderMap *h, uint64_t now_ns);
