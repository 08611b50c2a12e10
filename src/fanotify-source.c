/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fanotify-source.c: fanotify_init/fanotify_mark and the record walk.
 *
 * Records look like: metadata, then info records. We ask for FAN_REPORT_DFID_NAME (folder +
 * entry name) and FAN_REPORT_FID (the object itself). Directory-entry events (create, delete,
 * moves) carry only the folder and name; open/close/modify carry both. The kernel merges
 * queued events for the same object and pid into one mask, so a mask says what happened, not
 * in which order. */
#include <fcntl.h>
#include <string.h>

#include "fanotify-source.h"
#include "macro.h"

int fanotify_source_open(int *ret_fd) {
        int fd;

        fd = fanotify_init(FAN_CLASS_NOTIF | FAN_CLOEXEC | FAN_NONBLOCK |
                           FAN_REPORT_DFID_NAME | FAN_REPORT_FID,
                           O_RDONLY | O_CLOEXEC | O_LARGEFILE);
        if (fd < 0)
                return negative_errno();
        *ret_fd = fd;
        return 0;
}

int fanotify_source_mark(int fan_fd, int dirfd, uint64_t mask) {
        if (fanotify_mark(fan_fd, FAN_MARK_ADD | FAN_MARK_ONLYDIR, mask, dirfd, NULL) < 0)
                return negative_errno();
        return 0;
}

int fanotify_source_unmark(int fan_fd, int dirfd) {
        /* Removing every bit we may have set removes the mark. */
        if (fanotify_mark(fan_fd, FAN_MARK_REMOVE, FS_MASK_SESSIONS | FS_MASK_TREE, dirfd, NULL) < 0)
                return negative_errno();
        return 0;
}

static const FileId *decode_fid(const struct fanotify_event_info_fid *info, size_t avail,
                                FileId *out, const char **ret_name) {
        const struct file_handle *fh;
        size_t need = sizeof(*info) + sizeof(struct file_handle);

        if (avail < need)
                return NULL;
        fh = (const struct file_handle *) info->handle;
        if (fh->handle_bytes > FILE_ID_MAX_HANDLE || need + fh->handle_bytes > avail)
                return NULL;

        *out = (FileId) { .type = fh->handle_type, .len = fh->handle_bytes };
        memcpy(&out->fsid, &info->fsid, sizeof(out->fsid));
        memcpy(out->bytes, fh->f_handle, fh->handle_bytes);

        if (ret_name) {
                const char *name = (const char *) fh->f_handle + fh->handle_bytes;
                size_t max = avail - need - fh->handle_bytes;

                /* The name must be NUL-terminated inside the record. */
                if (max == 0 || !memchr(name, '\0', max))
                        return NULL;
                *ret_name = name;
        }
        return out;
}

size_t fanotify_source_decode(const void *buf, size_t len, FsEventCallback cb, void *userdata) {
        const struct fanotify_event_metadata *m = buf;
        ssize_t left = (ssize_t) len;
        size_t n = 0;

        for (; FAN_EVENT_OK(m, left); m = FAN_EVENT_NEXT(m, left)) {
                FileId dir, obj;
                FsEvent ev = { .mask = m->mask, .pid = m->pid };
                const char *p = (const char *) (m + 1), *end = (const char *) m + m->event_len;

                if (m->vers != FANOTIFY_METADATA_VERSION)
                        continue;
                if (m->mask & FAN_Q_OVERFLOW) {
                        cb(&ev, userdata);
                        n++;
                        continue;
                }

                while (p + sizeof(struct fanotify_event_info_header) <= end) {
                        const struct fanotify_event_info_header *h = (const void *) p;
                        size_t avail = (size_t) (end - p);

                        if (h->len < sizeof(*h) || h->len > avail)
                                break;
                        switch (h->info_type) {
                        case FAN_EVENT_INFO_TYPE_DFID_NAME:
                                ev.dir = decode_fid((const void *) p, h->len, &dir, &ev.name);
                                break;
                        case FAN_EVENT_INFO_TYPE_DFID:
                                ev.dir = decode_fid((const void *) p, h->len, &dir, NULL);
                                break;
                        case FAN_EVENT_INFO_TYPE_FID:
                                ev.object = decode_fid((const void *) p, h->len, &obj, NULL);
                                break;
                        default:
                                break;
                        }
                        p += h->len;
                }
                /* Self events (a marked folder deleted or moved) name only the object. */
                if (!ev.dir && ev.object) {
                        ev.dir = ev.object;
                        ev.object = NULL;
                        ev.name = NULL;
                }
                if (!ev.dir)
                        continue;
                cb(&ev, userdata);
                n++;
        }
        return n;
}
