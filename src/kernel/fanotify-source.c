/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fanotify-source.c: fanotify_init/fanotify_mark and the record walk.
 *
 * Records look like: metadata, then info records. We ask for FAN_REPORT_DFID_NAME (folder +
 * entry name), FAN_REPORT_FID (the object itself) and, since Linux 5.17, FAN_REPORT_TARGET_FID:
 * then directory-entry events (create, delete, moves) name the exact file created or removed
 * too, so who created or removed which file is known even when the daemon reads late. Older
 * kernels give those events only the folder and name. The kernel merges queued events for the
 * same object and pid into one mask, so a mask says what happened, not
 * in which order. */
#include <fcntl.h>
#include <stddef.h>
#include <string.h>

#include "fanotify-source.h"
#include "macro.h"

#ifndef FAN_REPORT_TARGET_FID
#define FAN_REPORT_TARGET_FID 0x00001000
#endif

int fanotify_source_open(int *ret_fd, bool *ret_target_fid) {
        /* FAN_UNLIMITED_MARKS: one mark per guarded folder, and hosts have thousands. It is
         * also the privilege test: since 5.13 an unprivileged (or user-namespace root) caller
         * may create a FID-mode group too, but its events carry pid 0 for other processes.
         * Admin-only flags fail with EPERM unless CAP_SYS_ADMIN holds in the initial user
         * namespace, which is exactly when events carry every actor's pid. */
        const unsigned base = FAN_CLASS_NOTIF | FAN_CLOEXEC | FAN_NONBLOCK | FAN_UNLIMITED_MARKS |
                              FAN_REPORT_DFID_NAME | FAN_REPORT_FID;
        bool target = true;
        int fd;

        fd = fanotify_init(base | FAN_REPORT_TARGET_FID, O_RDONLY | O_CLOEXEC | O_LARGEFILE);
        if (fd < 0 && errno == EINVAL) {
                target = false;
                fd = fanotify_init(base, O_RDONLY | O_CLOEXEC | O_LARGEFILE);
        }
        if (fd < 0)
                return negative_errno();
        *ret_fd = fd;
        *ret_target_fid = target;
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
        const char *raw = (const char *) info;
        size_t need = sizeof(*info) + sizeof(struct file_handle);
        struct file_handle fh;

        if (avail < need)
                return NULL;
        memcpy(&fh, raw + sizeof(*info), sizeof(fh));
        if (fh.handle_bytes > FILE_ID_MAX_HANDLE || need + fh.handle_bytes > avail)
                return NULL;

        *out = (FileId) { .type = fh.handle_type, .len = fh.handle_bytes };
        memcpy(&out->fsid, raw + offsetof(struct fanotify_event_info_fid, fsid), sizeof(out->fsid));
        memcpy(out->bytes, raw + need, fh.handle_bytes);

        if (ret_name) {
                const char *name = raw + need + fh.handle_bytes;
                size_t max = avail - need - fh.handle_bytes;

                /* The name must be NUL-terminated inside the record. */
                if (max == 0 || !memchr(name, '\0', max))
                        return NULL;
                *ret_name = name;
        }
        return out;
}

size_t fanotify_source_decode(const void *buf, size_t len, FsEventCallback cb, void *userdata) {
        const char *p = buf;
        size_t n = 0;

        /* Records are only 4-byte aligned (the kernel pads names to 4), but the metadata struct
         * has a u64: copy each header out rather than casting in place. */
        while (len >= FAN_EVENT_METADATA_LEN) {
                struct fanotify_event_metadata m;
                FileId dir, obj;
                const char *info, *end;

                memcpy(&m, p, sizeof(m));
                if (m.event_len < FAN_EVENT_METADATA_LEN || m.event_len > len)
                        break;
                info = p + m.metadata_len;
                end = p + m.event_len;
                p = end;
                len -= m.event_len;

                FsEvent ev = { .mask = m.mask, .pid = m.pid };
                if (m.vers != FANOTIFY_METADATA_VERSION || m.metadata_len < FAN_EVENT_METADATA_LEN ||
                    m.metadata_len > m.event_len)
                        continue;
                if (m.mask & FAN_Q_OVERFLOW) {
                        cb(&ev, userdata);
                        n++;
                        continue;
                }

                while (info + sizeof(struct fanotify_event_info_header) <= end) {
                        struct fanotify_event_info_header h;
                        size_t avail = (size_t) (end - info);

                        memcpy(&h, info, sizeof(h));
                        if (h.len < sizeof(h) || h.len > avail)
                                break;
                        switch (h.info_type) {
                        case FAN_EVENT_INFO_TYPE_DFID_NAME:
                                ev.dir = decode_fid((const void *) info, h.len, &dir, &ev.name);
                                break;
                        case FAN_EVENT_INFO_TYPE_DFID:
                                ev.dir = decode_fid((const void *) info, h.len, &dir, NULL);
                                break;
                        case FAN_EVENT_INFO_TYPE_FID:
                                ev.object = decode_fid((const void *) info, h.len, &obj, NULL);
                                break;
                        default:
                                break;
                        }
                        info += h.len;
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
