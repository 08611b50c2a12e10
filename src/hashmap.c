/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hashmap.c: linear probing with backward-shift deletion (no tombstones). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/types.h>
#include <unistd.h>

#include "hashmap.h"

/* 16 bytes: the hash is not kept (it is cheap to compute again when the table grows or a
 * cluster shifts); the maps hold every tracked file two or three times over. */
typedef struct Slot {
        const void *key;
        void *value;
} Slot;

struct Hashmap {
        const HashOps *ops;
        Slot *slots;
        size_t n_slots; /* power of two, or 0 */
        size_t n_items;
        uint64_t seed;
};

static uint64_t global_seed(void) {
        static uint64_t seed;
        static bool have_seed;

        if (!have_seed) {
                if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != sizeof(seed))
                        seed = (uint64_t) (uintptr_t) &seed ^ (uint64_t) getpid() * 0x9e3779b97f4a7c15ull;
                have_seed = true;
        }
        return seed;
}

static uint64_t mix64(uint64_t h) {
        h ^= h >> 33;
        h *= 0xff51afd7ed558ccdull;
        h ^= h >> 33;
        h *= 0xc4ceb9fe1a85ec53ull;
        h ^= h >> 33;
        return h;
}

uint64_t hash_bytes(const void *p, size_t n, uint64_t seed) {
        const unsigned char *b = p;
        uint64_t h = 0xcbf29ce484222325ull ^ mix64(seed);

        for (size_t i = 0; i < n; i++) {
                h ^= b[i];
                h *= 0x100000001b3ull;
        }
        return mix64(h ^ n);
}

static uint64_t string_hash(const void *key, uint64_t seed) {
        return hash_bytes(key, strlen(key), seed);
}

static bool string_equal(const void *a, const void *b) {
        return strcmp(a, b) == 0;
}

const HashOps string_hash_ops = { string_hash, string_equal };

static uint64_t pid_hash(const void *key, uint64_t seed) {
        return mix64((uint64_t) *(const pid_t *) key ^ seed);
}

static bool pid_equal(const void *a, const void *b) {
        return *(const pid_t *) a == *(const pid_t *) b;
}

const HashOps pid_hash_ops = { pid_hash, pid_equal };

Hashmap *hashmap_new(const HashOps *ops) {
        Hashmap *h = calloc(1, sizeof(*h));

        if (!h)
                return NULL;
        h->ops = ops;
        h->seed = global_seed();
        return h;
}

Hashmap *hashmap_free(Hashmap *h) {
        if (h) {
                free(h->slots);
                free(h);
        }
        return NULL;
}

size_t hashmap_size(const Hashmap *h) {
        return h ? h->n_items : 0;
}

static size_t find_slot(const Hashmap *h, const void *key, uint64_t hash, bool *found) {
        /* Only the home slot comes from the hash; equal() decides. */
        size_t mask = h->n_slots - 1;

        for (size_t i = hash & mask;; i = (i + 1) & mask) {
                const Slot *s = &h->slots[i];

                if (!s->key) {
                        *found = false;
                        return i;
                }
                if (h->ops->equal(s->key, key)) {
                        *found = true;
                        return i;
                }
        }
}

static int grow(Hashmap *h) {
        size_t n = h->n_slots ? h->n_slots * 2 : 16;
        Slot *old = h->slots;
        size_t old_n = h->n_slots;

        h->slots = calloc(n, sizeof(Slot));
        if (!h->slots) {
                h->slots = old;
                return -ENOMEM;
        }
        h->n_slots = n;
        for (size_t i = 0; i < old_n; i++) {
                bool found;
                size_t j;

                if (!old[i].key)
                        continue;
                j = find_slot(h, old[i].key, h->ops->hash(old[i].key, h->seed), &found);
                h->slots[j] = old[i];
        }
        free(old);
        return 0;
}

int hashmap_put(Hashmap *h, const void *key, void *value) {
        uint64_t hash = h->ops->hash(key, h->seed);
        bool found;
        size_t i;

        /* Keep the load factor at or below 1/2: probes stay short even under adversarial names. */
        if ((h->n_items + 1) * 2 > h->n_slots) {
                int r = grow(h);
                if (r < 0)
                        return r;
        }
        i = find_slot(h, key, hash, &found);
        if (found)
                return -EEXIST;
        h->slots[i] = (Slot) { .key = key, .value = value };
        h->n_items++;
        return 0;
}

void *hashmap_get(const Hashmap *h, const void *key) {
        bool found;
        size_t i;

        if (!h || h->n_items == 0)
                return NULL;
        i = find_slot(h, key, h->ops->hash(key, h->seed), &found);
        return found ? h->slots[i].value : NULL;
}

void *hashmap_remove(Hashmap *h, const void *key) {
        size_t mask, i, j;
        bool found;
        void *value;

        if (!h || h->n_items == 0)
                return NULL;
        mask = h->n_slots - 1;
        i = find_slot(h, key, h->ops->hash(key, h->seed), &found);
        if (!found)
                return NULL;
        value = h->slots[i].value;
        h->slots[i] = (Slot) {};
        h->n_items--;

        /* Backward-shift the following cluster so lookups never stop early at the hole. */
        for (j = (i + 1) & mask; h->slots[j].key; j = (j + 1) & mask) {
                size_t home = h->ops->hash(h->slots[j].key, h->seed) & mask;

                /* Move slot j into the hole at i if its home is not cyclically within (i, j]. */
                if ((j > i && (home <= i || home > j)) || (j < i && (home <= i && home > j))) {
                        h->slots[i] = h->slots[j];
                        h->slots[j] = (Slot) {};
                        i = j;
                }
        }
        return value;
}

bool hashmap_iterate(const Hashmap *h, size_t *state, void **ret_value, const void **ret_key) {
        if (!h)
                return false;
        for (; *state < h->n_slots; (*state)++) {
                const Slot *s = &h->slots[*state];

                if (s->key) {
                        (*state)++;
                        if (ret_value)
                                *ret_value = s->value;
                        if (ret_key)
                                *ret_key = s->key;
                        return true;
                }
        }
        return false;
}
