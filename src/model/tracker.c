/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* tracker.c: files of the sessions folders. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cleanup.h"
#include "fs-util.h"
#include "lock.h"
#include "macro.h"
#include "proc.h"
#include "model.h"
#include "report.h"
#include "session.h"
#include "tracker.h"
#include "node.h"

static void orphan_add(Model *m, TrackedFile *f) {
        if (f->orphaned)
                return;
        if (!grow_array((void **) &m->orphans, &m->n_orphans_alloc, m->n_orphans, sizeof(*m->orphans), 16))
                return; /* it stays in the map; forgotten at exit */
        m->orphans[m->n_orphans++] = f;
        f->orphaned = true;
}

/* Remove F's name from its folder (it was unlinked or renamed away). */
static void file_unname(Model *m, TrackedFile *f) {
        if (!f->name)
                return;
        if (f->folder && f->folder->files)
                hashmap_remove(f->folder->files, f->name);
        (void) tracked_file_set_name(f, NULL);
        if (f->lazy)
                m->lazy_unnamed = true; /* its closes are due at the end of this batch */
        orphan_add(m, f);
}

static void report_not_regular(Model *m, Node *n, const char *name, mode_t mode) {
        const char *what = S_ISLNK(mode) ? "a symlink" : S_ISDIR(mode) ? "a directory" :
                           S_ISFIFO(mode) ? "a fifo" : S_ISSOCK(mode) ? "a socket" :
                           (S_ISCHR(mode) || S_ISBLK(mode)) ? "a device" : "not a regular file";
        char e[128];

        snprintf(e, sizeof(e), "is %s where a lock file was expected: not followed, not removed", what);
        report_emit(m->reporter, EVENT_MONITOR_ERROR,
                    json_pack("{s:s, s:o}", "error", e, "path", json_path(n->path, name)));
}

/* Lock L lost its name, by PID: its session judges the race first (a stolen lock's report
 * quotes the events up to the removal), then the lock reports and goes. */
static void lock_gone(Model *m, Lock *l, pid_t pid) {
        Session *s = l->file->folder && l->file->name ? session_get(m, l->file->folder, l->file->name, FILE_LOCK)
                                                      : NULL;

        session_on_lock_gone(s, l, pid);
        if (lock_on_unlinked(l, pid))
                session_on_watchdog_release(s, pid);
}

/* CUR's name went away, by PID (0: we cannot say who). */
static void name_lost(Model *m, Node *n, TrackedFile *cur, pid_t pid, uint64_t mask,
                      bool replaced) {
        if (cur->lock)
                lock_gone(m, cur->lock, pid);
        else if (cur->kind == FILE_SESSION)
                session_on_transcript_gone(session_get(m, n, cur->name, FILE_SESSION), pid, mask, replaced);
        file_unname(m, cur);
}

/* What a name holds on disk right now. */
typedef struct Present {
        bool exists;
        struct stat st;
        bool have_id;
        FileId id;
} Present;

/* 0 and *P (exists or not), or -errno when the name could not be looked at: out of
 * descriptors or memory is not "gone", and nothing may be concluded from it. */
static int present_read(Model *m, Node *n, const char *name, Present *p) {
        /* Both facts from one O_PATH fd: read by name one after the other, they could describe
         * two different files (ext4 hands a freed inode number to the next file at once). */
        _cleanup_close_ int fd = openat(n->dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);

        *p = (Present) {};
        if (fd < 0 && errno != ENOENT && errno != ENOTDIR) {
                int r = negative_errno();

                /* Said once until a look succeeds again. */
                if (!m->present_failed) {
                        char e[160];
                        snprintf(e, sizeof(e), "cannot look at a file in a guarded folder (%s): what lockwarden "
                                 "knew of it stands until it can look again", strerror(-r));
                        report_emit(m->reporter, EVENT_MONITOR_ERROR,
                                    json_pack("{s:s, s:o}", "error", e, "path", json_path(n->path, name)));
                }
                m->present_failed = true;
                return r;
        }
        m->present_failed = false;
        if (fd < 0 || fstat(fd, &p->st) < 0)
                return 0;
        p->exists = true;
        p->have_id = file_id_at(fd, "", n->fid->fsid, &p->id) >= 0;
        return 0;
}

static bool present_is(const Present *p, const TrackedFile *f) {
        return p->exists && tracked_file_is(f, p->st.st_dev, p->st.st_ino, p->have_id ? &p->id : NULL);
}

static bool present_is_id(const Present *p, const FileId *id) {
        return p->exists && p->have_id && id && file_id_equal(&p->id, id);
}

/* Start tracking the file the name holds now. CREATOR made it (0: found by a scan;
 * PID_UNKNOWN: an event that names nobody). */
