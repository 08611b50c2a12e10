/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Least privilege, measured on the running daemon. After start-up it holds exactly the
 * documented steady set, cap_dac_override, cap_sys_ptrace and cap_lease, in its effective, permitted and
 * bounding sets (nothing inheritable or ambient), with no_new_privs, also as an unprivileged
 * --user (then not dumpable, its socket its own). With that set it still does its whole job
 * for a gateway user's 0700 folders: guards folders created later (fanotify marks need no
 * cap_sys_admin once the group exists), sees the user's holders, removes stale locks. And
 * each capability it keeps or starts with is needed: without it, that part fails.
 * Needs root and fanotify. */
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lwtest.h"

#define GATEWAY_UID 4242   /* the gateway's user: any uid that is not root nor the daemon's */
#define STEADY_MASK ((1ull << 1) | (1ull << 19) | (1ull << 28)) /* CAP_DAC_OVERRIDE, CAP_SYS_PTRACE, CAP_LEASE */

typedef struct Env {
        char *state, *sessions;
        LwDaemon *d;
} Env;

/* A state dir owned by the gateway user, MODE on every folder. */
static void make_state(Env *e, mode_t mode) {
        char *dir = lw_tmpdir();

        CHECK(chmod(dir, 0755) == 0, "chmod");
        e->state = lw_path(dir, "state");
        e->sessions = lw_path(e->state, "agents/main/sessions");
        lw_mkdir_p(e->sessions);
        const char *parts[] = { e->state, "agents", "agents/main", "agents/main/sessions" };
        for (size_t i = 0; i < LW_ELEMENTSOF(parts); i++) {
                char *p = i == 0 ? strdup(e->state) : lw_path(e->state, parts[i]);
                CHECK(chown(p, GATEWAY_UID, GATEWAY_UID) == 0 && chmod(p, mode) == 0, "chown %s", p);
                free(p);
        }
}

/* Starts the daemon; WRAPPER (or NULL) runs it under setpriv to take a capability away. */
static json_t *start(Env *e, const char *wrapper, const char *const *extra) {
        const char *args[16] = { "--state-dir", e->state, "--leak-grace-ms", "200" };
        size_t n = 4;

        for (size_t i = 0; extra && extra[i]; i++)
                args[n++] = extra[i];
        args[n] = NULL;
        e->d = wrapper ? lw_daemon_start_under(wrapper, args) : lw_daemon_start(NULL, args, NULL);
        return lw_daemon_ready(e->d);
}

static unsigned long long status_hex(pid_t pid, const char *key) {
        char path[64], line[256];
        unsigned long long v = ~0ull;
        FILE *f;

        snprintf(path, sizeof(path), "/proc/%d/status", (int) pid);
        f = fopen(path, "re");
        CHECK(f, "open %s", path);
        while (fgets(line, sizeof(line), f))
                if (strncmp(line, key, strlen(key)) == 0 && line[strlen(key)] == ':')
                        v = strtoull(line + strlen(key) + 1, NULL, strcmp(key, "NoNewPrivs") == 0 ? 10 : 16);
        fclose(f);
        return v;
}

static void check_steady_sets(Env *e, json_t *ready) {
        pid_t p = e->d->pid;

        CHECK(status_hex(p, "CapEff") == STEADY_MASK, "CapEff %llx", status_hex(p, "CapEff"));
        CHECK(status_hex(p, "CapPrm") == STEADY_MASK, "CapPrm %llx", status_hex(p, "CapPrm"));
        CHECK(status_hex(p, "CapBnd") == STEADY_MASK, "CapBnd %llx", status_hex(p, "CapBnd"));
        CHECK(status_hex(p, "CapInh") == 0, "CapInh %llx", status_hex(p, "CapInh"));
        CHECK(status_hex(p, "CapAmb") == 0, "CapAmb %llx", status_hex(p, "CapAmb"));
        CHECK(status_hex(p, "NoNewPrivs") == 1, "NoNewPrivs");
        json_t *caps = json_object_get(ready, "capabilities");
        CHECK(json_array_size(caps) == 3 &&
                      strcmp(json_string_value(json_array_get(caps, 0)), "cap_dac_override") == 0 &&
                      strcmp(json_string_value(json_array_get(caps, 1)), "cap_sys_ptrace") == 0 &&
                      strcmp(json_string_value(json_array_get(caps, 2)), "cap_lease") == 0,
              "monitor.ready capabilities: %s", json_dumps(caps, 0));
}

