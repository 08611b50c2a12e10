/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* tree.c: nodes, marks and folder discovery. Every folder below a configured path is opened
 * relative to its parent's fd with O_NOFOLLOW: a symlink planted as agents/<id> or sessions/
 * is reported, never followed. An agent folder keeps no fd once its sessions/ is guarded
 * (node_dirfd): one descriptor per agent, not two. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chase.h"
#include "fs-type.h"
#include "fs-util.h"
#include "layout.h"
#include "macro.h"
#include "model.h"
#include "recovery.h"
#include "report.h"
#include "test-hook.h"
#include "time-util.h"
#include "tracker.h"
#include "tree.h"

static void tree_error(Model *m, const char *dir, const char *name, const char *error) {
        report_emit(m->reporter, EVENT_MONITOR_ERROR,
                    json_pack("{s:o, s:o}", "error", json_text(error), "path", json_path(dir, name)));
}

/* The settings of sessions folder N: the global ones, then every folder rule covering it,
 * shorter paths first so that the most specific rule wins. */
static void node_apply_settings(Node *n) {
        const RunOptions *o = n->model->opts;
        size_t best[3] = {}; /* length + 1 of the path of the rule that set cleanup, grace, remote */

        size_t best_release = 0;

        n->cleanup = o->cleanup;
        n->leak_grace_ms = o->leak_grace_ms;
        n->ignore_races = o->ignore_races;
        n->remote_cleanup = false;
        n->release_config = RELEASE_UNKNOWN;
        /* remote_cleanup folders (--remote-cleanup) opt in; folder rules may say otherwise
         * for a folder under one of them. */
        for (size_t i = 0; i < o->n_remote_cleanup_dirs; i++)
                if (path_is_under(n->path, o->remote_cleanup_dirs[i]) &&
                    strlen(o->remote_cleanup_dirs[i]) + 1 >= best[2]) {
                        n->remote_cleanup = true;
                        best[2] = strlen(o->remote_cleanup_dirs[i]) + 1;
                }
        /* Every rule covering the folder; for each setting, the longest path wins (on a tie,
         * the later rule). Races ignored add up. */
        for (size_t i = 0; i < o->n_rules; i++) {
                const FolderRule *r = &o->rules[i];
                size_t len = strlen(r->path) + 1;

                if (!path_is_under(n->path, r->path))
                        continue;
                if (r->cleanup >= 0 && len >= best[0]) {
                        n->cleanup = (CleanupMode) r->cleanup;
                        best[0] = len;
                }
                if (r->leak_grace_ms >= 0 && len >= best[1]) {
                        n->leak_grace_ms = (uint64_t) r->leak_grace_ms;
                        best[1] = len;
                }
                if (r->remote_cleanup >= 0 && len >= best[2]) {
                        n->remote_cleanup = r->remote_cleanup;
                        best[2] = len;
                }
                n->ignore_races |= r->ignore_races;
                if (r->release >= 0 && len >= best_release) {
                        n->release_config = (Release) r->release;
                        best_release = len;
                }
        }
}


/* The release the folder rules name for PATH (the longest covering rule that names one). */
static Release rule_release(const RunOptions *o, const char *path) {
        Release r = RELEASE_UNKNOWN;
        size_t best = 0;

        for (size_t i = 0; i < o->n_rules; i++)
                if (o->rules[i].release >= 0 && path_is_under(path, o->rules[i].path) &&
                    strlen(o->rules[i].path) + 1 >= best) {
                        r = (Release) o->rules[i].release;
                        best = strlen(o->rules[i].path) + 1;
                }
        return r;
}

/* STATE: the release in force for the state dir above (what its own rule says), or UNKNOWN. */
static void collect_releases(Node *n, json_t *arr, Release state) {
        for (; n; n = n->siblings_next) {
                if (n->dead)
                        continue;
                if (n->kind == NODE_SESSIONS && n->release_config != RELEASE_UNKNOWN) {
                        /* A sessions folder's own rule; one that only repeats its state dir's
                         * is said there. */
                        if (node_release_home(n) == n || n->release_config != state)
                                json_array_append_new(arr, json_pack("{s:o, s:s, s:n, s:s}", "state_dir",
                                        json_path(NULL, n->path), "release", release_to_string(n->release_config),
                                        "version", "source", "configuration"));
                } else if (n->kind == NODE_STATE) {
                        /* A rule that names the release for the whole state dir wins over what
                         * is found (node_release): say that one. */
                        Release r = rule_release(n->model->opts, n->path);

                        if (r != RELEASE_UNKNOWN)
                                json_array_append_new(arr, json_pack("{s:o, s:s, s:n, s:s}", "state_dir",
                                        json_path(NULL, n->path), "release", release_to_string(r), "version",
                                        "source", "configuration"));
                        else
                                json_array_append_new(arr, json_pack("{s:o, s:s, s:s?, s:s?}",
                                        "state_dir", json_path(NULL, n->path), "release", release_to_string(n->release),
                                        "version", n->release_version[0] ? n->release_version : NULL,
                                        "source", n->release_source[0] ? n->release_source : NULL));
                        collect_releases(n->children, arr, r);
                } else if (n->kind == NODE_SESSIONS && node_release_home(n) == n)
                        json_array_append_new(arr, json_pack("{s:o, s:s, s:s?, s:s?}",
                                "state_dir", json_path(NULL, n->path), "release", release_to_string(n->release),
                                "version", n->release_version[0] ? n->release_version : NULL,
                                "source", n->release_source[0] ? n->release_source : NULL));
                else
                        collect_releases(n->children, arr, state);
        }
}

