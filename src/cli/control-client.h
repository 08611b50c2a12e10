/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* control-client.h: the verbs' side of the control socket (see control.h): connect, send one
 * request, read replies line by line with a deadline. */
#pragma once

#include <jansson.h>

typedef struct ControlClient ControlClient;

/* -ENOENT/-ECONNREFUSED: no daemon there; -EACCES: not allowed to connect. */
int control_client_connect(const char *path, ControlClient **ret);
ControlClient *control_client_free(ControlClient *c);
/* Sends REQ (borrowed; "version" is added). */
int control_client_send(ControlClient *c, json_t *req);
/* The next message; waits at most TIMEOUT_MS (-1: forever). -ETIMEDOUT, -ECONNRESET (closed),
 * -EBADMSG (not JSON). */
int control_client_read(ControlClient *c, int timeout_ms, json_t **ret);
