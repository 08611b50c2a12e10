/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The event table: names round-trip, MESSAGE_IDs are unique 128-bit ids, and every one is in
 * the journal catalog shipped in contrib/, where each entry says what the event means, what
 * lockwarden did and what the operator should do. */
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
                const char *entry = strstr(catalog, header);
                CHECK(entry, "catalog lacks %s (%s)", id, name);
                CHECK(strstr(catalog, name), "catalog does not name %s", name);
                /* Each entry says what it means, what lockwarden did, what to do. */
                const char *next = strstr(entry + 1, "\n-- ");
                size_t len = next ? (size_t) (next - entry) : strlen(entry);
                char *text = strndup(entry, len);
                char subject[96];
                snprintf(subject, sizeof(subject), "(%s)\n", name);
                CHECK(strstr(text, "\nSubject: ") && strstr(text, subject), "%s: Subject names no (%s)", id, name);
                CHECK(strstr(text, "\nWhat lockwarden did: "), "%s (%s) does not say what lockwarden did", id, name);
                CHECK(strstr(text, "\nWhat to do: "), "%s (%s) does not say what to do", id, name);
                free(text);
        }
        CHECK(event_kind_from_string("nope") < 0, "unknown name");
        free(catalog);
        return 0;
}