json_t *tree_releases_json(Model *m) {
        json_t *arr = json_array();

        for (size_t i = 0; arr && i < m->n_roots; i++)
                if (m->roots[i]->anchor)
                        collect_releases(m->roots[i]->anchor->children, arr, RELEASE_UNKNOWN);
        return arr;
}

/* agents/<id>/agent/openclaw-agent.sqlite: the store of 2026.8 and later, which has no session
 * write locks. Said once per state dir. */
static void agent_check_sqlite(Node *agent, int fd) {
        Model *m = agent->model;
        Node *s = node_release_home(agent);
        struct stat st;

        if (s->kind != NODE_STATE ||
            fstatat(fd, "agent/openclaw-agent.sqlite", &st, AT_SYMLINK_NOFOLLOW) < 0 ||
            !S_ISREG(st.st_mode))
                return;
        /* A live owner's package.json (a lock in use) says more than a store on disk: it wins,
         * found before or after (node_release_settled). */
        if (s->release == RELEASE_UNKNOWN)
                node_set_release(m, agent, RELEASE_2026_8, NULL, "SQLite session store");
        if (s->sqlite_warned)
                return;
        s->sqlite_warned = true;
        report_emit(m->reporter, EVENT_MONITOR_WARNING,
                    json_pack("{s:s, s:o}", "warning",
                              "SQLite session store (OpenClaw 2026.8 or later): no session write locks to guard; "
                              "lock files left from before the migration are inert leftovers",
                              "path", json_path(agent->path, "agent/openclaw-agent.sqlite")));
}

static void apply_settings(Node *n) {
        for (; n; n = n->siblings_next) {
                if (n->kind == NODE_SESSIONS && !n->dead)
                        node_apply_settings(n);
                apply_settings(n->children);
        }
}

void tree_apply_settings(Model *m) {
        for (size_t i = 0; i < m->n_roots; i++)
                apply_settings(m->roots[i]->anchor);
}

/* A sessions folder on a network or FUSE filesystem: warn once per filesystem; stale locks
 * there are only reported unless the operator opted in (node_apply_settings). */
static void node_check_fs(Node *n, int fd, uint64_t fsid) {
        Model *m = n->model;
        FsType t;

        if (fs_type_of(fd, &t) < 0)
                return;
        n->fs_type = t.name;
        n->remote = t.remote;
        if (!t.remote)
                return;
        for (size_t i = 0; i < m->n_remote_warned; i++)
                if (m->remote_warned[i] == fsid)
                        return;
        uint64_t *w = realloc(m->remote_warned, (m->n_remote_warned + 1) * sizeof(uint64_t));
        if (w) {
                m->remote_warned = w;
                m->remote_warned[m->n_remote_warned++] = fsid;
        }
        report_emit(m->reporter, EVENT_MONITOR_WARNING,
                    json_pack("{s:o, s:s, s:s, s:s}", "path", json_path(n->path, NULL), "fs_type", t.name,
                              "warning", "a network or FUSE filesystem: changes made by other hosts are "
                                         "invisible to the kernel here, and a pid in a lock may be another "
                                         "host's",
                              "cleanup", n->remote_cleanup ? "auto (--remote-cleanup)" : "report-only"));
}

/* A folder that cannot be guarded: say why, and what to do when it is a limit. */
static void guard_error(Model *m, const char *path, const char *what, int r) {
        char e[320];

        if (r == -ENOSPC && !source_attribution(m->source))
                snprintf(e, sizeof(e), "%s: the inotify watch limit is reached (sysctl "
                         "fs.inotify.max_user_watches, counted per user): this folder is NOT guarded; "
                         "raise the limit and restart lockwarden", what);
        else if (r == -ENOSPC || r == -EMFILE)
                snprintf(e, sizeof(e), "%s: the fanotify mark limit is reached (sysctl "
                         "fs.fanotify.max_user_marks): this folder is NOT guarded", what);
        else if (r == -EOPNOTSUPP || r == -ENODEV || r == -EXDEV)
                snprintf(e, sizeof(e), "%s: this filesystem cannot report file handles to fanotify "
                         "(overlayfs needs -o nfs_export=on): this folder is NOT guarded; "
                         "--backend=inotify can guard it", what);
        else
                snprintf(e, sizeof(e), "%s: %s: this folder is NOT guarded", what, strerror(-r));
        tree_error(m, path, NULL, e);
}