/* How many sessions folders the daemon guards now (lockwarden status --json). */
static size_t guarded_folders(Env *e) {
        char out[16384];
        const char *args[] = { "status", "--json", "--socket", e->d->socket, NULL };
        json_t *j;
        size_t n;

        CHECK(lw_run(args, -1, out, sizeof(out), NULL, 0) == 0, "status");
        j = json_loads(out, 0, NULL);
        CHECK(j, "status --json: %s", out);
        n = json_array_size(json_object_get(j, "folders"));
        json_decref(j);
        return n;
}

/* The whole job for the gateway's 0700 folders, with only the steady set. */
static void does_its_job(Env *e) {
        char *dead = lw_path(e->sessions, "dead.jsonl.lock"), *leak = lw_path(e->sessions, "leak.jsonl.lock");
        const char *leak_args[] = { "--mode=leak", NULL };

        lw_child_uid = GATEWAY_UID;
        pid_t h = lw_holder_start(dead, NULL);
        json_t *a = lw_expect(e->d, LW_TIMEOUT_MS, "lock.acquired", "lock", dead);
        CHECK(jint(a, "pid") == h, "acquired by %lld", jint(a, "pid"));
        lw_kill_wait(h, SIGKILL);
        lw_expect(e->d, LW_TIMEOUT_MS, "lock.cleaned", "lock", dead);
        CHECK(!lw_exists(dead), "not removed");

        /* A live owner that closed its lock: leaked, which needs its fd table (ptrace). */
        pid_t l = lw_holder_start(leak, leak_args);
        json_t *c = lw_expect(e->d, LW_TIMEOUT_MS, "lock.cleaned", "lock", leak);
        CHECK(strcmp(jstr(c, "reason"), "leaked") == 0, "reason %s", jstr(c, "reason"));
        lw_kill_wait(l, SIGTERM);

        /* A folder the user creates after start-up: guarded without cap_sys_admin. */
        char *agent = lw_path(e->state, "agents/late"), *sess = lw_path(e->state, "agents/late/sessions");
        CHECK(mkdir(agent, 0700) == 0 && chown(agent, GATEWAY_UID, GATEWAY_UID) == 0, "mkdir");
        CHECK(mkdir(sess, 0700) == 0 && chown(sess, GATEWAY_UID, GATEWAY_UID) == 0, "mkdir");
        char *late = lw_path(sess, "late.jsonl.lock");
        /* Guarded when the daemon says so (bounded wait on its state, no sleep). */
        uint64_t deadline = lw_mono_ns() + LW_TIMEOUT_MS * 1000000ull;
        while (guarded_folders(e) < 2)
                CHECK(lw_mono_ns() < deadline, "the folder created later was never guarded");
        h = lw_holder_start(late, NULL);
        lw_expect(e->d, LW_TIMEOUT_MS, "lock.acquired", "lock", late);
        lw_kill_wait(h, SIGKILL);
        lw_expect(e->d, LW_TIMEOUT_MS, "lock.cleaned", "lock", late);
        lw_child_uid = -1;
}

static void steady_set_as_root(void) {
        Env e;
        make_state(&e, 0700);
        json_t *ready = start(&e, NULL, NULL);
        CHECK(json_array_size(json_object_get(ready, "dirs")) == 1, "the 0700 folder is guarded");
        check_steady_sets(&e, ready);
        CHECK(status_hex(e.d->pid, "Uid") == 0, "uid");
        does_its_job(&e);
        CHECK(lw_count(e.d, "monitor.error", NULL, NULL) == 0, "errors");
        CHECK(lw_daemon_stop(e.d) == 0, "exit status");
}

