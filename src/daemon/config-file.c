/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* config-file.c: the configuration file. jansson parses it (syntax errors carry its line and
 * column); the schema is checked here, and for an error about a value the value's position
 * is found again in the text by a small scanner that follows the key path. */
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "config-file.h"
#include "openclaw.h"
#include "fs-util.h"
#include "macro.h"
#include "race.h"

#define CONFIG_MAX (1024 * 1024)

/* ---- where a value is in the text ---- */

typedef struct Seg {
        const char *key;         /* NULL: an array index */
        size_t index;
} Seg;

typedef struct Scanner {
        const char *p, *end;
        int line, col;
        bool want_key;           /* the position of the last segment's key, not of its value */
} Scanner;

static void adv(Scanner *s) {
        if (s->p >= s->end)
                return;
        if (*s->p == '\n') {
                s->line++;
                s->col = 1;
        } else if (((unsigned char) *s->p & 0xC0) != 0x80)
                s->col++;
        s->p++;
}

static void skip_ws(Scanner *s) {
        while (s->p < s->end && strchr(" \t\r\n", *s->p))
                adv(s);
}

/* A string token; *KEY_MATCH when its raw bytes equal KEY (keys here are plain ASCII). */
static void scan_string(Scanner *s, const char *key, bool *key_match) {
        const char *start;

        adv(s); /* opening quote */
        start = s->p;
        while (s->p < s->end && *s->p != '"') {
                if (*s->p == '\\')
                        adv(s);
                adv(s);
        }
        if (key_match)
                *key_match = key && (size_t) (s->p - start) == strlen(key) && memcmp(start, key, strlen(key)) == 0;
        adv(s); /* closing quote */
}

/* Scans one value; when PATH[DEPTH..N) leads to a value inside it (or N == DEPTH: to this
 * one), stores its position and returns true. */
static bool scan_value(Scanner *s, const Seg *path, size_t depth, size_t n, int *line, int *col) {
        bool found = false;

        skip_ws(s);
        if (depth == n) {
                *line = s->line;
                *col = s->col;
                found = true;
                path = NULL; /* skip the rest of it */
        }
        if (s->p >= s->end)
                return found;
        if (*s->p == '{' || *s->p == '[') {
                bool object = *s->p == '{';
                char close = object ? '}' : ']';
                size_t index = 0;

                adv(s);
                for (;;) {
                        bool match = false;

                        skip_ws(s);
                        if (s->p >= s->end || *s->p == close)
                                break;
                        if (object) {
                                int kline = s->line, kcol = s->col;

                                scan_string(s, path && depth < n ? path[depth].key : NULL, &match);
                                if (match && s->want_key && depth + 1 == n) {
                                        *line = kline;
                                        *col = kcol;
                                        return true;
                                }
                                skip_ws(s);
                                adv(s); /* ':' */
                        } else
                                match = path && depth < n && !path[depth].key && path[depth].index == index;
                        if (scan_value(s, match ? path : NULL, depth + 1, match ? n : 0, line, col) && match)
                                return true;
                        index++;
                        skip_ws(s);
                        if (s->p < s->end && *s->p == ',')
                                adv(s);
                }
                adv(s);
        } else if (*s->p == '"')
                scan_string(s, NULL, NULL);
        else
                while (s->p < s->end && !strchr(",]} \t\r\n", *s->p))
                        adv(s);
        return found;
}

/* ---- errors ---- */

typedef struct Ctx {
        const char *file, *text;
        size_t len;
        char *err;
        size_t err_size;
        RunOptions *o;
} Ctx;

/* Reports an error about the value at PATH (N segments), or with AT_KEY about the key of its
 * last segment (an unknown key): "FILE:LINE:COLUMN: what". Returns -EINVAL. */
_printf_(5, 6) static int fail_at(Ctx *c, const Seg *path, size_t n, bool at_key, const char *fmt, ...) {
        Scanner s = { .p = c->text, .end = c->text + c->len, .line = 1, .col = 1, .want_key = at_key };
        int line = 0, col = 0, k;
        va_list ap;

        if (!scan_value(&s, path, 0, n, &line, &col))
                line = col = 0;
        k = snprintf(c->err, c->err_size, "%s:%d:%d: ", c->file, line, col);
        va_start(ap, fmt);
        if (k >= 0 && (size_t) k < c->err_size)
                vsnprintf(c->err + k, c->err_size - (size_t) k, fmt, ap);
        va_end(ap);
        return -EINVAL;
}
#define fail(c, path, n, ...) fail_at(c, path, n, false, __VA_ARGS__)
#define fail_key(c, path, n, ...) fail_at(c, path, n, true, __VA_ARGS__)