static void node_start(Node *n, uint64_t now_ns);
static void node_kill(Node *n, const char *how);

/* NAME in DFD opened again as node N's folder: not through a symlink, and only if it is N's
 * folder still (its file id): another folder or a symlink put under the name is not N, and is
 * never used as N. Returns the fd, or -errno (-ESTALE: something else has the name now). */
static int node_reopen_at(Node *n, int dfd, const char *name) {
        _cleanup_close_ int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        FileId id;
        int r;

        if (fd < 0)
                return negative_errno();
        r = file_id_at(fd, "", n->fid->fsid, &id);
        if (r < 0)
                return r;
        if (!file_id_equal(&id, n->fid))
                return -ESTALE;
        return TAKE_FD(fd);
}

/* N's folder: the fd it keeps, or (an agent folder whose sessions/ is guarded keeps none) its
 * name opened again in its parent, checked to be N still (node_reopen_at). A reopen is only
 * done where the fd was let go: in a folder on a local filesystem (agent_settle_fd), so it
 * never waits on a server. *RET_OPENED gets what the caller must close; -errno when N is not
 * under its name any more: the events of its parent (or a resync) then say what became of it. */
static int node_dirfd(Node *n, int *ret_opened) {
        int fd;

        if (n->dirfd >= 0)
                return n->dirfd;
        if (!n->parent || !n->name || n->parent->dirfd < 0)
                return -EBADF;
        test_hook("node-reopen");
        fd = node_reopen_at(n, n->parent->dirfd, n->name);
        test_hook("node-reopened");
        if (fd >= 0)
                *ret_opened = fd;
        return fd;
}

/* An fd for N to keep again (it keeps none): its name in its parent, else ".." of its sessions
 * folder CHILD (NULL: none), which finds N where it was moved to. Either is checked to be N. */
static int node_find_fd(Node *n, Node *child) {
        int fd = -ENOENT;

        if (n->parent && n->name && n->parent->dirfd >= 0)
                fd = node_reopen_at(n, n->parent->dirfd, n->name);
        if (fd < 0 && child && child->dirfd >= 0)
                fd = node_reopen_at(n, child->dirfd, "..");
        return fd;
}

/* An agent folder lets its fd go once its sessions/ is guarded, which keeps one: the
 * descriptors then grow by one per agent, not two (bench/scale: 10,000 agents in a limit of
 * 20,000). Until then it keeps it, and so does one on a network or FUSE filesystem: opening it
 * again there could wait on the server. */
static void agent_settle_fd(Node *a) {
        FsType t;

        if (a->kind != NODE_AGENT || a->dead || a->dirfd < 0 || !a->children)
                return;
        if (fs_type_of(a->dirfd, &t) < 0 || t.remote)
                return;
        closep(&a->dirfd);
        a->dirfd = -1;
}

/* Children are found by name (find_child) for every entry a scan reads and every event in
 * the folder: a list walk made a scan of agents/ quadratic in the agents (bench/scale). Out
 * of memory, the node stays with the list. */
static void child_map_add(Node *parent, Node *c) {
        if (!c->name || parent->children_unmapped)
                return;
        if (!parent->children_by_name)
                parent->children_by_name = HASHMAP_NEW_INDIRECT(&string_hash_ops, Node, name);
        if (parent->children_by_name && hashmap_put(parent->children_by_name, c) >= 0)
                return;
        parent->children_by_name = hashmap_free(parent->children_by_name);
        parent->children_unmapped = true;
}

