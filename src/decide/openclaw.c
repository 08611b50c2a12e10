/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* openclaw.c: the application's rules, read from its published packages (PROTOCOL.md). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "macro.h"
#include "openclaw.h"

static const char *const release_table[_RELEASE_MAX] = {
        [RELEASE_UNKNOWN] = "unknown",
        [RELEASE_2026_5] = "2026.5",
        [RELEASE_2026_7] = "2026.7",
        [RELEASE_2026_8] = "2026.8+",
};

const char *release_to_string(Release r) {
        return r >= 0 && r < _RELEASE_MAX ? release_table[r] : NULL;
}

Release release_from_string(const char *s) {
        if (!s)
                return _RELEASE_INVALID;
        if (strcmp(s, "2026.8") == 0)
                return RELEASE_2026_8;
        for (size_t i = 0; i < ELEMENTSOF(release_table); i++)
                if (strcmp(s, release_table[i]) == 0)
                        return (Release) i;
        return _RELEASE_INVALID;
}

Release release_from_version(const char *version) {
        unsigned long year, minor;
        char *end;

        if (!version || version[0] < '0' || version[0] > '9')
                return RELEASE_UNKNOWN;
        year = strtoul(version, &end, 10);
        if (*end != '.' || end[1] < '0' || end[1] > '9')
                return RELEASE_UNKNOWN;
        minor = strtoul(end + 1, &end, 10);
        if (*end != '\0' && *end != '.' && *end != '-')
                return RELEASE_UNKNOWN;
        if (year > 2026)
                return RELEASE_2026_8;
        if (year < 2026 || minor < 2)
                return RELEASE_UNKNOWN; /* before session locks as PROTOCOL.md knows them */
        if (minor <= 5)
                return RELEASE_2026_5;
        if (minor <= 7)
                return RELEASE_2026_7;
        return RELEASE_2026_8;
}

const char *release_contenders(Release r) {
        return r == RELEASE_2026_5 ? "steal" : r == RELEASE_2026_7 ? "fail-fast" : NULL;
}

static bool ends_with(const char *s, size_t n, const char *suffix) {
        size_t k = strlen(suffix);
        return n >= k && strncasecmp(s + n - k, suffix, k) == 0;
}

/* The application lower-cases each argument and turns backslashes into slashes first. */
static bool arg_ends_with(const char *arg, const char *suffix) {
        size_t n = strlen(arg), k = strlen(suffix);

        if (n < k)
                return false;
        for (size_t i = 0; i < k; i++) {
                char c = arg[n - k + i];
                if (c == '\\')
                        c = '/';
                if ((c | 0x20) != (suffix[i] | 0x20) && c != suffix[i])
                        return false;
        }
        return true;
}

bool openclaw_argv_is_gateway(const char *argv, size_t len) {
        static const char *const entries[] = {
                "dist/index.js", "dist/entry.js", "openclaw.mjs", "scripts/run-node.mjs",
                "src/entry.ts", "src/index.ts",
        };
        bool gateway = false, entry = false;
        const char *exe = NULL;

        for (size_t off = 0; off < len;) {
                const char *a = argv + off;
                size_t n = strnlen(a, len - off);
                char arg[4096];

                off += n + 1;
                /* Trimmed, as normalizeStringEntries does; an over-long argument is no entry. */
                while (n > 0 && (*a == ' ' || *a == '\t'))
                        a++, n--;
                while (n > 0 && (a[n - 1] == ' ' || a[n - 1] == '\t'))
                        n--;
                if (n == 0 || n >= sizeof(arg))
                        continue;
                memcpy(arg, a, n);
                arg[n] = '\0';
                if (!exe)
                        exe = a;
                if (strcasecmp(arg, "gateway") == 0)
                        gateway = true;
                for (size_t i = 0; i < ELEMENTSOF(entries); i++)
                        if (arg_ends_with(arg, entries[i]))
                                entry = true;
                if (exe == a) {
                        size_t k = n;
                        /* The executable, without a Windows suffix: ".../openclaw" or "openclaw". */
                        if (ends_with(arg, k, ".exe") || ends_with(arg, k, ".cmd") || ends_with(arg, k, ".bat"))
                                k -= 4;
                        arg[k] = '\0';
                        if (arg_ends_with(arg, "/openclaw") || strcasecmp(arg, "openclaw") == 0)
                                entry = true;
                }
        }
        return gateway && entry;
}

const char *openclaw_argv_script(const char *argv, size_t len) {
        bool first = true;

        for (size_t off = 0; off < len;) {
                const char *a = argv + off;
                size_t n = strnlen(a, len - off);

                off += n + 1;
                if (first) {
                        first = false;
                        /* An installed `openclaw` launcher is itself the script (a symlink to
                         * openclaw.mjs, or a shell wrapper next to the package). */
                        if (ends_with(a, n, "/openclaw"))
                                return a;
                        continue;
                }
                if (a[0] == '-')
                        continue; /* node's own options (their values are not told apart) */
                return n > 0 ? a : NULL; /* the first operand is the script */
        }
        return NULL;
}

bool openclaw_script_is_entry(const char *script) {
        static const char *const entries[] = {
                "openclaw.mjs", "dist/index.js", "dist/entry.js", "scripts/run-node.mjs", "/openclaw",
        };

        for (size_t i = 0; i < ELEMENTSOF(entries); i++)
                if (arg_ends_with(script, entries[i]))
                        return true;
        return strcmp(script, "openclaw") == 0;
}