/* ---- the schema ---- */

static int get_enum(Ctx *c, json_t *v, const Seg *path, size_t n, int (*from)(const char *),
                    const char *choices, int *ret) {
        int r = json_is_string(v) ? from(json_string_value(v)) : -EINVAL;

        if (r < 0)
                return fail(c, path, n, "\"%s\" must be one of %s", path[n - 1].key, choices);
        *ret = r;
        return 0;
}

/* A release the configuration may name: a known one, not "unknown". */
static int release_from_config(const char *s) {
        Release r = release_from_string(s);
        return r == RELEASE_UNKNOWN ? -EINVAL : (int) r;
}

static int get_ms(Ctx *c, json_t *v, const Seg *path, size_t n, long long max, int64_t *ret) {
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > max)
                return fail(c, path, n, "\"%s\" must be an integer from 0 to %lld (milliseconds)", path[n - 1].key, max);
        *ret = json_integer_value(v);
        return 0;
}

/* The position of element I of the array at PATH[0..N), built in P (room for N + 1). */
static const Seg *element_at(Seg *p, const Seg *path, size_t n, size_t i) {
        memcpy(p, path, n * sizeof(Seg));
        p[n] = (Seg) { .index = i };
        return p;
}

/* An array of strings, each turned into an absolute path when PATHS. */
static int get_strings(Ctx *c, json_t *v, const Seg *path, size_t n, bool paths, char ***list, size_t *count) {
        json_t *e;
        size_t i;

        if (!json_is_array(v))
                return fail(c, path, n, "\"%s\" must be an array of strings", path[n - 1].key);
        json_array_foreach(v, i, e) {
                Seg room[4];
                const Seg *p = element_at(room, path, n, i);
                char *s;
                char **l;

                if (!json_is_string(e) || !json_string_value(e)[0])
                        return fail(c, p, n + 1, "\"%s\" must hold non-empty strings", path[n - 1].key);
                if (paths && json_string_value(e)[0] != '/')
                        return fail(c, p, n + 1, "\"%s\": paths must be absolute", path[n - 1].key);
                s = paths ? path_absolute(json_string_value(e)) : strdup(json_string_value(e));
                l = s ? realloc(*list, (*count + 1) * sizeof(char *)) : NULL;
                if (!l) {
                        free(s);
                        return -ENOMEM;
                }
                *list = l;
                l[(*count)++] = s;
        }
        return 0;
}

static int get_races(Ctx *c, json_t *v, const Seg *path, size_t n, unsigned *ret) {
        json_t *e;
        size_t i;

        if (!json_is_array(v))
                return fail(c, path, n, "\"%s\" must be an array of race kinds", path[n - 1].key);
        json_array_foreach(v, i, e) {
                Seg room[4];
                RaceKind k = race_kind_from_string(json_string_value(e));

                if (k < 0) {
                        _cleanup_free_ char *bad = json_dumps(e, JSON_ENCODE_ANY);
                        return fail(c, element_at(room, path, n, i), n + 1,
                                    "unknown race kind %s: one of lock-stolen, double-holder, unlocked-write, "
                                    "foreign-write, session-replaced, lock-tampered", bad ? bad : "?");
                }
                *ret |= 1u << k;
        }
        return 0;
}

static void free_list(char ***list, size_t *n) {
        for (size_t i = 0; i < *n; i++)
                free((*list)[i]);
        free(*list);
        *list = NULL;
        *n = 0;
}