static int node_new(Model *m, Root *root, Node *parent, NodeKind kind, const char *path,
                    const char *name, int dirfd, Node **ret) {
        _cleanup_close_ int fd = dirfd;
        uint64_t fsid;
        FileId id;
        Node *n, *head;
        int r, wd = -1;

        r = file_id_fsid(fd, &fsid);
        if (r < 0)
                return r;
        r = file_id_at(fd, "", fsid, &id);
        if (r < 0)
                return r;
        /* fanotify marks such a folder but reports nothing it cannot name by handle: refuse
         * it rather than guard it in name only. */
        if (id.type == FILE_ID_TYPE_INODE && source_attribution(m->source))
                return -EOPNOTSUPP;
        head = hashmap_get(m->nodes_by_fid, &id);
        /* One sessions node per folder: a folder reached twice is guarded once. */
        for (Node *i = head; i; i = i->same_dir_next)
                if (kind == NODE_SESSIONS && i->kind == NODE_SESSIONS)
                        return -EEXIST;

        n = calloc(1, sizeof(*n));
        if (!n)
                return -ENOMEM;
        *n = (Node) { .model = m, .root = root, .parent = parent, .kind = kind, .dirfd = -1, .wd = wd };
        n->path = strdup(path);
        n->name = name ? strdup(name) : NULL;
        n->fid = file_id_dup(&id);
        if (kind == NODE_SESSIONS)
                n->files = HASHMAP_NEW_INDIRECT(&string_hash_ops, TrackedFile, name);
        if (!n->path || (name && !n->name) || !n->fid || (kind == NODE_SESSIONS && !n->files)) {
                free(n->path);
                free(n->name);
                free(n->fid);
                hashmap_free(n->files);
                free(n);
                return -ENOMEM;
        }
        r = source_watch(m->source, fd, &id, kind == NODE_SESSIONS ? FS_MASK_SESSIONS : FS_MASK_TREE,
                         &wd);
        if (r < 0) {
                free(n->path);
                free(n->name);
                free(n->fid);
                hashmap_free(n->files);
                free(n);
                return r;
        }
        n->dirfd = TAKE_FD(fd);
        n->wd = wd;
        if (head) {
                hashmap_remove(m->nodes_by_fid, head->fid);
                LIST_PREPEND(same_dir, head, n);
        } else
                head = n;
        (void) hashmap_put(m->nodes_by_fid, head);
        if (parent) {
                LIST_PREPEND(siblings, parent->children, n);
                child_map_add(parent, n);
        }
        if (kind == NODE_SESSIONS) {
                m->n_guarded++;
                node_apply_settings(n);
                node_check_fs(n, n->dirfd, fsid);
        }
        *ret = n;
        return 0;
}

/* How many locks and transcripts sessions folder N tracks. */
static void count_files(Node *n, json_int_t *ret_locks, json_int_t *ret_sessions) {
        TrackedFile *f;
        size_t i = 0;

        *ret_locks = *ret_sessions = 0;
        while (hashmap_iterate(n->files, &i, (void **) &f))
                (*(f->kind == FILE_LOCK ? ret_locks : ret_sessions))++;
}

/* Unhooks a node and its subtree at once; memory is freed by tree_reap() after the batch, so
 * that a dispatch loop never touches freed memory. HOW says why, for monitor.folder-removed
 * ("deleted", "moved", "gone", "configuration"); NULL says nothing (the daemon stops). */
static void node_kill(Node *n, const char *how) {
        Model *m = n->model;
        Node *head;

        if (n->dead)
                return;
        n->dead = true;
        /* An agent folder without its fd: found again to take its mark away (inotify's watch
         * goes by number; when the daemon stops, so do all marks). */
        if (n->dirfd < 0 && how && m->source->backend != BACKEND_INOTIFY) {
                int fd = node_find_fd(n, n->children);
                n->dirfd = fd >= 0 ? fd : -1;
        }
        while (n->children)
                node_kill(n->children, how);
        if (n->parent) {
                LIST_REMOVE(siblings, n->parent->children, n);
                if (n->parent->children_by_name && n->name &&
                    hashmap_get(n->parent->children_by_name, n->name) == n)
                        hashmap_remove(n->parent->children_by_name, n->name);
        }
        if (n->root && n->root->anchor == n)
                n->root->anchor = NULL;
        if (n->kind == NODE_SESSIONS) {
                json_int_t locks, sessions;

                count_files(n, &locks, &sessions);
                tracker_forget_folder(m, n);
                m->n_guarded--;
                if (how && m->started)
                        report_emit(m->reporter, EVENT_MONITOR_FOLDER_REMOVED,
                                    json_pack("{s:o, s:s, s:I, s:I, s:I}", "path", json_path(NULL, n->path),
                                              "how", how, "locks", locks, "sessions", sessions,
                                              "folders", (json_int_t) m->n_guarded));
        }

        head = hashmap_get(m->nodes_by_fid, n->fid);
        if (head) {
                hashmap_remove(m->nodes_by_fid, head->fid);
                LIST_REMOVE(same_dir, head, n);
                if (head)
                        (void) hashmap_put(m->nodes_by_fid, head);
        }
        if (!head)
                source_unwatch(m->source, n->dirfd, n->wd);
        /* Its agent folder waits for a sessions/ again, and keeps an fd meanwhile. */
        if (n->parent && n->parent->kind == NODE_AGENT && !n->parent->dead && n->parent->dirfd < 0) {
                int fd = node_find_fd(n->parent, n);
                n->parent->dirfd = fd >= 0 ? fd : -1;
        }
        closep(&n->dirfd);
        n->dirfd = -1;
        LIST_PREPEND(graveyard, m->graveyard, n);
}

void tree_reap(Model *m) {
        Node *n;

        while ((n = m->graveyard)) {
                LIST_REMOVE(graveyard, m->graveyard, n);
                free(n->path);
                free(n->name);
                free(n->want);
                free(n->fid);
                hashmap_free(n->files);
                hashmap_free(n->children_by_name);
                recovery_cache_done(n->recovery);
                free(n->recovery);
                free(n);
        }
}

