/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Malformed payloads (empty, not JSON, pid as a string, negative pid, 1 MiB of garbage,
 * deeply nested JSON, a JSON array) are stale as `malformed` only after the grace, and the
 * daemon survives them all (CI runs this under ASan/UBSan). A lock too large to verify byte
 * for byte is reported and kept, never removed. */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "lwtest.h"

#define GRACE_MS 300

static void check_one(LwEnv *e, const char *name, const char *data, size_t len, bool removable) {
        char *lock = lw_path(e->sessions, name);
        uint64_t written;

        /* The grace runs from the writer's close; a time taken just before close() is a
         * lower bound for it (one taken after could be late by a descheduling). */
        int fd = open(lock, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        CHECK(fd >= 0 && write(fd, data, len) == (ssize_t) len, "write %s", name);
        written = lw_mono_ns();
        close(fd);
        json_t *st = lw_expect(e->d, LW_TIMEOUT_MS, "lock.stale", "lock", lock);
        CHECK(strcmp(jstr(st, "reason"), "malformed") == 0, "%s: reason %s", name, jstr(st, "reason"));
        CHECK((uint64_t) jint(st, "mono_ns") >= written + GRACE_MS * 1000000ull,
              "%s: judged malformed before the grace ended", name);
        CHECK(*jstr(st, "detail"), "%s: no detail", name);
        if (removable) {
                lw_expect(e->d, LW_TIMEOUT_MS, "lock.cleaned", "lock", lock);
                CHECK(!lw_exists(lock), "%s still on disk", name);
        } else {
                json_t *k = lw_expect(e->d, LW_TIMEOUT_MS, "lock.kept", "lock", lock);
                CHECK(*jstr(k, "why"), "%s: kept without why", name);
                CHECK(lw_exists(lock), "%s removed", name);
        }
}

int main(void) {
        LwEnv e;
        lw_env_start(&e, "300", NULL);

        check_one(&e, "empty.jsonl.lock", "", 0, true);
        check_one(&e, "notjson.jsonl.lock", "pid: 12\n", 8, true);
        check_one(&e, "pidstring.jsonl.lock", "{\"pid\": \"4242\"}\n", 16, true);
        check_one(&e, "negative.jsonl.lock", "{\"pid\": -5, \"createdAt\": \"2026-05-28T04:22:01.123Z\"}", 52, true);
        check_one(&e, "array.jsonl.lock", "[1,2,3]", 7, true);
        check_one(&e, "nopid.jsonl.lock", "{\"createdAt\": \"2026-05-28T04:22:01.123Z\"}", 41, true);

        size_t deep_n = 200000;
        char *deep = malloc(deep_n * 2);
        memset(deep, '[', deep_n);
        memset(deep + deep_n, ']', deep_n);
        /* 400 KB: over the size cap too, so kept. A deep one within the cap: */
        check_one(&e, "deep-huge.jsonl.lock", deep, deep_n * 2, false);
        size_t small_n = 30000;
        char *deep2 = malloc(small_n * 2);
        memset(deep2, '[', small_n);
        memset(deep2 + small_n, ']', small_n);
        check_one(&e, "deep.jsonl.lock", deep2, small_n * 2, true);

        size_t big = 1 << 20;
        char *garbage = malloc(big);
        for (size_t i = 0; i < big; i++)
                garbage[i] = (char) (i * 2654435761u >> 13);
        check_one(&e, "garbage.jsonl.lock", garbage, big, false);

        CHECK(lw_daemon_stop(e.d) == 0, "daemon did not survive");
        return 0;
}
