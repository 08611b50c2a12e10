/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One descriptor per agent folder: agents/<id> lets its fd go once its sessions/ is guarded
 * (which keeps one), so that 10,000 agents fit in a descriptor limit of 20,000 (bench/scale).
 * Here: agents that appear with their sessions/ already (moved in) and agents whose sessions/
 * comes later cost the daemon one descriptor each, counted in /proc/PID/fd; and an agent
 * whose own fd is not kept is still guarded: a lock there is tracked and cleaned when its
 * owner dies; its sessions/ removed and created again is seen both times (the agent folder
 * opened again by name); a new agent's sessions/ created later is picked up; an agent folder
 * renamed is followed, and one removed is let go, its descriptor with it. */
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lwtest.h"

#define AGENTS 40

/* The descriptors PID has open on folders below PREFIX/ (readlink of /proc/PID/fd/N). The
 * total moves with the holders' pidfds and the bounded caches; these are the agents'. */
static size_t fds_below(pid_t pid, const char *prefix) {
        char dir[64];
        size_t n = 0, len = strlen(prefix);
        DIR *d;

        snprintf(dir, sizeof(dir), "/proc/%d/fd", (int) pid);
        d = opendir(dir);
        CHECK(d, "opendir %s", dir);
        for (struct dirent *de; (de = readdir(d));) {
                char target[4096];
                ssize_t k = readlinkat(dirfd(d), de->d_name, target, sizeof(target) - 1);
                if (k <= 0)
                        continue;
                target[k] = '\0';
                n += strncmp(target, prefix, len) == 0 && target[len] == '/';
        }
        closedir(d);
        return n;
}

static char *agent_sessions(LwEnv *e, const char *id) {
        char rel[64];

        snprintf(rel, sizeof(rel), "agents/%s/sessions", id);
        return lw_path(e->state, rel);
}

