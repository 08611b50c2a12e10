/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* node.h: a folder lockwarden knows of, as the tree (tree.h) builds it: what it is, its fd and
 * mark, its settings, and for a sessions folder its files and sessions. Below the locks and
 * the sessions, which read a folder's settings and release; the tree, which makes and drops
 * nodes, sits above them. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "file-id.h"
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

/* Where a sessions folder's release is kept: its state dir, or itself. */
Node *node_release_home(Node *n);
/* The release the gateway of sessions folder N runs: a folder rule's, else the one found for
 * its state dir (RELEASE_UNKNOWN until found). */
Release node_release(const Node *n);
/* Is it settled, by a folder rule or a gateway's package.json? (A SQLite store on disk says
 * less than a lock in use: a gateway's package.json still overrides it.) */
bool node_release_settled(const Node *n);
/* Found out (VERSION, e.g. "2026.7.35", may be NULL; SOURCE says how): recorded on N's state dir
 * (or N itself outside one) and reported once as monitor.release when it changes. */
void node_set_release(Model *m, Node *n, Release r, const char *version, const char *source);