static void track_present(Model *m, Node *n, const char *name, FileKind kind, const Present *p,
                          pid_t creator, uint64_t mask, uint64_t now_ns) {
        TrackedFile *f;
        int r;

        if (!S_ISREG(p->st.st_mode)) {
                if (kind == FILE_LOCK && (mask & (FAN_CREATE | FAN_MOVED_TO)))
                        report_not_regular(m, n, name, p->st.st_mode);
                return;
        }
        f = holder_map_get_inode(&m->holders, p->st.st_dev, p->st.st_ino);
        if (f && !present_is(p, f)) {
                /* A record for an older file whose inode number was reused: it is gone. */
                if (f->lock)
                        lock_gone(m, f->lock, 0);
                file_unname(m, f);
                holder_map_retire(&m->holders, f);
                f = NULL;
        }
        if (f && f->name)
                return; /* a second hard link to a file we know by another name */
        if (!f) {
                r = holder_map_add(&m->holders, kind, p->st.st_dev, p->st.st_ino,
                                   p->have_id ? &p->id : NULL, name, &f);
                if (r < 0)
                        return;
        } else {
                if (f->kind != kind) {
                        m->holders.n_files[f->kind]--;
                        m->holders.n_files[kind]++;
                        f->kind = (uint8_t) kind;
                }
                if (tracked_file_set_name(f, name) < 0)
                        return;
        }
        f->folder = n;
        if (hashmap_put(n->files, f) < 0) {
                (void) tracked_file_set_name(f, NULL);
                return;
        }
        if (kind == FILE_LOCK) {
                Lock *l;
                if (lock_new(m, f, creator, now_ns, &l) >= 0 && creator != 0)
                        session_on_lock_new(session_get(m, n, name, FILE_LOCK), l, creator);
        } else
                session_transcript_baseline(f, &p->st, creator != 0 && (mask & FAN_CREATE));
}

/* ---- locks gone before their creation was read ---- */

#define UNSEEN_MAX 1024

/* PID created lock NAME (handle TARGET) but it was gone, or replaced, when we read that: keep
 * who made it until the queue says who removed it. */
static void unseen_add(Model *m, Node *n, const char *name, const FileId *target, pid_t pid) {
        size_t len = strlen(name);
        UnseenLock *u;

        if (pid <= 0 || len >= sizeof(u->name))
                return;
        if (m->n_unseen == UNSEEN_MAX) {
                /* A flood of short-lived locks: the oldest is forgotten first (a steal of it
                 * would then go unreported; its removal has most likely been read already). */
                memmove(m->unseen, m->unseen + 1, (m->n_unseen - 1) * sizeof(*m->unseen));
                m->n_unseen--;
        }
        if (!grow_array((void **) &m->unseen, &m->n_unseen_alloc, m->n_unseen, sizeof(*m->unseen), 4))
                return;
        u = &m->unseen[m->n_unseen++];
        *u = (UnseenLock) { .folder = n, .creator = pid, .drain_gen = m->drain_gen };
        memcpy(u->name, name, len + 1);
        memcpy(&u->fid, target, file_id_size(target));
}

/* PID removed (or renamed away) lock NAME, handle TARGET: is it one we never saw? */
static bool unseen_removed(Model *m, Node *n, const char *name, const FileId *target, pid_t pid) {
        for (size_t i = 0; i < m->n_unseen; i++) {
                UnseenLock *u = &m->unseen[i];

                if (u->folder == n && u->remover == 0 && file_id_equal(&u->fid, target) &&
                    strcmp(u->name, name) == 0) {
                        u->remover = pid;
                        return true;
                }
        }
        return false;
}

/* A lock we never saw, its removal not read yet, closed by PID with MASK: its creator's close
 * read before its removal is a release, or, merged out of order, cannot be placed. */
static void unseen_closed(Model *m, const FileId *object, pid_t pid, uint64_t mask) {
        for (size_t i = 0; i < m->n_unseen; i++) {
                UnseenLock *u = &m->unseen[i];

                if (u->creator != pid || u->remover != 0 || !file_id_equal(&u->fid, object))
                        continue;
                if (close_order_unknown(mask))
                        u->closed_unordered = true;
                else
                        u->released_first = true;
        }
}

static void sync_name(Model *m, Node *n, const char *name, FileKind kind, pid_t pid,
                      uint64_t mask, uint64_t now_ns);