static int parse_folder(Ctx *c, json_t *f, size_t index, FolderRule *rule) {
        const char *key;
        json_t *v;

        *rule = (FolderRule) { .cleanup = -1, .leak_grace_ms = -1, .remote_cleanup = -1, .release = -1 };
        if (!json_is_object(f))
                return fail_at(c, (Seg[]) { { "folders" }, { .index = index } }, 2, false, "each of \"folders\" must be an object");
        json_object_foreach(f, key, v) {
                Seg p[3] = { { "folders" }, { .index = index }, { key } };
                int r = 0, e = -1;

                if (strcmp(key, "path") == 0) {
                        if (!json_is_string(v) || json_string_value(v)[0] != '/')
                                return fail(c, p, 3, "\"path\" must be an absolute path");
                        free(rule->path);
                        rule->path = path_absolute(json_string_value(v));
                        r = rule->path ? 0 : -ENOMEM;
                } else if (strcmp(key, "cleanup") == 0) {
                        r = get_enum(c, v, p, 3, cleanup_mode_from_string, "\"auto\", \"report\"", &e);
                        rule->cleanup = e;
                } else if (strcmp(key, "leak_grace_ms") == 0)
                        r = get_ms(c, v, p, 3, 86400000, &rule->leak_grace_ms);
                else if (strcmp(key, "remote_cleanup") == 0) {
                        if (!json_is_boolean(v))
                                return fail(c, p, 3, "\"remote_cleanup\" must be true or false");
                        rule->remote_cleanup = json_is_true(v);
                } else if (strcmp(key, "ignore_races") == 0)
                        r = get_races(c, v, p, 3, &rule->ignore_races);
                else if (strcmp(key, "release") == 0) {
                        r = get_enum(c, v, p, 3, release_from_config, "\"2026.5\", \"2026.7\", \"2026.8+\"", &e);
                        rule->release = e;
                } else
                        return fail_key(c, p, 3, "unknown key \"%s\" in a folder (path, cleanup, leak_grace_ms, "
                                             "remote_cleanup, ignore_races, release)", key);
                if (r < 0)
                        return r;
        }
        if (!rule->path)
                return fail_at(c, (Seg[]) { { "folders" }, { .index = index } }, 2, false, "a folder needs \"path\"");
        return 0;
}

