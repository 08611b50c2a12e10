/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* resync: how long lockwarden takes to rebuild its view after the kernel dropped events.
 *
 * A state dir with FILES session files across 10 agents: PROCS of them are locks held by PROCS
 * real holder processes (tests/lock-holder), the rest transcripts. For each backend, the
 * daemon starts (start-up time: exec → monitor.ready), then ROUNDS times it is stopped
 * (SIGSTOP), more files than its queue holds come and go, and it is continued: we record the
 * resync's own duration (monitor.resync duration_us: folders re-read, /proc walked, holder
 * map rebuilt) and SIGCONT → monitor.resync as received (reading the overflowed queue first).
 *
 *   resync [FILES] [PROCS] [ROUNDS] [RESULTS.md] [RAW.tsv]
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench-util.h"
#include "lwtest.h"

#define AGENTS 10

static pid_t *holders;
static size_t n_holders;

static void kill_holders(void) {
        lw_kill_all(holders, n_holders);
        n_holders = 0;
}

static long queue_max(const char *backend) {
        char path[128];
        long max = 16384;
        FILE *f;

        snprintf(path, sizeof(path), "/proc/sys/fs/%s/max_queued_events", backend);
        if ((f = fopen(path, "re"))) {
                if (fscanf(f, "%ld", &max) != 1)
                        max = 16384;
                fclose(f);
        }
        return max;
}

typedef struct Result {
        const char *backend;
        uint64_t start_us;
        uint64_t *own_us, *seen_us;
        size_t n;
} Result;

