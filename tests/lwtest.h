/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lwtest.h: what the integration tests share: start the real daemon with its event stream on
 * a pipe, wait for events with a deadline (never a bare sleep), start real lock holders and
 * kill them. Exit 77 skips (Automake's convention). */
#pragma once

#include <errno.h>
#include <jansson.h>
#include <string.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>

#define LW_SKIP 77
#define LW_ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))
#define LW_TIMEOUT_MS 5000

#define CHECK(cond, ...)                                                              \
        do {                                                                          \
                if (!(cond)) {                                                        \
                        fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
                        fprintf(stderr, __VA_ARGS__);                                 \
                        fputc('\n', stderr);                                          \
                        exit(1);                                                      \
                }                                                                     \
        } while (0)

void lw_require_root(void);
void lw_require_fanotify(void);

/* The backend under test: LW_BACKEND=inotify (set by tests/run-unprivileged, which also drops
 * to an unprivileged user) or fanotify (the default, as root). lw_daemon_start passes it on. */
bool lw_attributed(void);
/* What the daemon needs for the backend under test: root and fanotify, or nothing. */
void lw_require_backend(void);
/* Skips (77) under a backend that names no actor: WHY says what cannot be judged then. */
void lw_require_attribution(const char *why);
/* EV's field KEY names PID (fanotify); without attribution it must be null and EV must say
 * "attribution": "unavailable" instead of guessing. */
void lw_check_actor(json_t *ev, const char *key, pid_t pid);
/* A fresh folder removed at exit. */
char *lw_tmpdir(void);
void lw_mkdir_p(const char *path);
char *lw_path(const char *dir, const char *name);
void lw_write_file(const char *path, const void *data, size_t len);
bool lw_exists(const char *path);
uint64_t lw_mono_ns(void);
const char *lw_builddir(void);

typedef struct LwDaemon {
        pid_t pid;
        char *socket;     /* its control socket, private to this daemon */
        int ev_fd;
        char buf[4 << 20]; /* one event line: as long as the daemon keeps (REPORT_OUTPUT_MAX) */
        size_t len;
        json_t *seen;     /* every event received so far, in order */
} LwDaemon;

/* When >= 0, lw_daemon_start runs the daemon as this uid (and gid). */
extern int lw_daemon_uid;
/* When >= 0, lock holders and actors (lw_holder_start, lw_actor_start) run as this uid (and
 * gid): another user's processes, as a gateway's are to the daemon. */
extern int lw_child_uid;
/* When set, lw_holder_start() and friends start the child with no capability at all. */
extern bool lw_child_nocaps;
/* When set, the argv[0] that lw_holder_start and lw_actor_start give their program (the file
 * executed stays the same): a gateway-looking command line is "…/openclaw.mjs" + "gateway". */
extern const char *lw_child_argv0;
/* Starts BINARY (NULL: the daemon under test) with ARGS (NULL-terminated, after argv[0]) and
 * "--events -", "--socket <a private path>" (unless ARGS has --socket) and "--config <an empty
 * one>" (unless ARGS has --config: the host's configuration never leaks into a test) appended; extra environment "K=V" strings in ENV (may be NULL). */
LwDaemon *lw_daemon_start(const char *binary, const char *const *args, const char *const *env);
/* The same, the daemon run under WRAPPER ("setpriv --bounding-set=-lease", "prlimit ...":
 * a command line, split at spaces), itself under any LW_DAEMON_WRAPPER already set. */
LwDaemon *lw_daemon_start_under(const char *wrapper, const char *const *args);
/* Waits for monitor.ready and returns it. */
json_t *lw_daemon_ready(LwDaemon *d);
/* Waits for the first not-yet-consumed event named EVENT whose string field KEY equals VALUE
 * (KEY NULL: any). Fails the test after timeout_ms. Returns a borrowed reference. */
json_t *lw_expect(LwDaemon *d, int timeout_ms, const char *event, const char *key, const char *value);
/* A negative check ended on a barrier, not a sleep: a lock leaked now in DIR (the canary) is
 * reported stale after one leak grace; then the test fails if EVENT (KEY=VALUE if given)
 * appeared for anything but a canary. Whatever the daemon would do on what came before, or
 * within one grace of it, it has done by then. */
void lw_expect_none_after_grace(LwDaemon *d, const char *dir, const char *event, const char *key,
                                const char *value);
/* Counts events named EVENT seen so far (KEY=VALUE if given). */
size_t lw_count(LwDaemon *d, const char *event, const char *key, const char *value);
/* SIGTERM, wait (bounded), return the exit status (or -1 if it did not exit normally). */
int lw_daemon_stop(LwDaemon *d);

/* Runs the lockwarden program (src/lockwarden) with ARGS (after argv[0]), as UID when >= 0;
 * collects standard output in OUT and standard error in ERR (both NUL-terminated, may be
 * NULL). Bounded. Returns the exit status (-1 if killed). */
int lw_run(const char *const *args, int uid, char *out, size_t out_size, char *err, size_t err_size);

/* Prints the kernel's view of PID (wchan, syscall, stack, state) to stderr. */
void lw_dump_process(pid_t pid);
/* Waits (bounded, on SIGCHLD) until child PID is stopped. */
void lw_wait_stopped(pid_t pid, int timeout_ms);
/* An inotify watch on PATH for MASK (IN_*), made before the action whose event it waits for;
 * lw_watch_wait() waits (bounded) for that event, then closes the watch. */
int lw_watch(const char *path, uint32_t mask);
void lw_watch_wait(int fd, int timeout_ms, const char *what);
/* Does the JSON array A hold the string S? */
bool lw_array_has(json_t *a, const char *s);
/* Starts tests/lock-holder on LOCK with extra ARGS; returns once it holds the lock. */
pid_t lw_holder_start(const char *lock, const char *const *args);
/* Starts tests/session-actor with ARGS; returns once it has done its action (it then stays
 * alive until SIGTERM). */
pid_t lw_actor_start(const char *const *args);
/* Starts a build-dir program (e.g. "tests/lock-holder") with ARGS; does not wait. */
pid_t lw_spawn(const char *bin_rel, const char *const *args);
/* Waits (bounded) for a child to exit and reaps it. Returns the wait status. */
int lw_wait_exit(pid_t pid, int timeout_ms);
/* The same, reading D's events meanwhile (so the daemon never blocks on a full pipe). */
int lw_wait_exit_pumping(LwDaemon *d, pid_t pid, int timeout_ms);
/* Sends SIG and reaps (bounded). Returns the wait status. */
int lw_kill_wait(pid_t pid, int sig);
/* SIGKILLs the N processes PIDS, then reaps them (children of the caller). */
void lw_kill_all(const pid_t *pids, size_t n);
/* How many descriptors PID has open (entries of /proc/PID/fd). */
size_t lw_fd_count(pid_t pid);
/* A child that just sleeps until killed (an alive pid to name in payloads). */
pid_t lw_spawn_sleeper(void);
/* A container: lock-holder on LOCK as pid 1 of a new pid namespace, below OUTER, our child
 * that waits for it (like `unshare --fork`). Returns once it holds the lock. */
typedef struct LwContainer {
        pid_t outer;
        pid_t holder; /* the holder's pid here (pid 1 inside) */
} LwContainer;
LwContainer lw_container_start(const char *lock);

static inline const char *jstr(json_t *o, const char *k) {
        const char *s = json_string_value(json_object_get(o, k));
        return s ? s : "";
}

static inline long long jint(json_t *o, const char *k) {
        return json_integer_value(json_object_get(o, k));
}

/* One step expected in a race event's "recent" list: file "lock"/"transcript", kind, pid (0:
 * any; without attribution pids are null and not compared). */
typedef struct LwRecent {
        const char *file;
        const char *kind;
        pid_t pid;
} LwRecent;
/* Do the steps appear in EV's "recent" list in this order? Prints the list when not. */
bool lw_recent_has(json_t *ev, const LwRecent *seq, size_t n);

/* The common set-up: a state dir with agents/main/sessions, a daemon guarding it with the
 * given grace and extra args, ready. */
typedef struct LwEnv {
        char *state;
        char *sessions;
        LwDaemon *d;
} LwEnv;

void lw_env_start(LwEnv *e, const char *grace_ms, const char *const *extra);
/* A barrier: takes a lock on another session of E and waits (bounded) for its lock.acquired,
 * which the daemon reports after everything the kernel queued before. Returns the holder. */
pid_t lw_barrier(LwEnv *e, int timeout_ms);
/* Mounts a bindfs (FUSE) view of SRC on MNT, with -o OPTS unless NULL, and returns the
 * server's pid; -1 (said on stderr) when not root, or without /dev/fuse or bindfs, or when it
 * cannot mount: the caller skips. lw_bindfs_unmount() (also run at exit) lets a stopped
 * server go on, detaches the mount and ends the server. */
pid_t lw_bindfs_mount(const char *src, const char *mnt, const char *opts);
void lw_bindfs_unmount(void);
/* How many .lockwarden-quarantine-* files (a removal's hidden names) are in DIR. */
size_t lw_quarantined(const char *dir);
/* The test build of the daemon (stop points and failure hooks compiled in: src/basic/test-hook.h). */
const char *lw_hooked_bin(void);
/* The pid written in the file PATH (lock-holder --child-pid-file). */
pid_t lw_read_pid(const char *path);
/* Stops the daemon D (SIGSTOP) and makes more events in DIR than the kernel queues for it:
 * the caller changes what it wants lost, then sends SIGCONT. */
void lw_overflow_stopped(LwDaemon *d, const char *dir);
/* N transcripts created and removed in DIR: at least N queued events each. */
void lw_flood(const char *dir, long n);
