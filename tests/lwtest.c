/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lwtest.c: see lwtest.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <sys/inotify.h>
#include <signal.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lwtest.h"

/* Test programs may leak their own small strings; the daemon, a separate process, keeps
 * LeakSanitizer on (it must exit 0 on SIGTERM, so a leak fails the test). */
const char *__asan_default_options(void);
const char *__asan_default_options(void) {
        return "detect_leaks=0";
}

static char *tmp_dirs[64];
static size_t n_tmp_dirs;
static pid_t children[256];
static size_t n_children;

/* A failing test exits through CHECK; whatever it started must not outlive it. */
static void kill_children(void) {
        for (size_t i = 0; i < n_children; i++)
                if (children[i] > 0 && kill(children[i], SIGKILL) == 0)
                        waitpid(children[i], NULL, 0);
}

static void track_child(pid_t pid) {
        if (n_children == 0)
                atexit(kill_children);
        if (n_children < 256)
                children[n_children++] = pid;
}

static void untrack_child(pid_t pid) {
        for (size_t i = 0; i < n_children; i++)
                if (children[i] == pid)
                        children[i] = 0;
}

uint64_t lw_mono_ns(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000000ull + (uint64_t) ts.tv_nsec;
}

const char *lw_builddir(void) {
        const char *b = getenv("LW_BUILDDIR");
        return b ? b : ".";
}

void lw_require_root(void) {
        if (geteuid() != 0) {
                fprintf(stderr, "SKIP: needs root\n");
                exit(LW_SKIP);
        }
}

void lw_require_fanotify(void) {
        int fd = fanotify_init(FAN_CLASS_NOTIF | FAN_REPORT_DFID_NAME | FAN_REPORT_FID, O_RDONLY);

        if (fd < 0) {
                fprintf(stderr, "SKIP: fanotify with FID reporting not available: %s\n", strerror(errno));
                exit(LW_SKIP);
        }
        close(fd);
}

static int rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        (void) st;
        (void) flag;
        (void) ftw;
        remove(path);
        return 0;
}

