/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* macro.h: small helpers shared by every module: cleanup attributes, array sizes. */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))
#define MAX_SIZE(a, b) ((size_t) (a) > (size_t) (b) ? (size_t) (a) : (size_t) (b))
#define MIN_SIZE(a, b) ((size_t) (a) < (size_t) (b) ? (size_t) (a) : (size_t) (b))
#define _unused_ __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _cleanup_(f) __attribute__((cleanup(f)))

static inline void freep(void *p) {
        free(*(void **) p);
}
#define _cleanup_free_ _cleanup_(freep)

static inline void closep(int *fd) {
        if (*fd >= 0) {
                int saved = errno;
                close(*fd);
                errno = saved;
        }
}
#define _cleanup_close_ _cleanup_(closep)

static inline void fclosep(FILE **f) {
        if (*f)
                fclose(*f);
}
#define _cleanup_fclose_ _cleanup_(fclosep)

#define SWAP(a, b) do { __typeof__(a) _s = (a); (a) = (b); (b) = _s; } while (0)
/* Take ownership out of a cleanup variable. */
#define TAKE_PTR(p) ({ __typeof__(p) _t = (p); (p) = NULL; _t; })
#define TAKE_FD(fd) ({ int _t = (fd); (fd) = -1; _t; })

/* Makes room for one more element in *ARRAY (of *N_ALLOC elements of SIZE bytes, N in use),
 * doubling from FIRST. false (array unchanged) when out of memory. */
static inline bool grow_array(void **array, size_t *n_alloc, size_t n, size_t size, size_t first) {
        size_t k = *n_alloc ? *n_alloc * 2 : first;
        void *p;

        if (n < *n_alloc)
                return true;
        p = realloc(*array, k * size);
        if (!p)
                return false;
        *array = p;
        *n_alloc = k;
        return true;
}

static inline int negative_errno(void) {
        return errno > 0 ? -errno : -EIO;
}

/* A fact that may not be known. */
typedef enum Tristate {
        TRISTATE_NO,
        TRISTATE_YES,
        TRISTATE_UNKNOWN,
} Tristate;