void tracker_strand(Model *m, Node *n, const char *name, const char *hidden) {
        StrandedLock *st;

        if (strlen(name) >= sizeof(st->name) ||
            !grow_array((void **) &m->stranded, &m->n_stranded_alloc, m->n_stranded, sizeof(*m->stranded), 4))
                return; /* it stays under its hidden name: said in the lock.kept already */
        st = &m->stranded[m->n_stranded++];
        *st = (StrandedLock) { .folder = n };
        snprintf(st->name, sizeof(st->name), "%s", name);
        snprintf(st->hidden, sizeof(st->hidden), "%s", hidden);
}

void tracker_name_freed(Model *m, Node *n, const char *name, uint64_t now_ns) {
        for (size_t i = 0; i < m->n_stranded; i++) {
                StrandedLock st = m->stranded[i];
                char why[256];
                int r;

                if (st.folder != n || strcmp(st.name, name) != 0)
                        continue;
                r = cleanup_put_back(n->dirfd, st.hidden, name);
                if (r == 0)
                        return; /* taken again already: its own removal will bring us back */
                m->stranded[i] = m->stranded[--m->n_stranded];
                if (r < 0)
                        snprintf(why, sizeof(why), "could not be put back from %s (%s): remove it by hand once "
                                 "nobody holds it", st.hidden, strerror(-r));
                else
                        snprintf(why, sizeof(why), "put back from %s, where a removal had to leave it, now "
                                 "that its name is free", st.hidden);
                report_emit(m->reporter, EVENT_LOCK_KEPT,
                            json_pack("{s:o, s:s, s:o}", "lock", json_path(n->path, name), "reason", "stranded",
                                      "why", json_text(why)));
                if (r > 0)
                        sync_name(m, n, name, FILE_LOCK, 0, FAN_CREATE, now_ns); /* ours made no event */
                return;
        }
}

void tracker_name_put_back(Model *m, Node *n, const char *name, uint64_t now_ns) {
        _cleanup_free_ char *copy = strdup(name); /* NAME may be the file's own, freed here */

        if (copy)
                sync_name(m, n, copy, FILE_LOCK, 0, FAN_CREATE, now_ns); /* ours made no event */
}

/* The folder is gone: so are the unseen locks that were in it. */
static void unseen_forget_folder(Model *m, Node *n) {
        size_t keep = 0;

        for (size_t i = 0; i < m->n_unseen; i++)
                if (m->unseen[i].folder != n)
                        m->unseen[keep++] = m->unseen[i];
        m->n_unseen = keep;
        keep = 0;
        for (size_t i = 0; i < m->n_stranded; i++)
                if (m->stranded[i].folder != n)
                        m->stranded[keep++] = m->stranded[i];
        m->n_stranded = keep;
}

/* End of a batch: a lock removed by another process while its creator, alive, still held it
 * open was stolen, even if we never read it. In event order: the creator's close read before
 * the removal is a release; one merged out of order cannot be placed (no race, the benefit of
 * the doubt: lock.removed says owner_holds null); with no close before it, the creator is
 * asked now, in /proc, by the lock's handle (its close comes later in the queue, or never).
 * Entries whose removal has not come are kept until the queue has been read empty twice
 * since their creation was read (the removal happened before, or just after, that read). */
/* Removed by another process, its creator's close merged out of order: no race, and said. */
static void unseen_unplaced(Model *m, const UnseenLock *u) {
        const char *comm = u->remover > 0 ? actor_cache_get(&m->actors, u->remover)->comm : "?";

        report_emit(m->reporter, EVENT_LOCK_REMOVED,
                    json_pack("{s:o, s:o, s:s, s:i, s:b, s:n, s:s, s:b}", "lock", json_path(u->folder->path, u->name),
                              "pid", json_pid(u->remover), "comm", comm, "owner_pid", (int) u->creator,
                              "owner_alive", proc_alive(u->creator), "owner_holds",
                              "attribution", attribution_to_string(u->remover), "lock_read", false));
}

static void unseen_judge(Model *m) {
        size_t keep = 0;

        for (size_t i = 0; i < m->n_unseen; i++) {
                UnseenLock *u = &m->unseen[i];
                struct stat st;

                if (u->remover == 0) {
                        if (m->drain_gen < u->drain_gen + 2)
                                m->unseen[keep++] = *u;
                        continue;
                }
                if (u->remover == u->creator || u->remover == PID_UNKNOWN || u->released_first)
                        continue;
                if (u->closed_unordered) {
                        unseen_unplaced(m, u);
                        continue;
                }
                if (fstat(u->folder->dirfd, &st) < 0 || proc_pid_find_fd(u->creator, st.st_dev, 0, &u->fid, PROC_FD_BY_HANDLE, NULL) <= 0)
                        continue;
                session_on_unseen_lock_gone(session_get(m, u->folder, u->name, FILE_LOCK), u->creator, u->remover);
        }
        m->n_unseen = keep;
}