static NodeKind child_kind(const Node *n, const char *name) {
        switch (n->kind) {
        case NODE_STATE:
                return strcmp(name, "agents") == 0 ? NODE_AGENTS : _NODE_KIND_INVALID;
        case NODE_AGENTS:
                return name[0] != '.' ? NODE_AGENT : _NODE_KIND_INVALID;
        case NODE_AGENT:
                return strcmp(name, "sessions") == 0 ? NODE_SESSIONS : _NODE_KIND_INVALID;
        default:
                return _NODE_KIND_INVALID;
        }
}

static Node *find_child(Node *n, const char *name) {
        if (n->children_by_name)
                return hashmap_get(n->children_by_name, name);
        for (Node *c = n->children; c; c = c->siblings_next)
                if (c->name && strcmp(c->name, name) == 0)
                        return c;
        return NULL;
}

/* NAME in N (whose folder is DFD) as a node of KIND. */
static void node_add_child(Node *n, int dfd, const char *name, NodeKind kind, uint64_t now_ns) {
        Model *m = n->model;
        _cleanup_free_ char *path = NULL;
        struct stat st;
        Node *c;
        int fd, r;

        if (find_child(n, name))
                return;
        fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
                r = negative_errno();
                if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) >= 0 && S_ISLNK(st.st_mode))
                        tree_error(m, n->path, name, "is a symlink where a folder was expected: not followed");
                else if (r != -ENOENT && r != -ENOTDIR) {
                        char e[128];
                        snprintf(e, sizeof(e), "cannot open folder: %s", strerror(-r));
                        tree_error(m, n->path, name, e);
                }
                return;
        }
        if (asprintf(&path, "%s%s%s", n->path, strcmp(n->path, "/") ? "/" : "", name) < 0) {
                close(fd);
                return;
        }
        r = node_new(m, n->root, n, kind, path, name, fd, &c);
        if (r == -EEXIST)
                return;
        if (r < 0) {
                guard_error(m, path, "cannot guard folder", r);
                return;
        }
        node_start(c, now_ns);
        agent_settle_fd(c);
}

static void node_scan_children(Node *n, int dfd, uint64_t now_ns) {
        struct dirent *de;
        DIR *d = opendir_at(dfd);

        if (!d)
                return;
        while ((de = readdir(d))) {
                NodeKind k;

                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                if (de->d_type != DT_DIR && de->d_type != DT_LNK && de->d_type != DT_UNKNOWN)
                        continue;
                k = child_kind(n, de->d_name);
                if (k >= 0)
                        node_add_child(n, dfd, de->d_name, k, now_ns);
        }
        closedir(d);
}

static void root_resolve(Model *m, Root *root, const char *how, uint64_t now_ns);

/* Opens the next component of the configured path below anchor N. A symlink there is
 * followed only as chase.h allows (an unsafe one is reported once, and the anchor goes on
 * watching for the name to change). Returns the fd or -errno. */
