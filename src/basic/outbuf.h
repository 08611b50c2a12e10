/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* outbuf.h: a bounded, non-blocking writer for one output descriptor (the --events stream,
 * stderr, a control connection). A write never waits: what the descriptor takes now is
 * written, the rest is kept, and what does not fit within the bound is dropped whole and
 * counted. When the kept bytes are written out and something was dropped, the owner is told
 * how much (to say "N events dropped: output was not read"). A message is never cut: a
 * partly written one is always kept whole. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

typedef struct OutBuf OutBuf;

/* Called when the kept bytes are all written and DROPPED messages were dropped since the
 * last call (DROPPED > 0). May write to O. */
typedef void (*OutBufDrained)(OutBuf *o, uint64_t dropped, void *userdata);

/* Writes to FD with at most MAX bytes kept. OWN: FD is ours (closed by outbuf_free, and its
 * file description made non-blocking); else (stdout, stderr, shared with whoever started us)
 * a pipe or terminal is reopened through /proc/self/fd with a non-blocking description of
 * our own, so that the one shared with our parent stays as it was. A socket is written with
 * MSG_DONTWAIT. A pipe whose reader is gone raises SIGPIPE: the caller ignores it (the daemon
 * does). */
int outbuf_new(int fd, size_t max, bool own, OutBuf **ret);
OutBuf *outbuf_free(OutBuf *o);

void outbuf_set_drained(OutBuf *o, OutBufDrained cb, void *userdata);
/* Watches the descriptor on E and writes the kept bytes when it takes them. Not for a
 * descriptor that has an I/O source already (a control connection calls outbuf_flush). */
int outbuf_attach_event(OutBuf *o, sd_event *e);

/* Queues N bytes. Returns 0 when written or kept, -ENOBUFS when dropped (counted), another
 * negative errno when the descriptor is broken (the reader went away: counted too). FORCE: keep
 * it whatever the bound (a reply that the client asked for and reads as it comes). */
int outbuf_write(OutBuf *o, const void *p, size_t n, bool force);
/* Writes what the descriptor takes now: >0 bytes still kept, 0 all written, <0 broken. */
int outbuf_flush(OutBuf *o);
/* Bytes kept, not yet written. */
size_t outbuf_pending(const OutBuf *o);
/* Messages dropped since the last drain notice. */
uint64_t outbuf_dropped(const OutBuf *o);
/* On the way out: waits up to TIMEOUT_MS for the kept bytes to be taken. */
void outbuf_flush_final(OutBuf *o, int timeout_ms);
