/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* flood: what a burst of work by one user costs the daemon, and what it costs everyone else
 * meanwhile. For each N, on a fresh state dir and a fresh daemon (its events to a regular file,
 * so that no reader can slow it):
 *
 *   create  one process creates N empty transcripts in one folder as fast as it can;
 *   write   N transcripts exist (found at start-up); one process appends a line to each,
 *           without a lock: N unlocked writes.
 *
 * During the burst a lock holder in another agent's folder is SIGKILLed (its cleanup latency:
 * kill → lock.cleaned as written to the events file) and `lockwarden status` is asked (its
 * answer time). After the burst, `lockwarden status` again: the daemon answers once it has
 * read what the kernel queued; then its CPU time (utime + stime, /proc/PID/stat). The race
 * reports it wrote are counted after it stops (open windows are reported on the way out).
 *
 *   flood [RESULTS.md] [RAW.tsv] [N...]          (root; LW_BUILDDIR)
 *
 * A daemon that does not answer within FLOOD_TIMEOUT_S (120) is recorded as such. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench-util.h"
#include "lwtest.h"

#define TIMEOUT_S 120
#define LINE "{\"type\":\"message\",\"restored\":true}\n"

typedef struct Run {
        const char *scenario;
        long n;
        double burst_s;        /* the burst process, start to exit */
        double cpu_s;          /* daemon utime + stime after the barrier (or when it timed out) */
        bool answered;         /* the barrier was answered within TIMEOUT_S */
        double status_ms;      /* `status` during the burst (-1: no answer in time) */
        double cleanup_ms;     /* kill → lock.cleaned (-1: not in time) */
        long races;            /* race.unlocked-write reports */
        long covered;          /* the writes they stand for (1 each, or their "covers") */
} Run;

static double cpu_seconds(pid_t pid) {
        char path[64], buf[2048], *p;
        unsigned long long ut = 0, st = 0;
        FILE *f;

        snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
        f = fopen(path, "re");
        if (!f)
                return -1;
        if (!fgets(buf, sizeof(buf), f))
                buf[0] = '\0';
        fclose(f);
        p = strrchr(buf, ')');
        /* Fields 14 and 15; the one after ')' is field 3. */
        for (int field = 2; p && field < 14; field++)
                p = strchr(p + 1, ' ');
        if (!p || sscanf(p + 1, "%llu %llu", &ut, &st) != 2)
                return -1;
        return (double) (ut + st) / (double) sysconf(_SC_CLK_TCK);
}

static pid_t spawn(const char *const *argv) {
        pid_t p = fork();

        CHECK(p >= 0, "fork");
        if (p == 0) {
                int null = open("/dev/null", O_RDWR | O_CLOEXEC);
                dup2(null, STDOUT_FILENO);
                dup2(null, STDERR_FILENO); /* the daemon's lines are in its events file */
                execv(argv[0], (char *const *) argv);
                _exit(127);
        }
        return p;
}

/* Waits for PID until DEADLINE (mono ns). Returns its status, or -1 (killed) on time-out. */
static int wait_until(pid_t pid, uint64_t deadline) {
        int status;

        for (;;) {
                pid_t r = waitpid(pid, &status, WNOHANG);
                if (r == pid)
                        return status;
                if (lw_mono_ns() >= deadline) {
                        kill(pid, SIGKILL);
                        waitpid(pid, &status, 0);
                        return -1;
                }
                usleep(1000);
        }
}

/* `lockwarden status` against SOCKET: its answer time in ms, or -1 (the client gives up after
 * 30 s). */
