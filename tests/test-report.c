/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The event table: names round-trip, MESSAGE_IDs are unique 128-bit ids, and every one is in
 * the journal catalog shipped in contrib/. */
#include <ctype.h>
#include <string.h>

#include "lwtest.h"
#include "report.h"

int main(void) {
        const char *srcdir = getenv("LW_SRCDIR");
        char *catalog, path[4096];
        FILE *f;
        long n;

        snprintf(path, sizeof(path), "%s/contrib/lockwarden.catalog", srcdir ? srcdir : "..");
        f = fopen(path, "re");
        CHECK(f, "cannot open %s", path);
        fseek(f, 0, SEEK_END);
        n = ftell(f);
        rewind(f);
        catalog = calloc(1, (size_t) n + 1);
        CHECK(fread(catalog, 1, (size_t) n, f) == (size_t) n, "read catalog");
        fclose(f);

        for (int k = 0; k < _EVENT_KIND_MAX; k++) {
                const char *name = event_kind_to_string(k), *id = event_kind_message_id(k);
                char header[64];

                CHECK(name && event_kind_from_string(name) == k, "name %d", k);
                CHECK(id && strlen(id) == 32, "id %s", name);
                for (const char *c = id; *c; c++)
                        CHECK(isxdigit((unsigned char) *c) && !isupper((unsigned char) *c), "id %s", id);
                for (int j = 0; j < k; j++)
                        CHECK(strcmp(id, event_kind_message_id(j)) != 0, "duplicate id");
                snprintf(header, sizeof(header), "-- %s\n", id);
                CHECK(strstr(catalog, header), "catalog lacks %s (%s)", id, name);
                CHECK(strstr(catalog, name), "catalog does not name %s", name);
        }
        CHECK(event_kind_from_string("nope") < 0, "unknown name");
        free(catalog);
        return 0;
}
