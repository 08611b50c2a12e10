/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* tracker.c: files of the sessions folders. */
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fs-util.h"
#include "lock.h"
#include "macro.h"
#include "manager.h"
#include "report.h"
#include "tracker.h"
#include "tree.h"

static void orphan_add(Manager *m, TrackedFile *f) {
        if (f->orphaned)
                return;
        if (m->n_orphans == m->n_orphans_alloc) {
                size_t n = m->n_orphans_alloc ? m->n_orphans_alloc * 2 : 16;
                TrackedFile **o = realloc(m->orphans, n * sizeof(*o));
                if (!o)
                        return; /* it stays in the map; forgotten at exit */
                m->orphans = o;
                m->n_orphans_alloc = n;
        }
        m->orphans[m->n_orphans++] = f;
        f->orphaned = true;
}

/* Remove F's name from its folder (it was unlinked or renamed away). */
static void file_unname(Manager *m, TrackedFile *f) {
        if (!f->name)
                return;
        if (f->folder && f->folder->files)
                hashmap_remove(f->folder->files, f->name);
        free(f->name);
        f->name = NULL;
        orphan_add(m, f);
}

static void report_not_regular(Manager *m, Node *n, const char *name, mode_t mode) {
        const char *what = S_ISLNK(mode) ? "a symlink" : S_ISDIR(mode) ? "a directory" :
                           S_ISFIFO(mode) ? "a fifo" : S_ISSOCK(mode) ? "a socket" :
                           (S_ISCHR(mode) || S_ISBLK(mode)) ? "a device" : "not a regular file";
        char e[128];

        snprintf(e, sizeof(e), "is %s where a lock file was expected: not followed, not removed", what);
        report_emit(&m->reporter, EVENT_MONITOR_ERROR,
                    json_pack("{s:s, s:o}", "error", e, "path", json_path(n->path, name)));
}

/* Bring NAME in folder N in line with what is on disk now. PID did it (0: start-up scan).
 * created: the name just appeared (so a non-regular lock is worth a report). */