int main(void) {
        LwEnv e;

        lw_env_start(&e, "200", NULL);
        char *outside = lw_tmpdir(), *agents = lw_path(e.state, "agents");
        size_t base = fds_below(e.d->pid, agents), total = lw_fd_count(e.d->pid);

        /* agents/main/sessions: one. */
        CHECK(base == 1, "%zu descriptors below %s for one agent", base, agents);

        /* Even ones arrive whole (renamed in with their sessions/), odd ones grow it later: an
         * agent waiting for sessions/ holds its fd, and gives it up once sessions/ has one. */
        for (int i = 0; i < AGENTS; i++) {
                char id[16];
                snprintf(id, sizeof(id), "a%d", i);
                char *s = agent_sessions(&e, id);
                if (i % 2 == 0) {
                        char *src = lw_path(outside, id);
                        char *ss = lw_path(src, "sessions");
                        lw_mkdir_p(ss);
                        char *dst = lw_path(e.state, "agents");
                        dst = lw_path(dst, id);
                        CHECK(rename(src, dst) == 0, "rename %s", src);
                } else {
                        char *a = lw_path(e.state, "agents");
                        a = lw_path(a, id);
                        CHECK(mkdir(a, 0755) == 0, "mkdir %s", a);
                        CHECK(mkdir(s, 0755) == 0, "mkdir %s", s);
                }
                lw_expect(e.d, LW_TIMEOUT_MS, "monitor.folder-added", "path", s);
        }
        /* The last folder-added is said while its agent folder is still being read (its fd and
         * the scan's): a lock taken now is reported after that batch is done. */
        char *fence = lw_path(e.sessions, "fence.jsonl.lock");
        pid_t fh = lw_holder_start(fence, NULL);
        lw_expect(e.d, LW_TIMEOUT_MS, "lock.acquired", "lock", fence);
        size_t now = fds_below(e.d->pid, agents), now_total = lw_fd_count(e.d->pid);
        fprintf(stderr, "daemon fds: %zu (%zu on agent folders) before, %zu (%zu) after %d more agent folders\n",
                total, base, now_total, now, AGENTS);
        CHECK(now == base + AGENTS, "%zu descriptors on agent folders for %d agents (%zu for one)", now,
              AGENTS + 1, base);
        /* And in all: those, the fence holder's pidfd, a timer or two. */
        CHECK(now_total <= total + AGENTS + 4, "%zu descriptors in all after %d agents (%zu before)", now_total,
              AGENTS, total);

        /* An agent without a kept fd guards as before: a lock is tracked, and cleaned once its
         * owner dies. */
        char *s1 = agent_sessions(&e, "a1"), *lock = lw_path(s1, "s.jsonl.lock");
        pid_t h = lw_holder_start(lock, NULL);
        lw_expect(e.d, LW_TIMEOUT_MS, "lock.acquired", "lock", lock);
        lw_kill_wait(h, SIGKILL);
        lw_expect(e.d, LW_TIMEOUT_MS, "lock.cleaned", "lock", lock);
        CHECK(!lw_exists(lock), "the dead owner's lock is still there");

        /* Its sessions/ removed (the agent folder opened again by name to confirm it), then
         * created again: let go, then guarded again, a lock there tracked. */
        CHECK(rmdir(s1) == 0, "rmdir %s", s1);
        json_t *gone = lw_expect(e.d, LW_TIMEOUT_MS, "monitor.folder-removed", "path", s1);
        CHECK(strcmp(jstr(gone, "how"), "deleted") == 0, "how: %s", jstr(gone, "how"));
        CHECK(mkdir(s1, 0755) == 0, "mkdir again");
        lw_expect(e.d, LW_TIMEOUT_MS, "monitor.folder-added", "path", s1);
        h = lw_holder_start(lock, NULL);
        lw_expect(e.d, LW_TIMEOUT_MS, "lock.acquired", "lock", lock);
        lw_kill_wait(h, SIGKILL);
        lw_expect(e.d, LW_TIMEOUT_MS, "lock.cleaned", "lock", lock);

        /* A sessions/ folder renamed away from its agent (which keeps no fd): seen as moved. */
        char *s3 = agent_sessions(&e, "a3"), *s3old = lw_path(e.state, "agents/a3/old");
        CHECK(rename(s3, s3old) == 0, "rename sessions");
        gone = lw_expect(e.d, LW_TIMEOUT_MS, "monitor.folder-removed", "path", s3);
        CHECK(strcmp(jstr(gone, "how"), "moved") == 0, "how: %s", jstr(gone, "how"));

        /* An agent folder renamed: followed (the same sessions folder, renamed). */
        char *a2 = lw_path(e.state, "agents/a2"), *a2b = lw_path(e.state, "agents/a2b");
        char *s2b = agent_sessions(&e, "a2b");
        CHECK(rename(a2, a2b) == 0, "rename agent");
        json_t *added = lw_expect(e.d, LW_TIMEOUT_MS, "monitor.folder-added", "path", s2b);
        CHECK(strcmp(jstr(added, "how"), "renamed") == 0, "how: %s", jstr(added, "how"));

        /* An agent folder removed: let go, with its descriptor. */
        char *a5 = lw_path(e.state, "agents/a5"), *s5 = agent_sessions(&e, "a5");
        CHECK(rmdir(s5) == 0 && rmdir(a5) == 0, "rmdir agent");
        lw_expect(e.d, LW_TIMEOUT_MS, "monitor.folder-removed", "path", s5);

        /* Everything above is read: a3 waits for a sessions/ (one fd, its own), a5 is gone. */
        pid_t b = lw_barrier(&e, LW_TIMEOUT_MS);
        size_t after = fds_below(e.d->pid, agents);
        fprintf(stderr, "daemon fds on agent folders: %zu for %d agents\n", after, AGENTS);
        CHECK(after == base + AGENTS - 1, "%zu descriptors on agent folders for %d agents", after, AGENTS);
        lw_kill_wait(b, SIGTERM);
        lw_kill_wait(fh, SIGTERM);
        CHECK(lw_daemon_stop(e.d) == 0, "exit status");
        return 0;
}
