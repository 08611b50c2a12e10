/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit test of payload parsing (untrusted bytes) and the bounded, non-following read. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lwtest.h"
#include "payload.h"
#include "time-util.h"

static LockPayload parse(const char *s) {
        LockPayload p;
        payload_parse(s, strlen(s), &p);
        return p;
}

int main(void) {
        LockPayload p;

        p = parse("{\n  \"pid\": 4242,\n  \"createdAt\": \"2026-05-28T04:22:01.123Z\",\n"
                  "  \"maxHoldMs\": 300000,\n  \"starttime\": 776073\n}\n");
        CHECK(p.valid && p.pid == 4242, "pid");
        CHECK(p.has_starttime && p.starttime == 776073, "starttime");
        CHECK(p.has_max_hold && p.max_hold_ms == 300000, "maxHoldMs");
        CHECK(p.has_created_at && p.created_at_us == 1779942121123000LL, "createdAt %lld", (long long) p.created_at_us);

        /* Older releases: pid and createdAt only. */
        p = parse("{\"pid\": 7, \"createdAt\": \"2026-05-28T04:22:01Z\"}");
        CHECK(p.valid && !p.has_starttime && !p.has_max_hold && p.has_created_at, "old format");

        /* Valid pid, bad createdAt: still valid (pid is what matters), with a note. */
        p = parse("{\"pid\": 7, \"createdAt\": \"yesterday\"}");
        CHECK(p.valid && !p.has_created_at && strstr(p.error, "createdAt"), "bad createdAt");

        const char *bad[] = {
                "", " ", "null", "[]", "\"pid\"", "{}", "{\"pid\": \"4242\"}", "{\"pid\": -1}",
                "{\"pid\": 0}", "{\"pid\": 4.5}", "{\"pid\": 99999999999}", "{\"pid\": true}",
                "{\"pid\": 1, \"pid\": 2}", "{\"pid\": 12", "{\"pid\": 12}garbage", "\xff\xfe",
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                p = parse(bad[i]);
                CHECK(!p.valid && p.error[0], "accepted bad payload %zu: %s", i, bad[i]);
        }
        /* Embedded NUL. */
        payload_parse("{\"pid\": 5}\0x", 12, &p);
        CHECK(!p.valid, "embedded NUL accepted");

        /* Deep nesting: an error, not a stack overflow. */
        size_t n = 60000;
        char *deep = malloc(2 * n + 1);
        memset(deep, '[', n);
        memset(deep + n, ']', n);
        deep[2 * n] = '\0';
        payload_parse(deep, 2 * n, &p);
        CHECK(!p.valid, "deep nesting");
        free(deep);

        /* Over the cap. */
        char *big = calloc(1, PAYLOAD_MAX + 2);
        memset(big, ' ', PAYLOAD_MAX + 1);
        payload_parse(big, PAYLOAD_MAX + 1, &p);
        CHECK(!p.valid && strstr(p.error, "larger"), "cap");

        /* ISO parsing edge cases. */
        int64_t us;
        CHECK(parse_iso_ts("1970-01-01T00:00:00Z", &us) == 0 && us == 0, "epoch");
        CHECK(parse_iso_ts("2026-05-28T04:22:01.1234567Z", &us) == 0 && us % 1000000 == 123456, "fraction");
        CHECK(parse_iso_ts("2026-05-28T04:22:01.123+02:00", &us) < 0, "offsets are not what JS writes");
        CHECK(parse_iso_ts("2026-13-28T04:22:01Z", &us) < 0, "month");
        CHECK(parse_iso_ts("2026-05-28T04:22:01.Z", &us) < 0, "empty fraction");
        char buf[ISO_TS_MAX];
        CHECK(strcmp(format_iso_ts(1779942121123456LL, buf), "2026-05-28T04:22:01.123456Z") == 0, "format %s", buf);

        /* Reading: regular files only, never through a symlink, bounded. */
        char *dir = lw_tmpdir();
        int dfd = open(dir, O_RDONLY | O_DIRECTORY);
        char *f = lw_path(dir, "a.jsonl.lock");
        lw_write_file(f, "{\"pid\": 3}", 10);
        char *out;
        size_t len;
        struct stat st;
        CHECK(payload_read_at(dfd, "a.jsonl.lock", 0, &out, &len, &st, NULL) == 0 && len == 10, "read");
        free(out);
        CHECK(symlinkat("a.jsonl.lock", dfd, "l.jsonl.lock") == 0, "symlink");
        CHECK(payload_read_at(dfd, "l.jsonl.lock", 0, &out, &len, &st, NULL) == -ELOOP, "followed a symlink");
        CHECK(mkfifoat(dfd, "f.jsonl.lock", 0600) == 0, "fifo");
        CHECK(payload_read_at(dfd, "f.jsonl.lock", 0, &out, &len, &st, NULL) == -EBADFD, "fifo not refused");
        char *huge = lw_path(dir, "h.jsonl.lock");
        lw_write_file(huge, big, PAYLOAD_MAX + 1);
        CHECK(payload_read_at(dfd, "h.jsonl.lock", 0, &out, &len, &st, NULL) == -EFBIG, "huge not refused");
        free(big);
        return 0;
}
