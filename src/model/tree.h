/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* tree.h: which folders are guarded. A configured path becomes a chain of nodes, each a
 * folder fd with a fanotify mark: an anchor on the nearest existing ancestor (waiting for the
 * next path component to appear), then for a state dir: the state dir → agents/ → each agent
 * → its sessions/ folder. An agent keeps no fd once its sessions/ is guarded (one descriptor
 * per agent folder): it is opened again by name, checked, where needed. Folders that appear
 * later get nodes the moment the kernel reports them; folders that go away lose theirs. */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "file-id.h"
#include "fs-event.h"
#include "hashmap.h"
#include "list.h"
#include "openclaw.h"
#include "settings.h"

typedef struct Model Model;
typedef struct Node Node;

typedef enum NodeKind {
        NODE_ANCHOR,    /* an existing ancestor of a configured path: waits for `want` */
        NODE_STATE,     /* an OpenClaw state dir: waits for agents/ */
        NODE_AGENTS,    /* agents/: every sub-folder is an agent */
        NODE_AGENT,     /* agents/<id>: waits for sessions/ */
        NODE_SESSIONS,  /* a guarded sessions folder */
        _NODE_KIND_MAX,
        _NODE_KIND_INVALID = -22,
} NodeKind;

typedef struct Root {
        char *path;        /* absolute, as configured */
        NodeKind kind;     /* NODE_STATE or NODE_SESSIONS */
        Node *anchor;
        char *refused;     /* the unsafe symlink last reported (chase.h), once per symlink */
        bool level_warned; /* said to be at the wrong level (layout.h), once */
        bool discovered;   /* added by discovery (discovery.h), not configured */
} Root;

struct Node {
        Model *model;
        Root *root;
        Node *parent;
        Node *children;
        Hashmap *children_by_name;     /* name → child: agents/ has one per agent (find_child) */
        bool children_unmapped;        /* ... which could not be built: look them up in the list */
        LIST_FIELDS(Node, siblings);
        LIST_FIELDS(Node, same_dir);   /* nodes on the same folder (e.g. two anchors) */
        LIST_FIELDS(Node, graveyard);
        NodeKind kind;
        bool dead;
        char *path;                    /* absolute path when it was opened, for reports */
        char *name;                    /* entry name in the parent */
        char *want;                    /* NODE_ANCHOR: next component of root->path */
        int dirfd;                     /* -1: an agent folder whose sessions/ is guarded */
        int wd;                        /* its inotify watch (-1 with fanotify) */
        const char *fs_type;           /* NODE_SESSIONS: its filesystem ("ext4", "nfs", ...) */
        bool remote;                   /* ... is a network or FUSE one */
        bool remote_cleanup;           /* ... and the operator opted in to cleanup there */
        /* NODE_SESSIONS: the settings for this folder (global ones, then the folder rules of
         * the configuration that cover it, the most specific last). */
        CleanupMode cleanup;
        uint64_t leak_grace_ms;
        unsigned ignore_races;         /* 1 << RaceKind */
        Release release_config;        /* the release a folder rule names (UNKNOWN: none) */
        /* NODE_STATE, or a sessions folder guarded on its own (--watch): the application
         * release found for it, how, and the version; warned of a SQLite store once. */
        Release release;
        char release_version[24];
        char release_source[48];
        bool sqlite_warned;
        FileId *fid;
        Hashmap *files;                /* NODE_SESSIONS: name → TrackedFile */
        Hashmap *sessions;             /* NODE_SESSIONS: transcript name → Session */
        struct RecoveryCache *recovery; /* NODE_SESSIONS: its sessions.json, once read */
};

int tree_add_root(Model *m, const char *path, NodeKind kind);
/* Stops guarding a configured folder (a reload dropped it). PATH as configured. */
void tree_remove_root(Model *m, const char *path, NodeKind kind);
/* Is PATH (with KIND) configured? */
bool tree_has_root(Model *m, const char *path, NodeKind kind);
/* The options changed (a reload): every sessions folder takes its settings again. */
void tree_apply_settings(Model *m);
void tree_dispatch(Model *m, const FsEvent *ev, uint64_t now_ns);
/* Frees nodes that died during this batch. */
void tree_reap(Model *m);
void tree_free_all(Model *m);

/* After lost events: resync every guarded sessions folder with the disk. */
void tree_resync(Model *m, uint64_t now_ns);

/* The release the gateway of sessions folder N runs: a folder rule's, else the one found for
 * its state dir (RELEASE_UNKNOWN until found). */
Release tree_folder_release(const Node *n);
/* Is it settled, by a folder rule or a gateway's package.json? (A SQLite store on disk says
 * less than a lock in use: a gateway's package.json still overrides it.) */
bool tree_release_settled(const Node *n);
/* Found out (VERSION, e.g. "2026.7.35", may be NULL; SOURCE says how): recorded on N's state dir
 * (or N itself outside one) and reported once as monitor.release when it changes. */
void tree_set_release(Model *m, Node *n, Release r, const char *version, const char *source);
/* Every state dir (and lone sessions folder) with the release found for it, for monitor.ready
 * and status. */
json_t *tree_releases_json(Model *m);

json_t *tree_guarded_json(Model *m);
/* Configured folders that do not exist yet (guarded once they appear). */
json_t *tree_pending_json(Model *m);