static void run_backend(Result *res, const char *state, const char *junk_dir, size_t files, size_t procs,
                        size_t rounds) {
        char backend_arg[64];
        snprintf(backend_arg, sizeof(backend_arg), "--backend=%s", res->backend);
        const char *args[] = { "--state-dir", state, backend_arg, NULL };

        uint64_t t0 = lw_mono_ns();
        LwDaemon *d = lw_daemon_start(NULL, args, NULL);
        json_t *ready = lw_daemon_ready(d);
        res->start_us = (lw_mono_ns() - t0) / 1000;
        CHECK((size_t) (jint(ready, "locks") + jint(ready, "sessions")) == files, "%s: ready sees %lld + %lld files",
              res->backend, jint(ready, "locks"), jint(ready, "sessions"));

        long junk = queue_max(res->backend) + 1000;
        res->own_us = calloc(rounds, sizeof(uint64_t));
        res->seen_us = calloc(rounds, sizeof(uint64_t));
        for (size_t r = 0; r < rounds; r++) {
                kill(d->pid, SIGSTOP);
                lw_wait_stopped(d->pid, LW_TIMEOUT_MS);
                for (long i = 0; i < junk; i++) {
                        char name[64];
                        snprintf(name, sizeof(name), "%s/junk-%ld.jsonl", junk_dir, i);
                        int fd = open(name, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
                        CHECK(fd >= 0, "create %s", name);
                        close(fd);
                        CHECK(unlink(name) == 0, "unlink");
                }
                uint64_t cont = lw_mono_ns();
                kill(d->pid, SIGCONT);
                json_t *rs = lw_expect(d, 120000, "monitor.resync", NULL, NULL);
                res->seen_us[r] = (lw_mono_ns() - cont) / 1000;
                res->own_us[r] = (uint64_t) jint(rs, "duration_us");
                CHECK((size_t) jint(rs, "files") == files && (size_t) jint(rs, "locks") == procs &&
                      (size_t) jint(rs, "holders") >= procs, "%s: resync sees %lld files, %lld locks, %lld holders",
                      res->backend, jint(rs, "files"), jint(rs, "locks"), jint(rs, "holders"));
        }
        res->n = rounds;
        CHECK(lw_count(d, "lock.cleaned", NULL, NULL) == 0, "%s: a live lock was cleaned", res->backend);
        CHECK(lw_daemon_stop(d) == 0, "%s: exit status", res->backend);
}


int main(int argc, char **argv) {
        size_t files = argc > 1 ? (size_t) atol(argv[1]) : 10000;
        size_t procs = argc > 2 ? (size_t) atol(argv[2]) : 1000;
        size_t rounds = argc > 3 ? (size_t) atol(argv[3]) : 5;
        const char *out = argc > 4 ? argv[4] : "bench/results-resync.md";
        const char *raw = argc > 5 ? argv[5] : NULL;
        char machine[512];

        lw_require_root();
        lw_require_fanotify();
        CHECK(procs <= files && rounds > 0, "usage: resync [FILES] [PROCS] [ROUNDS] [RESULTS.md] [RAW.tsv]");
        char *state = lw_path(lw_tmpdir(), "state");
        char *sessions[AGENTS];
        for (size_t a = 0; a < AGENTS; a++) {
                char rel[64];
                snprintf(rel, sizeof(rel), "agents/a%02zu/sessions", a);
                sessions[a] = lw_path(state, rel);
                lw_mkdir_p(sessions[a]);
        }
        for (size_t i = 0; i < files - procs; i++) {
                char name[64];
                snprintf(name, sizeof(name), "t%06zu.jsonl", i);
                char *p = lw_path(sessions[i % AGENTS], name);
                lw_write_file(p, "{\"type\":\"message\"}\n", 19);
                free(p);
        }
        holders = calloc(procs, sizeof(pid_t));
        atexit(kill_holders);
        for (size_t i = 0; i < procs; i++) {
                char name[64];
                snprintf(name, sizeof(name), "l%06zu.jsonl.lock", i);
                char *p = lw_path(sessions[i % AGENTS], name);
                holders[n_holders++] = lw_holder_start(p, NULL);
                free(p);
        }

        Result res[2] = { { .backend = "fanotify" }, { .backend = "inotify" } };
        const char *only = getenv("BENCH_BACKEND"); /* one backend only, for a quick look */
        for (size_t b = 0; b < 2; b++) {
                if (only && strcmp(only, res[b].backend) != 0)
                        continue;
                run_backend(&res[b], state, sessions[0], files, procs, rounds);
                fprintf(stderr, "%s done\n", res[b].backend);
        }
        kill_holders();

        bench_machine(machine, sizeof(machine));
        FILE *o = fopen(out, "we");
        CHECK(o, "open %s", out);
        fprintf(o, "# Resync after lost events\n\n"
                   "Measured by `bench/resync` (`make bench`): %zu session files in %d sessions folders, "
                   "%zu of them locks held by %zu live processes; %zu rounds per backend, each "
                   "overflowing the kernel queue (SIGSTOP, more files come and go than it holds, SIGCONT).\n\n"
                   "Machine: %s; lockwarden at `%s`.\n\n"
                   "| backend | start-up (exec → ready) | resync, own (median / max) | own, ms per 1,000 files | SIGCONT → monitor.resync (median / max) |\n"
                   "|---|---:|---:|---:|---:|\n",
                files, AGENTS, procs, procs, rounds, machine, bench_commit());
        for (size_t b = 0; b < 2; b++) {
                Stats own = bench_stats(res[b].own_us, res[b].n), seen = bench_stats(res[b].seen_us, res[b].n);
                fprintf(o, "| %s | %.1f ms | %.1f / %.1f ms | %.2f | %.1f / %.1f ms |\n", res[b].backend,
                        res[b].start_us / 1000.0, own.median / 1000.0, own.max / 1000.0,
                        own.median / (double) files, seen.median / 1000.0, seen.max / 1000.0);
        }
        fprintf(o, "\n\"Own\" is the daemon's `duration_us`: re-reading every folder, one walk of /proc "
                   "rebuilding the holder map, reading again the payloads that changed. SIGCONT → monitor.resync also "
                   "includes reading and discarding the overflowed queue. How the resync grows with the "
                   "number of files, agent folders and owner processes (one round per size, up to "
                   "thousands of agent folders): `results-scale.md`.\n");
        fclose(o);
        if (raw) {
                FILE *r = fopen(raw, "we");
                CHECK(r, "open %s", raw);
                fprintf(r, "backend\tround\tresync_own_us\tsigcont_to_resync_us\n");
                for (size_t b = 0; b < 2; b++)
                        for (size_t i = 0; i < res[b].n; i++)
                                fprintf(r, "%s\t%zu\t%llu\t%llu\n", res[b].backend, i,
                                        (unsigned long long) res[b].own_us[i], (unsigned long long) res[b].seen_us[i]);
                fclose(r);
        }
        return 0;
}