static void steady_set_as_user(void) {
        Env e;
        const char *extra[] = { "--user", "nobody", NULL };
        make_state(&e, 0700);
        json_t *ready = start(&e, NULL, extra);
        check_steady_sets(&e, ready);
        char status[64];
        snprintf(status, sizeof(status), "/proc/%d/fd", (int) e.d->pid);
        struct stat st;
        CHECK(stat(e.d->socket, &st) == 0 && st.st_uid != 0, "the control socket stayed root's");
        CHECK(strcmp(jstr(ready, "user"), "nobody") == 0 && jint(ready, "uid") == (long long) st.st_uid,
              "user %s uid %lld", jstr(ready, "user"), jint(ready, "uid"));
        /* Not dumpable: its /proc/PID/fd is root's although it runs as nobody (/proc/PID itself
         * always shows the effective uid). */
        CHECK(stat(status, &st) == 0 && st.st_uid == 0, "/proc/PID owned by %u: dumpable", (unsigned) st.st_uid);
        does_its_job(&e);
        /* The verbs reach it. */
        char out[4096];
        const char *args[] = { "status", "--socket", e.d->socket, NULL };
        CHECK(lw_run(args, -1, out, sizeof(out), NULL, 0) == 0 && strstr(out, "fanotify"), "status: %s", out);
        CHECK(lw_daemon_stop(e.d) == 0, "exit status");
}

/* Without cap_sys_admin at start-up there is no fanotify group that names processes. */
static void needs_sys_admin(void) {
        Env e;
        make_state(&e, 0755);
        json_t *ready = start(&e, "setpriv --bounding-set=-sys_admin", NULL);
        CHECK(strcmp(jstr(ready, "backend"), "inotify") == 0, "backend %s", jstr(ready, "backend"));
        CHECK(strstr(jstr(ready, "backend_reason"), "CAP_SYS_ADMIN"), "reason %s", jstr(ready, "backend_reason"));
        CHECK(lw_daemon_stop(e.d) == 0, "exit status");
}

/* Without cap_dac_override (nor cap_dac_read_search, which would open folders but never
 * allows a removal): the gateway's 0700 folders cannot even be opened, and in a 0755 folder
 * of the gateway's a dead owner's lock cannot be removed. */
static void needs_dac_override(void) {
        Env e;
        make_state(&e, 0700);
        json_t *ready = start(&e, "setpriv --bounding-set=-dac_override,-dac_read_search", NULL);
        CHECK(json_array_size(json_object_get(ready, "dirs")) == 0, "a 0700 folder was guarded");
        json_t *w = lw_expect(e.d, LW_TIMEOUT_MS, "monitor.warning", "path", "/");
        CHECK(strcmp(json_string_value(json_array_get(json_object_get(w, "missing"), 0)), "cap_dac_override") == 0,
              "missing %s", json_dumps(json_object_get(w, "missing"), 0));
        CHECK(lw_daemon_stop(e.d) == 0, "exit status");

        make_state(&e, 0755);
        start(&e, "setpriv --bounding-set=-dac_override,-dac_read_search", NULL);
        char *dead = lw_path(e.sessions, "dead.jsonl.lock");
        lw_child_uid = GATEWAY_UID;
        pid_t h = lw_holder_start(dead, NULL);
        lw_child_uid = -1;
        lw_expect(e.d, LW_TIMEOUT_MS, "lock.acquired", "lock", dead);
        lw_kill_wait(h, SIGKILL);
        lw_expect(e.d, LW_TIMEOUT_MS, "lock.stale", "lock", dead);
        json_t *err = lw_expect(e.d, LW_TIMEOUT_MS, "monitor.error", "path", dead);
        CHECK(strstr(jstr(err, "error"), "ermission"), "error %s", jstr(err, "error"));
        CHECK(lw_exists(dead) && lw_count(e.d, "lock.cleaned", NULL, NULL) == 0, "removed without the capability");
        CHECK(lw_daemon_stop(e.d) == 0, "exit status");
}