static int anchor_open_want(Node *n) {
        _cleanup_free_ char *path = NULL, *unsafe = NULL;
        Root *root = n->root;
        struct stat st;
        int fd;

        fd = openat(n->dirfd, n->want, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd >= 0 || (errno != ELOOP && errno != ENOTDIR))
                return fd >= 0 ? fd : negative_errno();
        if (fstatat(n->dirfd, n->want, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISLNK(st.st_mode))
                return -ENOTDIR;
        if (asprintf(&path, "%s/%s", strcmp(n->path, "/") == 0 ? "" : n->path, n->want) < 0)
                return -ENOMEM;
        fd = chase_dir(path, &unsafe);
        if (fd == -EPERM && unsafe && (!root->refused || strcmp(root->refused, unsafe) != 0)) {
                char why[PATH_MAX + 128], e[PATH_MAX + 160];

                chase_error(fd, unsafe, why, sizeof(why));
                snprintf(e, sizeof(e), "%s: this folder is NOT guarded", why);
                tree_error(n->model, root->path, NULL, e);
                free(root->refused);
                root->refused = TAKE_PTR(unsafe);
        }
        return fd;
}

/* A configured folder at the wrong level guards nothing, silently: say what it is and the
 * likely fix, once per configured folder (monitor.warning). A folder that is empty yet says
 * nothing. */
static void root_check_level(Model *m, Root *root, Node *c) {
        char hint[2 * PATH_MAX + 512];
        FolderLevel level = layout_level(c->dirfd, root->path);
        const char *h = layout_hint(root->path, root->kind == NODE_STATE, true, level, hint, sizeof(hint));

        if (!h || root->level_warned)
                return;
        root->level_warned = true;
        report_emit(m->reporter, EVENT_MONITOR_WARNING,
                    json_pack("{s:o, s:o, s:s}", "path", json_path(NULL, root->path), "warning", json_text(h),
                              "configured_as", root->kind == NODE_STATE ? "state-dir" : "watch"));
}

static void anchor_check(Node *n, uint64_t now_ns) {
        Model *m = n->model;
        Root *root = n->root;
        size_t plen = strlen(n->path);
        bool final;
        int fd, r;
        Node *c;

        if (find_child(n, n->want))
                return;
        /* Is `want` the last component of the configured path? */
        final = strcmp(root->path + (plen == 1 ? 1 : plen + 1), n->want) == 0;
        fd = anchor_open_want(n);
        if (fd < 0)
                return;
        if (!final) {
                close(fd);
                /* A deeper ancestor exists now: anchor there instead. */
                root_resolve(m, root, "moved", now_ns);
                return;
        }
        r = node_new(m, root, n, root->kind, root->path, n->want, fd, &c);
        if (r < 0) {
                if (r != -EEXIST)
                        guard_error(m, root->path, "cannot guard folder", r);
                return;
        }
        free(root->refused);
        root->refused = NULL;
        root_check_level(m, root, c);
        node_start(c, now_ns);
}

/* The sessions folder that died in this batch with the same identity as N: N is that folder,
 * renamed (or its agent folder was). The last nodes to die are looked at, newest first (a
 * rename's MOVED_FROM comes right before its MOVED_TO): a batch that churns thousands of
 * folders costs no more per folder. */
#define RENAMED_LOOKBACK 256
static Node *renamed_from(Node *n) {
        size_t k = 0;

        for (Node *g = n->model->graveyard; g && k < RENAMED_LOOKBACK; g = g->graveyard_next, k++)
                if (g->kind == NODE_SESSIONS && file_id_equal(g->fid, n->fid))
                        return g;
        return NULL;
}

/* A sessions folder guarded from now on: its files are read. Locks found in a folder that a
 * reload configured, or that was renamed, were taken before we looked: they are reported as at
 * start-up (counted, not "acquired"); one found in a folder that has just appeared is new.
 * After start-up, monitor.folder-added says so. */
static void sessions_start(Node *n, uint64_t now_ns) {
        Model *m = n->model;
        Node *prev = renamed_from(n);
        bool adopting = m->adopting;
        json_int_t locks, sessions;

        if (prev && strcmp(prev->path, n->path) == 0)
                prev = NULL; /* the same folder found again (a resync, a reload): not a rename */
        if (prev)
                m->adopting = true;
        tracker_scan(m, n, now_ns);
        m->adopting = adopting;
        if (!m->started)
                return;
        count_files(n, &locks, &sessions);
        report_emit(m->reporter, EVENT_MONITOR_FOLDER_ADDED,
                    json_pack("{s:o, s:s, s:o?, s:I, s:I, s:I}", "path", json_path(NULL, n->path),
                              "how", prev ? "renamed" : !adopting ? "appeared"
                                     : n->root && n->root->discovered ? "discovery" : "configuration",
                              "from", prev ? json_path(NULL, prev->path) : NULL,
                              "locks", locks, "sessions", sessions, "folders", (json_int_t) m->n_guarded));
}

/* A state dir, agents/ or an agent folder (its folder is FD) looks at what it holds. */
static void node_look(Node *n, int fd, uint64_t now_ns) {
        if (n->kind == NODE_AGENT)
                agent_check_sqlite(n, fd);
        node_scan_children(n, fd, now_ns);
}

static void node_start(Node *n, uint64_t now_ns) {
        _cleanup_close_ int opened = -1;
        int fd;

        switch (n->kind) {
        case NODE_ANCHOR:
                anchor_check(n, now_ns);
                break;
        case NODE_SESSIONS:
                sessions_start(n, now_ns);
                break;
        default:
                fd = node_dirfd(n, &opened);
                if (fd >= 0)
                        node_look(n, fd, now_ns);
                break;
        }
}

/* Anchor ROOT on its deepest existing proper ancestor (HOW: why the old anchor goes). */
static void root_resolve(Model *m, Root *root, const char *how, uint64_t now_ns) {
        _cleanup_free_ char *prefix = strdup(root->path);
        Node *n;
        char *slash;
        int fd = -1, r;

        if (root->anchor)
                node_kill(root->anchor, how);
        if (!prefix)
                return;
        for (;;) {
                slash = strrchr(prefix, '/');
                if (!slash)
                        return;
                if (slash == prefix) {
                        if (prefix[1] == '\0')
                                return; /* the root directory itself was configured */
                        prefix[1] = '\0';
                } else
                        *slash = '\0';
                /* Not through a symlink another user could have planted (chase.h): the anchor
                 * is then above it, and reports it when it opens that name. */
                fd = chase_dir(prefix, NULL);
                if (fd >= 0)
                        break;
        }
        r = node_new(m, root, NULL, NODE_ANCHOR, prefix, NULL, fd, &n);
        if (r < 0) {
                guard_error(m, prefix, "cannot watch the folder where a configured folder will appear", r);
                return;
        }
        size_t plen = strlen(prefix);
        const char *rest = root->path + (plen == 1 ? 1 : plen + 1);
        n->want = strndup(rest, strcspn(rest, "/"));
        if (!n->want) {
                node_kill(n, NULL);
                return;
        }
        root->anchor = n;
        node_start(n, now_ns);
}

int tree_add_root(Model *m, const char *path, NodeKind kind) {
        Root **roots, *root;

        roots = realloc(m->roots, (m->n_roots + 1) * sizeof(Root *));
        if (!roots)
                return -ENOMEM;
        m->roots = roots;
        root = calloc(1, sizeof(*root));
        if (!root)
                return -ENOMEM;
        root->path = path_absolute(path);
        root->kind = kind;
        root->discovered = m->discovering;
        if (!root->path) {
                free(root);
                return -ENOMEM;
        }
        m->roots[m->n_roots++] = root;
        /* Added while running (a reload): what is there already was there before we looked. */
        bool adopting = m->adopting;
        m->adopting = m->started;
        root_resolve(m, root, NULL, now_mono_ns());
        m->adopting = adopting;
        return 0;
}

static ssize_t root_index(Model *m, const char *path, NodeKind kind) {
        _cleanup_free_ char *abs = path_absolute(path);

        for (size_t i = 0; abs && i < m->n_roots; i++)
                if (m->roots[i]->kind == kind && strcmp(m->roots[i]->path, abs) == 0)
                        return (ssize_t) i;
        return -1;
}

bool tree_has_root(Model *m, const char *path, NodeKind kind) {
        return root_index(m, path, kind) >= 0;
}

void tree_remove_root(Model *m, const char *path, NodeKind kind) {
        ssize_t i = root_index(m, path, kind);
        Root *root;

        if (i < 0)
                return;
        root = m->roots[i];
        if (root->anchor)
                node_kill(root->anchor, "configuration");
        memmove(m->roots + i, m->roots + i + 1, (m->n_roots - (size_t) i - 1) * sizeof(Root *));
        m->n_roots--;
        free(root->path);
        free(root->refused);
        free(root);
}

void tree_free_all(Model *m) {
        for (size_t i = 0; i < m->n_roots; i++) {
                if (m->roots[i]->anchor)
                        node_kill(m->roots[i]->anchor, NULL);
                free(m->roots[i]->path);
                free(m->roots[i]->refused);
                free(m->roots[i]);
        }
        free(m->roots);
        m->roots = NULL;
        m->n_roots = 0;
        tree_reap(m);
}

static bool node_still_there(int pfd, Node *parent, Node *c);

static void node_on_dir_event(Node *n, const FsEvent *ev, uint64_t now_ns) {
        _cleanup_close_ int opened = -1;
        int fd = -EBADF;
        Node *c;

        if (ev->mask & (FAN_DELETE | FAN_MOVED_FROM)) {
                c = find_child(n, ev->name);
                /* Confirm: the name may already be back (deleted and re-created). N's own folder
                 * not found under its name cannot confirm it: the child goes too (and N with
                 * the events of its parent). */
                if (c) {
                        struct stat st;
                        FileId id;

                        fd = node_dirfd(n, &opened);
                        if (fd < 0 || fstatat(fd, ev->name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
                            file_id_at(fd, ev->name, n->fid->fsid, &id) < 0 ||
                            !file_id_equal(&id, c->fid))
                                node_kill(c, ev->mask & FAN_MOVED_FROM ? "moved" : "deleted");
                }
        }
        if (ev->mask & (FAN_CREATE | FAN_MOVED_TO)) {
                if (n->kind == NODE_ANCHOR) {
                        if (strcmp(ev->name, n->want) == 0)
                                anchor_check(n, now_ns);
                } else {
                        NodeKind k = child_kind(n, ev->name);
                        if (k >= 0 && !find_child(n, ev->name)) {
                                if (fd < 0)
                                        fd = node_dirfd(n, &opened);
                                if (fd >= 0)
                                        node_add_child(n, fd, ev->name, k, now_ns);
                        }
                }
        }
        agent_settle_fd(n);
}

void tree_dispatch(Model *m, const FsEvent *ev, uint64_t now_ns) {
        Node *nodes[16];
        size_t k = 0;

        for (Node *i = hashmap_get(m->nodes_by_fid, ev->dir); i && k < ELEMENTSOF(nodes); i = i->same_dir_next)
                nodes[k++] = i;

        for (size_t j = 0; j < k; j++) {
                Node *n = nodes[j];

                if (n->dead)
                        continue;
                if (!ev->name) {
                        if (ev->mask & (FAN_DELETE_SELF | FAN_MOVE_SELF)) {
                                Root *root = n->root;
                                bool was_anchor = root && root->anchor == n;

                                /* Confirm: a folder renamed within the tree has its node again
                                 * already (its move was read first), and inotify names that
                                 * new node by the same watch. */
                                if (n->parent) {
                                        _cleanup_close_ int opened = -1;
                                        int pfd = node_dirfd(n->parent, &opened);

                                        if (pfd >= 0 && node_still_there(pfd, n->parent, n))
                                                continue;
                                }

                                const char *how = ev->mask & FAN_MOVE_SELF ? "moved" : "deleted";

                                node_kill(n, how);
                                if (was_anchor)
                                        root_resolve(m, root, how, now_ns);
                        }
                        continue;
                }
                if (ev->mask & FAN_ONDIR) {
                        if (!(ev->mask & (FAN_CREATE | FAN_DELETE | FAN_MOVED_FROM | FAN_MOVED_TO)))
                                continue;
                        if (n->kind == NODE_SESSIONS)
                                /* A directory named like a lock: reported, never touched. */
                                tracker_on_event(m, n, ev, now_ns);
                        else
                                node_on_dir_event(n, ev, now_ns);
                        continue;
                }
                if (n->kind == NODE_SESSIONS)
                        tracker_on_event(m, n, ev, now_ns);
                else if (ev->mask & (FAN_CREATE | FAN_DELETE | FAN_MOVED_FROM | FAN_MOVED_TO))
                        /* Not a folder: a symlink planted where one is expected is reported. */
                        node_on_dir_event(n, ev, now_ns);
        }
}

/* Is C still the folder named C->name in its parent (whose folder is PFD)? */
static bool node_still_there(int pfd, Node *parent, Node *c) {
        struct stat st;
        FileId id;

        return fstatat(pfd, c->name, &st, AT_SYMLINK_NOFOLLOW) >= 0 && S_ISDIR(st.st_mode) &&
               file_id_at(pfd, c->name, parent->fid->fsid, &id) >= 0 && file_id_equal(&id, c->fid);
}

/* Does the anchor's path still lead to the anchor's folder? */
static bool anchor_still_there(Node *a) {
        _cleanup_close_ int fd = open(a->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        FileId id;

        return fd >= 0 && file_id_at(fd, "", a->fid->fsid, &id) >= 0 && file_id_equal(&id, a->fid);
}

/* After lost events: folders that went away lose their nodes, folders that appeared get
 * theirs, and sessions folders are read again. */
static void resync_node(Node *n, uint64_t now_ns) {
        _cleanup_close_ int opened = -1;
        Node *c, *next;
        int fd;

        if (n->kind == NODE_SESSIONS) {
                tracker_resync(n->model, n, now_ns);
                return;
        }
        /* Its parent found it under its name just now; not any more (an agent folder opened
         * again): gone, as a child not found is. */
        fd = node_dirfd(n, &opened);
        if (fd < 0) {
                node_kill(n, "gone");
                return;
        }
        for (c = n->children; c; c = next) {
                next = c->siblings_next;
                if (!c->name || !node_still_there(fd, n, c))
                        node_kill(c, "gone");
        }
        if (n->kind == NODE_ANCHOR)
                anchor_check(n, now_ns); /* looks for its next component again */
        else
                node_look(n, fd, now_ns);
        for (c = n->children; c; c = c->siblings_next)
                if (!c->dead)
                        resync_node(c, now_ns);
        agent_settle_fd(n);
}

void tree_resync(Model *m, uint64_t now_ns) {
        for (size_t i = 0; i < m->n_roots; i++) {
                Root *root = m->roots[i];

                /* The anchor itself may be gone or moved (its own event lost): anchor again. */
                if (!root->anchor || !anchor_still_there(root->anchor))
                        root_resolve(m, root, "gone", now_ns);
                else
                        resync_node(root->anchor, now_ns);
        }
}

static void collect_guarded(Node *n, json_t *arr) {
        for (; n; n = n->siblings_next) {
                if (n->kind == NODE_SESSIONS)
                        json_array_append_new(arr, json_path(NULL, n->path));
                collect_guarded(n->children, arr);
        }
}

json_t *tree_guarded_json(Model *m) {
        json_t *arr = json_array();

        for (size_t i = 0; arr && i < m->n_roots; i++)
                if (m->roots[i]->anchor)
                        collect_guarded(m->roots[i]->anchor, arr);
        return arr;
}

json_t *tree_pending_json(Model *m) {
        json_t *arr = json_array();

        for (size_t i = 0; arr && i < m->n_roots; i++) {
                Node *a = m->roots[i]->anchor;
                /* The root exists when its anchor has it as a child. */
                if (!a || !a->children)
                        json_array_append_new(arr, json_path(NULL, m->roots[i]->path));
        }
        return arr;
}