static void cleanup_tmp(void) {
        for (size_t i = 0; i < n_tmp_dirs; i++)
                nftw(tmp_dirs[i], rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

bool lw_attributed(void) {
        const char *b = getenv("LW_BACKEND");
        return !b || strcmp(b, "inotify") != 0;
}

void lw_require_backend(void) {
        if (!lw_attributed())
                return;
        lw_require_root();
        lw_require_fanotify();
}

void lw_require_attribution(const char *why) {
        if (lw_attributed())
                return;
        fprintf(stderr, "SKIP: needs the acting pid (fanotify): %s\n", why);
        exit(LW_SKIP);
}

void lw_check_actor(json_t *ev, const char *key, pid_t pid) {
        json_t *v = json_object_get(ev, key);

        if (lw_attributed()) {
                CHECK(json_integer_value(v) == pid, "%s %lld, expected %d", key, json_integer_value(v), (int) pid);
                return;
        }
        CHECK(json_is_null(v), "%s is not null without attribution", key);
        CHECK(strcmp(jstr(ev, "attribution"), "unavailable") == 0, "attribution '%s'", jstr(ev, "attribution"));
}

char *lw_tmpdir(void) {
        const char *base = getenv("LW_TEST_TMPDIR");
        char *t;

        /* /var/tmp: a disk filesystem with file handles; tmpfs lacks them on older kernels. */
        if (asprintf(&t, "%s/lockwarden-test.XXXXXX", base ? base : "/var/tmp") < 0 || !mkdtemp(t))
                CHECK(false, "cannot make a temporary folder: %s", strerror(errno));
        if (n_tmp_dirs == 0)
                atexit(cleanup_tmp);
        if (n_tmp_dirs < 64)
                tmp_dirs[n_tmp_dirs++] = t;
        return t;
}

void lw_mkdir_p(const char *path) {
        char *p = strdup(path);

        for (char *s = p + 1; *s; s++)
                if (*s == '/') {
                        *s = '\0';
                        mkdir(p, 0755);
                        *s = '/';
                }
        if (mkdir(p, 0755) < 0 && errno != EEXIST)
                CHECK(false, "mkdir %s: %s", p, strerror(errno));
        free(p);
}

char *lw_path(const char *dir, const char *name) {
        char *p;

        CHECK(asprintf(&p, "%s/%s", dir, name) >= 0, "oom");
        return p;
}

void lw_write_file(const char *path, const void *data, size_t len) {
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

        CHECK(fd >= 0, "open %s: %s", path, strerror(errno));
        CHECK(write(fd, data, len) == (ssize_t) len, "write %s", path);
        close(fd);
}

bool lw_exists(const char *path) {
        struct stat st;
        return lstat(path, &st) == 0;
}

int lw_daemon_uid = -1;
int lw_child_uid = -1;
bool lw_child_nocaps;
const char *lw_child_argv0;

/* The folder of PATH (a static buffer). */
static const char *dirname_of(const char *path) {
        static char buf[4096];
        char *slash;

        snprintf(buf, sizeof(buf), "%s", path);
        slash = strrchr(buf, '/');
        if (slash && slash != buf)
                *slash = '\0';
        return buf;
}

LwDaemon *lw_daemon_start(const char *binary, const char *const *args, const char *const *env) {
        LwDaemon *d = calloc(1, sizeof(*d));
        char default_bin[4096];
        int p[2];

        if (!binary) {
                snprintf(default_bin, sizeof(default_bin), "%s/src/lockwarden", lw_builddir());
                binary = default_bin;
        }
        CHECK(pipe2(p, O_CLOEXEC) == 0, "pipe");
        d->seen = json_array();
        d->socket = lw_path(lw_tmpdir(), "control.sock");
        if (lw_daemon_uid >= 0)
                CHECK(chown(dirname_of(d->socket), (uid_t) lw_daemon_uid, (gid_t) lw_daemon_uid) == 0, "chown");
        bool own_socket = false, own_config = false;
        for (size_t i = 0; args && args[i]; i++) {
                own_socket = own_socket || strcmp(args[i], "--socket") == 0;
                own_config = own_config || strcmp(args[i], "--config") == 0;
        }
        /* Never the host's /etc/lockwarden/lockwarden.json: an empty configuration. */
        char *config = lw_path(dirname_of(d->socket), "empty-config.json");
        if (!own_config)
                lw_write_file(config, "{}\n", 3);
        d->pid = fork();
        CHECK(d->pid >= 0, "fork");
        if (d->pid == 0) {
                const char *argv[64];
                size_t n = 0;

                dup2(p[1], STDOUT_FILENO);
                /* LW_DAEMON_WRAPPER="valgrind --error-exitcode=99 ..." runs the daemon under
                 * a tool (make check-valgrind); the pid is the daemon's either way. */
                const char *wrapper = getenv("LW_DAEMON_WRAPPER");
                char *wcopy = wrapper ? strdup(wrapper) : NULL;
                for (char *tok = wcopy ? strtok(wcopy, " ") : NULL; tok && n < 20; tok = strtok(NULL, " "))
                        argv[n++] = tok;
                argv[n++] = binary;
                argv[n++] = "run";
                for (size_t i = 0; args && args[i] && n < 60; i++)
                        argv[n++] = args[i];
                if (!lw_attributed())
                        argv[n++] = "--backend=inotify";
                argv[n++] = "--events";
                argv[n++] = "-";
                if (!own_socket) {
                        argv[n++] = "--socket";
                        argv[n++] = d->socket;
                }
                if (!own_config) {
                        argv[n++] = "--config";
                        argv[n++] = config;
                }
                argv[n] = NULL;
                for (size_t i = 0; env && env[i]; i++)
                        putenv((char *) env[i]);
                if (lw_daemon_uid >= 0 &&
                    (setgroups(0, NULL) < 0 || setgid((gid_t) lw_daemon_uid) < 0 || setuid((uid_t) lw_daemon_uid) < 0)) {
                        fprintf(stderr, "cannot become uid %d: %s\n", lw_daemon_uid, strerror(errno));
                        _exit(127);
                }
                execvp(argv[0], (char **) argv);
                fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
                _exit(127);
        }
        close(p[1]);
        free(config);
        track_child(d->pid);
        d->ev_fd = p[0];
        return d;
}

static bool matches(json_t *ev, const char *event, const char *key, const char *value) {
        const char *name = json_string_value(json_object_get(ev, "event"));
        size_t k = strlen(event);

        /* "race." (a trailing dot) matches every event of that family. */
        if (!name || (k > 0 && event[k - 1] == '.' ? strncmp(name, event, k) : strcmp(name, event)) != 0)
                return false;
        if (!key)
                return true;
        const char *v = json_string_value(json_object_get(ev, key));
        return v && value && strcmp(v, value) == 0;
}

/* Reads what is available within timeout_ms into d->seen. False on timeout or EOF. */
static bool read_more(LwDaemon *d, int timeout_ms) {
        struct pollfd pfd = { .fd = d->ev_fd, .events = POLLIN };
        char *nl;
        ssize_t n;

        if (poll(&pfd, 1, timeout_ms < 0 ? 0 : timeout_ms) <= 0)
                return false;
        /* A full buffer would read 0 bytes, as at the end, and be waited on until the deadline. */
        CHECK(d->len + 1 < sizeof(d->buf), "an event line longer than %zu bytes", sizeof(d->buf) - 1);
        n = read(d->ev_fd, d->buf + d->len, sizeof(d->buf) - 1 - d->len);
        if (n <= 0)
                return false;
        d->len += (size_t) n;
        d->buf[d->len] = '\0';
        while ((nl = memchr(d->buf, '\n', d->len))) {
                json_error_t err;
                json_t *ev;

                *nl = '\0';
                ev = json_loads(d->buf, 0, &err);
                CHECK(ev, "daemon wrote a line that is not JSON (%s): %s", err.text, d->buf);
                json_array_append_new(d->seen, ev);
                d->len -= (size_t) (nl + 1 - d->buf);
                memmove(d->buf, nl + 1, d->len);
        }
        return true;
}

/* What the daemon is doing, from the kernel's side, for a failing test's log. */
int lw_run(const char *const *args, int uid, char *out, size_t out_size, char *err, size_t err_size) {
        char bin[4096];
        int po[2], pe[2], status;
        size_t lens[2] = { 0, 0 };
        pid_t pid;

        snprintf(bin, sizeof(bin), "%s/src/lockwarden", lw_builddir());
        CHECK(pipe2(po, O_CLOEXEC) == 0 && pipe2(pe, O_CLOEXEC) == 0, "pipe");
        pid = fork();
        CHECK(pid >= 0, "fork");
        if (pid == 0) {
                const char *argv[128] = { bin };
                size_t n = 1;
                for (size_t i = 0; args[i] && n < 127; i++)
                        argv[n++] = args[i];
                dup2(po[1], STDOUT_FILENO);
                dup2(pe[1], STDERR_FILENO);
                if (uid >= 0 && (setgroups(0, NULL) < 0 || setgid((gid_t) uid) < 0 || setuid((uid_t) uid) < 0))
                        _exit(99);
                execv(bin, (char **) argv);
                _exit(errno == EACCES ? 126 : 127);
        }
        close(po[1]);
        close(pe[1]);
        struct pollfd pf[2] = { { .fd = po[0], .events = POLLIN }, { .fd = pe[0], .events = POLLIN } };
        char *bufs[2] = { out, err };
        size_t sizes[2] = { out_size, err_size };
        char sink[4096];
        uint64_t deadline = lw_mono_ns() + 4ull * LW_TIMEOUT_MS * 1000000ull;
        int open_fds = 2;
        while (open_fds > 0) {
                uint64_t now = lw_mono_ns();
                CHECK(now < deadline, "lockwarden %s did not finish", args[0]);
                if (poll(pf, 2, (int) ((deadline - now) / 1000000) + 1) <= 0)
                        continue;
                for (int i = 0; i < 2; i++) {
                        if (pf[i].fd < 0 || !pf[i].revents)
                                continue;
                        char *dst = bufs[i] && lens[i] + 1 < sizes[i] ? bufs[i] + lens[i] : sink;
                        size_t room = dst == sink ? sizeof(sink) : sizes[i] - 1 - lens[i];
                        ssize_t k = read(pf[i].fd, dst, room);
                        if (k <= 0) {
                                close(pf[i].fd);
                                pf[i].fd = -1;
                                open_fds--;
                        } else if (dst != sink)
                                lens[i] += (size_t) k;
                }
        }
        if (out && out_size)
                out[lens[0]] = '\0';
        if (err && err_size)
                err[lens[1]] = '\0';
        CHECK(waitpid(pid, &status, 0) == pid, "waitpid");
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void lw_dump_process(pid_t pid) {
        const char *files[] = { "wchan", "syscall", "stack" };
        char path[64], buf[4096];

        for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
                snprintf(path, sizeof(path), "/proc/%d/%s", (int) pid, files[i]);
                int fd = open(path, O_RDONLY | O_CLOEXEC);
                ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
                if (fd >= 0)
                        close(fd);
                buf[n > 0 ? n : 0] = '\0';
                fprintf(stderr, "daemon %s: %s\n", files[i], buf);
        }
        snprintf(path, sizeof(path), "/proc/%d/status", (int) pid);
        FILE *f = fopen(path, "re");
        while (f && fgets(buf, sizeof(buf), f))
                if (strncmp(buf, "State", 5) == 0 || strncmp(buf, "SigBlk", 6) == 0 || strncmp(buf, "SigPnd", 6) == 0)
                        fputs(buf, stderr);
        if (f)
                fclose(f);
}

json_t *lw_expect(LwDaemon *d, int timeout_ms, const char *event, const char *key, const char *value) {
        uint64_t deadline = lw_mono_ns() + (uint64_t) timeout_ms * 1000000ull;
        size_t i = 0;

        for (;;) {
                for (; i < json_array_size(d->seen); i++) {
                        json_t *ev = json_array_get(d->seen, i);
                        if (!json_object_get(ev, "_consumed") && matches(ev, event, key, value)) {
                                json_object_set_new(ev, "_consumed", json_true());
                                return ev;
                        }
                }
                uint64_t now = lw_mono_ns();
                if (now >= deadline || !read_more(d, (int) ((deadline - now) / 1000000ull) + 1)) {
                        if (lw_mono_ns() < deadline)
                                continue;
                        /* Ask the daemon for its state (SIGUSR1) and show it. */
                        kill(d->pid, SIGUSR1);
                        read_more(d, 1000);
                        char *all = json_dumps(d->seen, JSON_COMPACT);
                        fprintf(stderr, "events so far: %s\n", all);
                        free(all);
                        lw_dump_process(d->pid);
                        CHECK(false, "no %s event%s%s%s%s within %d ms", event, key ? " with " : "",
                              key ? key : "", key ? "=" : "", value ? value : "", timeout_ms);
                }
        }
}

void lw_expect_none_after_grace(LwDaemon *d, const char *dir, const char *event, const char *key,
                                const char *value) {
        static unsigned n;
        char name[64];
        const char *args[] = { "--mode=leak", NULL };

        /* The canary: leaked now, its owner alive and holding nothing, so stale exactly one
         * grace after the daemon reads its close. Every event queued before it has been read
         * by then, and every grace that started before it has ended. */
        snprintf(name, sizeof(name), "canary-%u.jsonl.lock", ++n);
        char *canary = lw_path(dir, name);
        /* Without capabilities: a daemon that lacks some may still read its fds. */
        lw_child_nocaps = true;
        pid_t c = lw_holder_start(canary, args);
        lw_child_nocaps = false;
        lw_expect(d, LW_TIMEOUT_MS, "lock.stale", "lock", canary);
        lw_kill_wait(c, SIGKILL);
        for (size_t i = 0; i < json_array_size(d->seen); i++) {
                json_t *ev = json_array_get(d->seen, i);
                const char *lock = json_string_value(json_object_get(ev, "lock"));
                if (matches(ev, event, key, value) && !(lock && strstr(lock, "/canary-"))) {
                        char *s = json_dumps(ev, JSON_COMPACT);
                        CHECK(false, "unexpected event: %s", s);
                }
        }
        free(canary);
}

size_t lw_count(LwDaemon *d, const char *event, const char *key, const char *value) {
        size_t n = 0;

        while (read_more(d, 0))
                ;
        for (size_t i = 0; i < json_array_size(d->seen); i++)
                if (matches(json_array_get(d->seen, i), event, key, value))
                        n++;
        return n;
}

json_t *lw_daemon_ready(LwDaemon *d) {
        return lw_expect(d, LW_TIMEOUT_MS, "monitor.ready", NULL, NULL);
}

/* Waits for PID to exit (bounded), reading D's events meanwhile when D is given: a daemon
 * must never block on a full events pipe because the test stopped reading. */
static int wait_bounded_pumping(LwDaemon *d, pid_t pid, int timeout_ms) {
        int pidfd = (int) syscall(SYS_pidfd_open, pid, 0), status;
        uint64_t deadline = lw_mono_ns() + (uint64_t) timeout_ms * 1000000ull;

        /* The pidfd turns readable when the child exits: wait for that, with a deadline. */
        CHECK(pidfd >= 0, "pidfd_open %d: %s", (int) pid, strerror(errno));
        for (;;) {
                struct pollfd pfd[2] = { { .fd = pidfd, .events = POLLIN },
                                         { .fd = d ? d->ev_fd : -1, .events = POLLIN } };
                uint64_t now = lw_mono_ns();

                CHECK(now < deadline, "pid %d did not exit within %d ms", (int) pid, timeout_ms);
                CHECK(poll(pfd, 2, (int) ((deadline - now) / 1000000ull) + 1) >= 0, "poll");
                if (pfd[0].revents)
                        break;
                if (pfd[1].revents && !read_more(d, 0))
                        d = NULL; /* EOF: nothing more to read */
        }
        close(pidfd);
        CHECK(waitpid(pid, &status, 0) == pid, "waitpid %d: %s", (int) pid, strerror(errno));
        untrack_child(pid);
        return status;
}

static int wait_bounded(pid_t pid, int timeout_ms) {
        return wait_bounded_pumping(NULL, pid, timeout_ms);
}

LwDaemon *lw_daemon_start_under(const char *wrapper, const char *const *args) {
        const char *old = getenv("LW_DAEMON_WRAPPER");
        char *saved = old ? strdup(old) : NULL, *w = NULL;
        LwDaemon *d;

        CHECK(asprintf(&w, "%s%s%s", wrapper, saved && *saved ? " " : "", saved ? saved : "") >= 0, "asprintf");
        setenv("LW_DAEMON_WRAPPER", w, 1);
        d = lw_daemon_start(NULL, args, NULL);
        if (saved)
                setenv("LW_DAEMON_WRAPPER", saved, 1);
        else
                unsetenv("LW_DAEMON_WRAPPER");
        free(saved);
        free(w);
        return d;
}

int lw_daemon_stop(LwDaemon *d) {
        int status;

        kill(d->pid, SIGTERM);
        status = wait_bounded_pumping(d, d->pid, LW_TIMEOUT_MS);
        while (read_more(d, 0))
                ;
        close(d->ev_fd);
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Starts BIN (under the build dir) with ARGS then LAST (if any); returns once it printed a
 * line starting with PREFIX. */
static pid_t spawn_until_line(const char *bin_rel, const char *const *args, const char *last,
                              const char *prefix) {
        char bin[4096], line[128];
        int p[2];
        pid_t pid;
        struct pollfd pfd;
        ssize_t n;

        snprintf(bin, sizeof(bin), "%s/%s", lw_builddir(), bin_rel);
        CHECK(pipe2(p, O_CLOEXEC) == 0, "pipe");
        pid = fork();
        CHECK(pid >= 0, "fork");
        if (pid == 0) {
                const char *argv[16];
                size_t k = 0;

                dup2(p[1], STDOUT_FILENO);
                argv[k++] = lw_child_argv0 ? lw_child_argv0 : bin;
                for (size_t i = 0; args && args[i] && k < 14; i++)
                        argv[k++] = args[i];
                if (last)
                        argv[k++] = last;
                argv[k] = NULL;
                if (lw_child_uid >= 0 && (setgroups(0, NULL) < 0 || setgid((gid_t) lw_child_uid) < 0 ||
                                          setuid((uid_t) lw_child_uid) < 0))
                        _exit(127);
                if (lw_child_nocaps) {
                        /* No capability, even as root and across exec: an empty bounding set. */
                        for (int cap = 0; cap < 64; cap++)
                                (void) prctl(PR_CAPBSET_DROP, cap, 0, 0, 0);
                }
                /* Gone with the test, even one killed by the harness (atexit runs no more):
                 * a gateway-looking holder left behind would be another test's gateway. */
                (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
                execv(bin, (char **) argv);
                _exit(127);
        }
        close(p[1]);
        track_child(pid);
        pfd = (struct pollfd) { .fd = p[0], .events = POLLIN };
        CHECK(poll(&pfd, 1, LW_TIMEOUT_MS) == 1, "%s did not report within %d ms", bin_rel, LW_TIMEOUT_MS);
        n = read(p[0], line, sizeof(line) - 1);
        close(p[0]);
        CHECK(n > 0 && strncmp(line, prefix, strlen(prefix)) == 0, "%s %s failed", bin_rel,
              args && args[0] ? args[0] : "");
        return pid;
}

pid_t lw_holder_start(const char *lock, const char *const *args) {
        return spawn_until_line("tests/lock-holder", args, lock, "locked ");
}

pid_t lw_actor_start(const char *const *args) {
        return spawn_until_line("tests/session-actor", args, NULL, "done ");
}

pid_t lw_spawn(const char *bin_rel, const char *const *args) {
        char bin[4096];
        pid_t pid;

        snprintf(bin, sizeof(bin), "%s/%s", lw_builddir(), bin_rel);
        pid = fork();
        CHECK(pid >= 0, "fork");
        if (pid == 0) {
                const char *argv[32];
                size_t k = 0;

                argv[k++] = bin;
                for (size_t i = 0; args && args[i] && k < 31; i++)
                        argv[k++] = args[i];
                argv[k] = NULL;
                execv(bin, (char **) argv);
                _exit(127);
        }
        track_child(pid);
        return pid;
}

int lw_wait_exit(pid_t pid, int timeout_ms) {
        return wait_bounded(pid, timeout_ms);
}

int lw_wait_exit_pumping(LwDaemon *d, pid_t pid, int timeout_ms) {
        return wait_bounded_pumping(d, pid, timeout_ms);
}

bool lw_recent_has(json_t *ev, const LwRecent *seq, size_t n) {
        json_t *recent = json_object_get(ev, "recent");
        size_t k = 0;

        /* SEQ must appear in order (not necessarily adjacent). */
        for (size_t i = 0; i < json_array_size(recent) && k < n; i++) {
                json_t *r = json_array_get(recent, i);
                if (strcmp(jstr(r, "file"), seq[k].file) == 0 && strcmp(jstr(r, "kind"), seq[k].kind) == 0 &&
                    (seq[k].pid == 0 || !lw_attributed() || jint(r, "pid") == seq[k].pid))
                        k++;
        }
        if (k < n) {
                char *s = json_dumps(recent, JSON_COMPACT);
                fprintf(stderr, "recent lacks %s %s by %d (step %zu): %s\n", seq[k].file, seq[k].kind,
                        (int) seq[k].pid, k, s);
                free(s);
        }
        return k == n;
}

int lw_kill_wait(pid_t pid, int sig) {
        kill(pid, sig);
        return wait_bounded(pid, LW_TIMEOUT_MS);
}

void lw_kill_all(const pid_t *pids, size_t n) {
        for (size_t i = 0; i < n; i++)
                kill(pids[i], SIGKILL);
        for (size_t i = 0; i < n; i++)
                waitpid(pids[i], NULL, 0);
}

size_t lw_fd_count(pid_t pid) {
        char path[64];
        size_t n = 0;
        DIR *d;

        snprintf(path, sizeof(path), "/proc/%d/fd", (int) pid);
        d = opendir(path);
        CHECK(d, "opendir %s", path);
        for (struct dirent *de; (de = readdir(d));)
                n += de->d_name[0] != '.';
        closedir(d);
        return n;
}

pid_t lw_spawn_sleeper(void) {
        pid_t pid = fork();

        CHECK(pid >= 0, "fork");
        if (pid == 0) {
                for (;;)
                        pause();
        }
        track_child(pid);
        return pid;
}

void lw_env_start(LwEnv *e, const char *grace_ms, const char *const *extra) {
        const char *args[32];
        size_t n = 0;

        lw_require_backend();
        /* A private parent: the daemon also watches the state dir's parent (to see it deleted
         * and re-created), and a shared /var/tmp would wake it for other tests' files. */
        e->state = lw_path(lw_tmpdir(), "state");
        e->sessions = lw_path(e->state, "agents/main/sessions");
        lw_mkdir_p(e->sessions);
        args[n++] = "--state-dir";
        args[n++] = e->state;
        args[n++] = "--leak-grace-ms";
        args[n++] = grace_ms;
        for (size_t i = 0; extra && extra[i] && n < 30; i++)
                args[n++] = extra[i];
        args[n] = NULL;
        e->d = lw_daemon_start(NULL, args, NULL);
        lw_daemon_ready(e->d);
}

static pid_t bindfs_server = -1;
static char *bindfs_mnt;

void lw_bindfs_unmount(void) {
        char cmd[4200];

        if (bindfs_server > 0)
                kill(bindfs_server, SIGCONT);
        if (bindfs_mnt) {
                snprintf(cmd, sizeof(cmd), "umount -l '%s' 2>/dev/null", bindfs_mnt);
                (void) !system(cmd);
                free(bindfs_mnt);
                bindfs_mnt = NULL;
        }
        /* A lazily detached mount keeps its server while a file there is open: end it. */
        if (bindfs_server > 0) {
                kill(bindfs_server, SIGTERM);
                bindfs_server = -1;
        }
}

pid_t lw_bindfs_mount(const char *src, const char *mnt, const char *opts) {
        char cmd[4200];
        FILE *p;

        if (geteuid() != 0 || access("/dev/fuse", R_OK | W_OK) < 0 ||
            system("command -v bindfs >/dev/null 2>&1") != 0) {
                fprintf(stderr, "needs root, /dev/fuse and bindfs (Debian: bindfs, fuse3)\n");
                return -1;
        }
        CHECK(!bindfs_mnt, "one bindfs mount at a time");
        snprintf(cmd, sizeof(cmd), "bindfs %s%s '%s' '%s'", opts ? "-o " : "", opts ? opts : "", src, mnt);
        if (system(cmd) != 0) {
                fprintf(stderr, "bindfs could not mount here\n");
                return -1;
        }
        bindfs_mnt = strdup(mnt);
        CHECK(bindfs_mnt, "strdup");
        /* Registered after the test's folders: runs before their removal. */
        static bool registered;
        if (!registered)
                atexit(lw_bindfs_unmount);
        registered = true;
        snprintf(cmd, sizeof(cmd), "pgrep -n -f '^bindfs .*%s %s$'", src, mnt);
        p = popen(cmd, "r");
        CHECK(p && fscanf(p, "%d", &bindfs_server) == 1, "the bindfs server's pid");
        pclose(p);
        return bindfs_server;
}

size_t lw_quarantined(const char *dir) {
        DIR *d = opendir(dir);
        struct dirent *de;
        size_t n = 0;

        CHECK(d, "opendir %s", dir);
        while ((de = readdir(d)))
                n += strncmp(de->d_name, ".lockwarden-quarantine-", 23) == 0;
        closedir(d);
        return n;
}

const char *lw_hooked_bin(void) {
        static char bin[4096];

        snprintf(bin, sizeof(bin), "%s/src/lockwarden-hooked", lw_builddir());
        return bin;
}

pid_t lw_read_pid(const char *path) {
        FILE *f = fopen(path, "re");
        int pid = 0;

        CHECK(f && fscanf(f, "%d", &pid) == 1, "read %s", path);
        fclose(f);
        return (pid_t) pid;
}

void lw_overflow_stopped(LwDaemon *d, const char *dir) {
        long max = 16384;
        FILE *f = fopen(lw_attributed() ? "/proc/sys/fs/fanotify/max_queued_events"
                                        : "/proc/sys/fs/inotify/max_queued_events", "re");

        if (f) {
                CHECK(fscanf(f, "%ld", &max) == 1, "max_queued_events");
                fclose(f);
        }
        CHECK(max < 1000000, "max_queued_events %ld too large to overflow in a test", max);

        kill(d->pid, SIGSTOP);
        lw_wait_stopped(d->pid, LW_TIMEOUT_MS);
        lw_flood(dir, max + 2000);
}

void lw_flood(const char *dir, long n) {
        /* Each file is at least one record (distinct files never merge). */
        for (long i = 0; i < n; i++) {
                char name[64];
                snprintf(name, sizeof(name), "junk-%ld.jsonl", i);
                char *p = lw_path(dir, name);
                int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
                CHECK(fd >= 0, "create %s", p);
                close(fd);
                CHECK(unlink(p) == 0, "unlink");
                free(p);
        }
}

pid_t lw_barrier(LwEnv *e, int timeout_ms) {
        char *lock = lw_path(e->sessions, "barrier.jsonl.lock");
        pid_t b = lw_holder_start(lock, NULL);

        lw_expect(e->d, timeout_ms, "lock.acquired", "lock", lock);
        free(lock);
        return b;
}

void lw_wait_stopped(pid_t pid, int timeout_ms) {
        uint64_t deadline = lw_mono_ns() + (uint64_t) timeout_ms * 1000000ull;
        sigset_t ss;
        int sfd, status;

        /* SIGCHLD is sent when a child stops: wait for it on a signalfd, with a deadline. */
        sigemptyset(&ss);
        sigaddset(&ss, SIGCHLD);
        sigprocmask(SIG_BLOCK, &ss, NULL);
        sfd = signalfd(-1, &ss, SFD_CLOEXEC | SFD_NONBLOCK);
        CHECK(sfd >= 0, "signalfd");
        for (;;) {
                pid_t r = waitpid(pid, &status, WUNTRACED | WNOHANG);
                CHECK(r >= 0, "waitpid %d: %s", (int) pid, strerror(errno));
                if (r == pid) {
                        CHECK(WIFSTOPPED(status), "pid %d exited instead of stopping", (int) pid);
                        break;
                }
                uint64_t now = lw_mono_ns();
                if (now >= deadline) {
                        lw_dump_process(pid);
                        CHECK(false, "pid %d did not stop within %d ms", (int) pid, timeout_ms);
                }
                struct pollfd p = { .fd = sfd, .events = POLLIN };
                if (poll(&p, 1, (int) ((deadline - now) / 1000000) + 1) == 1) {
                        struct signalfd_siginfo si;
                        while (read(sfd, &si, sizeof(si)) > 0)
                                ;
                }
        }
        close(sfd);
}

int lw_watch(const char *path, uint32_t mask) {
        int fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);

        CHECK(fd >= 0 && inotify_add_watch(fd, path, mask) >= 0, "inotify on %s: %s", path, strerror(errno));
        return fd;
}

void lw_watch_wait(int fd, int timeout_ms, const char *what) {
        struct pollfd pfd = { .fd = fd, .events = POLLIN };

        CHECK(poll(&pfd, 1, timeout_ms) == 1, "no event within %d ms: %s", timeout_ms, what);
        close(fd);
}

bool lw_array_has(json_t *a, const char *s) {
        json_t *v;
        size_t i;

        json_array_foreach(a, i, v)
                if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
                        return true;
        return false;
}

LwContainer lw_container_start(const char *lock) {
        char bin[4096], line[64] = "";
        int p[2], q[2];
        LwContainer c;

        snprintf(bin, sizeof(bin), "%s/tests/lock-holder", lw_builddir());
        CHECK(pipe2(p, O_CLOEXEC) == 0 && pipe2(q, O_CLOEXEC) == 0, "pipe");
        c.outer = fork();
        CHECK(c.outer >= 0, "fork");
        if (c.outer == 0) {
                pid_t h;
                int status;

                if (unshare(CLONE_NEWPID) < 0)
                        _exit(126);
                h = fork();
                if (h < 0)
                        _exit(126);
                if (h == 0) {
                        dup2(p[1], STDOUT_FILENO);
                        execl(bin, bin, lock, (char *) NULL);
                        _exit(127);
                }
                dprintf(q[1], "%d\n", (int) h);
                (void) waitpid(h, &status, 0);
                _exit(0);
        }
        close(p[1]);
        close(q[1]);
        /* The holder's pid here, then its "locked 1" once it holds the lock (bounded reads: a
         * holder that cannot start closes the pipes). */
        FILE *f = fdopen(q[0], "re");
        int host = 0;
        CHECK(f && fscanf(f, "%d", &host) == 1 && host > 0, "the holder's pid");
        fclose(f);
        c.holder = host;
        f = fdopen(p[0], "re");
        CHECK(f && fgets(line, sizeof(line), f), "the holder did not report");
        fclose(f);
        CHECK(strcmp(line, "locked 1\n") == 0, "the holder is not pid 1 inside: %s", line);
        return c;
}