/* Without cap_sys_ptrace the gateway's fd tables are closed to the daemon: a live owner that
 * no longer holds its lock cannot be told from one that does, so the leak goes unjudged (the
 * safe side: a lock held since before the daemon started must not be taken for a leak
 * either). With it, the same leak is cleaned (does_its_job). */
static void needs_sys_ptrace(void) {
        Env e;
        make_state(&e, 0755);
        /* Held since before the daemon started: no open event will ever name its holder. */
        char *held = lw_path(e.sessions, "held.jsonl.lock");
        lw_child_uid = GATEWAY_UID;
        pid_t hh = lw_holder_start(held, NULL);
        lw_child_uid = -1;
        start(&e, "setpriv --bounding-set=-sys_ptrace", NULL);
        char *leak = lw_path(e.sessions, "leak.jsonl.lock");
        const char *leak_args[] = { "--mode=leak", NULL };
        lw_child_uid = GATEWAY_UID;
        pid_t l = lw_holder_start(leak, leak_args);
        lw_child_uid = -1;
        /* The grace barrier's canary runs as root without capabilities, in a folder of root's:
         * the daemon may read its fds without cap_sys_ptrace. */
        char *own = lw_path(e.state, "agents/canary/sessions");
        lw_mkdir_p(own);
        lw_expect_none_after_grace(e.d, own, "lock.stale", NULL, NULL);
        CHECK(lw_exists(leak) && lw_exists(held), "removed");
        lw_kill_wait(hh, SIGTERM);
        lw_kill_wait(l, SIGKILL);
        /* Its death is still seen: a pidfd needs nothing. (valgrind 3.19 has no pidfd_open;
         * without it nothing tells the daemon of a death that closes no guarded file.) */
        const char *w = getenv("LW_DAEMON_WRAPPER");
        if (!w || !strstr(w, "valgrind"))
                lw_expect(e.d, LW_TIMEOUT_MS, "lock.cleaned", "lock", leak);
        CHECK(lw_daemon_stop(e.d) == 0, "exit status");
}

/* Without cap_lease the daemon cannot have the kernel prove, at the moment of removal, that
 * nobody holds another user's lock open (a descriptor inherited by a fork makes no event): a
 * dead owner's lock is reported and kept, saying why. With it, cleaned (does_its_job). */
static void needs_lease(void) {
        Env e;
        make_state(&e, 0755);
        start(&e, "setpriv --bounding-set=-lease", NULL);
        char *dead = lw_path(e.sessions, "dead.jsonl.lock");
        lw_child_uid = GATEWAY_UID;
        pid_t h = lw_holder_start(dead, NULL);
        lw_child_uid = -1;
        lw_expect(e.d, LW_TIMEOUT_MS, "lock.acquired", "lock", dead);
        lw_kill_wait(h, SIGKILL);
        json_t *k = lw_expect(e.d, LW_TIMEOUT_MS, "lock.kept", "lock", dead);
        CHECK(strstr(jstr(k, "why"), "CAP_LEASE"), "why %s", jstr(k, "why"));
        CHECK(lw_exists(dead) && lw_count(e.d, "lock.cleaned", NULL, NULL) == 0, "removed without the capability");
        CHECK(lw_daemon_stop(e.d) == 0, "exit status");
}

int main(void) {
        lw_require_root();
        lw_require_fanotify();
        if (!lw_attributed()) {
                fprintf(stderr, "capabilities are a privileged daemon's matter: skipped on inotify\n");
                return LW_SKIP;
        }
        if (system("setpriv --version >/dev/null 2>&1") != 0) {
                fprintf(stderr, "setpriv (util-linux) is needed\n");
                return LW_SKIP;
        }
        steady_set_as_root();
        steady_set_as_user();
        needs_sys_admin();
        needs_dac_override();
        needs_sys_ptrace();
        needs_lease();
        return 0;
}
