/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit test of the hash map against a plain array model, with many inserts and removals
 * (backward-shift deletion is the part that is easy to get wrong), and of both ways an object
 * keeps its key (inline, and through a pointer member). */
#include <string.h>
#include <sys/types.h>

#include "hashmap.h"
#include "lwtest.h"

#define N 20000

int main(void) {
        Hashmap *h = hashmap_new(&pid_hash_ops, 0, false); /* the object is the pid */
        static pid_t keys[N];
        static bool present[N];
        unsigned seed = 12345;

        for (int i = 0; i < N; i++)
                keys[i] = (pid_t) i * 7919;
        for (int round = 0; round < 200000; round++) {
                seed = seed * 1103515245 + 12345;
                int i = (int) ((seed >> 8) % N);
                if (present[i]) {
                        CHECK(hashmap_remove(h, &keys[i]) == &keys[i], "remove %d", i);
                        present[i] = false;
                } else {
                        CHECK(hashmap_put(h, &keys[i]) == 0, "put %d", i);
                        present[i] = true;
                }
        }
        size_t count = 0;
        for (int i = 0; i < N; i++) {
                CHECK((hashmap_get(h, &keys[i]) != NULL) == present[i], "get %d", i);
                count += present[i];
        }
        CHECK(hashmap_size(h) == count, "size");
        CHECK(hashmap_put(h, &keys[0]) == (present[0] ? -EEXIST : 0), "dup");

        size_t it = 0, seen = 0;
        void *v;
        while (hashmap_iterate(h, &it, &v))
                seen++;
        CHECK(seen == hashmap_size(h), "iterate");
        hashmap_free(h);

        struct Named {
                int tag;
                const char *name;
        } a = { 1, "a.jsonl.lock" }, a2 = { 2, "a.jsonl.lock" }, b = { 3, "b.jsonl" };
        Hashmap *s = HASHMAP_NEW_INDIRECT(&string_hash_ops, struct Named, name);
        CHECK(hashmap_put(s, &a) == 0 && hashmap_put(s, &b) == 0, "put");
        CHECK(hashmap_put(s, &a2) == -EEXIST, "same key, another object");
        char key[] = "a.jsonl.lock"; /* equal, not the same pointer */
        CHECK(hashmap_get(s, key) == &a && hashmap_get(s, "b.jsonl") == &b, "get");
        CHECK(hashmap_get(s, "b") == NULL, "miss");
        CHECK(hashmap_remove(s, key) == &a && hashmap_get(s, key) == NULL && hashmap_size(s) == 1, "remove");
        hashmap_free(s);
        return 0;
}