/* An entry event that names its file (FAN_REPORT_TARGET_FID): apply exactly what PID did to
 * TARGET, even if the name has changed again since. Each file's own events say what became
 * of it, in queue order, so who created and who removed which file stays exact when the
 * daemon reads late. */
static void sync_exact(Model *m, Node *n, const char *name, FileKind kind, pid_t pid,
                       uint64_t mask, const FileId *target, uint64_t now_ns) {
        TrackedFile *cur = hashmap_get(n->files, name);
        bool appears = mask & (FAN_CREATE | FAN_MOVED_TO);
        Present p;

        if (kind == FILE_LOCK && (mask & (FAN_DELETE | FAN_MOVED_FROM)) && m->n_unseen > 0 &&
            unseen_removed(m, n, name, target, pid))
                return;
        if (cur && !appears && (mask & (FAN_DELETE | FAN_MOVED_FROM)) && tracked_file_fid(cur) &&
            file_id_equal(tracked_file_fid(cur), target)) {
                /* The event names the very file: PID removed it. What the name holds now is
                 * told by its own event, later in the queue (no read of the name here: a
                 * stolen lock's report waits for none). */
                name_lost(m, n, cur, pid, mask, false);
                return;
        }
        if (present_read(m, n, name, &p) < 0)
                return;
        if (cur && !present_is(&p, cur)) {
                if ((mask & (FAN_DELETE | FAN_MOVED_FROM)) && tracked_file_fid(cur) && file_id_equal(tracked_file_fid(cur), target))
                        name_lost(m, n, cur, pid, mask, false); /* PID removed it */
                else if ((mask & FAN_MOVED_TO) && present_is_id(&p, target))
                        name_lost(m, n, cur, pid, mask, true); /* PID renamed over it */
                else if (appears && present_is_id(&p, target))
                        name_lost(m, n, cur, 0, mask, true); /* its own event was lost */
                else
                        return; /* about another file; CUR's own event is still to come */
                cur = NULL;
        } else if (cur && appears && tracked_file_fid(cur) && file_id_equal(tracked_file_fid(cur), target) && cur->lock &&
                   cur->lock->creator_pid <= 0)
                cur->lock->creator_pid = pid; /* first seen through an open: now we know who */

        if (!cur && kind == FILE_LOCK && (mask & FAN_CREATE) && !present_is_id(&p, target))
                unseen_add(m, n, name, target, pid); /* its events still tell who removed it */
        if (cur || !appears || !present_is_id(&p, target))
                return; /* nothing new, or what appeared is gone already */
        track_present(m, n, name, kind, &p, pid, mask, now_ns);
}

/* Bring NAME in folder N in line with what is on disk now, when the event does not say which
 * file it is about (start-up scan, older kernels). PID did it (0: a scan). */
static void sync_name(Model *m, Node *n, const char *name, FileKind kind, pid_t pid,
                      uint64_t mask, uint64_t now_ns) {
        TrackedFile *cur = hashmap_get(n->files, name);
        Present p;

        if (present_read(m, n, name, &p) < 0)
                return;
        if (cur && present_is(&p, cur))
                return;
        if (cur) {
                /* Gone, or replaced by another file (rename over it, or unlinked and
                 * re-created; the new one may even have the same inode number). */
                name_lost(m, n, cur, pid, mask, p.exists);
        }
        if (p.exists)
                track_present(m, n, name, kind, &p, pid, mask, now_ns);
}

/* inotify: apply an entry event in queue order, which inotify keeps. A removal ends the name
 * of the file we track under it; a file that appears under the name is tracked at its own
 * creation event, which follows in the queue, never earlier (a report about it then quotes
 * that event). Events name no file: what the name holds is read from disk. */
static void sync_ordered(Model *m, Node *n, const char *name, FileKind kind, pid_t pid,
                         uint64_t mask, uint64_t now_ns) {
        TrackedFile *cur = hashmap_get(n->files, name);
        bool appears = mask & (FAN_CREATE | FAN_MOVED_TO);
        Present p;

        if (present_read(m, n, name, &p) < 0)
                return;
        if (cur && present_is(&p, cur))
                return;
        if (cur)
                name_lost(m, n, cur, pid, mask, appears);
        if (appears && p.exists)
                track_present(m, n, name, kind, &p, pid, mask, now_ns);
}

/* Tracks every lock and transcript name in N's folder. */
static void scan_names(Model *m, Node *n, uint64_t now_ns) {
        struct dirent *de;
        DIR *d = opendir_at(n->dirfd);

        if (!d)
                return;
        while ((de = readdir(d))) {
                FileKind k = file_kind_from_name(de->d_name);

                if (k >= 0)
                        sync_name(m, n, de->d_name, k, 0, FAN_CREATE, now_ns);
        }
        closedir(d);
}

