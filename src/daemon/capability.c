/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* capability.c: dropping what start-up needed and the steady state does not. */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "capability.h"
#include "macro.h"

/* Reading and removing other users' locks, reading their /proc, and a read lease on a lock
 * another user owns for the instant of its removal (cleanup.c). */
static const cap_value_t steady[] = { CAP_DAC_OVERRIDE, CAP_SYS_PTRACE, CAP_LEASE };

static bool is_steady(cap_value_t c) {
        for (size_t i = 0; i < ELEMENTSOF(steady); i++)
                if (steady[i] == c)
                        return true;
        return false;
}

int caps_lookup_user(const char *user, CapsUser *ret) {
        struct passwd *pw;
        char *end;
        long n;

        errno = 0;
        n = strtol(user, &end, 10);
        pw = *user && !*end && n >= 0 ? getpwuid((uid_t) n) : getpwnam(user);
        if (!pw)
                return errno > 0 ? -errno : -ESRCH;
        *ret = (CapsUser) { .uid = pw->pw_uid, .gid = pw->pw_gid, .name = strdup(pw->pw_name) };
        return ret->name ? 0 : -ENOMEM;
}

void caps_user_done(CapsUser *u) {
        free(u->name);
        *u = (CapsUser) {};
}

bool caps_have(int cap) {
        cap_t c = cap_get_proc();
        cap_flag_value_t v = CAP_CLEAR;

        if (c) {
                (void) cap_get_flag(c, (cap_value_t) cap, CAP_EFFECTIVE, &v);
                cap_free(c);
        }
        return v == CAP_SET;
}

/* The steady capabilities this process holds in its permitted set. */
static int steady_held(cap_value_t *ret, int *n) {
        cap_t c = cap_get_proc();

        if (!c)
                return -errno;
        *n = 0;
        for (size_t i = 0; i < ELEMENTSOF(steady); i++) {
                cap_flag_value_t v = CAP_CLEAR;
                if (cap_get_flag(c, steady[i], CAP_PERMITTED, &v) == 0 && v == CAP_SET)
                        ret[(*n)++] = steady[i];
        }
        cap_free(c);
        return 0;
}

int caps_enter_steady_state(const CapsUser *user, char *err, size_t err_size) {
        cap_value_t keep[ELEMENTSOF(steady)];
        int n_keep = 0, r;
        cap_t c;

        err[0] = '\0';
        r = steady_held(keep, &n_keep);
        if (r < 0) {
                snprintf(err, err_size, "cannot read the capability sets: %s", strerror(-r));
                return r;
        }

        /* The bounding set first: shrinking it needs CAP_SETPCAP, dropped below. A process
         * without it (started by a service manager that already bounded it) keeps the
         * bounding set it was given. */
        if (caps_have(CAP_SETPCAP))
                for (cap_value_t v = 0; v <= CAP_LAST_CAP; v++)
                        if (!is_steady(v) && CAP_IS_SUPPORTED(v) && cap_drop_bound(v) < 0) {
                                r = -errno;
                                snprintf(err, err_size, "cannot drop capability %d from the bounding set: %s",
                                         (int) v, strerror(-r));
                                return r;
                        }

        if (user) {
                /* Keep the permitted set across the change of uid; the effective set is
                 * raised again from it below. */
                if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0 || setgroups(0, NULL) < 0 ||
                    setresgid(user->gid, user->gid, user->gid) < 0 ||
                    setresuid(user->uid, user->uid, user->uid) < 0) {
                        r = -errno;
                        snprintf(err, err_size, "cannot become user %s (uid %u): %s", user->name,
                                 (unsigned) user->uid, strerror(-r));
                        return r;
                }
                (void) prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
        }

        c = cap_init(); /* all clear: inheritable stays empty */
        if (!c) {
                snprintf(err, err_size, "out of memory");
                return -ENOMEM;
        }
        if (n_keep > 0 && (cap_set_flag(c, CAP_EFFECTIVE, n_keep, keep, CAP_SET) < 0 ||
                           cap_set_flag(c, CAP_PERMITTED, n_keep, keep, CAP_SET) < 0)) {
                r = -errno;
                cap_free(c);
                snprintf(err, err_size, "cannot build the capability set: %s", strerror(-r));
                return r;
        }
        r = cap_set_proc(c);
        cap_free(c);
        if (r < 0) {
                r = -errno;
                snprintf(err, err_size, "cannot set the capabilities: %s", strerror(-r));
                return r;
        }
        /* Ambient capabilities would pass to anything we exec (we exec nothing: make sure). */
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL) {
                r = -errno;
                snprintf(err, err_size, "cannot clear the ambient capabilities: %s", strerror(-r));
                return r;
        }
        /* No way back up (setuid binaries, file capabilities), no core dumps or ptrace by
         * others of a process that holds what it read from other users' files. */
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) {
                r = -errno;
                snprintf(err, err_size, "cannot set no_new_privs or dumpable: %s", strerror(-r));
                return r;
        }
        return 0;
}

json_t *caps_effective_json(void) {
        json_t *a = json_array();
        cap_t c = cap_get_proc();

        for (cap_value_t v = 0; a && c && v <= CAP_LAST_CAP; v++) {
                cap_flag_value_t f = CAP_CLEAR;
                if (cap_get_flag(c, v, CAP_EFFECTIVE, &f) == 0 && f == CAP_SET) {
                        char *name = cap_to_name(v);
                        json_array_append_new(a, json_string(name ? name : "?"));
                        cap_free(name);
                }
        }
        if (c)
                cap_free(c);
        return a;
}

json_t *caps_missing_steady(void) {
        json_t *a = json_array();
        cap_t c = cap_get_proc(), none = cap_init();
        bool privileged;

        if (!a || !c || !none) {
                cap_free(c);
                cap_free(none);
                return a;
        }
        privileged = cap_compare(c, none) != 0;
        for (size_t i = 0; privileged && i < ELEMENTSOF(steady); i++) {
                cap_flag_value_t v = CAP_CLEAR;
                if (cap_get_flag(c, steady[i], CAP_PERMITTED, &v) == 0 && v != CAP_SET) {
                        char *name = cap_to_name(steady[i]);
                        json_array_append_new(a, json_string(name ? name : "?"));
                        cap_free(name);
                }
        }
        cap_free(c);
        cap_free(none);
        return a;
}
