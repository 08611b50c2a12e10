/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* scale: start-up time (exec → monitor.ready: the folder scan, the marks, the /proc seed, the
 * first verdicts) and resident memory of a real lockwarden guarding 1,000, 10,000 and
 * 100,000 session files with 100, 1,000 and 10,000 live locks held by real processes (100
 * locks each, taken as PROTOCOL.md says), spread over 10 agents; bytes per tracked file
 * against an empty state directory. Writes a table, the raw samples, and a PNG plot when
 * gnuplot is installed.
 *
 *   scale [RESULTS.md] [RAW.tsv] [PLOT.png]          (root; LW_BUILDDIR) */
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

#define AGENTS 10
#define PER_HOLDER 100

static long rss_kib(pid_t pid) {
        char path[64], line[256];
        long v = -1;
        snprintf(path, sizeof(path), "/proc/%d/status", (int) pid);
        FILE *f = fopen(path, "re");
        while (f && fgets(line, sizeof(line), f))
                if (strncmp(line, "VmRSS:", 6) == 0)
                        v = strtol(line + 6, NULL, 10);
        if (f)
                fclose(f);
        return v;
}

static char *session_dir(const char *state, int agent) {
        char *p;
        CHECK(asprintf(&p, "%s/agents/a%d/sessions", state, agent) > 0, "oom");
        return p;
}

/* A holder: takes the locks of sessions [FROM, TO) and keeps them until killed. */
static pid_t holder(const char *state, int from, int to, int ready) {
        pid_t pid = fork();
        CHECK(pid >= 0, "fork");
        if (pid != 0)
                return pid;
        for (int i = from; i < to; i++) {
                char path[4200], payload[256];
                char *dir = session_dir(state, i % AGENTS);
                snprintf(path, sizeof(path), "%s/5f0c2a1e-7d3b-4c8e-9a61-%012d.jsonl.lock", dir, i);
                free(dir);
                int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
                int n = snprintf(payload, sizeof(payload),
                                 "{\n  \"pid\": %d,\n  \"createdAt\": \"2026-11-25T00:00:00.000Z\",\n  \"maxHoldMs\": 300000\n}\n",
                                 (int) getpid());
                if (fd < 0 || write(fd, payload, (size_t) n) != n)
                        _exit(1);
                /* kept open: held */
        }
        if (write(ready, "r", 1) != 1)
                _exit(1);
        for (;;)
                pause();
}

typedef struct Sample {
        int files, locks;
        double startup_ms;
        long rss_kib;
        long sessions_seen, locks_seen;
} Sample;

static Sample run(int files, int locks) {
        char *state = lw_path(lw_tmpdir(), "state");
        pid_t holders[256];
        int nh = 0, p[2];
        Sample s = { .files = files, .locks = locks };

        for (int a = 0; a < AGENTS; a++) {
                char *d = session_dir(state, a);
                lw_mkdir_p(d);
                free(d);
        }
        for (int i = 0; i < files; i++) {
                char path[4200];
                char *dir = session_dir(state, i % AGENTS);
                snprintf(path, sizeof(path), "%s/5f0c2a1e-7d3b-4c8e-9a61-%012d.jsonl", dir, i);
                free(dir);
                lw_write_file(path, "{\"type\":\"message\"}\n", 19);
        }
        CHECK(pipe(p) == 0, "pipe");
        for (int i = 0; i < locks; i += PER_HOLDER)
                holders[nh++] = holder(state, i, i + PER_HOLDER < locks ? i + PER_HOLDER : locks, p[1]);
        for (int i = 0; i < nh; i++) {
                char x;
                CHECK(read(p[0], &x, 1) == 1, "holder");
        }
        close(p[0]);
        close(p[1]);

        const char *args[] = { "--state-dir", state, NULL };
        uint64_t t0 = lw_mono_ns();
        LwDaemon *d = lw_daemon_start(NULL, args, NULL);
        json_t *ready = lw_daemon_ready(d);
        s.startup_ms = (double) ((uint64_t) jint(ready, "mono_ns") - t0) / 1e6;
        s.rss_kib = rss_kib(d->pid);
        s.sessions_seen = jint(ready, "sessions");
        s.locks_seen = jint(ready, "locks");
        CHECK(lw_daemon_stop(d) == 0, "exit status");
        for (int i = 0; i < nh; i++)
                lw_kill_wait(holders[i], SIGKILL);
        char cmd[4300];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", state);
        CHECK(system(cmd) == 0, "rm");
        free(state);
        return s;
}

