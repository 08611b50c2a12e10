/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* control.h: the daemon's control socket. A stream socket (mode 0660) where each message is
 * one JSON object on one line, both ways. A request names a verb (status, locks, holders,
 * events, cleanup) and carries "version": 1; a reply carries "version" and either the result
 * or "error": {"code", "message"}. Peer credentials decide: read-only verbs for root, the
 * daemon's own user and the socket's group; cleanup for root and the daemon's own user.
 * Requests are capped at 64 KiB; a client that does not read its replies is dropped, never
 * waited for. See lockwarden(8), CONTROL SOCKET. */
#pragma once

#include <jansson.h>

typedef struct Manager Manager;
typedef struct ControlServer ControlServer;

#define CONTROL_PROTOCOL_VERSION 1
#define CONTROL_REQUEST_MAX (64 * 1024)

/* The default socket path: /run/lockwarden/control.sock for root, else
 * $XDG_RUNTIME_DIR/lockwarden/control.sock (NULL when there is none). Malloc'd. */
char *control_default_path(void);

/* Binds PATH (replacing a stale socket file from a crashed run; refusing, -EADDRINUSE, when a
 * daemon answers there) and serves it on the manager's loop. */
int control_start(Manager *m, const char *path, ControlServer **ret);
ControlServer *control_stop(ControlServer *c);
