/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hashmap.h: an open-addressing hash table of (key pointer → value pointer). Keys are owned by
 * the caller and must stay valid while stored. The hash is seeded at random per process so
 * that file names chosen by other users cannot be crafted to collide. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct HashOps {
        uint64_t (*hash)(const void *key, uint64_t seed);
        bool (*equal)(const void *a, const void *b);
} HashOps;

typedef struct Hashmap Hashmap;

Hashmap *hashmap_new(const HashOps *ops);
Hashmap *hashmap_free(Hashmap *h);
/* 0 on success, -EEXIST if the key is present, -ENOMEM. */
int hashmap_put(Hashmap *h, const void *key, void *value);
void *hashmap_get(const Hashmap *h, const void *key);
void *hashmap_remove(Hashmap *h, const void *key);
size_t hashmap_size(const Hashmap *h);
/* Iterate with *state starting at 0; do not modify the map while iterating. */
bool hashmap_iterate(const Hashmap *h, size_t *state, void **ret_value, const void **ret_key);

uint64_t hash_bytes(const void *p, size_t n, uint64_t seed);

extern const HashOps string_hash_ops;  /* key: const char * */
extern const HashOps pid_hash_ops;     /* key: const pid_t * */
