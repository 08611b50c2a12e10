/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* control-client.c */
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "control-client.h"
#include "control.h"
#include "macro.h"
#include "time-util.h"

/* Replies can be large (every lock, with long names): one line is read whole, whatever its
 * size; the daemon sends it as we read it. */

struct ControlClient {
        int fd;
        char *buf;
        size_t len, alloc;
        size_t scanned;          /* buf[0, scanned) holds no newline */
};

int control_client_connect(const char *path, ControlClient **ret) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        ControlClient *c;

        if (strlen(path) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        memcpy(sa.sun_path, path, strlen(path) + 1);
        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (c->fd < 0 || connect(c->fd, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
                int r = negative_errno();
                control_client_free(c);
                return r;
        }
        *ret = c;
        return 0;
}

ControlClient *control_client_free(ControlClient *c) {
        if (!c)
                return NULL;
        if (c->fd >= 0)
                close(c->fd);
        free(c->buf);
        free(c);
        return NULL;
}

int control_client_send(ControlClient *c, json_t *req) {
        _cleanup_free_ char *s = NULL;
        size_t n, off = 0;

        json_object_set_new(req, "version", json_integer(CONTROL_PROTOCOL_VERSION));
        s = json_dumps(req, JSON_COMPACT);
        if (!s)
                return -ENOMEM;
        n = strlen(s);
        s[n++] = '\n'; /* replaces the NUL: sent by length */
        while (off < n) {
                ssize_t k = send(c->fd, s + off, n - off, MSG_NOSIGNAL);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                off += (size_t) k;
        }
        return 0;
}

int control_client_read(ControlClient *c, int timeout_ms, json_t **ret) {
        uint64_t deadline = timeout_ms < 0 ? UINT64_MAX : now_mono_ns() + (uint64_t) timeout_ms * NSEC_PER_MSEC;

        for (;;) {
                char *nl = c->buf ? memchr(c->buf + c->scanned, '\n', c->len - c->scanned) : NULL;

                if (nl) {
                        size_t len = (size_t) (nl - c->buf);
                        json_t *j = json_loadb(c->buf, len, 0, NULL);

                        memmove(c->buf, nl + 1, c->len - len - 1);
                        c->len -= len + 1;
                        c->scanned = 0;
                        if (!j)
                                return -EBADMSG;
                        *ret = j;
                        return 0;
                }
                c->scanned = c->len;
                if (c->len + 65536 > c->alloc) {
                        size_t a = c->alloc ? c->alloc * 2 : 131072;
                        char *b;
                        if (a < c->alloc)
                                return -EMSGSIZE;
                        b = realloc(c->buf, a);
                        if (!b)
                                return -ENOMEM;
                        c->buf = b;
                        c->alloc = a;
                }
                uint64_t now = now_mono_ns();
                if (now >= deadline)
                        return -ETIMEDOUT;
                struct pollfd p = { .fd = c->fd, .events = POLLIN };
                int r = poll(&p, 1, deadline == UINT64_MAX ? -1 : (int) ((deadline - now) / NSEC_PER_MSEC) + 1);
                if (r < 0 && errno != EINTR)
                        return negative_errno();
                if (r <= 0)
                        continue;
                ssize_t n = recv(c->fd, c->buf + c->len, c->alloc - c->len, 0);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return negative_errno();
                if (n == 0)
                        return -ECONNRESET;
                c->len += (size_t) n;
        }
}
