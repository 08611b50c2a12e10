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
#include "node.h"
#include "fs-event.h"
#include "hashmap.h"
#include "list.h"
#include "openclaw.h"
#include "settings.h"

typedef struct Model Model;
typedef struct Node Node;


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

/* Every state dir (and lone sessions folder) with the release found for it, for monitor.ready
 * and status. */
json_t *tree_releases_json(Model *m);

json_t *tree_guarded_json(Model *m);
/* Configured folders that do not exist yet (guarded once they appear). */
json_t *tree_pending_json(Model *m);
