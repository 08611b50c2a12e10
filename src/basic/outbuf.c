/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* outbuf.c: the bounded non-blocking writer. */
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "macro.h"
#include "outbuf.h"
#include "time-util.h"

struct OutBuf {
        int fd;
        bool own, socket, broken;
        char *buf;
        size_t start, len, alloc, max;   /* kept bytes: buf[start, start + len) */
        uint64_t n_kept;                 /* messages with bytes kept */
        uint64_t dropped;
        sd_event_source *source;
        OutBufDrained drained;
        void *userdata;
};

/* A description of our own for a pipe or terminal we share with our parent: O_NONBLOCK on
 * the shared one would change it for the parent (a shell) too. */
static int reopen_nonblock(int fd) {
        char path[64];
        int flags = fcntl(fd, F_GETFL), nfd;

        if (flags < 0)
                return negative_errno();
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        nfd = open(path, O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC | (flags & O_APPEND));
        return nfd < 0 ? negative_errno() : nfd;
}

int outbuf_new(int fd, size_t max, bool own, OutBuf **ret) {
        struct stat st;
        OutBuf *o;

        if (fd < 0 || fstat(fd, &st) < 0)
                return fd < 0 ? -EBADF : negative_errno();
        o = calloc(1, sizeof(*o));
        if (!o)
                return -ENOMEM;
        *o = (OutBuf) { .fd = fd, .own = own, .max = max, .socket = S_ISSOCK(st.st_mode) };
        if (!o->socket && (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode))) {
                int nfd = own ? -1 : reopen_nonblock(fd);

                if (nfd >= 0) {
                        o->fd = nfd;
                        o->own = true;
                } else {
                        /* Ours, or it cannot be reopened: make it non-blocking itself. */
                        int flags = fcntl(fd, F_GETFL);
                        if (flags >= 0)
                                (void) fcntl(fd, F_SETFL, flags | O_NONBLOCK);
                }
        }
        /* A regular file never says EAGAIN; it is written as it comes. */
        *ret = o;
        return 0;
}

OutBuf *outbuf_free(OutBuf *o) {
        if (!o)
                return NULL;
        sd_event_source_disable_unref(o->source);
        if (o->own)
                close(o->fd);
        free(o->buf);
        free(o);
        return NULL;
}

void outbuf_set_drained(OutBuf *o, OutBufDrained cb, void *userdata) {
        o->drained = cb;
        o->userdata = userdata;
}

size_t outbuf_pending(const OutBuf *o) {
        return o ? o->len : 0;
}

uint64_t outbuf_dropped(const OutBuf *o) {
        return o ? o->dropped : 0;
}

static ssize_t do_write(OutBuf *o, const void *p, size_t n) {
        for (;;) {
                ssize_t k = o->socket ? send(o->fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL) : write(o->fd, p, n);

                if (k >= 0 || errno != EINTR)
                        return k < 0 ? -errno : k;
        }
}

static void update_source(OutBuf *o) {
        if (o->source)
                (void) sd_event_source_set_enabled(o->source, o->len > 0 && !o->broken ? SD_EVENT_ON : SD_EVENT_OFF);
}

int outbuf_flush(OutBuf *o) {
        if (o->broken)
                return -EPIPE;
        while (o->len > 0) {
                ssize_t k = do_write(o, o->buf + o->start, o->len);

                if (k == -EAGAIN)
                        break;
                if (k < 0) {
                        /* The reader went away. A socket's peer never comes back; a FIFO may get
                         * a new reader: what was kept is lost (counted), later writes try again. */
                        o->broken = o->socket;
                        o->dropped += o->n_kept;
                        o->len = o->start = o->n_kept = 0;
                        update_source(o);
                        return (int) k;
                }
                o->start += (size_t) k;
                o->len -= (size_t) k;
        }
        if (o->len == 0)
                o->start = o->n_kept = 0;
        update_source(o);
        if (o->len == 0 && o->dropped > 0 && o->drained) {
                uint64_t d = o->dropped;

                o->dropped = 0;
                o->drained(o, d, o->userdata);
        }
        return o->len > 0;
}

static int keep(OutBuf *o, const char *p, size_t n) {
        if (o->start > 0 && o->start + o->len + n > o->alloc) {
                memmove(o->buf, o->buf + o->start, o->len);
                o->start = 0;
        }
        if (o->len + n > o->alloc) {
                size_t a = MAX_SIZE(o->alloc * 2, MAX_SIZE(o->len + n, 4096));
                char *b = realloc(o->buf, a);

                if (!b)
                        return -ENOMEM;
                o->buf = b;
                o->alloc = a;
        }
        memcpy(o->buf + o->start + o->len, p, n);
        o->len += n;
        return 0;
}

int outbuf_write(OutBuf *o, const void *p, size_t n, bool force) {
        size_t done = 0;

        if (o->broken) {
                o->dropped++;
                return -EPIPE;
        }
        if (o->len == 0) {
                ssize_t k = do_write(o, p, n);

                if (k < 0 && k != -EAGAIN) {
                        o->broken = o->socket; /* a FIFO may get a new reader */
                        o->dropped++;
                        return (int) k;
                }
                done = k > 0 ? (size_t) k : 0;
                if (done == n) {
                        /* Taken after drops (a new reader of a FIFO): the notice is given from
                         * the loop, once the descriptor says it is writable. */
                        if (o->dropped > 0 && o->source)
                                (void) sd_event_source_set_enabled(o->source, SD_EVENT_ONESHOT);
                        return 0;
                }
        } else if (!force && o->len + n > o->max) {
                o->dropped++;
                return -ENOBUFS;
        }
        /* The rest of a message that was started is always kept: never half a line. */
        if (keep(o, (const char *) p + done, n - done) < 0) {
                o->dropped++;
                return -ENOBUFS;
        }
        o->n_kept++;
        update_source(o);
        return 0;
}

static int on_writable(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        (void) s;
        (void) fd;
        (void) revents;
        (void) outbuf_flush(userdata);
        return 0;
}

int outbuf_attach_event(OutBuf *o, sd_event *e) {
        int r;

        if (o->source)
                return 0;
        r = sd_event_add_io(e, &o->source, o->fd, EPOLLOUT, on_writable, o);
        if (r == -EPERM) /* a regular file: epoll does not take it, and it never says EAGAIN */
                return 0;
        if (r < 0)
                return r;
        (void) sd_event_source_set_description(o->source, "output");
        update_source(o);
        return 0;
}

void outbuf_flush_final(OutBuf *o, int timeout_ms) {
        uint64_t deadline = now_mono_ns() + (uint64_t) timeout_ms * NSEC_PER_MSEC;

        while (o && outbuf_flush(o) > 0) {
                uint64_t now = now_mono_ns();
                struct pollfd p = { .fd = o->fd, .events = POLLOUT };

                if (now >= deadline || poll(&p, 1, (int) ((deadline - now) / NSEC_PER_MSEC) + 1) <= 0)
                        break;
        }
}
