/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fanotify-source.h: the fanotify group (FID mode) and the decoding of its records into
 * plain FsEvent values. No policy lives here: what an event means is decided elsewhere. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/fanotify.h>
#include <sys/types.h>

#include "fs-event.h"

/* 0 and the fd; -EPERM without CAP_SYS_ADMIN in the initial user namespace; -EINVAL/-ENOSYS
 * on kernels without FID reporting. *ret_target_fid tells whether entry events name their file. */
int fanotify_source_open(int *ret_fd, bool *ret_target_fid);
int fanotify_source_mark(int fan_fd, int dirfd, uint64_t mask);
int fanotify_source_unmark(int fan_fd, int dirfd);

/* Decodes one read() worth of records; returns the number of events delivered. Records that
 * are malformed or of a kind we do not use are skipped. */
size_t fanotify_source_decode(const void *buf, size_t len, FsEventCallback cb, void *userdata);
