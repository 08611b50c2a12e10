/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Discovery: a root daemon with no folder configured finds the host's gateways by itself.
 * Gateway-looking processes (tests/lock-holder run as "<app>/openclaw.mjs gateway", reading
 * that entry script first, as node does) of two users, nobody and daemon, each in a state dir
 * of its own owned by that user: nobody's named by OPENCLAW_STATE_DIR, daemon's by HOME. One
 * of each runs before the daemon starts (found by its walk of /proc), one starts after (found
 * through its open of the entry script, not by a reload). Each holds a lock and is then
 * SIGKILLed: the stale lock is cleaned in all four state dirs. monitor.ready, monitor.discovered
 * and status say what was found and how. Then:
 *   - a process of nobody's naming a state dir owned by daemon is not guarded (warning), ended
 *     on a barrier;
 *   - a state dir that does not exist yet is waited for in a folder of its user's, not in one
 *     others may write;
 *   - a reload with discovery still on keeps every state dir found, though their gateways are
 *     gone (their stale locks are still cleaned);
 *   - a reload of a configuration that names a folder drops what discovery found.
 * Run with fanotify (the opener's pid), and with inotify (one walk of /proc) with the daemon
 * in a mount namespace of its own. Then a daemon run as the unit runs it (its own user, with
 * ambient capabilities) meets a gateway whose own mounts make its state dir path another
 * folder here: refused. One user's processes get at most 16 state dirs guarded. Last, a
 * gateway-looking process naming a state dir on a stalled FUSE mount: not looked up there,
 * whether named plainly, through "..", through root's symlink, or, with mounts of its own,
 * through ".." or a mount inside the FUSE mount. */
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lwtest.h"

#define NOBODY 65534
#define DAEMON_UID 1
/* The daemon as its unit runs it: a user of its own (any uid no test user has), with the
 * unit's AmbientCapabilities=. */
#define UNIT_UID 4242
#define UNIT_UID_S "4242"
#define UNIT_CAPS "+sys_admin,+dac_override,+sys_ptrace,+lease,+setpcap"

static void chown_tree(const char *top, const char *rel, uid_t uid) {
        char *p = strdup(rel), *s;

        /* top/rel and every folder between them belong to UID. */
        for (;;) {
                char *full = lw_path(top, p);
                CHECK(chown(full, uid, uid) == 0, "chown %s: %m", full);
                free(full);
                s = strrchr(p, '/');
                if (!s)
                        break;
                *s = '\0';
        }
        free(p);
        CHECK(chown(top, uid, uid) == 0, "chown %s", top);
}

/* A state dir TOP (with agents/main/sessions) owned by UID; returns its sessions folder. */
static char *state_dir_for(const char *top, uid_t uid) {
        char *sessions = lw_path(top, "agents/main/sessions");

        lw_mkdir_p(sessions);
        chown_tree(top, "agents/main/sessions", uid);
        return sessions;
}

/* The gateway's entry script at PATH, and its folder. */
static void write_entry(const char *path) {
        char *dir = strdup(path);

        *strrchr(dir, '/') = '\0';
        lw_mkdir_p(dir);
        lw_write_file(path, "// the gateway's entry script\n", 30);
        free(dir);
}

/* A gateway-looking lock holder of UID, with ENV ("K=V") for its environment, holding LOCK. */
static pid_t gateway_start(const char *entry, uid_t uid, const char *env, const char *lock) {
        const char *args[] = { "--entry", entry, "gateway", NULL };
        char *kv = strdup(env), *eq = strchr(kv, '=');
        pid_t p;

        *eq = '\0';
        setenv(kv, eq + 1, 1);
        lw_child_uid = (int) uid;
        lw_child_argv0 = entry;
        p = lw_holder_start(lock, args);
        lw_child_uid = -1;
        lw_child_argv0 = NULL;
        unsetenv(kv);
        free(kv);
        return p;
}

/* A lock at PATH whose owner is dead (a pid that was just reaped). */
static void write_dead_lock(const char *path, uid_t uid) {
        pid_t dead = lw_spawn_sleeper();
        char payload[128];
        int n;

        lw_kill_wait(dead, SIGKILL);
        n = snprintf(payload, sizeof(payload), "{\n  \"pid\": %d,\n  \"createdAt\": \"2026-05-28T04:22:01.123Z\"\n}\n",
                     (int) dead);
        lw_write_file(path, payload, (size_t) n);
        CHECK(chown(path, uid, uid) == 0, "chown %s", path);
}

static json_t *find_found(json_t *list, const char *state_dir) {
        size_t i;
        json_t *v;

        json_array_foreach(list, i, v)
                if (strcmp(jstr(v, "state_dir"), state_dir) == 0)
                        return v;
        return NULL;
}

static void check_how(json_t *list, const char *state_dir, const char *how_prefix, pid_t pid, const char *via) {
        json_t *f = find_found(list, state_dir);
        char want[256];

        if (!f) {
                char *dump = json_dumps(list, JSON_COMPACT);
                CHECK(false, "%s not among the state dirs found: %s", state_dir, dump ? dump : "?");
        }
        snprintf(want, sizeof(want), "%s pid %d (%s)", how_prefix, (int) pid, via);
        CHECK(strcmp(jstr(f, "how"), want) == 0, "%s found as '%s', expected '%s'", state_dir, jstr(f, "how"), want);
}

/* Every local user of this host with a home (uid 0, 1000..65533) has its ~/.openclaw guarded,
 * said "local user NAME" (root's is the default state dir: guarded, not "found"). */
static void check_local_users(json_t *found) {
        FILE *f = fopen("/etc/passwd", "re");
        struct passwd *pw;
        struct stat st;

        CHECK(f, "/etc/passwd");
        while ((pw = fgetpwent(f))) {
                char *state, want[300];

                if (pw->pw_uid == 0 || pw->pw_uid < 1000 || pw->pw_uid >= 65534 || pw->pw_dir[0] != '/' ||
                    stat(pw->pw_dir, &st) < 0 || !S_ISDIR(st.st_mode))
                        continue;
                state = lw_path(pw->pw_dir, ".openclaw");
                json_t *v = find_found(found, state);
                CHECK(v, "%s of local user %s not found", state, pw->pw_name);
                snprintf(want, sizeof(want), "local user %s", pw->pw_name);
                /* (A gateway of that user's running now says better how.) */
                CHECK(strcmp(jstr(v, "how"), want) == 0 || strncmp(jstr(v, "how"), "gateway pid ", 12) == 0,
                      "%s found as '%s'", state, jstr(v, "how"));
                free(state);
        }
        fclose(f);
}

static json_t *status(LwDaemon *d) {
        const char *args[] = { "status", "--json", "--socket", d->socket, NULL };
        static char out[1 << 16];
        json_t *j;

        CHECK(lw_run(args, -1, out, sizeof(out), NULL, 0) == 0, "status");
        j = json_loads(out, 0, NULL);
        CHECK(j, "status is not JSON: %s", out);
        return j;
}

/* WRAPPER: NULL, or a command the daemon runs under (its own mount namespace). */
static void run(const char *backend, const char *wrapper) {
        char *tmp = lw_tmpdir(), *app = lw_path(tmp, "app"), *entry = lw_path(app, "openclaw.mjs");
        char *nb = lw_path(tmp, "nobody-before"), *na = lw_path(tmp, "nobody-after");
        char *hb = lw_path(tmp, "daemon-home-before"), *ha = lw_path(tmp, "daemon-home-after");
        char *db = lw_path(hb, ".openclaw"), *da = lw_path(ha, ".openclaw");
        char *foreign = lw_path(tmp, "daemon-owned");
        char *config = lw_path(tmp, "lockwarden.json");
        char *dirs[4] = { nb, db, na, da }, *sessions[4], *locks[4], env[4][4200];
        pid_t gw[4];

        fprintf(stderr, "== %s%s%s\n", backend, wrapper ? " under " : "", wrapper ? wrapper : "");
        CHECK(chmod(tmp, 0755) == 0, "chmod");
        write_entry(entry);
        lw_mkdir_p(hb);
        lw_mkdir_p(ha);
        CHECK(chown(hb, DAEMON_UID, DAEMON_UID) == 0 && chown(ha, DAEMON_UID, DAEMON_UID) == 0, "chown homes");
        for (int i = 0; i < 4; i++) {
                sessions[i] = state_dir_for(dirs[i], i % 2 == 0 ? NOBODY : DAEMON_UID);
                locks[i] = lw_path(sessions[i], "s.jsonl.lock");
        }
        snprintf(env[0], sizeof(env[0]), "OPENCLAW_STATE_DIR=%s", nb);
        snprintf(env[1], sizeof(env[1]), "HOME=%s", hb);
        snprintf(env[2], sizeof(env[2]), "OPENCLAW_STATE_DIR=%s", na);
        snprintf(env[3], sizeof(env[3]), "HOME=%s", ha);
        /* daemon-owned: a state dir of daemon's with a dead owner's lock in it. */
        char *fsessions = state_dir_for(foreign, DAEMON_UID), *flock = lw_path(fsessions, "f.jsonl.lock");
        write_dead_lock(flock, DAEMON_UID);
        lw_write_file(config, "{}\n", 3);

        /* Before the daemon: one gateway of each user. */
        gw[0] = gateway_start(entry, NOBODY, env[0], locks[0]);
        gw[1] = gateway_start(entry, DAEMON_UID, env[1], locks[1]);

        const char *args[] = { "--config", config, "--leak-grace-ms", "200", "--backend", backend, NULL };
        LwDaemon *d = wrapper ? lw_daemon_start_under(wrapper, args) : lw_daemon_start(NULL, args, NULL);
        json_t *ready = lw_daemon_ready(d);
        json_t *found = json_object_get(ready, "discovered");
        CHECK(json_is_array(found), "monitor.ready has no discovered list");
        check_how(found, nb, "gateway", gw[0], "OPENCLAW_STATE_DIR");
        check_how(found, db, "gateway", gw[1], "HOME");
        CHECK(!find_found(found, na) && !find_found(found, da), "found before it ran");
        check_local_users(found);

        /* After: learned from their open of the entry script. */
        gw[2] = gateway_start(entry, NOBODY, env[2], locks[2]);
        json_t *ev = lw_expect(d, LW_TIMEOUT_MS, "monitor.discovered", "state_dir", na);
        char want[128];
        snprintf(want, sizeof(want), "entry script open by pid %d (OPENCLAW_STATE_DIR)", (int) gw[2]);
        CHECK(strcmp(jstr(ev, "how"), want) == 0, "how '%s'", jstr(ev, "how"));
        gw[3] = gateway_start(entry, DAEMON_UID, env[3], locks[3]);
        ev = lw_expect(d, LW_TIMEOUT_MS, "monitor.discovered", "state_dir", da);
        snprintf(want, sizeof(want), "entry script open by pid %d (HOME)", (int) gw[3]);
        CHECK(strcmp(jstr(ev, "how"), want) == 0, "how '%s'", jstr(ev, "how"));
        /* Its sessions folders are guarded from now on, "by discovery" (not "configuration"). */
        ev = lw_expect(d, LW_TIMEOUT_MS, "monitor.folder-added", "how", "discovery");
        CHECK(strncmp(jstr(ev, "path"), na, strlen(na)) == 0 || strncmp(jstr(ev, "path"), da, strlen(da)) == 0,
              "folder-added by discovery: %s", jstr(ev, "path"));

        json_t *st = status(d);
        json_t *sfound = json_object_get(st, "discovered");
        check_how(sfound, nb, "gateway", gw[0], "OPENCLAW_STATE_DIR");
        check_how(sfound, db, "gateway", gw[1], "HOME");
        check_how(sfound, na, "entry script open by", gw[2], "OPENCLAW_STATE_DIR");
        check_how(sfound, da, "entry script open by", gw[3], "HOME");
        json_decref(st);
        /* The human text says it too. */
        {
                const char *hargs[] = { "status", "--socket", d->socket, NULL };
                static char out[1 << 16];
                CHECK(lw_run(hargs, -1, out, sizeof(out), NULL, 0) == 0, "status");
                CHECK(strstr(out, na) && strstr(out, "entry script open by"), "status text: %s", out);
        }

        /* Each gateway dies holding its lock: all four are cleaned. */
        for (int i = 0; i < 4; i++)
                lw_kill_wait(gw[i], SIGKILL);
        for (int i = 0; i < 4; i++)
                lw_expect(d, LW_TIMEOUT_MS, "lock.cleaned", "lock", locks[i]);

        /* nobody names daemon's state dir: refused, said once, and nothing in it is touched. */
        char fenv[4200];
        snprintf(fenv, sizeof(fenv), "OPENCLAW_STATE_DIR=%s", foreign);
        char *nlock = lw_path(sessions[0], "n.jsonl.lock");
        pid_t bad = gateway_start(entry, NOBODY, fenv, nlock);
        ev = lw_expect(d, LW_TIMEOUT_MS, "monitor.warning", "path", foreign);
        CHECK(strstr(jstr(ev, "warning"), "owned by uid 1") && strstr(jstr(ev, "warning"), "NOT guarded"),
              "warning '%s'", jstr(ev, "warning"));
        /* Ended on a barrier: a canary lock leaked in a guarded folder is reported stale after
         * one grace; the dead owner's lock in daemon's folder would have been by then. */
        lw_child_uid = NOBODY; /* the canary's folder is nobody's */
        lw_expect_none_after_grace(d, sessions[0], "lock.stale", "lock", flock);
        lw_child_uid = -1;
        CHECK(lw_count(d, "lock.cleaned", "lock", flock) == 0, "a state dir nobody named but daemon owns was guarded");
        CHECK(lw_exists(flock), "the foreign lock is gone");
        st = status(d);
        CHECK(!find_found(json_object_get(st, "discovered"), foreign), "listed as found");
        json_decref(st);
        lw_kill_wait(bad, SIGKILL);

        /* A gateway reads its entry script before it makes its state dir: one that does not
         * exist yet is waited for when only its user (or root) can make it... */
        char *nhome = lw_path(tmp, "nobody-home"), *later = lw_path(nhome, "later/state");
        lw_mkdir_p(nhome);
        CHECK(chown(nhome, NOBODY, NOBODY) == 0, "chown");
        snprintf(fenv, sizeof(fenv), "OPENCLAW_STATE_DIR=%s", later);
        char *mlock = lw_path(sessions[0], "m.jsonl.lock");
        pid_t g = gateway_start(entry, NOBODY, fenv, mlock);
        ev = lw_expect(d, LW_TIMEOUT_MS, "monitor.discovered", "state_dir", later);
        char *lsessions = state_dir_for(later, NOBODY), *llock = lw_path(lsessions, "l.jsonl.lock");
        chown_tree(nhome, "later", NOBODY);
        write_dead_lock(llock, NOBODY);
        lw_expect(d, LW_TIMEOUT_MS, "lock.cleaned", "lock", llock);
        lw_kill_wait(g, SIGKILL);
        /* ... and not where another user could make it first. */
        char *world = lw_path(tmp, "world"), *wstate = lw_path(world, "state");
        lw_mkdir_p(world);
        CHECK(chmod(world, 01777) == 0, "chmod");
        snprintf(fenv, sizeof(fenv), "OPENCLAW_STATE_DIR=%s", wstate);
        char *wlock = lw_path(sessions[0], "w.jsonl.lock");
        g = gateway_start(entry, NOBODY, fenv, wlock);
        ev = lw_expect(d, LW_TIMEOUT_MS, "monitor.warning", "path", wstate);
        CHECK(strstr(jstr(ev, "warning"), "may be written by others"), "warning '%s'", jstr(ev, "warning"));
        lw_kill_wait(g, SIGKILL);
        st = status(d);
        CHECK(!find_found(json_object_get(st, "discovered"), wstate), "a state dir others can make was taken");
        json_decref(st);

        /* Reload, discovery still on: the gateways are gone, their state dirs stay guarded. */
        CHECK(kill(d->pid, SIGHUP) == 0, "SIGHUP");
        ev = lw_expect(d, LW_TIMEOUT_MS, "monitor.reloaded", NULL, NULL);
        CHECK(json_array_size(json_object_get(ev, "removed")) == 0, "a reload dropped folders");
        for (int i = 0; i < 4; i++) {
                char *again = lw_path(sessions[i], "again.jsonl.lock");
                write_dead_lock(again, i % 2 == 0 ? NOBODY : DAEMON_UID);
                lw_expect(d, LW_TIMEOUT_MS, "lock.cleaned", "lock", again);
                free(again);
        }

        /* A configuration that names a folder turns discovery off: what it found goes. */
        char cfg[4200];
        int n = snprintf(cfg, sizeof(cfg), "{\"state_dirs\": [\"%s\"]}\n", nb);
        lw_write_file(config, cfg, (size_t) n);
        CHECK(kill(d->pid, SIGHUP) == 0, "SIGHUP");
        ev = lw_expect(d, LW_TIMEOUT_MS, "monitor.reloaded", NULL, NULL);
        json_t *removed = json_object_get(ev, "removed");
        for (int i = 1; i < 4; i++) {
                bool listed = false;
                size_t k;
                json_t *v;
                json_array_foreach(removed, k, v)
                        listed = listed || strcmp(json_string_value(v), dirs[i]) == 0;
                CHECK(listed, "%s not in the removed list", dirs[i]);
        }
        st = status(d);
        CHECK(!json_object_get(st, "discovered"), "discovery still on");
        json_decref(st);

        CHECK(lw_daemon_stop(d) == 0, "exit status");
}

/* A gateway-looking lock holder of nobody's with mounts of its own: BINDS, pairs of folders
 * (from, to; NULL-terminated) bind-mounted in that order, naming NAMED as its state dir. */
static pid_t gateway_start_mounted(const char *entry, const char *const *binds, const char *named, const char *lock) {
        char line[64];
        int p[2];
        pid_t pid;

        CHECK(pipe2(p, O_CLOEXEC) == 0, "pipe");
        pid = fork();
        CHECK(pid >= 0, "fork");
        if (pid == 0) {
                char *bin = lw_path(lw_builddir(), "tests/lock-holder");
                const char *argv[] = { entry, "--entry", entry, "gateway", lock, NULL };

                dup2(p[1], STDOUT_FILENO);
                if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                        _exit(126);
                for (size_t i = 0; binds[i]; i += 2)
                        if (mount(binds[i], binds[i + 1], NULL, MS_BIND, NULL) < 0)
                                _exit(126);
                setenv("OPENCLAW_STATE_DIR", named, 1);
                if (setgroups(0, NULL) < 0 || setgid(NOBODY) < 0 || setuid(NOBODY) < 0)
                        _exit(127);
                (void) prctl(PR_SET_PDEATHSIG, SIGKILL); /* gone with the test, whatever happens */
                execv(bin, (char **) argv);
                _exit(127);
        }
        close(p[1]);
        struct pollfd pfd = { .fd = p[0], .events = POLLIN };
        CHECK(poll(&pfd, 1, LW_TIMEOUT_MS) == 1, "the bound gateway did not report");
        ssize_t n = read(p[0], line, sizeof(line) - 1);
        CHECK(n > 0 && strncmp(line, "locked", 6) == 0, "the bound gateway failed");
        close(p[0]);
        return pid;
}

/* The same with FROM bind-mounted over TO, naming TO: for it TO is FROM. */
static pid_t gateway_start_bound(const char *entry, const char *from, const char *to, const char *lock) {
        const char *binds[] = { from, to, NULL };
        return gateway_start_mounted(entry, binds, to, lock);
}

/* A gateway with mounts of its own names a path that is, for it, its own state dir, and here
 * another folder (of the same user's, with a dead owner's lock in it): that folder is not
 * guarded, and the warning says why. The daemon runs as the shipped unit runs it: a user of
 * its own with the start-up capabilities as ambient ones, not root. */
static void run_other_mounts(void) {
        char *tmp = lw_tmpdir(), *app = lw_path(tmp, "app"), *entry = lw_path(app, "openclaw.mjs");
        char *mine = lw_path(tmp, "its-own"), *here = lw_path(tmp, "here");
        char *config = lw_path(tmp, "lockwarden.json"), *known = lw_path(tmp, "known");

        fprintf(stderr, "== other mounts\n");
        CHECK(chmod(tmp, 0755) == 0, "chmod");
        write_entry(entry);
        char *lock = lw_path(state_dir_for(mine, NOBODY), "s.jsonl.lock");
        char *hlock = lw_path(state_dir_for(here, NOBODY), "h.jsonl.lock");
        char *ksessions = state_dir_for(known, NOBODY);
        write_dead_lock(hlock, NOBODY);
        lw_write_file(config, "{}\n", 3);
        /* One gateway before the start, so that the entry script's folder is watched. */
        char env[4200];
        snprintf(env, sizeof(env), "OPENCLAW_STATE_DIR=%s", known);
        pid_t k = gateway_start(entry, NOBODY, env, lw_path(ksessions, "k.jsonl.lock"));
        char *sockdir = lw_path(tmp, "sock"), *sock = lw_path(sockdir, "control.sock");
        lw_mkdir_p(sockdir);
        CHECK(chown(sockdir, UNIT_UID, UNIT_UID) == 0, "chown");
        const char *args[] = { "--config", config, "--leak-grace-ms", "200", "--socket", sock, NULL };
        /* Its own home (uid 4242 is in no passwd): the default state dir is there. */
        char *old_home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;
        setenv("HOME", sockdir, 1);
        LwDaemon *d = lw_daemon_start_under("setpriv --reuid=" UNIT_UID_S " --regid=" UNIT_UID_S " --clear-groups "
                                            "--inh-caps=" UNIT_CAPS " --ambient-caps=" UNIT_CAPS, args);
        if (old_home)
                setenv("HOME", old_home, 1);
        else
                unsetenv("HOME");
        free(old_home);
        json_t *ready = lw_daemon_ready(d);
        CHECK(jint(ready, "uid") == UNIT_UID, "uid %lld", jint(ready, "uid"));
        check_how(json_object_get(ready, "discovered"), known, "gateway", k, "OPENCLAW_STATE_DIR");

        pid_t g = gateway_start_bound(entry, mine, here, lock);
        json_t *ev = lw_expect(d, LW_TIMEOUT_MS, "monitor.warning", "path", here);
        CHECK(strstr(jstr(ev, "warning"), "another folder"), "warning '%s'", jstr(ev, "warning"));
        lw_child_uid = NOBODY;
        lw_expect_none_after_grace(d, ksessions, "lock.stale", "lock", hlock);
        lw_child_uid = -1;
        CHECK(lw_exists(hlock), "the lock of a folder the gateway does not use is gone");
        lw_kill_wait(g, SIGKILL);
        lw_kill_wait(k, SIGKILL);
        CHECK(lw_daemon_stop(d) == 0, "exit status");
}

/* Every state dir costs the daemon descriptors and marks: one user's gateway-looking processes
 * get at most 16 guarded; the next is refused, and said. */
static void run_limit(void) {
        char *tmp = lw_tmpdir(), *app = lw_path(tmp, "app"), *entry = lw_path(app, "openclaw.mjs");
        char *config = lw_path(tmp, "lockwarden.json"), *dirs[17], env[4200];
        pid_t g[17];

        fprintf(stderr, "== limit\n");
        CHECK(chmod(tmp, 0755) == 0, "chmod");
        write_entry(entry);
        lw_write_file(config, "{}\n", 3);
        for (int i = 0; i < 17; i++) {
                char name[16];
                snprintf(name, sizeof(name), "s%02d", i);
                dirs[i] = lw_path(tmp, name);
                char *lock = lw_path(state_dir_for(dirs[i], NOBODY), "s.jsonl.lock");
                snprintf(env, sizeof(env), "OPENCLAW_STATE_DIR=%s", dirs[i]);
                g[i] = gateway_start(entry, NOBODY, env, lock);
                free(lock);
        }
        const char *args[] = { "--config", config, "--leak-grace-ms", "200", NULL };
        LwDaemon *d = lw_daemon_start(NULL, args, NULL);
        json_t *ev = lw_expect(d, LW_TIMEOUT_MS, "monitor.warning", NULL, NULL);
        CHECK(strstr(jstr(ev, "warning"), "the most discovery guards for one user"), "warning '%s'", jstr(ev, "warning"));
        json_t *found = json_object_get(lw_daemon_ready(d), "discovered");
        size_t n = 0;
        for (int i = 0; i < 17; i++)
                n += find_found(found, dirs[i]) != NULL;
        CHECK(n == 16, "%zu state dirs of one user guarded", n);
        for (int i = 0; i < 17; i++)
                lw_kill_wait(g[i], SIGKILL);
        CHECK(lw_daemon_stop(d) == 0, "exit status");
}

/* A gateway-looking process of nobody's names a state dir on a FUSE mount whose server is
 * stopped: a lookup there would never return. The daemon must not go there (it says so) and
 * must become ready and answer. Two more name it by a path whose words do not say FUSE: through
 * ".." (own/../mnt/state) and through a symlink of root's in a folder only root writes (as
 * /var/lock -> /run/lock, a folder everyone writes): the mount table matched against the path
 * as written saw no FUSE mount, and the walk that follows them hung in the stopped server. */
static void run_fuse(void) {
        char *tmp = lw_tmpdir(), *src = lw_path(tmp, "src"), *mnt = lw_path(tmp, "mnt");
        char *app = lw_path(tmp, "app"), *entry = lw_path(app, "openclaw.mjs");
        char *own = lw_path(tmp, "own"), *config = lw_path(tmp, "lockwarden.json");
        char *state = lw_path(mnt, "state"), env[4200];

        fprintf(stderr, "== FUSE\n");
        CHECK(chmod(tmp, 0755) == 0, "chmod");
        write_entry(entry);
        free(state_dir_for(own, NOBODY));
        free(state_dir_for(lw_path(src, "state"), NOBODY));
        lw_mkdir_p(mnt);
        lw_write_file(config, "{}\n", 3);
        /* No attribute cache: every lookup asks the server. */
        pid_t server = lw_bindfs_mount(src, mnt, "attr_timeout=0,entry_timeout=0");
        if (server < 0) {
                fprintf(stderr, "SKIP (this part): no FUSE here\n");
                return;
        }
        char *via = lw_path(tmp, "via"), *dotdot = lw_path(own, "../mnt/state"), *linked = lw_path(via, "state");
        CHECK(symlink(mnt, via) == 0, "symlink %s", via);
        /* And past a folder that does not exist yet (m): waited for as a folder in own, it is
         * the FUSE mount's once nobody makes m. */
        char *pending = lw_path(own, "m/../../mnt/state");
        const char *named[] = { state, dotdot, linked, pending };
        pid_t g[4];
        for (int i = 0; i < 4; i++) {
                snprintf(env, sizeof(env), "OPENCLAW_STATE_DIR=%s", named[i]);
                char name[32];
                snprintf(name, sizeof(name), "s%d.jsonl.lock", i);
                char *l = lw_path(lw_path(own, "agents/main/sessions"), name);
                g[i] = gateway_start(entry, NOBODY, env, l);
                free(l);
        }
        /* Two with mounts of their own, in folders that are ordinary ones here: the FUSE mount
         * bound over own/b, named as own/a/../b/state; and bound over own/c, with an ordinary
         * folder bound over its state (the deepest mount is not FUSE, the walk still crosses
         * it). Their mount tables matched against the path as written said no FUSE. */
        char *b = lw_path(own, "b"), *c = lw_path(own, "c"), *cstate = lw_path(c, "state");
        char *bnamed = lw_path(own, "a/../b/state"), *plain = lw_path(own, "plain");
        lw_mkdir_p(lw_path(own, "a"));
        free(state_dir_for(lw_path(b, "state"), NOBODY));
        free(state_dir_for(cstate, NOBODY));
        free(state_dir_for(plain, NOBODY));
        const char *bbinds[] = { mnt, b, NULL }, *cbinds[] = { mnt, c, plain, cstate, NULL };
        pid_t gb = gateway_start_mounted(entry, bbinds, bnamed, lw_path(own, "agents/main/sessions/b.jsonl.lock"));
        pid_t gc = gateway_start_mounted(entry, cbinds, cstate, lw_path(own, "agents/main/sessions/c.jsonl.lock"));
        CHECK(kill(server, SIGSTOP) == 0, "stop the server");

        const char *args[] = { "--config", config, "--leak-grace-ms", "200", NULL };
        LwDaemon *d = lw_daemon_start(NULL, args, NULL);
        /* Each refused, as on FUSE or as having "..", and said. */
        const char *refused[] = { state, dotdot, linked, pending, bnamed, cstate };
        const char *said[] = { "FUSE", "\"..\"", "FUSE", "\"..\"", "\"..\"", "FUSE" };
        for (int i = 0; i < 6; i++) {
                json_t *ev = lw_expect(d, LW_TIMEOUT_MS, "monitor.warning", "path", refused[i]);
                CHECK(strstr(jstr(ev, "warning"), said[i]) && strstr(jstr(ev, "warning"), "NOT guarded"),
                      "%s: warning '%s'", refused[i], jstr(ev, "warning"));
        }
        json_t *ready = lw_daemon_ready(d);
        for (int i = 0; i < 6; i++)
                CHECK(!find_found(json_object_get(ready, "discovered"), refused[i]), "a state dir on FUSE was taken: %s",
                      refused[i]);
        /* m made: nothing is waited for there, the daemon still answers. */
        char *m = lw_path(own, "m");
        lw_mkdir_p(m);
        CHECK(chown(m, NOBODY, NOBODY) == 0, "chown");
        json_decref(status(d));
        CHECK(lw_daemon_stop(d) == 0, "exit status");
        for (int i = 0; i < 4; i++)
                lw_kill_wait(g[i], SIGKILL);
        lw_kill_wait(gb, SIGKILL);
        lw_kill_wait(gc, SIGKILL);
        lw_bindfs_unmount();
}

/* A gateway-looking process of nobody's names an entry script that is not there, in a folder
 * of root's (as /etc/openclaw.mjs: every exec on the host opens files in /etc): that folder is
 * not watched, else every open in it by anyone would be an event for the daemon. Told by a
 * gateway of daemon's started later that opens a script there (made meanwhile): not found by
 * that open (a walk at a reload would find it). Ended on a barrier. */
static void run_entry_missing(void) {
        char *tmp = lw_tmpdir(), *app = lw_path(tmp, "app"), *entry = lw_path(app, "openclaw.mjs");
        char *busy = lw_path(tmp, "busy"), *script = lw_path(busy, "openclaw.mjs");
        char *nstate = lw_path(tmp, "nobody-state"), *dstate = lw_path(tmp, "daemon-state");
        char *config = lw_path(tmp, "lockwarden.json"), env[4200];

        fprintf(stderr, "== entry script missing\n");
        CHECK(chmod(tmp, 0755) == 0, "chmod");
        lw_mkdir_p(busy);
        write_entry(entry);
        lw_write_file(config, "{}\n", 3);
        char *nsessions = state_dir_for(nstate, NOBODY), *dsessions = state_dir_for(dstate, DAEMON_UID);
        snprintf(env, sizeof(env), "OPENCLAW_STATE_DIR=%s", nstate);
        /* Its command line names busy/openclaw.mjs first (absent); the holder reads app's. */
        const char *args1[] = { "--entry", entry, "gateway", NULL };
        setenv("OPENCLAW_STATE_DIR", nstate, 1);
        lw_child_uid = NOBODY;
        lw_child_argv0 = script;
        pid_t g1 = lw_holder_start(lw_path(nsessions, "n.jsonl.lock"), args1);
        unsetenv("OPENCLAW_STATE_DIR");

        const char *args[] = { "--config", config, "--leak-grace-ms", "200", NULL };
        LwDaemon *d = lw_daemon_start(NULL, args, NULL);
        json_t *ready = lw_daemon_ready(d);
        CHECK(find_found(json_object_get(ready, "discovered"), nstate), "nobody's state dir not found");

        /* Now the script is there, and a gateway of daemon's opens it. */
        write_entry(script);
        const char *args2[] = { "--entry", script, "gateway", NULL };
        setenv("OPENCLAW_STATE_DIR", dstate, 1);
        lw_child_uid = DAEMON_UID;
        pid_t g2 = lw_holder_start(lw_path(dsessions, "d.jsonl.lock"), args2);
        unsetenv("OPENCLAW_STATE_DIR");
        lw_child_uid = NOBODY;
        lw_child_argv0 = NULL;
        lw_expect_none_after_grace(d, nsessions, "monitor.discovered", "state_dir", dstate);
        lw_child_uid = -1;
        lw_kill_wait(g1, SIGKILL);
        lw_kill_wait(g2, SIGKILL);
        CHECK(lw_daemon_stop(d) == 0, "exit status");
}

/* The folders of entry scripts watched are few (64): one user's gateway-looking processes,
 * each with a script in a folder of its own, must not take them all. 64 of nobody's run
 * before the daemon starts, then one of daemon's from a folder of root's (a shared install);
 * a gateway of daemon's started later from that folder is found through its open. */
static void run_entry_slots(void) {
        char *tmp = lw_tmpdir(), *shared = lw_path(tmp, "shared"), *sscript = lw_path(shared, "openclaw.mjs");
        char *nstate = lw_path(tmp, "nobody-state"), *d0 = lw_path(tmp, "daemon-0"), *d1 = lw_path(tmp, "daemon-1");
        char *config = lw_path(tmp, "lockwarden.json"), env[4200];
        pid_t g[64];

        fprintf(stderr, "== entry folder slots\n");
        CHECK(chmod(tmp, 0755) == 0, "chmod");
        lw_mkdir_p(shared);
        write_entry(sscript);
        lw_write_file(config, "{}\n", 3);
        char *nsessions = state_dir_for(nstate, NOBODY);
        snprintf(env, sizeof(env), "OPENCLAW_STATE_DIR=%s", nstate);
        for (int i = 0; i < 64; i++) {
                char name[32];
                snprintf(name, sizeof(name), "app%02d", i);
                char *app = lw_path(nstate, name), *script = lw_path(app, "openclaw.mjs");
                write_entry(script);
                CHECK(chown(app, NOBODY, NOBODY) == 0, "chown");
                snprintf(name, sizeof(name), "n%02d.jsonl.lock", i);
                char *lock = lw_path(nsessions, name);
                g[i] = gateway_start(script, NOBODY, env, lock);
                free(lock);
                free(script);
                free(app);
        }
        snprintf(env, sizeof(env), "OPENCLAW_STATE_DIR=%s", d0);
        pid_t k0 = gateway_start(sscript, DAEMON_UID, env, lw_path(state_dir_for(d0, DAEMON_UID), "k.jsonl.lock"));

        const char *args[] = { "--config", config, "--leak-grace-ms", "200", NULL };
        LwDaemon *d = lw_daemon_start(NULL, args, NULL);
        /* 65 gateways and their locks to look at (under sanitizers, on a loaded machine): a
         * longer bound than one daemon's start. */
        json_t *ready = lw_expect(d, 6 * LW_TIMEOUT_MS, "monitor.ready", NULL, NULL);
        CHECK(find_found(json_object_get(ready, "discovered"), d0), "daemon's first state dir not found");
        snprintf(env, sizeof(env), "OPENCLAW_STATE_DIR=%s", d1);
        pid_t k1 = gateway_start(sscript, DAEMON_UID, env, lw_path(state_dir_for(d1, DAEMON_UID), "k.jsonl.lock"));
        lw_expect(d, LW_TIMEOUT_MS, "monitor.discovered", "state_dir", d1);
        for (int i = 0; i < 64; i++)
                lw_kill_wait(g[i], SIGKILL);
        lw_kill_wait(k0, SIGKILL);
        lw_kill_wait(k1, SIGKILL);
        CHECK(lw_daemon_stop(d) == 0, "exit status");
}

/* A gateway-looking process of nobody's names a folder of root's that everyone may write (as
 * /tmp): no one's state dir, and guarding it would make every file made there an event for
 * the daemon. Refused, said. */
static void run_world_writable(void) {
        char *tmp = lw_tmpdir(), *app = lw_path(tmp, "app"), *entry = lw_path(app, "openclaw.mjs");
        char *shared = lw_path(tmp, "shared"), *own = lw_path(tmp, "own");
        char *config = lw_path(tmp, "lockwarden.json"), env[4200];

        fprintf(stderr, "== world-writable\n");
        CHECK(chmod(tmp, 0755) == 0, "chmod");
        lw_mkdir_p(shared);
        CHECK(chmod(shared, 01777) == 0, "chmod");
        write_entry(entry);
        lw_write_file(config, "{}\n", 3);
        char *lock = lw_path(state_dir_for(own, NOBODY), "s.jsonl.lock");
        snprintf(env, sizeof(env), "OPENCLAW_STATE_DIR=%s", shared);
        pid_t g = gateway_start(entry, NOBODY, env, lock);
        const char *args[] = { "--config", config, "--leak-grace-ms", "200", NULL };
        LwDaemon *d = lw_daemon_start(NULL, args, NULL);
        json_t *ev = lw_expect(d, LW_TIMEOUT_MS, "monitor.warning", "path", shared);
        CHECK(strstr(jstr(ev, "warning"), "may be written by others"), "warning '%s'", jstr(ev, "warning"));
        CHECK(!find_found(json_object_get(lw_daemon_ready(d), "discovered"), shared), "%s guarded", shared);
        lw_kill_wait(g, SIGKILL);
        CHECK(lw_daemon_stop(d) == 0, "exit status");
}

/* A setuid program's process named as a gateway by nobody ("…/openclaw.mjs -c gateway root",
 * su waiting for a password: euid 0, nobody's environment) names a folder of root's that
 * everyone may write: taken for uid 0 (root's own rules, root's 16), it is refused. Here the
 * setuid program is a root-owned setuid copy of lock-holder. */
static void run_setuid(void) {
        char *tmp = lw_tmpdir(), *app = lw_path(tmp, "app"), *entry = lw_path(app, "openclaw.mjs");
        char *shared = lw_path(tmp, "shared"), *own = lw_path(tmp, "own"), *bin = lw_path(tmp, "holder");
        char *config = lw_path(tmp, "lockwarden.json"), cmd[8400], line[64];
        int p[2];

        fprintf(stderr, "== setuid\n");
        CHECK(chmod(tmp, 0755) == 0, "chmod");
        lw_mkdir_p(shared);
        CHECK(chmod(shared, 01777) == 0, "chmod");
        write_entry(entry);
        lw_write_file(config, "{}\n", 3);
        char *lock = lw_path(state_dir_for(own, NOBODY), "s.jsonl.lock");
        snprintf(cmd, sizeof(cmd), "cp '%s/tests/lock-holder' '%s'", lw_builddir(), bin);
        CHECK(system(cmd) == 0 && chmod(bin, 04755) == 0, "a setuid lock-holder");
        CHECK(pipe2(p, O_CLOEXEC) == 0, "pipe");
        pid_t g = fork();
        CHECK(g >= 0, "fork");
        if (g == 0) {
                const char *argv[] = { entry, "--entry", entry, "gateway", lock, NULL };
                dup2(p[1], STDOUT_FILENO);
                setenv("OPENCLAW_STATE_DIR", shared, 1);
                if (setgroups(0, NULL) < 0 || setgid(NOBODY) < 0 || setuid(NOBODY) < 0)
                        _exit(127);
                (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
                execv(bin, (char **) argv);
                _exit(127);
        }
        close(p[1]);
        struct pollfd pfd = { .fd = p[0], .events = POLLIN };
        CHECK(poll(&pfd, 1, LW_TIMEOUT_MS) == 1 && read(p[0], line, sizeof(line)) > 0 && strncmp(line, "locked", 6) == 0,
              "the setuid gateway failed");
        close(p[0]);
        const char *args[] = { "--config", config, "--leak-grace-ms", "200", NULL };
        LwDaemon *d = lw_daemon_start(NULL, args, NULL);
        json_t *ev = lw_expect(d, LW_TIMEOUT_MS, "monitor.warning", "path", shared);
        CHECK(strstr(jstr(ev, "warning"), "setuid"), "warning '%s'", jstr(ev, "warning"));
        CHECK(!find_found(json_object_get(lw_daemon_ready(d), "discovered"), shared), "%s guarded", shared);
        lw_kill_wait(g, SIGKILL);
        CHECK(lw_daemon_stop(d) == 0, "exit status");
}

int main(void) {
        lw_require_root();
        lw_require_fanotify();
        if (!getpwuid(NOBODY) || !getpwuid(DAEMON_UID)) {
                fprintf(stderr, "needs the users nobody and daemon\n");
                return LW_SKIP;
        }
        /* The daemon's own default state dir is root's, whatever the test was started with. */
        unsetenv("OPENCLAW_STATE_DIR");
        run("fanotify", NULL);
        run_other_mounts();
        /* The daemon with mounts of its own, as its unit gives it (PrivateTmp, ...): every
         * folder a gateway names is checked to be the one it means. */
        run("inotify", "unshare --mount --propagation private");
        run_limit();
        run_fuse();
        run_entry_missing();
        run_entry_slots();
        run_world_writable();
        run_setuid();
        return 0;
}