int config_parse(const char *file, const char *text, size_t len, RunOptions *o, char *err, size_t err_size) {
        Ctx c = { .file = file, .text = text, .len = len, .err = err, .err_size = err_size, .o = o };
        json_error_t je;
        json_t *root, *v;
        const char *key;
        int r = 0;

        /* An empty file is refused: a configuration truncated by accident must not pass for
         * "no settings" ("{}" says that; --config /dev/null says "no file", config_build). */
        size_t blank = 0;
        while (blank < len && strchr(" \t\r\n", text[blank]) && text[blank])
                blank++;
        if (blank == len) {
                snprintf(err, err_size, "%s:1:1: the file is empty (write {} for no settings)", file);
                return -EINVAL;
        }
        root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
        if (!root) {
                snprintf(err, err_size, "%s:%d:%d: %s", file, je.line, je.column, je.text);
                return -EINVAL;
        }
        if (!json_is_object(root)) {
                json_decref(root);
                return fail(&c, NULL, 0, "the configuration is one JSON object");
        }
        json_object_foreach(root, key, v) {
                Seg p[1] = { { key } };
                bool cli = false;
                int e = -1;
                int64_t ms = 0;

#define FROM_CLI(bit) (cli = (o->set & (bit)) != 0)
                if (strcmp(key, "state_dirs") == 0 || strcmp(key, "watch_dirs") == 0) {
                        bool state = key[0] == 's';
                        char **list = NULL;
                        size_t n = 0;
                        r = get_strings(&c, v, p, 1, true, &list, &n);
                        if (r >= 0 && !FROM_CLI(OPT_SET_FOLDERS)) {
                                free_list(state ? &o->state_dirs : &o->watch_dirs, state ? &o->n_state_dirs : &o->n_watch_dirs);
                                *(state ? &o->state_dirs : &o->watch_dirs) = list;
                                *(state ? &o->n_state_dirs : &o->n_watch_dirs) = n;
                        } else
                                free_list(&list, &n);
                } else if (strcmp(key, "remote_cleanup") == 0) {
                        char **list = NULL;
                        size_t n = 0;
                        r = get_strings(&c, v, p, 1, true, &list, &n);
                        if (r >= 0 && !FROM_CLI(OPT_SET_REMOTE_CLEANUP)) {
                                free_list(&o->remote_cleanup_dirs, &o->n_remote_cleanup_dirs);
                                o->remote_cleanup_dirs = list;
                                o->n_remote_cleanup_dirs = n;
                        } else
                                free_list(&list, &n);
                } else if (strcmp(key, "cleanup") == 0) {
                        r = get_enum(&c, v, p, 1, cleanup_mode_from_string, "\"auto\", \"report\"", &e);
                        if (r >= 0 && !FROM_CLI(OPT_SET_CLEANUP))
                                o->cleanup = (CleanupMode) e;
                } else if (strcmp(key, "races") == 0) {
                        r = get_enum(&c, v, p, 1, races_mode_from_string, "\"report\", \"off\"", &e);
                        if (r >= 0 && !FROM_CLI(OPT_SET_RACES))
                                o->races = (RacesMode) e;
                } else if (strcmp(key, "backend") == 0) {
                        r = get_enum(&c, v, p, 1, backend_from_string, "\"auto\", \"fanotify\", \"inotify\"", &e);
                        if (r >= 0 && !FROM_CLI(OPT_SET_BACKEND))
                                o->backend = (BackendKind) e;
                } else if (strcmp(key, "leak_grace_ms") == 0) {
                        r = get_ms(&c, v, p, 1, 86400000, &ms);
                        if (r >= 0 && !FROM_CLI(OPT_SET_LEAK_GRACE))
                                o->leak_grace_ms = (uint64_t) ms;
                } else if (strcmp(key, "race_coalesce_ms") == 0) {
                        r = get_ms(&c, v, p, 1, 60000, &ms);
                        if (r >= 0 && !FROM_CLI(OPT_SET_RACE_COALESCE))
                                o->race_coalesce_ms = (uint64_t) ms;
                } else if (strcmp(key, "events") == 0 || strcmp(key, "socket") == 0 || strcmp(key, "user") == 0) {
                        unsigned bit = key[0] == 'e' ? OPT_SET_EVENTS : key[0] == 's' ? OPT_SET_SOCKET : OPT_SET_USER;
                        char **slot = key[0] == 'e' ? &o->events_path : key[0] == 's' ? &o->socket_path : &o->user;
                        if (!json_is_string(v) || !json_string_value(v)[0])
                                r = fail(&c, p, 1, "\"%s\" must be a non-empty string", key);
                        else if (!FROM_CLI(bit)) {
                                free(*slot);
                                *slot = strdup(json_string_value(v));
                                r = *slot ? 0 : -ENOMEM;
                        }
                } else if (strcmp(key, "metrics_file") == 0) {
                        if (!json_is_string(v) || !json_string_value(v)[0])
                                r = fail(&c, p, 1, "\"%s\" must be a non-empty string", key);
                        else if (!FROM_CLI(OPT_SET_METRICS_FILE)) {
                                free(o->metrics_file);
                                o->metrics_file = path_absolute(json_string_value(v));
                                r = o->metrics_file ? 0 : -ENOMEM;
                        }
                } else if (strcmp(key, "ignore_races") == 0)
                        r = get_races(&c, v, p, 1, &o->ignore_races);
                else if (strcmp(key, "folders") == 0) {
                        json_t *f;
                        size_t i;
                        if (!json_is_array(v))
                                r = fail(&c, p, 1, "\"folders\" must be an array of objects");
                        json_array_foreach(v, i, f) {
                                FolderRule rule = {}, *rules;
                                if (r < 0)
                                        break;
                                r = parse_folder(&c, f, i, &rule);
                                rules = r >= 0 ? realloc(o->rules, (o->n_rules + 1) * sizeof(FolderRule)) : NULL;
                                if (!rules) {
                                        free(rule.path);
                                        r = r < 0 ? r : -ENOMEM;
                                        break;
                                }
                                o->rules = rules;
                                o->rules[o->n_rules++] = rule;
                        }
                } else
                        r = fail_key(&c, p, 1, "unknown key \"%s\" (state_dirs, watch_dirs, cleanup, events, socket, user, "
                                           "leak_grace_ms, races, race_coalesce_ms, backend, remote_cleanup, "
                                           "ignore_races, folders, metrics_file)", key);
#undef FROM_CLI
                (void) cli;
                if (r < 0)
                        break;
        }
        json_decref(root);
        return r;
}

