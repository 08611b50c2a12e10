/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* control.h: the daemon's control socket. A stream socket (mode 0660) where each message is
 * one JSON object on one line, both ways. A request names a verb (status, locks, holders,
 * events, cleanup, reload, metrics) and carries "version": 1; a reply carries "version" and
 * either the result or "error": {"code", "message"}. Peer credentials decide: read-only verbs for root, the
 * daemon's own user and the socket's group; cleanup for root and the daemon's own user.
 * Requests are capped at 64 KiB; a client that does not read its replies is dropped, never
 * waited for. See lockwarden(8), CONTROL SOCKET. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "host.h"

typedef struct ControlServer ControlServer;

#define CONTROL_PROTOCOL_VERSION 1
#define CONTROL_PATHS_MAX 64
#define CONTROL_REQUEST_MAX (64 * 1024)

#define CONTROL_SYSTEM_PATH "/run/lockwarden/control.sock"

/* The default socket path. The daemon (SERVER): $RUNTIME_DIRECTORY/control.sock under a
 * service manager's RuntimeDirectory=, else CONTROL_SYSTEM_PATH for root, else
 * $XDG_RUNTIME_DIR/lockwarden/control.sock (NULL when there is none). A client that is not
 * root: its own runtime dir's daemon when that socket exists, else the system daemon's.
 * Malloc'd. */
char *control_default_path(bool server);
/* Checks a request before anything is done for it (pure; the fuzzers' target): NULL when it
 * is well-formed, else why not, with the error code in *RET_CODE. */
const char *control_request_check(json_t *req, const char **ret_code);
/* Gives the socket file to UID and GID (--user: before the privileges are dropped). */
int control_chown(ControlServer *s, uid_t uid, gid_t gid);

/* Binds PATH (replacing a stale socket file from a crashed run; refusing, -EADDRINUSE, when a
 * daemon answers there) and serves it on the manager's loop. */
int control_start(const Host *host, const char *path, ControlServer **ret);
ControlServer *control_stop(ControlServer *c);