static double status_ms(const char *socket) {
        char bin[4096];
        snprintf(bin, sizeof(bin), "%s/src/lockwarden", lw_builddir());
        const char *argv[] = { bin, "status", "--socket", socket, NULL };
        uint64_t t0 = lw_mono_ns();
        int st = wait_until(spawn(argv), t0 + TIMEOUT_S * 1000000000ull);

        if (st < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
                return -1;
        return (double) (lw_mono_ns() - t0) / 1e6;
}

static bool file_has(const char *path, const char *needle, const char *needle2) {
        FILE *f = fopen(path, "re");
        char *line = NULL;
        size_t cap = 0;
        bool found = false;

        while (f && !found && getline(&line, &cap, f) > 0)
                found = strstr(line, needle) && (!needle2 || strstr(line, needle2));
        free(line);
        if (f)
                fclose(f);
        return found;
}

static void count_races(const char *path, Run *run) {
        FILE *f = fopen(path, "re");
        char *line = NULL;
        size_t cap = 0;

        while (f && getline(&line, &cap, f) > 0) {
                json_t *ev;
                if (!strstr(line, "race.unlocked-write") || !(ev = json_loads(line, 0, NULL)))
                        continue;
                if (strcmp(jstr(ev, "event"), "race.unlocked-write") == 0) {
                        run->races++;
                        run->covered += json_object_get(ev, "covers") ? jint(ev, "covers") : 1;
                }
                json_decref(ev);
        }
        free(line);
        if (f)
                fclose(f);
}

/* Writes its own duration (seconds, a double) to OUT when done. */
static void burst(const char *scenario, const char *dir, long n, int out) {
        uint64_t t0 = lw_mono_ns();
        char name[4096];
        double took;

        for (long i = 0; i < n; i++) {
                snprintf(name, sizeof(name), "%s/restored-%07ld.jsonl", dir, i);
                if (strcmp(scenario, "create") == 0) {
                        int fd = open(name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
                        if (fd < 0)
                                _exit(1);
                        close(fd);
                } else {
                        int fd = open(name, O_WRONLY | O_APPEND | O_CLOEXEC);
                        if (fd < 0 || write(fd, LINE, strlen(LINE)) != (ssize_t) strlen(LINE))
                                _exit(1);
                        close(fd);
                }
        }
        took = (double) (lw_mono_ns() - t0) / 1e9;
        if (write(out, &took, sizeof(took)) != sizeof(took))
                _exit(1);
        _exit(0);
}

static void run_one(Run *run) {
        char *state = lw_tmpdir(), *flood_dir, *other_dir, *events, *socket, *config, *lock, bin[4096];
        int st;
        char cmd[8192];
        uint64_t t0, deadline;

        flood_dir = lw_path(state, "agents/flood/sessions");
        other_dir = lw_path(state, "agents/other/sessions");
        lw_mkdir_p(flood_dir);
        lw_mkdir_p(other_dir);
        if (strcmp(run->scenario, "write") == 0)
                for (long i = 0; i < run->n; i++) {
                        char name[4096];
                        snprintf(name, sizeof(name), "%s/restored-%07ld.jsonl", flood_dir, i);
                        lw_write_file(name, "", 0);
                }
        events = lw_path(lw_tmpdir(), "events.ndjson");
        socket = lw_path(lw_tmpdir(), "control.sock");
        config = lw_path(lw_tmpdir(), "config.json");
        lw_write_file(config, "{}\n", 3);
        lock = lw_path(other_dir, "victim.jsonl.lock");

        snprintf(bin, sizeof(bin), "%s/src/lockwarden", lw_builddir());
        const char *argv[] = { bin, "run", "--state-dir", state, "--events", events, "--socket", socket,
                               "--config", config, NULL };
        pid_t d = spawn(argv);
        deadline = lw_mono_ns() + 30 * 1000000000ull;
        while (!file_has(events, "\"monitor.ready\"", NULL)) {
                CHECK(lw_mono_ns() < deadline, "the daemon did not get ready");
                usleep(1000);
        }
        pid_t h = lw_holder_start(lock, NULL);
        deadline = lw_mono_ns() + 30 * 1000000000ull;
        while (!file_has(events, "\"lock.acquired\"", "victim.jsonl.lock")) {
                CHECK(lw_mono_ns() < deadline, "the victim's lock was not seen");
                usleep(1000);
        }
        double cpu0 = cpu_seconds(d);

        /* The burst, and while it runs: a dead owner elsewhere, a status request. */
        int took[2];
        CHECK(pipe2(took, O_CLOEXEC) == 0, "pipe");
        t0 = lw_mono_ns();
        pid_t b = fork();
        CHECK(b >= 0, "fork");
        if (b == 0)
                burst(run->scenario, flood_dir, run->n, took[1]);
        close(took[1]);
        uint64_t kill_ns = lw_mono_ns();
        kill(h, SIGKILL);
        waitpid(h, NULL, 0);
        run->status_ms = status_ms(socket);
        run->cleanup_ms = -1;
        deadline = kill_ns + TIMEOUT_S * 1000000000ull;
        for (;;) {
                if (file_has(events, "\"lock.cleaned\"", "victim.jsonl.lock")) {
                        run->cleanup_ms = (double) (lw_mono_ns() - kill_ns) / 1e6;
                        break;
                }
                if (lw_mono_ns() >= deadline)
                        break;
                usleep(1000);
        }
        st = wait_until(b, t0 + TIMEOUT_S * 1000000000ull);
        CHECK(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "the burst failed");
        CHECK(read(took[0], &run->burst_s, sizeof(run->burst_s)) == sizeof(run->burst_s), "the burst's time");
        close(took[0]);

        /* Barrier: answered once everything queued has been read. */
        run->answered = status_ms(socket) >= 0;
        run->cpu_s = cpu_seconds(d) - cpu0;

        kill(d, SIGTERM);
        (void) wait_until(d, lw_mono_ns() + TIMEOUT_S * 1000000000ull);
        count_races(events, run);
        if (getenv("FLOOD_KEEP")) {
                snprintf(cmd, sizeof(cmd), "cp '%s' '%s/flood-%s-%ld.ndjson'", events, getenv("FLOOD_KEEP"),
                         run->scenario, run->n);
                if (system(cmd) != 0)
                        fprintf(stderr, "could not keep %s\n", events);
        }
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", state);
        if (system(cmd) != 0)
                fprintf(stderr, "could not remove %s\n", state);
        fprintf(stderr, "%s N=%ld: burst %.2f s, daemon CPU %s%.2f s, status %.1f ms, cleanup %.1f ms, "
                "%ld reports covering %ld\n", run->scenario, run->n, run->burst_s, run->answered ? "" : ">= ", run->cpu_s, run->status_ms,
                run->cleanup_ms, run->races, run->covered);
}

/* V with DECIMALS, or "none" for no answer. */
static void fmt(char *buf, size_t size, double v, int decimals) {
        if (v < 0)
                snprintf(buf, size, "none");
        else
                snprintf(buf, size, "%.*f", decimals, v);
}

int main(int argc, char **argv) {
        const char *results = argc > 1 ? argv[1] : NULL, *raw = argc > 2 ? argv[2] : NULL;
        long ns[16] = { 1500, 6000, 30000, 100000 };
        size_t n_ns = 4, n_runs = 0;
        const char *scenarios[] = { "create", "write" };
        Run runs[32];
        char machine[256];

        lw_require_root();
        lw_require_fanotify();
        if (argc > 3) {
                n_ns = 0;
                for (int i = 3; i < argc && n_ns < 16; i++)
                        ns[n_ns++] = strtol(argv[i], NULL, 10);
        }
        for (size_t s = 0; s < LW_ELEMENTSOF(scenarios); s++)
                for (size_t i = 0; i < n_ns; i++) {
                        runs[n_runs] = (Run) { .scenario = scenarios[s], .n = ns[i] };
                        run_one(&runs[n_runs++]);
                }

        bench_machine(machine, sizeof(machine));
        FILE *r = results ? fopen(results, "we") : stdout;
        CHECK(r, "%s", results);
        fprintf(r, "# A flood of work by one user\n\n"
                "Measured by `bench/flood` on %s.\n"
                "One process creates N empty transcripts in one folder (`create`), or appends one line\n"
                "to each of N transcripts without a lock (`write`), as fast as it can. Daemon CPU:\n"
                "utime + stime from the burst's start until `lockwarden status` answers after it (the\n"
                "queue read). During the burst: `lockwarden status`'s answer time, and a SIGKILLed lock\n"
                "owner's cleanup latency in another agent's folder (kill → `lock.cleaned`). Reports:\n"
                "`race.unlocked-write` events written, and the writes they stand for. \"≥\": `status`\n"
                "did not answer within %d s after the burst; the CPU it had used by then. \"none\": the\n"
                "client gave up (30 s), or no cleanup within %d s.\n\n"
                "| scenario | N | burst s | daemon CPU s | CPU µs per file | status ms | cleanup ms | reports | covering |\n"
                "|---|---:|---:|---:|---:|---:|---:|---:|---:|\n", machine, TIMEOUT_S, TIMEOUT_S);
        for (size_t i = 0; i < n_runs; i++) {
                char cpu[32], per[32], stm[32], cl[32];
                snprintf(cpu, sizeof(cpu), "%s%.2f", runs[i].answered ? "" : "≥ ", runs[i].cpu_s);
                snprintf(per, sizeof(per), "%s%.0f", runs[i].answered ? "" : "≥ ", runs[i].cpu_s * 1e6 / (double) runs[i].n);
                fmt(stm, sizeof(stm), runs[i].status_ms, 1);
                fmt(cl, sizeof(cl), runs[i].cleanup_ms, 1);
                fprintf(r, "| %s | %ld | %.2f | %s | %s | %s | %s | %ld | %ld |\n", runs[i].scenario, runs[i].n,
                        runs[i].burst_s, cpu, per, stm, cl, runs[i].races, runs[i].covered);
        }
        /* The growth, per file, as this run measured it. */
        for (size_t s = 0; s < LW_ELEMENTSOF(scenarios); s++) {
                bool first = true;
                fprintf(r, "%s", s == 0 ? "\nDaemon CPU per 1,000 files, as N grows:" : ";");
                for (size_t i = 0; i < n_runs; i++)
                        if (strcmp(runs[i].scenario, scenarios[s]) == 0) {
                                fprintf(r, "%s %s%.0f ms", first ? "" : ",", runs[i].answered ? "" : "≥ ",
                                        runs[i].cpu_s * 1e6 / (double) runs[i].n);
                                first = false;
                        }
                fprintf(r, " (%s)", scenarios[s]);
        }
        fprintf(r, ".\n");
        /* The reference: the same program's raw file from another build (FLOOD_REFERENCE, and
         * what it is in FLOOD_REFERENCE_WHAT), rendered here as it was measured. */
        const char *ref = getenv("FLOOD_REFERENCE"), *what = getenv("FLOOD_REFERENCE_WHAT");
        FILE *rf = ref ? fopen(ref, "re") : NULL;
        if (rf) {
                char line[512], sc[32];
                long n, reports, covering;
                double burst, cpu, stm, cl;
                int answered;

                fprintf(r, "\nThe reference: %s, by the same program (raw file `%s`, rendered here as written):\n\n"
                        "| scenario | N | burst s | daemon CPU s | CPU µs per file | status ms | cleanup ms | reports | covering |\n"
                        "|---|---:|---:|---:|---:|---:|---:|---:|---:|\n", what ? what : "another build",
                        strstr(ref, "bench/raw/") ? strstr(ref, "bench/raw/") : ref);
                while (fgets(line, sizeof(line), rf))
                        if (line[0] != '#' && sscanf(line, "%31s %ld %lf %lf %d %lf %lf %ld %ld", sc, &n, &burst, &cpu, &answered,
                                                     &stm, &cl, &reports, &covering) == 9 && n > 0)
                                fprintf(r, "| %s | %ld | %.2f | %s%.2f | %s%.0f | %.1f | %.1f | %ld | %ld |\n", sc, n, burst,
                                        answered ? "" : "≥ ", cpu, answered ? "" : "≥ ", cpu * 1e6 / (double) n, stm, cl,
                                        reports, covering);
                fclose(rf);
        }
        if (results)
                fclose(r);
        if (raw) {
                FILE *w = fopen(raw, "we");
                CHECK(w, "%s", raw);
                fprintf(w, "# scenario\tN\tburst_s\tcpu_s\tanswered\tstatus_ms\tcleanup_ms\treports\tcovering\n");
                for (size_t i = 0; i < n_runs; i++)
                        fprintf(w, "%s\t%ld\t%.3f\t%.3f\t%d\t%.3f\t%.3f\t%ld\t%ld\n", runs[i].scenario, runs[i].n,
                                runs[i].burst_s, runs[i].cpu_s, runs[i].answered, runs[i].status_ms, runs[i].cleanup_ms, runs[i].races,
                                runs[i].covered);
                fclose(w);
        }
        return 0;
}