void tracker_scan(Model *m, Node *n, uint64_t now_ns) {
        size_t before = hashmap_size(n->files);

        scan_names(m, n, now_ns);

        /* A folder that appears after start-up with files in it (moved into place): learn who
         * holds them now. At start-up one walk of /proc serves every folder. */
        if (m->started && hashmap_size(n->files) > before && holder_map_seed(&m->holders) < 0)
                m->lost_events = true; /* some holders unknown: a whole resync when drained */

        /* Judge its locks at the end of this batch: its own files, not every lock of every
         * folder (a few hundred new agent folders would cost each the whole host's locks). */
        TrackedFile *f;
        size_t i = 0;
        while (hashmap_iterate(n->files, &i, (void **) &f))
                if (f->lock)
                        lock_mark_dirty(f->lock, now_ns);
}

void tracker_resync(Model *m, Node *n, uint64_t now_ns) {
        size_t i = 0, k = 0, count = hashmap_size(n->files);
        _cleanup_free_ char **names = calloc(count + 1, sizeof(char *));
        TrackedFile *f;

        /* Names we track that may be gone: copy them first (syncing changes the map). */
        if (names) {
                while (hashmap_iterate(n->files, &i, (void **) &f) && k < count)
                        names[k++] = strdup(f->name);
                for (i = 0; i < k; i++) {
                        if (names[i])
                                sync_name(m, n, names[i], file_kind_from_name(names[i]), 0, 0, now_ns);
                        free(names[i]);
                }
        }
        /* And names that appeared. Holders and verdicts: the caller redoes them for all. */
        scan_names(m, n, now_ns);
}

/* A transcript's close. A gateway opens, appends to and closes its transcript for every line
 * it writes: one /proc walk per writing process per batch was a quarter of the daemon's CPU
 * under a storm. Nothing is decided on a transcript's holders (races look at lock holders),
 * so its closes are confirmed only when its holders matter: when it loses its name (an
 * unlinked file is kept while someone holds it), before a `holders` answer, or once LAZY_MAX
 * of them have piled up (then in one go, a walk per process). Until then a process that
 * closed it may still be listed as holding it; any answer that lists holders settles first. */
#define LAZY_MAX 4096

static void confirm_later(Model *m, TrackedFile *f, pid_t pid, uint64_t now_ns, bool wrote, bool order_unknown);

static void confirm_lazily(Model *m, TrackedFile *f, pid_t pid, uint64_t now_ns, bool wrote) {
        if (!grow_array((void **) &m->lazy, &m->n_lazy_alloc, m->n_lazy, sizeof(*m->lazy), 64)) {
                confirm_later(m, f, pid, now_ns, wrote, false);
                return;
        }
        m->lazy[m->n_lazy++] = (Confirm) { .file = f, .pid = pid, .ns = now_ns, .wrote = wrote };
        f->lazy = true;
}

/* Moves the lazy confirmations that are due (ALL, or those of files that lost their name:
 * they may be freed at the end of this batch) to this batch's. A file's entries all move
 * together. */
static void lazy_due(Model *m, bool all) {
        size_t keep = 0;

        for (size_t i = 0; i < m->n_lazy; i++) {
                Confirm *c = &m->lazy[i];

                if (all || !c->file->name) {
                        c->file->lazy = false;
                        if (!all && !c->file->name && c->file->kind == FILE_SESSION)
                                /* A transcript without a name any more: its writes land
                                 * nowhere we guard and nobody can ask about it by path. The
                                 * close is taken at its word (no /proc walk: a storm that
                                 * unlinks what it wrote paid one per file). */
                                tracked_file_remove_holder(c->file, c->pid, c->ns);
                        else
                                confirm_later(m, c->file, c->pid, c->ns, c->wrote, c->order_unknown);
                } else
                        m->lazy[keep++] = *c;
        }
        m->n_lazy = keep;
        m->lazy_unnamed = false;
}

static void confirm_later(Model *m, TrackedFile *f, pid_t pid, uint64_t now_ns, bool wrote, bool order_unknown) {
        if (!grow_array((void **) &m->confirms, &m->n_confirms_alloc, m->n_confirms, sizeof(*m->confirms), 64))
                return;
        m->confirms[m->n_confirms++] = (Confirm) {
                .file = f, .pid = pid, .ns = now_ns, .wrote = wrote, .order_unknown = order_unknown,
        };
}

