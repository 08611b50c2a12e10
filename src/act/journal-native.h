/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* journal-native.h: entries for systemd-journald, sent the way sd_journal_sendv sends them (the
 * native protocol on /run/systemd/journal/socket, a sealed memfd for an entry too large for one
 * datagram) but never waiting: sd_journal_sendv blocks while journald does not read. An entry
 * the socket does not take now is dropped and counted, and the count is handed back once the
 * socket takes entries again. No journal at all (a container without journald) is not a drop. */
#pragma once

#include <stdint.h>
#include <sys/uio.h>
#include <systemd/sd-event.h>

typedef struct JournalSink JournalSink;

/* Called once the socket is writable again after DROPPED entries were dropped. */
typedef void (*JournalDrained)(uint64_t dropped, void *userdata);

int journal_sink_new(JournalSink **ret);
JournalSink *journal_sink_free(JournalSink *j);
int journal_sink_attach_event(JournalSink *j, sd_event *e, JournalDrained cb, void *userdata);
/* Sends one entry of N "NAME=value" fields (a value may hold any bytes, newlines too). 0 sent,
 * -EAGAIN dropped (counted), another negative errno when there is no journal to send to. */
int journal_sink_send(JournalSink *j, const struct iovec *fields, size_t n);
