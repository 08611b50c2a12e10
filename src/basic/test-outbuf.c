/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit test of the bounded non-blocking writer, on a real pipe nobody reads: writes never
 * wait, what passes the bound is dropped whole and counted, a message is never cut, and once
 * the reader takes everything the owner is told how many were dropped. */
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lwtest.h"
#include "outbuf.h"

static uint64_t told;

static void drained(OutBuf *o, uint64_t dropped, void *userdata) {
        (void) o;
        (void) userdata;
        told += dropped;
}

int main(void) {
        char line[5000], buf[65536]; /* longer than PIPE_BUF: written in parts */
        int p[2], written = 0, dropped = 0;
        OutBuf *o;

        memset(line, 'x', sizeof(line) - 1);
        line[sizeof(line) - 1] = '\n';
        CHECK(pipe2(p, O_CLOEXEC) == 0, "pipe");
        CHECK(fcntl(p[1], F_SETPIPE_SZ, 4096) >= 0, "F_SETPIPE_SZ");
        CHECK(outbuf_new(p[1], 16 * 1024, true, &o) == 0, "outbuf_new");
        outbuf_set_drained(o, drained, NULL);

        /* 200 KB into a 4 KiB pipe with a 16 KiB bound: returns at once every time. */
        for (int i = 0; i < 40; i++) {
                int r = outbuf_write(o, line, sizeof(line), false);
                CHECK(r == 0 || r == -ENOBUFS, "write %d: %d", i, r);
                if (r == 0)
                        written++;
                else
                        dropped++;
        }
        CHECK(dropped > 0 && written > 0, "written %d dropped %d", written, dropped);
        CHECK(outbuf_pending(o) <= 16 * 1024 + sizeof(line), "kept %zu", outbuf_pending(o));
        CHECK(outbuf_dropped(o) == (uint64_t) dropped, "counted %llu", (unsigned long long) outbuf_dropped(o));
        /* A forced message (a reply) is kept whatever the bound. */
        CHECK(outbuf_write(o, line, sizeof(line), true) == 0, "forced");
        written++;

        /* The reader takes everything: whole lines only, then the drain notice. */
        size_t got = 0;
        int fl = fcntl(p[0], F_GETFL);
        CHECK(fcntl(p[0], F_SETFL, fl | O_NONBLOCK) == 0, "nonblock");
        for (int rounds = 0; rounds < 10000; rounds++) {
                bool done = outbuf_pending(o) == 0 && told > 0;
                ssize_t k;
                while ((k = read(p[0], buf, sizeof(buf))) > 0) {
                        for (ssize_t i = 0; i < k; i++)
                                CHECK(buf[i] == ((got + (size_t) i) % sizeof(line) == sizeof(line) - 1 ? '\n' : 'x'),
                                      "byte %zu cut a line", got + (size_t) i);
                        got += (size_t) k;
                }
                if (done)
                        break; /* and the pipe read empty after the last write */
                CHECK(outbuf_flush(o) >= 0, "flush");
        }
        CHECK(outbuf_pending(o) == 0, "still kept %zu", outbuf_pending(o));
        CHECK(told == (uint64_t) dropped, "told %llu, dropped %d", (unsigned long long) told, dropped);
        CHECK(got == (size_t) written * sizeof(line), "read %zu, wrote %d lines", got, written);

        /* The reader goes away: writes fail at once, never wait (SIGPIPE ignored, as the
         * daemon does). */
        signal(SIGPIPE, SIG_IGN);
        close(p[0]);
        CHECK(outbuf_write(o, line, sizeof(line), false) < 0, "write to a closed pipe");
        outbuf_free(o);

        /* A named FIFO gets a new reader: writing goes on, and the loss is told. */
        char *fifo = lw_path(lw_tmpdir(), "events.fifo");
        CHECK(mkfifo(fifo, 0600) == 0, "mkfifo");
        int r1 = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC), w = open(fifo, O_WRONLY | O_CLOEXEC);
        CHECK(r1 >= 0 && w >= 0, "open fifo");
        told = 0;
        CHECK(outbuf_new(w, 16 * 1024, true, &o) == 0, "outbuf_new");
        outbuf_set_drained(o, drained, NULL);
        close(r1);
        CHECK(outbuf_write(o, "a\n", 2, false) < 0, "write without a reader");
        int r2 = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        CHECK(r2 >= 0, "reopen fifo");
        CHECK(outbuf_write(o, "b\n", 2, false) == 0, "write to the new reader");
        CHECK(outbuf_flush(o) == 0 && told == 1, "told %llu", (unsigned long long) told);
        CHECK(read(r2, buf, sizeof(buf)) == 2 && memcmp(buf, "b\n", 2) == 0, "the new reader got b");
        close(r2);
        outbuf_free(o);
        return 0;
}