int openclaw_package_version(const char *json, size_t len, char *ret, size_t size) {
        json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, NULL);
        const char *name, *version;
        int r = -EINVAL;

        if (!json_is_object(root))
                goto out;
        name = json_string_value(json_object_get(root, "name"));
        version = json_string_value(json_object_get(root, "version"));
        if (!name || strcmp(name, "openclaw") != 0 || !version || !version[0] || strlen(version) >= size)
                goto out;
        for (const char *p = version; *p; p++)
                if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                      *p == '.' || *p == '-' || *p == '+'))
                        goto out;
        memcpy(ret, version, strlen(version) + 1); /* fits: checked above */
        r = 0;
out:
        json_decref(root);
        return r;
}

/* "agent:<id>:<rest>" → rest; anything else → NULL (parseAgentSessionKey). */
static const char *key_rest(const char *key) {
        const char *p;

        if (strncasecmp(key, "agent:", 6) != 0)
                return NULL;
        p = strchr(key + 6, ':');
        return p && p > key + 6 && p[1] ? p + 1 : NULL;
}

static bool key_starts(const char *key, const char *prefix) {
        const char *rest = key_rest(key);

        return rest && strncasecmp(rest, prefix, strlen(prefix)) == 0;
}

/* shouldSkipMainRecovery: subagents, cron runs and ACP sessions are not resumed. */
static bool recovery_skips(const char *key, json_t *entry) {
        json_t *depth = json_object_get(entry, "spawnDepth"), *role = json_object_get(entry, "subagentRole");

        if (json_is_number(depth) && json_number_value(depth) > 0)
                return true;
        if (role && !json_is_null(role))
                return true;
        return strncasecmp(key, "subagent:", 9) == 0 || key_starts(key, "subagent:") ||
               key_starts(key, "cron:") || strncasecmp(key, "acp:", 4) == 0 || key_starts(key, "acp:");
}

/* S without its leading and trailing blanks, as a new string (the application trims). */
static char *trimmed(const char *s, size_t n) {
        while (n > 0 && (*s == ' ' || *s == '\t'))
                s++, n--;
        while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
                n--;
        return strndup(s, n);
}

static int set_add(RecoverySet *set, char *name, const char *key) {
        char **names, **keys;

        if (!name)
                return -ENOMEM;
        if (!name[0]) {
                free(name);
                return 0;
        }
        names = realloc(set->names, (set->n + 1) * sizeof(char *));
        if (names)
                set->names = names;
        keys = realloc(set->keys, (set->n + 1) * sizeof(char *));
        if (keys)
                set->keys = keys;
        if (!names || !keys || !(set->keys[set->n] = strdup(key))) {
                free(name);
                return -ENOMEM;
        }
        set->names[set->n++] = name;
        return 0;
}

int recovery_set_parse(const char *json, size_t len, RecoverySet *ret) {
        json_t *root = json_loadb(json, len, 0, NULL), *entry;
        RecoverySet set = {};
        const char *key;
        int r = 0;

        if (!json_is_object(root)) {
                json_decref(root);
                return -EINVAL;
        }
        json_object_foreach(root, key, entry) {
                const char *status = json_string_value(json_object_get(entry, "status"));
                const char *id = json_string_value(json_object_get(entry, "sessionId"));
                const char *file = json_string_value(json_object_get(entry, "sessionFile"));

                if (!json_is_object(entry) || !status || strcmp(status, "running") != 0 || recovery_skips(key, entry))
                        continue;
                /* <sessionId>.jsonl in the folder; and sessionFile, resolved within the folder:
                 * its last component (a match by name alone keeps evidence the recovery may not
                 * need, which costs less than losing evidence it needs). */
                if (id) {
                        char *t = trimmed(id, strlen(id)), *name = NULL;
                        if (t && asprintf(&name, "%s.jsonl", t) < 0)
                                name = NULL;
                        free(t);
                        r = set_add(&set, name, key);
                }
                if (r >= 0 && file) {
                        const char *base = strrchr(file, '/');
                        base = base ? base + 1 : file;
                        r = set_add(&set, trimmed(base, strlen(base)), key);
                }
                if (r < 0)
                        break;
        }
        json_decref(root);
        if (r < 0) {
                recovery_set_done(&set);
                return r;
        }
        *ret = set;
        return 0;
}

const char *recovery_set_find(const RecoverySet *s, const char *transcript) {
        for (size_t i = 0; i < s->n; i++)
                if (strcmp(s->names[i], transcript) == 0)
                        return s->keys[i];
        return NULL;
}

void recovery_set_done(RecoverySet *s) {
        for (size_t i = 0; i < s->n; i++) {
                free(s->names[i]);
                free(s->keys[i]);
        }
        free(s->names);
        free(s->keys);
        *s = (RecoverySet) {};
}

int openclaw_recovery_wants(const char *json, size_t len, const char *transcript, char *ret_key,
                            size_t key_size) {
        RecoverySet set;
        const char *key;
        int r = recovery_set_parse(json, len, &set);

        if (r < 0)
                return r;
        key = recovery_set_find(&set, transcript);
        if (key && ret_key && key_size > 0)
                snprintf(ret_key, key_size, "%s", key);
        recovery_set_done(&set);
        return key != NULL;
}