static void sync_name(Manager *m, Node *n, const char *name, FileKind kind, pid_t pid,
                      bool appeared, uint64_t now_ns) {
        TrackedFile *cur = hashmap_get(n->files, name), *f;
        struct stat st;
        bool have_id;
        FileId id;
        int r;

        if (fstatat(n->dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                if (cur) {
                        if (cur->lock)
                                lock_on_unlinked(cur->lock, pid, now_ns);
                        file_unname(m, cur);
                }
                return;
        }
        if (!S_ISREG(st.st_mode)) {
                if (cur) {
                        if (cur->lock)
                                lock_on_unlinked(cur->lock, pid, now_ns);
                        file_unname(m, cur);
                }
                if (kind == FILE_LOCK && appeared)
                        report_not_regular(m, n, name, st.st_mode);
                return;
        }
        have_id = file_id_at(n->dirfd, name, n->fid->fsid, &id) >= 0;
        if (cur && tracked_file_is(cur, st.st_dev, st.st_ino, have_id ? &id : NULL))
                return;
        if (cur) {
                /* Replaced by another file (rename over it, or unlinked and re-created; the
                 * new one may even have the same inode number). */
                if (cur->lock)
                        lock_on_unlinked(cur->lock, pid, now_ns);
                file_unname(m, cur);
        }

        f = holder_map_get_inode(&m->holders, st.st_dev, st.st_ino);
        if (f && !tracked_file_is(f, st.st_dev, st.st_ino, have_id ? &id : NULL)) {
                /* A record for an older file whose inode number was reused: it is gone. */
                if (f->lock)
                        lock_on_unlinked(f->lock, 0, now_ns);
                file_unname(m, f);
                holder_map_retire(&m->holders, f);
                f = NULL;
        }
        if (f && f->name)
                return; /* a second hard link to a file we know by another name */
        if (!f) {
                r = holder_map_add(&m->holders, kind, st.st_dev, st.st_ino, have_id ? &id : NULL, &f);
                if (r < 0)
                        return;
        } else if (f->kind != kind) {
                m->holders.n_files[f->kind]--;
                m->holders.n_files[kind]++;
                f->kind = kind;
        }
        f->name = strdup(name);
        if (!f->name)
                return;
        f->folder = n;
        if (hashmap_put(n->files, f->name, f) < 0) {
                free(f->name);
                f->name = NULL;
                return;
        }
        if (kind == FILE_LOCK) {
                Lock *l;
                (void) lock_new(m, f, pid, now_ns, &l);
        }
}

void tracker_scan(Manager *m, Node *n, uint64_t now_ns) {
        size_t before = hashmap_size(n->files);
        struct dirent *de;
        DIR *d = opendir_at(n->dirfd);

        if (!d)
                return;
        while ((de = readdir(d))) {
                FileKind k = file_kind_from_name(de->d_name);

                if (k >= 0)
                        sync_name(m, n, de->d_name, k, 0, true, now_ns);
        }
        closedir(d);

        /* A folder that appears after start-up with files in it (moved into place): learn who
         * holds them now. At start-up one walk of /proc serves every folder. */
        if (m->started && hashmap_size(n->files) > before)
                (void) holder_map_seed(&m->holders);

        /* Judge its locks at the end of this batch. */
        for (Lock *l = m->locks; l; l = l->locks_next)
                if (l->file->folder == n)
                        lock_mark_dirty(l, now_ns);
}

static void confirm_later(Manager *m, TrackedFile *f, pid_t pid, uint64_t now_ns) {
        if (m->n_confirms == m->n_confirms_alloc) {
                size_t n = m->n_confirms_alloc ? m->n_confirms_alloc * 2 : 64;
                Confirm *c = realloc(m->confirms, n * sizeof(*c));
                if (!c)
                        return;
                m->confirms = c;
                m->n_confirms_alloc = n;
        }
        m->confirms[m->n_confirms++] = (Confirm) { f, pid, now_ns };
}

void tracker_on_event(Manager *m, Node *n, const FsEvent *ev, uint64_t now_ns) {
        FileKind kind = file_kind_from_name(ev->name);
        TrackedFile *f;

        if (kind < 0 || ev->pid == m->self_pid)
                return;

        if (ev->mask & (FAN_CREATE | FAN_MOVED_TO | FAN_DELETE | FAN_MOVED_FROM))
                sync_name(m, n, ev->name, kind, ev->pid,
                          (ev->mask & (FAN_CREATE | FAN_MOVED_TO)) != 0, now_ns);

        if (!(ev->mask & (FAN_OPEN | FAN_CLOSE | FAN_MODIFY)))
                return;

        f = ev->object ? holder_map_get_fid(&m->holders, ev->object) : NULL;
        if (!f) {
                /* Not known by handle: perhaps created and opened in one batch. */
                sync_name(m, n, ev->name, kind, ev->pid, false, now_ns);
                f = ev->object ? holder_map_get_fid(&m->holders, ev->object) : NULL;
                if (!f)
                        return; /* an inode that is already gone from the folder */
        }

        /* Merged masks carry no order: an OPEN alone adds a holder; anything with a CLOSE is
         * settled by asking /proc about this pid at the end of the batch. */
        if ((ev->mask & FAN_OPEN) && !(ev->mask & FAN_CLOSE)) {
                if (tracked_file_add_holder(f, ev->pid) && f->lock)
                        lock_mark_dirty(f->lock, now_ns);
        }
        if (ev->mask & FAN_CLOSE)
                confirm_later(m, f, ev->pid, now_ns);
        if ((ev->mask & (FAN_MODIFY | FAN_CLOSE_WRITE)) && f->lock)
                lock_mark_payload_dirty(f->lock, now_ns);
}

void tracker_detach_file(Manager *m, TrackedFile *f) {
        if (f->lock)
                lock_free(f->lock);
        file_unname(m, f);
}

void tracker_forget_folder(Manager *m, Node *n) {
        TrackedFile *f;
        size_t i = 0, k = 0;
        TrackedFile **all;

        all = calloc(hashmap_size(n->files) + 1, sizeof(*all));
        if (!all)
                return;
        while (hashmap_iterate(n->files, &i, (void **) &f, NULL))
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

        if (x->file != y->file)
                return (uintptr_t) x->file < (uintptr_t) y->file ? -1 : 1;
        return (x->pid > y->pid) - (x->pid < y->pid);
}

void tracker_flush(Manager *m) {
        size_t keep = 0;

        /* 1. Confirm holders, once per (file, pid). */
        if (m->n_confirms > 1)
                qsort(m->confirms, m->n_confirms, sizeof(Confirm), confirm_cmp);
        for (size_t i = 0; i < m->n_confirms; i++) {
                Confirm *c = &m->confirms[i];

                if (i + 1 < m->n_confirms && c[1].file == c->file && c[1].pid == c->pid)
                        continue;
                if (holder_map_confirm(c->file, c->pid, c->ns) && c->file->lock)
                        lock_mark_dirty(c->file->lock, c->ns);
        }
        m->n_confirms = 0;

        /* 2. Judge what changed. */
        while (m->dirty_locks)
                lock_refresh(m->dirty_locks);

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
