/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit test of the holder map, on real files of a temporary folder and this process's own
 * fds: which names are tracked; a file found by inode and by handle, and no longer once
 * retired (its inode number went to a new file); holder sets growing and shrinking, and
 * "unheld since" kept; what /proc's answer does to a lock's holders (a reader never holds a
 * lock, a close of a write fd ends the holding even when it was never seen, a reader's close
 * does not restart the grace, an unknown answer changes nothing); which fds hold a lock (for
 * writing) and a transcript (any); and the walks of /proc that seed and rescan the sets. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file-id.h"
#include "holder-map.h"
#include "lwtest.h"
#include "proc.h"

typedef struct Made {
        char *path;
        struct stat st;
        FileId id;
} Made;

static Made make(const char *dir, int dfd, uint64_t fsid, const char *name) {
        Made m = { .path = lw_path(dir, name) };

        lw_write_file(m.path, "{}\n", 3);
        CHECK(stat(m.path, &m.st) == 0, "stat %s", m.path);
        CHECK(file_id_at(dfd, name, fsid, &m.id) == 0, "file_id_at %s", name);
        return m;
}

static TrackedFile *track(HolderMap *h, const Made *m, FileKind kind, const char *name) {
        TrackedFile *f = NULL;

        CHECK(holder_map_add(h, kind, m->st.st_dev, m->st.st_ino, &m->id, name, &f) == 0 && f, "add %s", name);
        return f;
}

/* A child that opens PATH with FLAGS (and OTHER read-only, unless NULL) and waits to be
 * killed, once it holds them. */
static pid_t holding(const char *path, int flags, const char *other) {
        int p[2];
        char c;
        pid_t pid;

        CHECK(pipe2(p, O_CLOEXEC) == 0, "pipe");
        pid = fork();
        CHECK(pid >= 0, "fork");
        if (pid == 0) {
                if (open(path, flags) < 0 || (other && open(other, O_RDONLY) < 0))
                        _exit(1);
                (void) write(p[1], "x", 1);
                for (;;)
                        pause();
        }
        close(p[1]);
        CHECK(read(p[0], &c, 1) == 1, "child %d did not open %s", (int) pid, path);
        close(p[0]);
        return pid;
}