/* inotify names nobody: who holds F is found by one walk of /proc at the end of the batch. */
static void scan_later(Model *m, TrackedFile *f, bool closed, uint64_t now_ns) {
        HolderScan *s;

        if (f->scan_slot == 0) {
                if (!grow_array((void **) &m->scans, &m->n_scans_alloc, m->n_scans, sizeof(*m->scans), 16))
                        return;
                m->scans[m->n_scans] = (HolderScan) { .file = f };
                f->scan_slot = (unsigned) ++m->n_scans;
        }
        s = &m->scans[f->scan_slot - 1];
        s->ns = now_ns;
        s->closed = s->closed || closed;
}

/* inotify: drops from E the open and close our own payload read of the lock caused (with
 * fanotify they carry our pid). Returns false when nothing is left.
 * inotify merges an event with an identical one queued just before it: the owner's open of a
 * new lock and our read's open can arrive as one IN_OPEN, and a reader's close as one with
 * ours. Counting cannot tell, so whatever is dropped still gets its /proc walk (at the end of
 * the batch, shared with the others): the holders come from /proc, never from the count. */
static bool drop_self_events(Model *m, Node *n, FsEvent *e, uint64_t now_ns) {
        TrackedFile *f = hashmap_get(n->files, e->name);
        bool dropped = false;

        if (!f || f->self_gen != m->drain_gen)
                return true;
        if ((e->mask & FAN_OPEN) && f->self_opens > 0) {
                f->self_opens--;
                e->mask &= ~(uint64_t) FAN_OPEN;
                dropped = true;
        }
        if ((e->mask & FAN_CLOSE_NOWRITE) && f->self_closes > 0) {
                f->self_closes--;
                e->mask &= ~(uint64_t) FAN_CLOSE_NOWRITE;
                dropped = true;
        }
        if (dropped)
                scan_later(m, f, false, now_ns);
        return (e->mask & ~(uint64_t) FAN_ONDIR) != 0;
}

