/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* soak: the chaos soak (`make soak`, SOAK_SECONDS, default 60). A real lockwarden guards 50
 * sessions; 8 workers loop lock → append a numbered JSON line → release, each taking the lock
 * as PROTOCOL.md says and holding it 5-25 ms; they are SIGKILLed at random several times a
 * second and restarted; a reckless reclaimer deletes locks it thinks are old (5 ms), live
 * holders' included. A checker reads lockwarden's event stream as it goes and verifies:
 *   - no removal of a lock whose owner was alive and holding it (/proc, at the event);
 *   - every dead owner's lock was removed (latency from the SIGKILL, p50/p99/max);
 *   - every line a worker acknowledged is in its transcript exactly once, every line is JSON;
 *   - every steal by the reclaimer (owner alive and still holding the unlinked lock, checked
 *     in /proc right after the unlink) was reported as race.lock-stolen, or, when the kernel
 *     merged the owner's close into its earlier record so that the order is lost, lockwarden
 *     said it cannot tell (lock.removed with owner_holds null; counted apart).
 * Prints the counts and writes them to RESULTS (a Markdown file). Exit 1 on any violation.
 *
 *   soak [SECONDS [RESULTS]]        (LW_BUILDDIR: where src/lockwarden is) */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define N_WORKERS 8
#define N_SESSIONS 50
#define MAX_KILLS 100000

typedef struct Slot {
        volatile pid_t pid;
        volatile int lock;      /* the session whose lock it holds, -1 when none */
} Slot;

static Slot *slots;
#define SHORT_PATH 512
static char sessions[SHORT_PATH], acks[SHORT_PATH];
static volatile sig_atomic_t stop;

static uint64_t mono_ns(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000000ull + (uint64_t) ts.tv_nsec;
}

static void on_term(int sig) {
        (void) sig;
        stop = 1;
}

static void msleep_us(long us) {
        struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };
        nanosleep(&ts, NULL);
}

static unsigned long long my_starttime(void) {
        char buf[1024], *p;
        FILE *f = fopen("/proc/self/stat", "re");
        size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
        unsigned long long v = 0;

        if (f)
                fclose(f);
        buf[n] = '\0';
        p = strrchr(buf, ')');
        for (int field = 2; p && *p && field < 22; p++)
                if (*p == ' ')
                        field++;
        if (p)
                v = strtoull(p, NULL, 10);
        return v;
}

/* ---- a worker: the protocol's lifecycle, forever ---- */

