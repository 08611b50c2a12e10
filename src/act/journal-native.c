/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* journal-native.c: systemd's native journal protocol (docs/JOURNAL_NATIVE_PROTOCOL.md in
 * systemd), on a non-blocking datagram socket. A field is "NAME=value\n", or, when the value
 * holds a newline, "NAME\n" + its length as 64-bit little endian + the value + "\n". */
#include <endian.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "journal-native.h"
#include "macro.h"
#include "time-util.h"

#define JOURNAL_SOCKET "/run/systemd/journal/socket"

struct JournalSink {
        int fd;
        struct sockaddr_un sa;
        socklen_t sa_len;
        bool connected;
        uint64_t refused_ns;      /* when connect() last failed (0: never) */
        int refused;              /* ... and how */
        uint64_t dropped;
        sd_event_source *source;
        JournalDrained drained;
        void *userdata;
};

int journal_sink_new(JournalSink **ret) {
        const char *path = JOURNAL_SOCKET;
        JournalSink *j;

#ifdef LW_TEST_HOOKS
        /* A test's own never-reading socket stands for a stalled journald. */
        if (getenv("LOCKWARDEN_TEST_JOURNAL_SOCKET"))
                path = getenv("LOCKWARDEN_TEST_JOURNAL_SOCKET");
#endif
        if (strlen(path) >= sizeof(j->sa.sun_path))
                return -ENAMETOOLONG;
        j = calloc(1, sizeof(*j));
        if (!j)
                return -ENOMEM;
        *j = (JournalSink) { .sa = { .sun_family = AF_UNIX } };
        memcpy(j->sa.sun_path, path, strlen(path) + 1);
        j->sa_len = (socklen_t) (offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1);
        j->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (j->fd < 0) {
                int r = negative_errno();
                free(j);
                return r;
        }
        *ret = j;
        return 0;
}

JournalSink *journal_sink_free(JournalSink *j) {
        if (!j)
                return NULL;
        sd_event_source_disable_unref(j->source);
        close(j->fd);
        free(j);
        return NULL;
}

/* Connected, so that EPOLLOUT says when journald has room again (for an unconnected
 * datagram socket it says nothing about the receiver). Again after journald restarted. */
/* With no journald listening, asked again at most every 100 ms, not at every entry (a host
 * without journald, a benchmark: one connect() per report was most of a report's cost). */
#define SINK_RETRY_NS (100 * NSEC_PER_MSEC)

static int sink_connect(JournalSink *j) {
        uint64_t now;

        if (j->connected)
                return 0;
        now = now_mono_ns();
        if (j->refused_ns != 0 && now - j->refused_ns < SINK_RETRY_NS)
                return j->refused;
        if (connect(j->fd, (struct sockaddr *) &j->sa, j->sa_len) < 0) {
                j->refused = negative_errno();
                j->refused_ns = now;
                return j->refused;
        }
        j->refused_ns = 0;
        j->connected = true;
        return 0;
}

static int on_writable(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        JournalSink *j = userdata;
        uint64_t d = j->dropped;

        (void) fd;
        (void) revents;
        (void) sd_event_source_set_enabled(s, SD_EVENT_OFF);
        j->dropped = 0;
        if (d > 0 && j->drained)
                j->drained(d, j->userdata);
        return 0;
}

int journal_sink_attach_event(JournalSink *j, sd_event *e, JournalDrained cb, void *userdata) {
        int r;

        j->drained = cb;
        j->userdata = userdata;
        r = sd_event_add_io(e, &j->source, j->fd, EPOLLOUT, on_writable, j);
        if (r < 0)
                return r;
        (void) sd_event_source_set_description(j->source, "journal");
        return sd_event_source_set_enabled(j->source, SD_EVENT_OFF);
}

static int dropped(JournalSink *j) {
        j->dropped++;
        if (j->source)
                (void) sd_event_source_set_enabled(j->source, SD_EVENT_ONESHOT);
        return -EAGAIN;
}

/* Too large for one datagram: the entry goes in a sealed memfd, passed with SCM_RIGHTS. */
static int send_memfd(JournalSink *j, const char *data, size_t len) {
        union {
                struct cmsghdr cmsghdr;
                uint8_t buf[CMSG_SPACE(sizeof(int))];
        } control = {};
        struct msghdr mh = { .msg_control = &control, .msg_controllen = sizeof(control) };
        _cleanup_close_ int fd = memfd_create("journal-data", MFD_CLOEXEC | MFD_ALLOW_SEALING);
        struct cmsghdr *cmsg;
        size_t off = 0;

        if (fd < 0)
                return negative_errno();
        while (off < len) {
                ssize_t k = write(fd, data + off, len - off);
                if (k < 0)
                        return negative_errno();
                off += (size_t) k;
        }
        if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0)
                return negative_errno();
        cmsg = CMSG_FIRSTHDR(&mh);
        cmsg->cmsg_level = SOL_SOCKET;
        cmsg->cmsg_type = SCM_RIGHTS;
        cmsg->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
        if (sendmsg(j->fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
                return errno == EAGAIN ? dropped(j) : negative_errno();
        return 0;
}

int journal_sink_send(JournalSink *j, const struct iovec *fields, size_t n) {
        _cleanup_free_ char *data = NULL;
        size_t len = 0, size = 1;
        int r;

        /* At most each field, a length and a newline more than its own bytes. */
        for (size_t i = 0; i < n; i++)
                size += fields[i].iov_len + 1 + 8;
        data = malloc(size);
        if (!data)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                const char *f = fields[i].iov_base, *eq = memchr(f, '=', fields[i].iov_len);
                size_t name = eq ? (size_t) (eq - f) : 0;
                size_t vlen = eq ? fields[i].iov_len - name - 1 : 0;

                if (!eq || name == 0)
                        continue;
                memcpy(data + len, f, name);
                len += name;
                if (memchr(eq + 1, '\n', vlen)) {
                        uint64_t le = htole64((uint64_t) vlen);
                        data[len++] = '\n';
                        memcpy(data + len, &le, 8);
                        len += 8;
                } else
                        data[len++] = '=';
                memcpy(data + len, eq + 1, vlen);
                len += vlen;
                data[len++] = '\n';
        }
        if (len == 0)
                return 0;

        for (int attempt = 0; attempt < 2; attempt++) {
                r = sink_connect(j);
                if (r < 0)
                        return r; /* no journal here */
                if (send(j->fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL) >= 0)
                        return 0;
                if (errno == EAGAIN)
                        return dropped(j);
                if (errno == EMSGSIZE || errno == ENOBUFS)
                        return send_memfd(j, data, len);
                if (errno != ECONNREFUSED && errno != ENOTCONN && errno != ECONNRESET)
                        return negative_errno();
                /* journald restarted: a new socket at the same path. Once more. */
                int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
                if (fd < 0)
                        return negative_errno();
                if (j->source)
                        (void) sd_event_source_set_io_fd(j->source, fd);
                close(j->fd);
                j->fd = fd;
                j->connected = false;
        }
        return -ECONNREFUSED;
}
