/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit test of the exposition's text (metrics_format, pure): HELP and TYPE before each
 * family's samples, label values with backslash, double quote and line feed escaped, HELP
 * with backslash and line feed escaped, histograms as _bucket{le}, _sum, _count. The daemon's
 * own label values never hold such bytes; the escaping is checked here. */
#include <string.h>

#include "lwtest.h"
#include "metrics.h"

int main(void) {
        json_t *m = json_pack(
                "{s:[{s:s, s:s, s:s, s:[{s:{s:s}, s:i}, {s:{}, s:i}]},"
                "    {s:s, s:s, s:s, s:[{s:s, s:i}, {s:s, s:i}], s:f, s:i}]}",
                "metrics",
                "name", "x_total", "type", "counter", "help", "a \\ back\nslash",
                "samples", "labels", "k", "q\"uote\\back\nline", "value", 3, "labels", "value", 4,
                "name", "h_seconds", "type", "histogram", "help", "h",
                "buckets", "le", "0.5", "count", 1, "le", "+Inf", "count", 2, "sum", 0.25, "count", 2);
        CHECK(m, "json_pack");
        char *text = metrics_format(m);
        const char *want =
                "# HELP x_total a \\\\ back\\nslash\n"
                "# TYPE x_total counter\n"
                "x_total{k=\"q\\\"uote\\\\back\\nline\"} 3\n"
                "x_total 4\n"
                "# HELP h_seconds h\n"
                "# TYPE h_seconds histogram\n"
                "h_seconds_bucket{le=\"0.5\"} 1\n"
                "h_seconds_bucket{le=\"+Inf\"} 2\n"
                "h_seconds_sum 0.250000\n"
                "h_seconds_count 2\n";
        CHECK(text && strcmp(text, want) == 0, "got:\n%s\nwant:\n%s", text ? text : "(null)", want);
        free(text);
        json_decref(m);

        /* Nothing to show: an empty text, not a failure. */
        m = json_pack("{s:[]}", "metrics");
        text = metrics_format(m);
        CHECK(text && text[0] == '\0', "empty: %s", text ? text : "(null)");
        free(text);
        json_decref(m);
        return 0;
}