void tracker_on_event(Model *m, Node *n, const FsEvent *event, uint64_t now_ns) {
        FileKind kind = file_kind_from_name(event->name);
        FsEvent e = *event, *ev = &e;
        TrackedFile *f;
        Session *s;

        if (kind < 0 || ev->pid == m->self_pid)
                return;
        if (kind == FILE_LOCK && !source_attribution(m->source) && !drop_self_events(m, n, ev, now_ns))
                return;

        /* Who acts is read at its first event, not when a race needs it (actor.h). */
        actor_cache_note(&m->actors, ev->pid);

        /* Into the session's history first: a race report quotes the event that caused it.
         * Sessions are freed only at the end of a batch: S serves the whole event. */
        s = session_get(m, n, ev->name, kind);
        session_record(s, kind, ev->mask, ev->pid, now_ns);

        if (ev->mask & (FAN_CREATE | FAN_MOVED_TO | FAN_DELETE | FAN_MOVED_FROM)) {
                uint64_t entry = ev->mask & (FAN_CREATE | FAN_MOVED_TO | FAN_DELETE | FAN_MOVED_FROM);

                if (m->source->target_fid && ev->object)
                        sync_exact(m, n, ev->name, kind, ev->pid, entry, ev->object, now_ns);
                else if (!source_attribution(m->source))
                        sync_ordered(m, n, ev->name, kind, ev->pid, entry, now_ns);
                else
                        sync_name(m, n, ev->name, kind, ev->pid, entry, now_ns);
                if (kind == FILE_LOCK && (entry & (FAN_DELETE | FAN_MOVED_FROM)) && m->n_stranded > 0)
                        tracker_name_freed(m, n, ev->name, now_ns);
        }

        if (!(ev->mask & (FAN_OPEN | FAN_CLOSE | FAN_MODIFY)))
                return;

        if (!source_attribution(m->source)) {
                /* inotify: the name's current file (entry events came first, in order), and
                 * its holders from /proc. Holders of transcripts are not followed this way. */
                f = hashmap_get(n->files, ev->name);
                if (!f)
                        return;
                if ((ev->mask & (FAN_OPEN | FAN_CLOSE)) && f->lock)
                        scan_later(m, f, ev->mask & FAN_CLOSE_WRITE, now_ns);
                goto writes;
        }

        f = ev->object ? holder_map_get_fid(&m->holders, ev->object) : NULL;
        if (!f) {
                /* With exact entry events, a file we do not know is one whose creation we saw
                 * after it was already gone (or a later file's events are still queued):
                 * its own events tell. Without them, it may have been created and opened in
                 * one batch: look at the name. */
                if (m->source->target_fid) {
                        if (ev->object && (ev->mask & FAN_CLOSE_WRITE) && m->n_unseen > 0)
                                unseen_closed(m, ev->object, ev->pid, ev->mask);
                        return;
                }
                sync_name(m, n, ev->name, kind, 0, 0, now_ns);
                f = ev->object ? holder_map_get_fid(&m->holders, ev->object) : NULL;
                if (!f)
                        return; /* an inode that is already gone from the folder */
        }

        /* Merged masks carry no order: an OPEN alone adds a holder; anything with a CLOSE is
         * settled by asking /proc about this pid at the end of the batch. A lock is held by a
         * write descriptor only, and an open does not say how it was opened: its creator's open
         * (O_EXCL) and a writer's are holders at once, any other open of a lock (a contender
         * polling the payload, a reader) is settled by /proc at the end of the batch. */
        if ((ev->mask & FAN_OPEN) && !(ev->mask & FAN_CLOSE)) {
                bool creating = f->lock && ev->pid == f->lock->creator_pid && !f->lock->creator_opened;

                if (creating)
                        f->lock->creator_opened = true; /* its O_EXCL open; later ones are asked */
                if (f->kind != FILE_LOCK || (ev->mask & FAN_MODIFY) || creating) {
                        if (tracked_file_add_holder(f, ev->pid) && f->lock)
                                lock_mark_dirty(f->lock, now_ns);
                } else
                        confirm_later(m, f, ev->pid, now_ns, false, false);
        } else if ((ev->mask & FAN_MODIFY) && f->kind == FILE_LOCK && !(ev->mask & FAN_CLOSE)) {
                /* A write proves a write descriptor (one inherited, or passed, made no open);
                 * a truncate by path proves none: /proc settles which at the end of the batch. */
                if (tracked_file_add_holder(f, ev->pid) && f->lock)
                        lock_mark_dirty(f->lock, now_ns);
                confirm_later(m, f, ev->pid, now_ns, false, false);
        }
        if ((ev->mask & FAN_CLOSE) && f->kind == FILE_SESSION && f->name)
                confirm_lazily(m, f, ev->pid, now_ns, ev->mask & FAN_CLOSE_WRITE);
        else if (ev->mask & FAN_CLOSE)
                /* Merged with this process's open or writes, the close may have come after
                 * later records of others (model.h). */
                confirm_later(m, f, ev->pid, now_ns, ev->mask & FAN_CLOSE_WRITE, close_order_unknown(ev->mask));
writes:
        if (ev->mask & (FAN_MODIFY | FAN_CLOSE_WRITE)) {
                if (f->lock) {
                        /* Only a write changes the payload, and every write (or truncate) after
                         * our last read makes a MODIFY we have yet to see: a close after writes
                         * already read says nothing new. Re-reading there would cost the dying
                         * owner's close a read, and our own read's events a wake-up, before its
                         * pidfd is served. (A write through a shared mapping makes no event: a
                         * removal that finds the payload changed keeps the lock and re-reads.) */
                        if (ev->mask & FAN_MODIFY) {
                                /* Judged before the payload is re-read: the owner is who it was. */
                                session_on_lock_write(s, f->lock, ev->pid);
                                lock_mark_payload_dirty(f->lock, now_ns);
                        }
                } else if (kind == FILE_SESSION && f->kind == FILE_SESSION && f->name && f->folder == n)
                        session_on_transcript_write(s, f, ev->pid, ev->mask, now_ns);
        }
}

void tracker_detach_file(Model *m, TrackedFile *f) {
        if (f->lock)
                lock_free(f->lock);
        file_unname(m, f);
}

void tracker_forget_folder(Model *m, Node *n) {
        TrackedFile *f;
        size_t i = 0, k = 0;
        TrackedFile **all;

        all = calloc(hashmap_size(n->files) + 1, sizeof(*all));
        if (!all)
                return;
        session_forget_folder(m, n);
        unseen_forget_folder(m, n);
        while (hashmap_iterate(n->files, &i, (void **) &f))
                all[k++] = f;
        for (i = 0; i < k; i++) {
                if (all[i]->lock)
                        lock_free(all[i]->lock);
                file_unname(m, all[i]);
                all[i]->folder = NULL;
        }
        free(all);
}

static int confirm_cmp(const void *a, const void *b) {
        const Confirm *x = a, *y = b;

        if (x->pid != y->pid)
                return (x->pid > y->pid) - (x->pid < y->pid);
        if (x->file != y->file)
                return (uintptr_t) x->file < (uintptr_t) y->file ? -1 : 1;
        return 0;
}

static int collect_fd(pid_t pid, int fd, dev_t dev, ino_t ino, void *userdata) {
        FdList *l = userdata;

        (void) pid;
        if (!grow_array((void **) &l->v, &l->alloc, l->n, sizeof(OpenFd), 16))
                return -ENOMEM;
        l->v[l->n++] = (OpenFd) { dev, ino, fd };
        return 0;
}