int main(void) {
        char *dir = lw_tmpdir();
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        uint64_t fsid = 0;
        pid_t self = getpid();
        HolderMap h;
        int r;

        /* Names. */
        CHECK(file_kind_from_name("s.jsonl") == FILE_SESSION, "a transcript");
        CHECK(file_kind_from_name("s.jsonl.lock") == FILE_LOCK, "a lock");
        CHECK(file_kind_from_name(".s.jsonl.lock") < 0, "a hidden name (a quarantined lock)");
        CHECK(file_kind_from_name("s.jsonl.lock.tmp") < 0 && file_kind_from_name("s.json") < 0 &&
              file_kind_from_name("sessions.json") < 0, "other names");

        CHECK(dfd >= 0 && file_id_fsid(dfd, &fsid) == 0, "folder %s", dir);
        CHECK(holder_map_init(&h) == 0, "init");
        Made lock = make(dir, dfd, fsid, "a.jsonl.lock"), tr = make(dir, dfd, fsid, "a.jsonl");
        TrackedFile *lf = track(&h, &lock, FILE_LOCK, "a.jsonl.lock"), *tf = track(&h, &tr, FILE_SESSION, "a.jsonl");

        /* Found by inode and by handle, and it is what it says it is. */
        CHECK(holder_map_get_inode(&h, lock.st.st_dev, lock.st.st_ino) == lf, "by inode");
        CHECK(holder_map_get_fid(&h, &lock.id) == lf && holder_map_get_fid(&h, &tr.id) == tf, "by handle");
        CHECK(h.n_files[FILE_LOCK] == 1 && h.n_files[FILE_SESSION] == 1, "counts");
        CHECK(strcmp(lf->name, "a.jsonl.lock") == 0 && lf->kind == FILE_LOCK, "name, kind");
        CHECK(tracked_file_is(lf, lock.st.st_dev, lock.st.st_ino, &lock.id), "is itself");
        CHECK(!tracked_file_is(lf, lock.st.st_dev, lock.st.st_ino, &tr.id), "not with another handle");
        CHECK(tracked_file_set_name(lf, "b.jsonl.lock") == 0 && strcmp(lf->name, "b.jsonl.lock") == 0, "renamed");
        CHECK(tracked_file_set_name(lf, NULL) == 0 && !lf->name, "name forgotten");
        CHECK(tracked_file_set_name(lf, "a.jsonl.lock") == 0, "named again");

        /* Holder sets: many, in any order; the last one out starts "unheld since". */
        for (pid_t p = 1; p <= 100; p++)
                CHECK(tracked_file_add_holder(lf, p), "add %d", (int) p);
        CHECK(!tracked_file_add_holder(lf, 50), "a holder is there once");
        CHECK(lf->n_holders == 100, "100 holders: %u", lf->n_holders);
        for (pid_t p = 100; p >= 2; p--)
                CHECK(tracked_file_remove_holder(lf, p, 1000), "remove %d", (int) p);
        CHECK(!tracked_file_remove_holder(lf, 77, 1000), "removed twice");
        CHECK(tracked_file_has_holder(lf, 1) && !tracked_file_has_holder(lf, 2), "one left");
        CHECK(lf->unheld_since_ns != 1000, "held still: unheld since unchanged");
        CHECK(tracked_file_remove_holder(lf, 1, 2000) && lf->unheld_since_ns == 2000, "unheld since the last one left");

        /* /proc's answer applied to a lock. */
        CHECK(holder_map_confirm_with(lf, 7, 3000, PROC_FD_WRITE, false) && tracked_file_has_holder(lf, 7),
              "a write fd makes a holder");
        CHECK(holder_map_confirm_with(lf, 7, 3100, PROC_FD_READ, false) && !tracked_file_has_holder(lf, 7),
              "a reader does not hold a lock");
        CHECK(lf->unheld_since_ns == 3100, "unheld since it went");
        CHECK(!holder_map_confirm_with(lf, 8, 3200, 0, false) && lf->unheld_since_ns == 3100,
              "a reader's close does not restart the grace");
        CHECK(holder_map_confirm_with(lf, 8, 3300, 0, true) && lf->unheld_since_ns == 3300,
              "a write fd's close never seen open: unheld since that close");
        CHECK(!holder_map_confirm_with(lf, 8, 3200, 0, true) && lf->unheld_since_ns == 3300,
              "an older close does not move it back");
        tracked_file_add_holder(lf, 9);
        CHECK(!holder_map_confirm_with(lf, 9, 3400, -EACCES, true) && tracked_file_has_holder(lf, 9),
              "/proc cannot tell: the events' word stands");
        tracked_file_remove_holder(lf, 9, 3500);
        /* ... and to a transcript: a reader holds it. */
        CHECK(holder_map_confirm_with(tf, 7, 3000, PROC_FD_READ, false) && tracked_file_has_holder(tf, 7),
              "a reader holds a transcript");
        tracked_file_remove_holder(tf, 7, 3600);

        /* Our own fds. */
        int lw = open(lock.path, O_WRONLY | O_CLOEXEC), lr = open(lock.path, O_RDONLY | O_CLOEXEC),
            tr_r = open(tr.path, O_RDONLY | O_CLOEXEC);
        CHECK(lw >= 0 && lr >= 0 && tr_r >= 0, "open");
        CHECK(tracked_file_fd_holds(lf, self, lw) == PROC_FD_WRITE, "a lock's write fd holds it");
        CHECK(tracked_file_fd_holds(lf, self, lr) == PROC_FD_READ, "a lock's read fd only reads");
        CHECK(tracked_file_fd_holds(tf, self, tr_r) == PROC_FD_WRITE, "any fd holds a transcript");
        CHECK(tracked_file_fd_holds(lf, self, tr_r) == 0, "another file");

        close(lw); /* (a child would inherit them) */
        close(lr);
        close(tr_r);

        /* Seeding from /proc (which leaves out the daemon's own fds: a child holds them): the
         * lock by its writer, the transcript by a reader. */
        pid_t child = holding(lock.path, O_WRONLY, tr.path);
        CHECK(holder_map_seed(&h) == 0, "seed");
        CHECK(tracked_file_has_holder(lf, child) && lf->n_holders == 1, "seeded: the lock by its writer");
        CHECK(tracked_file_has_holder(tf, child), "seeded: the transcript");

        /* A rescan after that writer is gone: the lock is unheld since its close. */
        lw_kill_wait(child, SIGKILL);
        HolderScan scan = { .file = lf, .ns = 5000, .closed = true };
        lf->scan_slot = 1;
        CHECK(holder_map_rescan(&h, &scan, 1) == 0, "rescan");
        CHECK(lf->n_holders == 0 && scan.changed && lf->unheld_since_ns == 5000, "rescanned: nobody writes it");
        CHECK(lf->scan_slot == 0, "the scan is done");
        /* ... a reader is no holder; a writer again is. */
        pid_t reader = holding(lock.path, O_RDONLY, NULL);
        scan = (HolderScan) { .file = lf, .ns = 6000 };
        lf->scan_slot = 1;
        r = holder_map_rescan(&h, &scan, 1);
        CHECK(r == 0 && !scan.changed && lf->n_holders == 0, "rescanned: a reader: r %d changed %d holders %u", r, scan.changed, lf->n_holders);
        child = holding(lock.path, O_WRONLY, NULL);
        scan = (HolderScan) { .file = lf, .ns = 7000 };
        lf->scan_slot = 1;
        CHECK(holder_map_rescan(&h, &scan, 1) == 0 && scan.changed && tracked_file_has_holder(lf, child) &&
              !tracked_file_has_holder(lf, reader), "rescanned: a writer");
        lw_kill_wait(child, SIGKILL);
        lw_kill_wait(reader, SIGKILL);

        /* Retired: its inode number went to a new file; out of the lookups. */
        holder_map_retire(&h, lf);
        CHECK(!holder_map_get_inode(&h, lock.st.st_dev, lock.st.st_ino), "retired: not by inode");
        CHECK(!holder_map_get_fid(&h, &lock.id), "retired: not by handle");
        holder_map_remove(&h, lf);
        CHECK(h.n_files[FILE_LOCK] == 0, "lock count after removal: %zu", h.n_files[FILE_LOCK]);

        holder_map_done(&h);
        return 0;
}