int config_build(const RunOptions *cli, RunOptions *ret, bool *ret_read, char *err, size_t err_size) {
        const char *file = cli->config_path ? cli->config_path : DEFAULT_CONFIG_PATH;
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *text = NULL;
        RunOptions o;
        ssize_t n;
        int r;

        err[0] = '\0';
        if (ret_read)
                *ret_read = false;
        r = options_copy(cli, &o);
        if (r < 0)
                return r;
        fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0 && (errno != ENOENT || cli->config_given)) {
                snprintf(err, err_size, "%s: cannot read the configuration: %s", file, strerror(errno));
                options_done(&o);
                return -errno;
        }
        if (fd >= 0) {
                text = malloc(CONFIG_MAX + 1);
                n = text ? read_all_at(fd, text, CONFIG_MAX + 1) : -ENOMEM;
                if (n < 0 || n > CONFIG_MAX) {
                        snprintf(err, err_size, "%s: %s", file, n < 0 ? strerror((int) -n) : "larger than 1 MiB");
                        options_done(&o);
                        return n < 0 ? (int) n : -EFBIG;
                }
                /* /dev/null (no regular file, nothing in it) is the way to say "no file":
                 * nothing to parse. An empty regular file is refused by config_parse. */
                struct stat st;
                bool none = n == 0 && fstat(fd, &st) == 0 && !S_ISREG(st.st_mode);
                r = none ? 0 : config_parse(file, text, (size_t) n, &o, err, err_size);
                if (r >= 0 && !none && !(o.config_read = strdup(file)))
                        r = -ENOMEM;
                if (r < 0) {
                        if (r == -ENOMEM)
                                snprintf(err, err_size, "%s: out of memory", file);
                        options_done(&o);
                        return r;
                }
        }
        if (o.n_state_dirs == 0 && o.n_watch_dirs == 0) {
                char *d;
                if (options_default_state_dir(&d) < 0 || !(o.state_dirs = malloc(sizeof(char *)))) {
                        snprintf(err, err_size, "no folder to guard: no --state-dir, --watch or state_dirs, and no home directory");
                        options_done(&o);
                        return -EINVAL;
                }
                o.state_dirs[0] = d;
                o.n_state_dirs = 1;
                /* Nothing configured: a privileged daemon also finds every gateway of the host. */
                o.discover = true;
        }
        if (ret_read)
                *ret_read = fd >= 0;
        *ret = o;
        return 0;
}

static json_t *strings_json(char **list, size_t n) {
        json_t *a = json_array();

        for (size_t i = 0; a && i < n; i++)
                json_array_append_new(a, json_string(list[i]));
        return a;
}

static json_t *races_json(unsigned mask) {
        json_t *a = json_array();

        for (RaceKind k = 0; a && k < _RACE_KIND_MAX; k++)
                if (mask & (1u << k))
                        json_array_append_new(a, json_string(race_kind_to_string(k) + strlen("race.")));
        return a;
}

json_t *config_rules_json(const RunOptions *o) {
        json_t *folders = json_array();

        for (size_t i = 0; folders && i < o->n_rules; i++) {
                const FolderRule *r = &o->rules[i];
                json_t *f = json_pack("{s:s}", "path", r->path);

                if (!f)
                        continue;
                if (r->cleanup >= 0)
                        json_object_set_new(f, "cleanup", json_string(cleanup_mode_to_string(r->cleanup)));
                if (r->leak_grace_ms >= 0)
                        json_object_set_new(f, "leak_grace_ms", json_integer(r->leak_grace_ms));
                if (r->remote_cleanup >= 0)
                        json_object_set_new(f, "remote_cleanup", json_boolean(r->remote_cleanup));
                if (r->ignore_races)
                        json_object_set_new(f, "ignore_races", races_json(r->ignore_races));
                if (r->release >= 0)
                        json_object_set_new(f, "release", json_string(release_to_string(r->release)));
                json_array_append_new(folders, f);
        }
        return folders;
}

json_t *config_to_json(const RunOptions *o) {
        json_t *folders = config_rules_json(o), *j;

        j = json_pack("{s:o, s:o, s:s, s:s?, s:s?, s:s?, s:I, s:s, s:I, s:s, s:o, s:o, s:o}",
                      "state_dirs", strings_json(o->state_dirs, o->n_state_dirs),
                      "watch_dirs", strings_json(o->watch_dirs, o->n_watch_dirs),
                      "cleanup", cleanup_mode_to_string(o->cleanup),
                      "events", o->events_path,
                      "socket", o->socket_path,
                      "user", o->user,
                      "leak_grace_ms", (json_int_t) o->leak_grace_ms,
                      "races", races_mode_to_string(o->races),
                      "race_coalesce_ms", (json_int_t) o->race_coalesce_ms,
                      "backend", backend_to_string(o->backend),
                      "remote_cleanup", strings_json(o->remote_cleanup_dirs, o->n_remote_cleanup_dirs),
                      "ignore_races", races_json(o->ignore_races),
                      "folders", folders ? folders : json_array());
        if (j)
                json_object_set_new(j, "metrics_file", o->metrics_file ? json_string(o->metrics_file) : json_null());
        return j;
}
