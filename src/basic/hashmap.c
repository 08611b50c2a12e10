/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hashmap.c: linear probing with backward-shift deletion (no tombstones). The table grows by
 * half, not double, and a hash is mapped onto it by multiplication (any size works), so it is
 * between 1/2 and 3/4 full once it has grown: with 100,000 files that is a quarter less memory
 * than a power-of-two table that is 3/8 to 3/4 full. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/types.h>
#include <unistd.h>

#include "hashmap.h"

struct Hashmap {
        const HashOps *ops;
        void **slots;   /* the objects; the hash is not kept (it is cheap to compute again
                         * when the table grows or a cluster shifts) */
        size_t n_slots; /* 0 before the first put */
        size_t n_items;
        size_t key_offset;
        bool key_indirect;
        uint64_t seed;
};

static const void *key_of(const Hashmap *h, const void *object) {
        const char *p = (const char *) object + h->key_offset;
        return h->key_indirect ? *(const void *const *) p : p;
}

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

Hashmap *hashmap_new(const HashOps *ops, size_t key_offset, bool key_indirect) {
        Hashmap *h = calloc(1, sizeof(*h));

        if (!h)
                return NULL;
        h->ops = ops;
        h->key_offset = key_offset;
        h->key_indirect = key_indirect;
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

static uint64_t hash_of(const Hashmap *h, const void *object) {
        return h->ops->hash(key_of(h, object), h->seed);
}

/* The home slot: HASH scaled onto [0, n_slots) (mix64 makes the high bits as good as any). */
static size_t home_of(const Hashmap *h, uint64_t hash) {
        return (size_t) (((unsigned __int128) hash * h->n_slots) >> 64);
}

static size_t next_slot(const Hashmap *h, size_t i) {
        return i + 1 == h->n_slots ? 0 : i + 1;
}

static size_t find_slot(const Hashmap *h, const void *key, uint64_t hash, bool *found) {
        /* Only the home slot comes from the hash; equal() decides. */
        for (size_t i = home_of(h, hash);; i = next_slot(h, i)) {
                const void *o = h->slots[i];

                if (!o) {
                        *found = false;
                        return i;
                }
                if (h->ops->equal(key_of(h, o), key)) {
                        *found = true;
                        return i;
                }
        }
}

static int grow(Hashmap *h) {
        size_t n = h->n_slots ? h->n_slots + h->n_slots / 2 : 16;
        void **old = h->slots;
        size_t old_n = h->n_slots;

        h->slots = calloc(n, sizeof(*h->slots));
        if (!h->slots) {
                h->slots = old;
                return -ENOMEM;
        }
        h->n_slots = n;
        for (size_t i = 0; i < old_n; i++) {
                bool found;

                if (old[i])
                        h->slots[find_slot(h, key_of(h, old[i]), hash_of(h, old[i]), &found)] = old[i];
        }
        free(old);
        return 0;
}

int hashmap_put(Hashmap *h, void *object) {
        const void *key = key_of(h, object);
        uint64_t hash = h->ops->hash(key, h->seed);
        bool found;
        size_t i;

        /* Keep the load factor at or below 3/4: with a seeded hash nobody can aim names at one
         * cluster, and linear probing then averages under 3 probes for a hit, 8.5 for a miss. */
        if ((h->n_items + 1) * 4 > h->n_slots * 3) {
                int r = grow(h);
                if (r < 0)
                        return r;
        }
        i = find_slot(h, key, hash, &found);
        if (found)
                return -EEXIST;
        h->slots[i] = object;
        h->n_items++;
        return 0;
}

void *hashmap_get(const Hashmap *h, const void *key) {
        bool found;
        size_t i;

        if (!h || h->n_items == 0)
                return NULL;
        i = find_slot(h, key, h->ops->hash(key, h->seed), &found);
        return found ? h->slots[i] : NULL;
}

void *hashmap_remove(Hashmap *h, const void *key) {
        size_t i, j;
        bool found;
        void *object;

        if (!h || h->n_items == 0)
                return NULL;
        i = find_slot(h, key, h->ops->hash(key, h->seed), &found);
        if (!found)
                return NULL;
        object = h->slots[i];
        h->slots[i] = NULL;
        h->n_items--;

        /* Backward-shift the following cluster so lookups never stop early at the hole. */
        for (j = next_slot(h, i); h->slots[j]; j = next_slot(h, j)) {
                size_t home = home_of(h, hash_of(h, h->slots[j]));

                /* Move slot j into the hole at i if its home is not cyclically within (i, j]. */
                if ((j > i && (home <= i || home > j)) || (j < i && (home <= i && home > j))) {
                        h->slots[i] = h->slots[j];
                        h->slots[j] = NULL;
                        i = j;
                }
        }
        return object;
}

bool hashmap_iterate(const Hashmap *h, size_t *state, void **ret_object) {
        if (!h)
                return false;
        for (; *state < h->n_slots; (*state)++) {
                void *o = h->slots[*state];

                if (o) {
                        (*state)++;
                        if (ret_object)
                                *ret_object = o;
                        return true;
                }
        }
        return false;
}
