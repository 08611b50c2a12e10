/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* 10,000 random, truncated, mistyped, oversized and deeply nested messages at the control
 * socket, over connections that also close mid-message: every complete line gets exactly
 * one reply (an error unless it was a valid request), the daemon keeps guarding (a lock
 * taken afterwards is reported) and its memory stays flat. The seed is printed; LW_FUZZ_SEED
 * replays it. */
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "lwtest.h"

#define MESSAGES 10000

static unsigned long long rng;

static unsigned rnd(unsigned n) {
        rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
        return (unsigned) ((rng >> 33) % n);
}

static int connect_to(const char *path) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
        CHECK(fd >= 0 && connect(fd, (struct sockaddr *) &sa, sizeof(sa)) == 0, "connect: %s", strerror(errno));
        return fd;
}

static void send_all(int fd, const char *p, size_t n) {
        while (n > 0) {
                ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
                CHECK(k > 0, "send: %s", strerror(errno));
                p += k;
                n -= (size_t) k;
        }
}

/* Reads one reply line (bounded). */
static json_t *reply(int fd, char *buf, size_t size, size_t *len) {
        uint64_t deadline = lw_mono_ns() + LW_TIMEOUT_MS * 1000000ull;

        for (;;) {
                char *nl = memchr(buf, '\n', *len);
                if (nl) {
                        json_t *j = json_loadb(buf, (size_t) (nl - buf), 0, NULL);
                        *len -= (size_t) (nl - buf) + 1;
                        memmove(buf, nl + 1, *len);
                        CHECK(j, "a reply that is not JSON");
                        return j;
                }
                struct pollfd p = { .fd = fd, .events = POLLIN };
                CHECK(lw_mono_ns() < deadline && poll(&p, 1, LW_TIMEOUT_MS) == 1, "no reply");
                ssize_t k = recv(fd, buf + *len, size - *len, 0);
                CHECK(k > 0, "connection closed without a reply");
                *len += (size_t) k;
        }
}

static long rss_kib(pid_t pid) {
        char path[64], line[256];
        long v = -1;

        snprintf(path, sizeof(path), "/proc/%d/status", (int) pid);
        FILE *f = fopen(path, "re");
        CHECK(f, "status of the daemon");
        while (fgets(line, sizeof(line), f))
                if (sscanf(line, "VmRSS: %ld", &v) == 1)
                        break;
        fclose(f);
        return v;
}

/* One message (no newline inside), into buf. Returns its length; *valid when it is a real
 * request. */
static size_t make_message(char *buf, size_t size, bool *valid) {
        static const char *const good[] = {
                "{\"version\":1,\"verb\":\"status\"}", "{\"version\":1,\"verb\":\"locks\",\"all\":true}",
                "{\"version\":1,\"verb\":\"events\",\"since_ms\":10}",
        };
        static const char *const bad[] = {
                "{\"version\":2,\"verb\":\"status\"}", "{\"verb\":\"status\"}", "{\"version\":1}",
                "{\"version\":1,\"verb\":42}", "{\"version\":1,\"verb\":\"frobnicate\"}", "[1,2,3]", "\"status\"",
                "{\"version\":1,\"verb\":\"holders\"}", "{\"version\":1,\"verb\":\"holders\",\"paths\":[1,{}]}",
                "{\"version\":1,\"verb\":\"events\",\"since_ms\":-5}", "{\"version\":1,\"verb\":\"cleanup\",\"paths\":7}",
                "{\"version\":1,\"verb\":\"status\",\"verb\":\"locks\"}", "null", "{}", "",
        };
        size_t n;

        *valid = false;
        switch (rnd(5)) {
        case 0: { /* a valid request */
                const char *g = good[rnd(LW_ELEMENTSOF(good))];
                *valid = true;
                return (size_t) snprintf(buf, size, "%s", g);
        }
        case 1: { /* a truncated valid request */
                const char *g = good[rnd(LW_ELEMENTSOF(good))];
                n = rnd((unsigned) strlen(g));
                memcpy(buf, g, n);
                return n;
        }
        case 2: /* well-formed but wrong */
                return (size_t) snprintf(buf, size, "%s", bad[rnd(LW_ELEMENTSOF(bad))]);
        case 3: /* random bytes, no newline, no NUL */
                n = 1 + rnd(200);
                for (size_t i = 0; i < n; i++) {
                        char c = (char) (1 + rnd(255));
                        buf[i] = c == '\n' ? ' ' : c;
                }
                return n;
        default: /* deep nesting */
                n = 1 + rnd(5000);
                memset(buf, rnd(2) ? '[' : '{', n);
                return n;
        }
}