static void worker(int slot) {
        unsigned seed = (unsigned) getpid() ^ (unsigned) mono_ns();
        unsigned long long st = my_starttime();
        char ackpath[PATH_MAX];
        int ackfd;

        signal(SIGTERM, on_term);
        snprintf(ackpath, sizeof(ackpath), "%s/%d-%d.ack", acks, slot, (int) getpid());
        ackfd = open(ackpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        for (long n = 0; !stop; n++) {
                int s = (int) (rand_r(&seed) % N_SESSIONS), fd, tfd;
                char lock[PATH_MAX], tr[PATH_MAX], payload[256], line[256], back[256];
                struct timespec now;
                struct tm tm;
                ssize_t len;

                snprintf(lock, sizeof(lock), "%s/s%02d.jsonl.lock", sessions, s);
                snprintf(tr, sizeof(tr), "%s/s%02d.jsonl", sessions, s);
                fd = open(lock, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
                if (fd < 0) {
                        msleep_us(200 + rand_r(&seed) % 800); /* contended: another session */
                        continue;
                }
                clock_gettime(CLOCK_REALTIME, &now);
                gmtime_r(&now.tv_sec, &tm);
                len = snprintf(payload, sizeof(payload),
                               "{\n  \"pid\": %d,\n  \"createdAt\": \"%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ\",\n"
                               "  \"maxHoldMs\": 300000,\n  \"starttime\": %llu\n}\n",
                               (int) getpid(), tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                               tm.tm_sec, now.tv_nsec / 1000000, st);
                if (write(fd, payload, (size_t) len) != len) {
                        close(fd);
                        unlink(lock);
                        continue;
                }
                slots[slot].lock = s;
                /* One append, one write: a line is whole or absent. Acknowledged only after. */
                len = snprintf(line, sizeof(line), "{\"slot\":%d,\"pid\":%d,\"n\":%ld,\"session\":%d}\n", slot,
                               (int) getpid(), n, s);
                tfd = open(tr, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
                if (tfd >= 0 && write(tfd, line, (size_t) len) == len) {
                        char ack[64];
                        int k = snprintf(ack, sizeof(ack), "%d %ld\n", s, n);
                        if (write(ackfd, ack, (size_t) k) != k)
                                _exit(3);
                }
                if (tfd >= 0)
                        close(tfd);
                msleep_us(5000 + rand_r(&seed) % 20000);
                /* Release: no longer ours to be cleaned if we die from here on. */
                slots[slot].lock = -1;
                close(fd);
                fd = open(lock, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
                if (fd >= 0) {
                        ssize_t k = read(fd, back, sizeof(back));
                        close(fd);
                        if (k == (ssize_t) strlen(payload) && memcmp(back, payload, (size_t) k) == 0)
                                unlink(lock);
                }
        }
        _exit(0);
}

static pid_t start_worker(int slot) {
        pid_t p = fork();

        if (p == 0)
                worker(slot);
        slots[slot].lock = -1;
        slots[slot].pid = p;
        return p;
}

/* Is fd FD of PID open for writing? */
static bool fd_writable(pid_t pid, const char *fd) {
        char path[512], buf[256], *flags;
        FILE *f;
        size_t n;

        snprintf(path, sizeof(path), "/proc/%d/fdinfo/%s", (int) pid, fd);
        f = fopen(path, "re");
        if (!f)
                return false;
        n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[n] = '\0';
        flags = strstr(buf, "flags:");
        return flags && (strtoul(flags + 6, NULL, 8) & O_ACCMODE) != O_RDONLY;
}

/* Does PID hold a deleted file named NAME open for writing (the fd it took the lock with, not
 * the one its release re-reads it through: the protocol's holder, as lockwarden counts it)? */
static bool holds_deleted(pid_t pid, const char *name) {
        char dir[64], link[PATH_MAX + 64], target[PATH_MAX];
        struct dirent *de;
        bool found = false;
        DIR *d;

        snprintf(dir, sizeof(dir), "/proc/%d/fd", (int) pid);
        d = opendir(dir);
        if (!d)
                return false;
        while (!found && (de = readdir(d))) {
                ssize_t n;
                snprintf(link, sizeof(link), "%s/%s", dir, de->d_name);
                n = readlink(link, target, sizeof(target) - 1);
                if (n <= 0)
                        continue;
                target[n] = '\0';
                found = strstr(target, name) && strstr(target, " (deleted)") && fd_writable(pid, de->d_name);
        }
        closedir(d);
        return found;
}

/* ---- the reckless reclaimer ---- */

static void reclaimer(int out) {
        unsigned seed = (unsigned) getpid();

        signal(SIGTERM, on_term);
        while (!stop) {
                char lock[PATH_MAX], name[64], buf[512];
                struct stat st;
                int s = (int) (rand_r(&seed) % N_SESSIONS), fd;
                ssize_t n;
                char *p;

                msleep_us(30000 + rand_r(&seed) % 70000);
                snprintf(name, sizeof(name), "s%02d.jsonl.lock", s);
                snprintf(lock, sizeof(lock), "%s/%s", sessions, name);
                if (lstat(lock, &st) < 0)
                        continue;
                /* "Old": its mtime is 5 ms ago. Its owner may well be alive and holding it. */
                struct timespec now;
                clock_gettime(CLOCK_REALTIME, &now);
                if ((now.tv_sec - st.st_mtim.tv_sec) * 1000000000ll + (now.tv_nsec - st.st_mtim.tv_nsec) < 5000000)
                        continue;
                fd = open(lock, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
                if (fd < 0)
                        continue;
                n = read(fd, buf, sizeof(buf) - 1);
                close(fd);
                if (n <= 0 || unlink(lock) < 0)
                        continue;
                buf[n] = '\0';
                p = strstr(buf, "\"pid\":");
                pid_t owner = p ? (pid_t) atoi(p + 6) : 0;
                /* A steal: the owner still holds the very file we unlinked. */
                if (owner > 0 && holds_deleted(owner, name))
                        dprintf(out, "%s %d\n", name, (int) owner);
        }
        _exit(0);
}

/* ---- the checker ---- */

typedef struct Kill {
        int lock;
        pid_t pid;
        uint64_t ns;
        int64_t latency_us;     /* -1: not seen yet; -2: removed by the reclaimer */
} Kill;

static Kill kills[MAX_KILLS];
static size_t n_kills;
static size_t n_cleaned, n_stolen_reports, n_races, n_removed, violations, n_unreported, n_unplaced;
static json_t *stolen;          /* [ [name, owner], ... ] reported */
static json_t *unplaced;        /* [ [name, owner], ... ] lock.removed with owner_holds null */
static json_t *history;         /* every event naming a lock, for the story of a violation */

static void violation(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void violation(const char *fmt, ...) {
        va_list ap;

        violations++;
        fprintf(stderr, "VIOLATION: ");
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
}

static int lock_index(const char *path) {
        const char *b = path ? strrchr(path, '/') : NULL;
        int s;

        return b && sscanf(b, "/s%d.jsonl.lock", &s) == 1 ? s : -1;
}

static void on_event(json_t *e) {
        const char *ev = json_string_value(json_object_get(e, "event"));
        const char *lock = json_string_value(json_object_get(e, "lock"));
        pid_t owner = (pid_t) json_integer_value(json_object_get(e, "owner_pid"));
        uint64_t ns = (uint64_t) json_integer_value(json_object_get(e, "mono_ns"));

        if (!ev)
                return;
        if (lock)
                json_array_append(history, e);
        if (strncmp(ev, "race.", 5) == 0)
                n_races++;
        if (strcmp(ev, "race.lock-stolen") == 0 && lock) {
                n_stolen_reports++;
                json_array_append_new(stolen, json_pack("[s, i]", strrchr(lock, '/') + 1, (int) owner));
        }
        if (strcmp(ev, "lock.cleaned") == 0) {
                const char *name = lock ? strrchr(lock, '/') + 1 : "";
                n_cleaned++;
                /* Never a live holder's lock: the owner must not hold the removed file now. */
                if (owner > 0 && kill(owner, 0) == 0 && holds_deleted(owner, name))
                        violation("lockwarden removed %s while its owner %d was alive and holding it", lock, (int) owner);
                for (size_t i = 0; i < n_kills; i++)
                        if (kills[i].pid == owner && kills[i].lock == lock_index(lock) && kills[i].latency_us == -1)
                                kills[i].latency_us = (int64_t) (ns - kills[i].ns) / 1000;
        }
        if (strcmp(ev, "lock.removed") == 0) {
                n_removed++;
                /* Its owner's close and this removal came out of order (merged by the kernel):
                 * lockwarden says it cannot tell, and reports no race. */
                if (lock && json_is_null(json_object_get(e, "owner_holds")))
                        json_array_append_new(unplaced, json_pack("[s, i]", strrchr(lock, '/') + 1, (int) owner));
                for (size_t i = 0; i < n_kills; i++)
                        if (kills[i].pid == owner && kills[i].lock == lock_index(lock) && kills[i].latency_us == -1)
                                kills[i].latency_us = -2;
        }
        if (strcmp(ev, "monitor.overflow") == 0)
                fprintf(stderr, "note: the kernel queue overflowed (the resync follows)\n");
}

static char evbuf[1 << 20];
static size_t evlen;

/* Reads what the daemon wrote; returns false at EOF. */
static bool pump(int fd, int timeout_ms) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        ssize_t n;
        char *nl;

        if (poll(&p, 1, timeout_ms) <= 0)
                return true;
        n = read(fd, evbuf + evlen, sizeof(evbuf) - 1 - evlen);
        if (n <= 0)
                return n < 0 && errno == EINTR;
        evlen += (size_t) n;
        while ((nl = memchr(evbuf, '\n', evlen))) {
                json_t *e = json_loadb(evbuf, (size_t) (nl - evbuf), 0, NULL);
                if (e) {
                        on_event(e);
                        json_decref(e);
                }
                memmove(evbuf, nl + 1, evlen - (size_t) (nl - evbuf) - 1);
                evlen -= (size_t) (nl - evbuf) + 1;
        }
        return true;
}

/* Does the lock of session S on disk name PID as its owner? */
static bool lock_owned_by(int s, pid_t pid) {
        char path[SHORT_PATH + 32], buf[512], *p;
        int fd;
        ssize_t n;

        snprintf(path, sizeof(path), "%s/s%02d.jsonl.lock", sessions, s);
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return false;
        n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        if (n <= 0)
                return false;
        buf[n] = '\0';
        p = strstr(buf, "\"pid\":");
        return p && atoi(p + 6) == pid;
}

static int cmp64(const void *a, const void *b) {
        int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;
        return (x > y) - (x < y);
}

int main(int argc, char **argv) {
        int seconds = argc > 1 ? atoi(argv[1]) : getenv("SOAK_SECONDS") ? atoi(getenv("SOAK_SECONDS")) : 60;
        const char *results = argc > 2 ? argv[2] : NULL;
        const char *build = getenv("LW_BUILDDIR") ? getenv("LW_BUILDDIR") : ".";
        char tmpl[] = "/var/tmp/lockwarden-soak.XXXXXX", bin[PATH_MAX], state[SHORT_PATH - 32], sock[SHORT_PATH];
        char stealpath[SHORT_PATH];
        int evp[2], stealfd;
        pid_t daemon, recl;
        unsigned seed = (unsigned) time(NULL);
        size_t n_steals = 0, n_lines = 0, n_acked = 0;
        uint64_t t0, deadline, next_kill;

        if (seconds <= 0 || !mkdtemp(tmpl)) {
                fprintf(stderr, "usage: soak [SECONDS [RESULTS]]\n");
                return 2;
        }
        if (snprintf(bin, sizeof(bin), "%s/src/lockwarden", build) >= (int) sizeof(bin))
                return 2;
        snprintf(state, sizeof(state), "%s/state", tmpl);
        snprintf(sessions, sizeof(sessions), "%s/agents/main/sessions", state);
        snprintf(acks, sizeof(acks), "%s/acks", tmpl);
        snprintf(sock, sizeof(sock), "%s/control.sock", tmpl);
        snprintf(stealpath, sizeof(stealpath), "%s/steals", tmpl);
        char cmd[PATH_MAX * 2];
        snprintf(cmd, sizeof(cmd), "mkdir -p '%s' '%s'", sessions, acks);
        if (system(cmd) != 0)
                return 2;
        slots = mmap(NULL, sizeof(Slot) * N_WORKERS, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        stolen = json_array();
        unplaced = json_array();
        history = json_array();
        signal(SIGPIPE, SIG_IGN);

        if (pipe2(evp, O_CLOEXEC) < 0)
                return 2;
        daemon = fork();
        if (daemon == 0) {
                dup2(evp[1], STDOUT_FILENO);
                int null = open("/dev/null", O_WRONLY);
                dup2(null, STDERR_FILENO);
                execl(bin, bin, "run", "--state-dir", state, "--socket", sock, "--config", "/dev/null", "--events", "-",
                      "--leak-grace-ms", "1000", (char *) NULL);
                _exit(127);
        }
        close(evp[1]);
        /* Ready: the first event. */
        while (n_cleaned == 0 && evlen == 0 && pump(evp[0], 5000) && !strstr(evbuf, "monitor.ready"))
                if (evlen == 0)
                        break;
        for (int i = 0; i < N_WORKERS; i++)
                start_worker(i);
        stealfd = open(stealpath, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
        recl = fork();
        if (recl == 0)
                reclaimer(stealfd);

        t0 = mono_ns();
        deadline = t0 + (uint64_t) seconds * 1000000000ull;
        next_kill = t0 + 200000000ull;
        while (mono_ns() < deadline) {
                pump(evp[0], 10);
                if (mono_ns() >= next_kill && n_kills < MAX_KILLS) {
                        int s = (int) (rand_r(&seed) % N_WORKERS);
                        pid_t p = slots[s].pid;
                        int lock = slots[s].lock;
                        /* Holding at the moment of the kill, and the lock on disk still its own
                         * (not stolen by the reclaimer just before): lockwarden must clean it. */
                        bool own = lock >= 0 && lock_owned_by(lock, p);
                        uint64_t ns = mono_ns();

                        kill(p, SIGKILL);
                        waitpid(p, NULL, 0);
                        if (own && slots[s].lock == lock)
                                kills[n_kills++] = (Kill) { .lock = lock, .pid = p, .ns = ns, .latency_us = -1 };
                        start_worker(s);
                        next_kill = mono_ns() + 100000000ull + rand_r(&seed) % 200000000ull;
                }
        }
        /* Wind down: the reclaimer and the workers stop (releasing), the daemon drains. */
        kill(recl, SIGTERM);
        waitpid(recl, NULL, 0);
        for (int i = 0; i < N_WORKERS; i++)
                kill(slots[i].pid, SIGTERM);
        for (int i = 0; i < N_WORKERS; i++)
                waitpid(slots[i].pid, NULL, 0);
        for (uint64_t end = mono_ns() + 3000000000ull; mono_ns() < end;)
                pump(evp[0], 50);
        kill(daemon, SIGTERM);
        while (pump(evp[0], 1000))
                if (waitpid(daemon, NULL, WNOHANG) == daemon) {
                        while (pump(evp[0], 100) && evlen)
                                ;
                        break;
                }
        int dstatus = 0;
        waitpid(daemon, &dstatus, 0);
        if (!WIFEXITED(dstatus) || WEXITSTATUS(dstatus) != 0)
                violation("lockwarden exited with status %d", dstatus);

        /* Dead owners: every lock held at a kill was removed by lockwarden (or the reclaimer). */
        int64_t *lat = calloc(n_kills + 1, sizeof(int64_t));
        size_t n_lat = 0, by_reclaimer = 0;
        for (size_t i = 0; i < n_kills; i++) {
                if (kills[i].latency_us >= 0) {
                        lat[n_lat++] = kills[i].latency_us;
                        /* LW_SOAK_SLOW_MS=N: what lockwarden said of a lock cleaned N ms or more
                         * after its owner's SIGKILL. */
                        const char *slow = getenv("LW_SOAK_SLOW_MS");
                        if (slow && kills[i].latency_us >= atoll(slow) * 1000) {
                                char want[32];
                                json_t *h;
                                size_t k;
                                fprintf(stderr, "slow: s%02d.jsonl.lock of pid %d: %lld us\n", kills[i].lock,
                                        (int) kills[i].pid, (long long) kills[i].latency_us);
                                snprintf(want, sizeof(want), "/s%02d.jsonl.lock", kills[i].lock);
                                json_array_foreach(history, k, h) {
                                        const char *l = json_string_value(json_object_get(h, "lock"));
                                        uint64_t t = (uint64_t) json_integer_value(json_object_get(h, "mono_ns"));
                                        if (l && strstr(l, want) && t + 100000000ull >= kills[i].ns &&
                                            t <= kills[i].ns + (uint64_t) kills[i].latency_us * 1000 + 100000000ull) {
                                                char *d = json_dumps(h, JSON_COMPACT);
                                                fprintf(stderr, "    %s\n", d);
                                                free(d);
                                        }
                                }
                        }
                }
                else if (kills[i].latency_us == -2)
                        by_reclaimer++;
                else {
                        violation("the lock s%02d.jsonl.lock of killed pid %d was never removed", kills[i].lock,
                                  (int) kills[i].pid);
                        /* What lockwarden said about that lock from then on, for the post-mortem. */
                        char want[32];
                        json_t *h;
                        size_t k;
                        snprintf(want, sizeof(want), "/s%02d.jsonl.lock", kills[i].lock);
                        json_array_foreach(history, k, h) {
                                const char *l = json_string_value(json_object_get(h, "lock"));
                                if (l && strstr(l, want) &&
                                    (uint64_t) json_integer_value(json_object_get(h, "mono_ns")) + 2000000000ull >= kills[i].ns) {
                                        char *d = json_dumps(h, JSON_COMPACT);
                                        fprintf(stderr, "    %s\n", d);
                                        free(d);
                                }
                        }
                }
        }
        qsort(lat, n_lat, sizeof(int64_t), cmp64);

        /* Steals: each reported as race.lock-stolen (lock and owner). */
        FILE *sf = fopen(stealpath, "re");
        char name[64];
        int owner;
        while (sf && fscanf(sf, "%63s %d", name, &owner) == 2) {
                bool found = false;
                json_t *r;
                size_t i;
                n_steals++;
                json_array_foreach(stolen, i, r)
                        found = found || (strcmp(json_string_value(json_array_get(r, 0)), name) == 0 &&
                                          json_integer_value(json_array_get(r, 1)) == owner);
                bool said = false;
                json_array_foreach(unplaced, i, r)
                        said = said || (strcmp(json_string_value(json_array_get(r, 0)), name) == 0 &&
                                        json_integer_value(json_array_get(r, 1)) == owner);
                if (!found && said) {
                        /* Not a race lockwarden could prove: the owner's close was merged out of
                         * order with the removal, and lockwarden said so (owner_holds null). */
                        n_unplaced++;
                        continue;
                }
                if (!found) {
                        /* Counted on its own too: it was once the one open finding (a lock taken
                         * and stolen before the daemon read its creation; see docs/RELIABILITY.md). */
                        n_unreported++;
                        violation("the reclaimer stole %s from live pid %d: no race.lock-stolen", name, owner);
                        /* What lockwarden said about that lock and owner, for the post-mortem. */
                        json_t *h;
                        json_array_foreach(history, i, h) {
                                const char *l = json_string_value(json_object_get(h, "lock"));
                                if (l && strstr(l, name) && (json_integer_value(json_object_get(h, "owner_pid")) == owner ||
                                                             json_integer_value(json_object_get(h, "pid")) == owner)) {
                                        char *d = json_dumps(h, JSON_COMPACT);
                                        fprintf(stderr, "    %s\n", d);
                                        free(d);
                                }
                        }
                }
        }
        if (sf)
                fclose(sf);

        /* Transcripts: JSON lines; every acknowledged line exactly once. */
        json_t *seen = json_object();
        for (int s = 0; s < N_SESSIONS; s++) {
                char tr[PATH_MAX], line[512];
                snprintf(tr, sizeof(tr), "%s/s%02d.jsonl", sessions, s);
                FILE *f = fopen(tr, "re");
                while (f && fgets(line, sizeof(line), f)) {
                        json_t *j = json_loads(line, 0, NULL);
                        char key[96];
                        n_lines++;
                        if (!j || !json_is_object(j)) {
                                violation("%s: not a JSON line: %s", tr, line);
                                json_decref(j);
                                continue;
                        }
                        snprintf(key, sizeof(key), "%lld %lld %lld", (long long) json_integer_value(json_object_get(j, "session")),
                                 (long long) json_integer_value(json_object_get(j, "pid")),
                                 (long long) json_integer_value(json_object_get(j, "n")));
                        if (json_integer_value(json_object_get(j, "session")) != s)
                                violation("%s: a line of session %lld", tr, (long long) json_integer_value(json_object_get(j, "session")));
                        json_t *c = json_object_get(seen, key);
                        json_object_set_new(seen, key, json_integer(c ? json_integer_value(c) + 1 : 1));
                        json_decref(j);
                }
                if (f)
                        fclose(f);
        }
        DIR *d = opendir(acks);
        struct dirent *de;
        while (d && (de = readdir(d))) {
                char path[PATH_MAX * 2], line[64];
                int slot, pid;
                if (sscanf(de->d_name, "%d-%d.ack", &slot, &pid) != 2)
                        continue;
                snprintf(path, sizeof(path), "%s/%s", acks, de->d_name);
                FILE *f = fopen(path, "re");
                int s;
                long n;
                while (f && fgets(line, sizeof(line), f) && sscanf(line, "%d %ld", &s, &n) == 2) {
                        char key[96];
                        snprintf(key, sizeof(key), "%d %d %ld", s, pid, n);
                        n_acked++;
                        json_t *c = json_object_get(seen, key);
                        if (!c || json_integer_value(c) != 1)
                                violation("acknowledged line %s is in its transcript %lld times", key,
                                          c ? (long long) json_integer_value(c) : 0ll);
                }
                if (f)
                        fclose(f);
        }
        if (d)
                closedir(d);

        struct utsname u;
        uname(&u);
        char summary[4096];
        snprintf(summary, sizeof(summary),
                 "| seconds | workers | sessions | kills holding a lock | cleaned | by the reclaimer first | "
                 "cleanup latency after SIGKILL p50 / p99 / max | steals | race.lock-stolen | steals out of order (owner_holds null) | "
                 "steals unreported | races | lines | acknowledged | violations |\n"
                 "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n"
                 "| %d | %d | %d | %zu | %zu | %zu | %lld / %lld / %lld us | %zu | %zu | %zu | %zu | %zu | %zu | %zu | **%zu** |\n",
                 seconds, N_WORKERS, N_SESSIONS, n_kills, n_cleaned, by_reclaimer,
                 n_lat ? (long long) lat[n_lat / 2] : -1, n_lat ? (long long) lat[(n_lat * 99) / 100] : -1,
                 n_lat ? (long long) lat[n_lat - 1] : -1, n_steals, n_stolen_reports, n_unplaced, n_unreported, n_races, n_lines,
                 n_acked,
                 violations);
        printf("%s", summary);
        if (results) {
                FILE *f = fopen(results, "we");
                time_t now = time(NULL);
                char date[64];
                strftime(date, sizeof(date), "%Y-%m-%d %H:%M UTC", gmtime(&now));
                /* make soak gives the line every results file carries (bench/machine: the
                 * date, the machine, the commit and its speed); by hand, what is known here. */
                const char *machine = getenv("BENCH_MACHINE"), *commit = getenv("BENCH_COMMIT");
                if (f && machine && *machine)
                        fprintf(f, "# Chaos soak\n\n`make soak SOAK_SECONDS=%d` on %s.\n\n%s", seconds, machine,
                                summary);
                else if (f)
                        fprintf(f, "# Chaos soak\n\n`make soak SOAK_SECONDS=%d` on %s, Linux %s, %ld CPUs; commit %s.\n\n%s", seconds,
                                date, u.release, sysconf(_SC_NPROCESSORS_ONLN), commit && *commit ? commit : "unknown",
                                summary);
                if (f)
                        fclose(f);
        }
        fflush(stdout);
        json_decref(seen);
        json_decref(stolen);
        json_decref(unplaced);
        json_decref(history);
        free(lat);
        munmap(slots, sizeof(Slot) * N_WORKERS);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpl);
        if (system(cmd) != 0)
                fprintf(stderr, "could not remove %s\n", tmpl);
        return violations ? 1 : 0;
}
