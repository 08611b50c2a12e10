/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hashmap.h: an open-addressing hash table of objects, each found by a key that is one of its
 * own members: stored inline (a pid, an inode pair) or pointed to by a member (a name, a file
 * handle). A slot is one pointer, the object's: the maps hold every tracked file two or three
 * times over, so a slot's size is most of the daemon's memory per file. A key must not change
 * while its object is in a map. The hash is seeded at random per process so that file names
 * chosen by other users cannot be crafted to collide. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct HashOps {
        uint64_t (*hash)(const void *key, uint64_t seed);
        bool (*equal)(const void *a, const void *b);
} HashOps;

typedef struct Hashmap Hashmap;

/* The key of an object is at KEY_OFFSET in it, or (KEY_INDIRECT) is what the pointer there
 * points to. Use HASHMAP_NEW(ops, type, member) or HASHMAP_NEW_INDIRECT(ops, type, member). */
Hashmap *hashmap_new(const HashOps *ops, size_t key_offset, bool key_indirect);
#define HASHMAP_NEW(ops, type, member) hashmap_new((ops), offsetof(type, member), false)
#define HASHMAP_NEW_INDIRECT(ops, type, member) hashmap_new((ops), offsetof(type, member), true)
Hashmap *hashmap_free(Hashmap *h);
/* 0 on success, -EEXIST if an object with the same key is present, -ENOMEM. */
int hashmap_put(Hashmap *h, void *object);
void *hashmap_get(const Hashmap *h, const void *key);
void *hashmap_remove(Hashmap *h, const void *key);
size_t hashmap_size(const Hashmap *h);
/* Iterate with *state starting at 0; do not modify the map while iterating. */
bool hashmap_iterate(const Hashmap *h, size_t *state, void **ret_object);

uint64_t hash_bytes(const void *p, size_t n, uint64_t seed);

extern const HashOps string_hash_ops;  /* key: const char * */
extern const HashOps pid_hash_ops;     /* key: const pid_t * */