int main(void) {
        const char *env[] = { "ASAN_OPTIONS=abort_on_error=1:quarantine_size_mb=1", NULL };
        static char msg[80 * 1024], in[1 << 20];
        size_t in_len = 0;
        LwEnv e;

        /* LW_FUZZ_SEED=N replays a run whose log printed "seed N". */
        const char *seed = getenv("LW_FUZZ_SEED");
        rng = seed ? strtoull(seed, NULL, 10) : (unsigned long long) time(NULL);
        fprintf(stderr, "seed %llu (replay: LW_FUZZ_SEED=%llu)\n", rng, rng);
        lw_require_backend();
        e.state = lw_path(lw_tmpdir(), "state");
        e.sessions = lw_path(e.state, "agents/main/sessions");
        lw_mkdir_p(e.sessions);
        const char *args[] = { "--state-dir", e.state, NULL };
        e.d = lw_daemon_start(NULL, args, env);
        lw_daemon_ready(e.d);

        int fd = connect_to(e.d->socket);
        long rss_warm = 0;
        size_t errors = 0;
        for (int i = 0; i < MESSAGES; i++) {
                bool valid;
                size_t n;

                if (i == MESSAGES / 10)
                        rss_warm = rss_kib(e.d->pid);
                if (rnd(100) == 0) {
                        /* Hang up mid-message. */
                        n = make_message(msg, sizeof(msg), &valid);
                        send_all(fd, msg, n / 2);
                        close(fd);
                        fd = connect_to(e.d->socket);
                        in_len = 0;
                        continue;
                }
                if (rnd(500) == 0) {
                        /* Over the 64 KiB cap: one "too-large" error, and the connection lives. */
                        memset(msg, 'x', sizeof(msg) - 1);
                        send_all(fd, msg, sizeof(msg) - 1);
                        send_all(fd, "\n", 1);
                        json_t *r = reply(fd, in, sizeof(in), &in_len);
                        CHECK(strcmp(jstr(json_object_get(r, "error"), "code"), "too-large") == 0, "oversized: %s",
                              jstr(json_object_get(r, "error"), "code"));
                        json_decref(r);
                        errors++;
                        continue;
                }
                n = make_message(msg, sizeof(msg), &valid);
                msg[n++] = '\n';
                send_all(fd, msg, n);
                json_t *r = reply(fd, in, sizeof(in), &in_len);
                json_t *error = json_object_get(r, "error");
                CHECK(jint(r, "version") == 1, "reply without version");
                CHECK(valid ? !error : error && *jstr(error, "code") && *jstr(error, "message"),
                      "message %d (%s): reply %s", i, valid ? "valid" : "invalid", error ? jstr(error, "code") : "ok");
                errors += error != NULL;
                json_decref(r);
        }
        close(fd);
        long rss_end = rss_kib(e.d->pid);
        fprintf(stderr, "%d messages, %zu errors; RSS %ld KiB after %d, %ld KiB at the end\n", MESSAGES, errors,
                rss_warm, MESSAGES / 10, rss_end);
        /* Flat: a plain build grows by about 100 KiB here (allocator pages); the ASan
         * allocator keeps more, and under valgrind RSS is valgrind's (which checks leaks). */
#ifdef __SANITIZE_ADDRESS__
        long allowed = 8192;
#else
        long allowed = 1024;
#endif
        const char *wrapper = getenv("LW_DAEMON_WRAPPER");
        if (!wrapper || !*wrapper)
                CHECK(rss_end - rss_warm < allowed, "memory grew by %ld KiB (allowed %ld)", rss_end - rss_warm, allowed);

        /* Still guarding. */
        char *lock = lw_path(e.sessions, "after.jsonl.lock");
        pid_t h = lw_holder_start(lock, NULL);
        lw_expect(e.d, LW_TIMEOUT_MS, "lock.acquired", "lock", lock);
        lw_kill_wait(h, SIGKILL);
        lw_expect(e.d, LW_TIMEOUT_MS, "lock.cleaned", "lock", lock);
        CHECK(lw_daemon_stop(e.d) == 0, "exit status");
        return 0;
}