/* Does PID hold F, by the fds one walk listed? (The inode number first, then the handle: a
 * number can be reused.) PROC_FD_WRITE, PROC_FD_READ or 0; a lock's fds are asked how they
 * were opened (one of them for writing is enough), a transcript's are not. */
static int fds_hold(const FdList *l, pid_t pid, TrackedFile *f) {
        int found = 0;

        for (size_t i = 0; i < l->n; i++) {
                int r;

                if (l->v[i].dev != f->inode.dev || l->v[i].ino != f->inode.ino)
                        continue;
                r = tracked_file_fd_holds(f, pid, l->v[i].fd);
                if (r == PROC_FD_WRITE)
                        return r;
                if (r > found)
                        found = r;
        }
        return found;
}

/* Every close a process made in this batch is confirmed by one walk of its /proc/PID/fd,
 * not one walk per file it closed: a storm of closes by a few processes costs a few walks. */
static void confirm_holders(Model *m) {
        FdList *fds = &m->confirm_fds; /* kept between batches: no allocation per batch */

        if (m->n_confirms > 1)
                qsort(m->confirms, m->n_confirms, sizeof(Confirm), confirm_cmp);
        for (size_t i = 0; i < m->n_confirms;) {
                pid_t pid = m->confirms[i].pid;
                size_t end = i;
                int r;

                while (end < m->n_confirms && m->confirms[end].pid == pid)
                        end++;
                fds->n = 0;
                r = proc_walk_fds(pid, collect_fd, fds);
                for (; i < end; i++) {
                        Confirm *c = &m->confirms[i];

                        if (i + 1 < end && c[1].file == c->file) {
                                c[1].wrote = c[1].wrote || c->wrote;
                                continue; /* once per (file, pid) */
                        }
                        if (holder_map_confirm_with(c->file, pid, c->ns, r < 0 ? r : fds_hold(fds, pid, c->file), c->wrote) &&
                            c->file->lock)
                                lock_mark_dirty(c->file->lock, c->ns);
                }
        }
}

void tracker_settle_holders(Model *m) {
        if (m->n_lazy == 0)
                return;
        lazy_due(m, true);
        tracker_flush(m); /* as at the end of a batch: a file may have become a lock since */
}

/* What a lock's removal left for the names (lock_refresh). */
static void lock_after(Model *m, const LockAfter *a) {
        Node *folder = a->what != LOCK_AFTER_NONE ? a->file->folder : NULL;

        switch (a->what) {
        case LOCK_AFTER_REMOVED: {
                _cleanup_free_ char *name = m->n_stranded > 0 ? strdup(a->file->name) : NULL;

                tracker_detach_file(m, a->file); /* frees the lock, and the file's name */
                if (name)
                        tracker_name_freed(m, folder, name, a->ns);
                break;
        }
        case LOCK_AFTER_STRANDED:
                tracker_strand(m, folder, a->file->name, a->hidden);
                break;
        case LOCK_AFTER_PUT_BACK:
                tracker_name_put_back(m, folder, a->file->name, a->ns);
                break;
        default:
                break;
        }
}

void tracker_flush(Model *m) {
        size_t keep = 0;

        /* 1. Confirm holders, once per (file, pid), one /proc walk per process; transcripts'
         * closes only when due (the lazy list is walked only then, not at every batch). */
        if (m->n_lazy >= LAZY_MAX || m->lazy_unnamed)
                lazy_due(m, m->n_lazy >= LAZY_MAX);
        confirm_holders(m);
        m->n_confirms = 0;
        if (m->n_scans > 0) {
                (void) holder_map_rescan(&m->holders, m->scans, m->n_scans);
                for (size_t i = 0; i < m->n_scans; i++)
                        if (m->scans[i].changed && m->scans[i].file->lock)
                                lock_mark_dirty(m->scans[i].file->lock, m->scans[i].ns);
                m->n_scans = 0;
        }

        /* 2. Judge what changed, and the locks we never saw that were removed. */
        while (m->dirty_locks) {
                LockAfter a;

                lock_refresh(m->dirty_locks, &a);
                lock_after(m, &a);
        }
        if (m->n_unseen > 0)
                unseen_judge(m);

        /* 3. Forget files that have no name and nobody holding them (or whose folder is gone). */
        for (size_t i = 0; i < m->n_orphans; i++) {
                TrackedFile *f = m->orphans[i];

                if (f->name) {
                        f->orphaned = false; /* it came back under a name */
                        continue;
                }
                if (f->n_holders == 0 || !f->folder || f->retired)
                        holder_map_remove(&m->holders, f);
                else
                        m->orphans[keep++] = f;
        }
        m->n_orphans = keep;
}
