/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit test of time-util: durations as configured ("30s", "5m", plain seconds) parse to the
 * right milliseconds and anything else is -EINVAL (a bad option must fail loudly, not become a
 * zero grace); ages print in the short forms the tables show; ISO timestamps round-trip, as
 * OpenClaw's Date.toISOString() writes them. */
#include <errno.h>
#include <string.h>

#include "lwtest.h"
#include "time-util.h"

static void dur(const char *s, long long want) {
        long long v = -12345;
        int r = parse_duration_ms(s, &v);

        CHECK(r == 0 && v == want, "parse_duration_ms(%s) = %d, %lld; want %lld", s, r, v, want);
}

static void dur_bad(const char *s) {
        long long v = -12345;
        int r = parse_duration_ms(s, &v);

        CHECK(r == -EINVAL, "parse_duration_ms(%s) = %d, want -EINVAL", s ? s : "NULL", r);
        CHECK(v == -12345, "parse_duration_ms(%s) wrote %lld on failure", s ? s : "NULL", v);
}

static void age(long long ms, const char *want) {
        char buf[32];

        format_age(ms, buf, sizeof(buf));
        CHECK(strcmp(buf, want) == 0, "format_age(%lld) = %s, want %s", ms, buf, want);
}

static void iso(const char *s, int64_t want) {
        int64_t us = -1;
        int r = parse_iso_ts(s, &us);

        CHECK(r == 0 && us == want, "parse_iso_ts(%s) = %d, %lld; want %lld", s, r, (long long) us,
              (long long) want);
}

static void iso_bad(const char *s) {
        int64_t us = 4242;
        int r = parse_iso_ts(s, &us);

        CHECK(r == -EINVAL && us == 4242, "parse_iso_ts(%s) = %d, %lld; want -EINVAL untouched", s,
              r, (long long) us);
}

int main(void) {
        /* Durations: every suffix, and plain seconds. */
        dur("250ms", 250);
        dur("30s", 30000);
        dur("5m", 300000);
        dur("2h", 7200000);
        dur("1d", 86400000);
        dur("12", 12000);
        dur("0", 0);
        dur("0ms", 0);
        dur_bad(NULL);
        dur_bad("");
        dur_bad("-5s");
        dur_bad("s");
        dur_bad("5x");
        dur_bad("5 s");
        dur_bad("5s ");
        dur_bad("5sm");
        dur_bad("3m12s");       /* what format_age prints is not a configuration value */
        dur_bad("1.5s");
        dur_bad("99999999999999999999");           /* strtoll overflow */
        dur_bad("9223372036854775807d");           /* overflow on the unit's multiplication */
        dur("9223372036854775807ms", INT64_MAX);   /* the largest fits exactly */

        /* Ages: each form at its boundary. */
        age(-1, "-");
        age(0, "0ms");
        age(999, "999ms");
        age(1000, "1s");
        age(59999, "59s");
        age(60000, "1m00s");
        age(192000, "3m12s");
        age(3599999, "59m59s");
        age(3600000, "1h00m");
        age(7500000, "2h05m");
        age(86399999, "23h59m");
        age(86400000, "1d00h");
        age(273600000, "3d04h");
        {
                char small[4];  /* truncated, still NUL-terminated */
                format_age(192000, small, sizeof(small));
                CHECK(strcmp(small, "3m1") == 0, "truncated age %s", small);
        }

        /* ISO timestamps. */
        iso("1970-01-01T00:00:00Z", 0);
        iso("1970-01-01T00:00:00.000Z", 0);
        iso("2026-05-28T04:22:01.123Z", INT64_C(1779942121123000));
        iso("2026-05-28T04:22:01.123456Z", INT64_C(1779942121123456));
        iso("2026-05-28T04:22:01.1234569Z", INT64_C(1779942121123456)); /* beyond µs dropped */
        iso("1969-12-31T23:59:58.5Z", -1500000);
        iso_bad("");
        iso_bad("2026-05-28");
        iso_bad("2026-05-28T04:22:01");          /* no zone: local time is not ours to guess */
        iso_bad("2026-05-28T04:22:01+02:00");
        iso_bad("2026-05-28T04:22:01.Z");
        iso_bad("2026-05-28T04:22:01.123Zjunk");
        iso_bad("2026-13-28T04:22:01Z");
        iso_bad("2026-00-28T04:22:01Z");
        iso_bad("2026-05-32T04:22:01Z");
        iso_bad("2026-05-28T24:00:00Z");
        iso_bad("2026-05-28T04:60:00Z");
        iso_bad("2026-05-28T04:22:61Z");
        iso_bad("2026-05-2xT04:22:01Z");
        iso_bad("2026/05/28T04:22:01Z");

        /* format_iso_ts and parse_iso_ts agree, also before 1970. */
        const int64_t samples[] = { 0, 1, 999999, INT64_C(1779942121123456), -1000001, -1500000,
                                    -INT64_C(86400000001) };
        for (size_t i = 0; i < LW_ELEMENTSOF(samples); i++) {
                char buf[ISO_TS_MAX];
                int64_t back = 0;

                format_iso_ts(samples[i], buf);
                CHECK(strlen(buf) == 27, "format_iso_ts(%lld) = %s", (long long) samples[i], buf);
                CHECK(parse_iso_ts(buf, &back) == 0 && back == samples[i],
                      "round trip %lld -> %s -> %lld", (long long) samples[i], buf, (long long) back);
        }
        {
                char buf[ISO_TS_MAX];
                CHECK(strcmp(format_iso_ts(-1, buf), "1969-12-31T23:59:59.999999Z") == 0, "%s", buf);
                /* (Parsing any time within 1969-12-31T23:59:59Z fails: timegm's -1 is read as its
                 * error. No lock is that old; left as it is.) */
        }

        /* The clocks: monotonic never goes back; realtime is after this test was written. */
        uint64_t a = now_mono_ns(), b = now_mono_ns();
        CHECK(a > 0 && b >= a, "monotonic %llu then %llu", (unsigned long long) a, (unsigned long long) b);
        CHECK(now_realtime_us() > INT64_C(1764000000000000), "realtime %lld", (long long) now_realtime_us());
        struct timespec ts = { .tv_sec = -2, .tv_nsec = 500000000 };
        CHECK(timespec_ns(&ts) == -INT64_C(1500000000), "timespec_ns %lld", (long long) timespec_ns(&ts));
        return 0;
}