int main(int argc, char **argv) {
        const char *results = argc > 1 ? argv[1] : NULL, *raw = argc > 2 ? argv[2] : NULL, *plot = argc > 3 ? argv[3] : NULL;
        const int configs[][2] = { { 0, 0 }, { 1000, 100 }, { 10000, 1000 }, { 100000, 10000 } };
        Sample s[4];
        char machine[512];

        lw_require_root();
        lw_require_fanotify();
        for (size_t i = 0; i < LW_ELEMENTSOF(configs); i++) {
                s[i] = run(configs[i][0], configs[i][1]);
                fprintf(stderr, "%d files, %d locks: start-up %.1f ms, RSS %ld KiB\n", s[i].files, s[i].locks,
                        s[i].startup_ms, s[i].rss_kib);
        }
        bench_machine(machine, sizeof(machine));
        FILE *r = results ? fopen(results, "we") : stdout;
        fprintf(r, "# Scale and memory\n\nMeasured by `make bench` (`bench/scale`) on %s.\n"
                   "Session files (transcripts, spread over %d agents, named as OpenClaw names them: a UUID\n"
                   "and `.jsonl`) and live locks held by real processes (%d locks each, taken as in\n"
                   "PROTOCOL.md). Start-up: exec → `monitor.ready` (scan, marks,\n"
                   "`/proc` seed, first verdicts). Bytes per tracked file: RSS above the empty daemon's,\n"
                   "divided by the files and locks it tracks.\n\n",
                machine, AGENTS, PER_HOLDER);
        fprintf(r, "| session files | live locks | tracked (ready says) | start-up ms | RSS KiB | bytes per tracked file |\n"
                   "|---:|---:|---:|---:|---:|---:|\n");
        FILE *w = raw ? fopen(raw, "we") : NULL;
        for (size_t i = 0; i < LW_ELEMENTSOF(configs); i++) {
                long tracked = s[i].sessions_seen + s[i].locks_seen;
                char per[32] = "-";
                if (tracked > 0)
                        snprintf(per, sizeof(per), "%.0f", (double) (s[i].rss_kib - s[0].rss_kib) * 1024.0 / (double) tracked);
                fprintf(r, "| %d | %d | %ld | %.1f | %ld | %s |\n", s[i].files, s[i].locks, tracked, s[i].startup_ms,
                        s[i].rss_kib, per);
                if (w)
                        fprintf(w, "%d\t%d\t%ld\t%.3f\t%ld\n", s[i].files, s[i].locks, tracked, s[i].startup_ms, s[i].rss_kib);
        }
        if (w)
                fclose(w);
        if (plot && raw && system("command -v gnuplot >/dev/null") == 0) {
                char cmd[8192];
                snprintf(cmd, sizeof(cmd),
                         "gnuplot -e \"set terminal png size 800,450; set output '%s'; set logscale x; set logscale y; set logscale y2; "
                         "set xlabel 'tracked files'; set ylabel 'start-up ms'; set y2label 'RSS KiB'; set y2tics; "
                         "set key left top; plot '%s' every ::1 using 3:4 with linespoints title 'start-up (ms)', "
                         "'' every ::1 using 3:5 axes x1y2 with linespoints title 'RSS (KiB)'\"",
                         plot, raw);
                if (system(cmd) == 0)
                        fprintf(r, "\n![start-up and memory against tracked files](%s)\n", strrchr(plot, '/') ? strrchr(plot, '/') + 1 : plot);
        }
        if (results)
                fclose(r);
        return 0;
}
