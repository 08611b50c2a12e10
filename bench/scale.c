/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* scale: what a real lockwarden costs as the state dir grows, in three series, each row one
 * daemon started on a fresh state dir:
 *
 *   files   1,000 to 100,000 transcripts in 10 agent folders, a tenth of them locked, 100
 *           locks held by each real process (the rows this bench always had);
 *   agents  a tenth, a third and all of 10,000 agent folders (agents/<id>/sessions/, as
 *           OpenClaw lays out a state dir), 10 sessions each (transcript and lock): up to
 *           100,000 live locks, held by real processes 100 each;
 *   owners  a tenth, a third and all of 25,000 distinct owner processes (under the default
 *           pid_max of 32,768), each a forked child holding one lock open, 100 per agent
 *           folder.
 * The largest rows are capped by the descriptors the daemon may have (one per agent folder, a pidfd
 * per owner process): the unit's LimitNOFILE= when the bench may set it, else the hard limit
 * it has.
 *
 * Locks are taken as PROTOCOL.md says (O_EXCL create, payload, descriptor kept open). For
 * each row: start-up (exec → monitor.ready: the folder scan, the marks, the /proc seed),
 * resident memory right after, bytes per tracked file above the empty daemon's, the daemon's
 * open descriptors against its limit, and the resync after an overflow (bench/resync's
 * method: SIGSTOP, more files come and go than the kernel queues, SIGCONT; the daemon's own
 * duration_us).
 *
 * Whatever it started is killed, and every folder it made removed, on any exit: holders get
 * PR_SET_PDEATHSIG, a failed check or SIGINT/SIGTERM ends through atexit.
 *
 *   scale [RESULTS.md] [RAW.tsv] [PLOT.png]          (root; LW_BUILDDIR)
 *   SCALE_SERIES=files,agents,owners and SCALE_DIV=N (every size divided by N) for a quick look */
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench-util.h"
#include "lwtest.h"

/* The daemon's descriptor limit as contrib/lockwarden.service sets it. */
#define UNIT_NOFILE 524288
/* The largest agents row: the goal of issue 17. */
#define AGENTS_MAX 10000
/* Distinct owner processes at the largest owners row: under the default pid_max of 32,768
 * with room left for the rest of the machine. */
#define OWNERS_MAX 25000

typedef struct Config {
        const char *series;
        int agents, files, locks, per_holder, rounds;
} Config;

typedef struct Sample {
        Config c;
        int holders;
        double startup_ms, resync_ms;
        long rss_kib, fds, nofile;
        long sessions_seen, locks_seen;
} Sample;

static pid_t *holders;
static size_t n_holders;
static char *work;

static void kill_holders(void) {
        lw_kill_all(holders, n_holders);
        n_holders = 0;
}

static int rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        (void) st;
        (void) flag;
        (void) ftw;
        (void) remove(path);
        return 0;
}

static void rm_rf(const char *path) {
        (void) nftw(path, rm_cb, 64, FTW_DEPTH | FTW_PHYS);
}

/* Holders first (they keep files open in the work folder), then the folder. */
static void cleanup(void) {
        kill_holders();
        if (work)
                rm_rf(work);
}

static void on_signal(int sig) {
        (void) sig;
        exit(1); /* atexit: the daemon (lwtest), the holders and the folders go */
}

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

static void session_path(char *buf, size_t size, const char *state, const Config *c, int i, const char *suffix) {
        snprintf(buf, size, "%s/agents/a%05d/sessions/5f0c2a1e-7d3b-4c8e-9a61-%012d.jsonl%s", state, i % c->agents, i,
                 suffix);
}

/* A holder: takes the locks of sessions [FROM, TO) and keeps them until killed (or until the
 * bench is gone). */
static pid_t holder(const char *state, const Config *c, int from, int to, int ready, const char *created_at) {
        pid_t parent = getpid(), pid = fork();
        CHECK(pid >= 0, "fork (holder %zu)", n_holders);
        if (pid != 0)
                return pid;
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
                _exit(1);
        /* Not the bench's handlers: only the bench cleans up. */
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        signal(SIGHUP, SIG_DFL);
        for (int i = from; i < to; i++) {
                char path[4200], payload[256];
                session_path(path, sizeof(path), state, c, i, ".lock");
                int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
                int n = snprintf(payload, sizeof(payload),
                                 "{\n  \"pid\": %d,\n  \"createdAt\": \"%s\",\n  \"maxHoldMs\": 3600000\n}\n",
                                 (int) getpid(), created_at);
                if (fd < 0 || write(fd, payload, (size_t) n) != n)
                        _exit(1);
                /* kept open: held */
        }
        if (write(ready, "r", 1) != 1)
                _exit(1);
        for (;;)
                pause();
}

static Sample run(const Config *c) {
        char *state = lw_path(work, "state");
        int p[2];
        Sample s = { .c = *c };
        uint64_t t_begin = lw_mono_ns();

        for (int a = 0; a < c->agents; a++) {
                char d[4200];
                snprintf(d, sizeof(d), "%s/agents/a%05d/sessions", state, a);
                lw_mkdir_p(d);
        }
        for (int i = 0; i < c->files; i++) {
                char path[4200];
                session_path(path, sizeof(path), state, c, i, "");
                lw_write_file(path, "{\"type\":\"message\"}\n", 19);
        }
        /* Taken now, held for an hour at most: no lock is reported aged while measured. */
        char created_at[64];
        time_t now = time(NULL);
        strftime(created_at, sizeof(created_at), "%Y-%m-%dT%H:%M:%S.000Z", gmtime(&now));
        CHECK(pipe2(p, O_CLOEXEC) == 0, "pipe");
        /* Read as they come: more holders than a pipe holds bytes never block. */
        size_t started = n_holders;
        for (int i = 0; i < c->locks; i += c->per_holder) {
                holders[n_holders++] = holder(state, c, i, i + c->per_holder < c->locks ? i + c->per_holder : c->locks, p[1],
                                            created_at);
                if ((n_holders - started) % 4096 == 0)
                        for (int k = 0; k < 4096; k++) {
                                char x;
                                CHECK(read(p[0], &x, 1) == 1, "holder");
                        }
        }
        s.holders = (int) (n_holders - started);
        for (size_t k = 0; k < (size_t) s.holders % 4096; k++) {
                char x;
                CHECK(read(p[0], &x, 1) == 1, "holder");
        }
        close(p[0]);
        close(p[1]);

        uint64_t t_setup = lw_mono_ns();
        char *agent0 = NULL;
        CHECK(asprintf(&agent0, "%s/agents/a00000/sessions", state) > 0, "oom");
        const char *args[] = { "--state-dir", state, NULL };
        uint64_t t0 = lw_mono_ns();
        LwDaemon *d = lw_daemon_start(NULL, args, NULL);
        json_t *ready = lw_expect(d, 60000, "monitor.ready", NULL, NULL);
        s.startup_ms = (double) ((uint64_t) jint(ready, "mono_ns") - t0) / 1e6;
        s.rss_kib = rss_kib(d->pid);
        s.fds = (long) lw_fd_count(d->pid);
        s.nofile = jint(ready, "nofile");
        s.sessions_seen = jint(ready, "sessions");
        s.locks_seen = jint(ready, "locks");
        CHECK(s.sessions_seen == c->files && s.locks_seen == c->locks, "%s: ready sees %ld sessions, %ld locks",
              c->series, s.sessions_seen, s.locks_seen);

        /* Settled first: a start-up with more locks than the kernel queues events overflows it
         * with its own payload reads, and resyncs once; that resync is not the one measured.
         * A lock taken now is reported after everything queued before it. */
        LwEnv e = { .state = state, .sessions = agent0, .d = d };
        pid_t barrier = lw_barrier(&e, 60000);
        for (size_t k = lw_count(d, "monitor.resync", NULL, NULL); k > 0; k--)
                lw_expect(d, 1000, "monitor.resync", NULL, NULL);
        lw_kill_wait(barrier, SIGTERM);

        uint64_t t_ready = lw_mono_ns();
        uint64_t own[8];
        for (int r = 0; r < c->rounds; r++) {
                lw_overflow_stopped(d, agent0);
                kill(d->pid, SIGCONT);
                json_t *rs = lw_expect(d, 60000, "monitor.resync", NULL, NULL);
                own[r] = (uint64_t) jint(rs, "duration_us");
                CHECK(jint(rs, "files") == c->files + c->locks && jint(rs, "locks") == c->locks &&
                      jint(rs, "holders") >= c->locks, "%s: resync sees %lld files, %lld locks, %lld holders",
                      c->series, jint(rs, "files"), jint(rs, "locks"), jint(rs, "holders"));
        }
        s.resync_ms = bench_stats(own, (size_t) c->rounds).median / 1000.0;
        CHECK(lw_count(d, "lock.cleaned", NULL, NULL) == 0, "%s: a live lock was cleaned", c->series);
        CHECK(lw_daemon_stop(d) == 0, "%s: exit status", c->series);
        uint64_t t_resync = lw_mono_ns();
        /* This run's holders only (earlier rows' are gone already). */
        kill_holders();
        rm_rf(state);
        fprintf(stderr, "%s: set-up %.1f s, start %.1f s, resyncs %.1f s, tear-down %.1f s\n", c->series,
                (double) (t_setup - t_begin) / 1e9, (double) (t_ready - t_setup) / 1e9,
                (double) (t_resync - t_ready) / 1e9, (double) (lw_mono_ns() - t_resync) / 1e9);
        free(agent0);
        free(state);
        return s;
}


static double per_k(double ms, long n) {
        return n > 0 ? ms * 1000.0 / (double) n : 0;
}

int main(int argc, char **argv) {
        const char *results = argc > 1 ? argv[1] : NULL, *raw = argc > 2 ? argv[2] : NULL, *plot = argc > 3 ? argv[3] : NULL;
        const char *only = getenv("SCALE_SERIES");
        int div = getenv("SCALE_DIV") ? atoi(getenv("SCALE_DIV")) : 1;
        Config all[10];
        size_t n_all = 0;
        Sample s[LW_ELEMENTSOF(all)];
        size_t n = 0;
        char machine[512];

        lw_require_root();
        lw_require_fanotify();
        CHECK(div >= 1, "SCALE_DIV");
        work = lw_tmpdir();
        atexit(cleanup);
        /* The daemon inherits this; without CAP_SYS_RESOURCE the hard limit stays as it is. */
        struct rlimit nofile = { UNIT_NOFILE, UNIT_NOFILE };
        bool unit_nofile = setrlimit(RLIMIT_NOFILE, &nofile) == 0;
        CHECK(getrlimit(RLIMIT_NOFILE, &nofile) == 0, "getrlimit");
        /* The largest rows that fit the descriptors the daemon may have (95%% of them, 50 its
         * own): the state dir, agents/, one per agent folder (its sessions/: agents/<id> keeps
         * none once that is guarded) and a pidfd per owner process. Agents: 1 per agent, and a
         * holder per 10 agents; owners: a pidfd each, 1 per 100 of them for their folder. */
        long room = (long) ((double) nofile.rlim_max * 0.95) - 50;
        int agents_max = (int) (room / 1.1 / 1000) * 1000, owners_max = (int) (room / 1.01 / 1000) * 1000;
        agents_max = agents_max < AGENTS_MAX ? agents_max : AGENTS_MAX;
        owners_max = owners_max < OWNERS_MAX ? owners_max : OWNERS_MAX;
        CHECK(agents_max >= 1000 && owners_max >= 1000, "only %ld descriptors", (long) nofile.rlim_max);
        all[n_all++] = (Config) { "files", 10, 0, 0, 100, 1 };
        for (int f = 1000; f <= 100000; f *= 10)
                all[n_all++] = (Config) { "files", 10, f, f / 10, 100, 1 };
        for (int k = 0; k < 3; k++) {
                int a = k == 0 ? agents_max / 10 : k == 1 ? agents_max / 3 : agents_max;
                all[n_all++] = (Config) { "agents", a, 10 * a, 10 * a, 100, 1 };
        }
        for (int k = 0; k < 3; k++) {
                int o = k == 0 ? owners_max / 10 : k == 1 ? owners_max / 3 : owners_max;
                all[n_all++] = (Config) { "owners", (o + 99) / 100, o, o, 1, 1 };
        }
        holders = calloc((size_t) owners_max + 1000, sizeof(pid_t));
        CHECK(holders, "oom");
        signal(SIGINT, on_signal);
        signal(SIGTERM, on_signal);
        signal(SIGHUP, on_signal);
        for (size_t i = 0; i < n_all; i++) {
                Config c = all[i];
                if (only && !strstr(only, c.series))
                        continue;
                if (i > 0) {
                        if (strcmp(c.series, "files") != 0)
                                c.agents = c.agents / div > 0 ? c.agents / div : 1;
                        c.files /= div;
                        c.locks /= div;
                }
                s[n] = run(&c);
                fprintf(stderr, "%s: %d agents, %d files, %d locks, %d holders: start-up %.1f ms, RSS %ld KiB, %ld fds of %ld, resync %.1f ms\n",
                        c.series, c.agents, c.files, c.locks, s[n].holders, s[n].startup_ms, s[n].rss_kib, s[n].fds,
                        s[n].nofile, s[n].resync_ms);
                n++;
        }
        CHECK(n > 0, "SCALE_SERIES: nothing to run");

        bench_machine(machine, sizeof(machine));
        char limit[256];
        if (unit_nofile)
                snprintf(limit, sizeof(limit), "%d, the unit's `LimitNOFILE=`", UNIT_NOFILE);
        else
                snprintf(limit, sizeof(limit),
                         "%ld, this machine's hard limit, which the daemon raises its soft limit to (the unit's "
                         "`LimitNOFILE=%d` needs CAP_SYS_RESOURCE, which the bench lacks here)", s[0].nofile, UNIT_NOFILE);
        FILE *r = results ? fopen(results, "we") : stdout;
        CHECK(r, "open %s", results);
        fprintf(r, "# Scale and memory\n\n"
                   "Measured by `make bench` (`bench/scale`) on %s, lockwarden at `%s`.\n\n"
                   "Descriptor limit: %s.\n\n"
                   "Each row is one daemon (fanotify) started on a fresh state dir of `agents/<id>/sessions/` folders holding transcripts (a UUID and `.jsonl`, as\n"
                   "OpenClaw names them) and locks held open by live processes, taken as in PROTOCOL.md:\n\n"
                   "- **files**: 10 agent folders, up to 100,000 transcripts, a tenth of them locked, 100\n"
                   "  locks per holder process.\n"
                   "- **agents**: a tenth, a third and all of %d agent folders, 10 sessions each\n"
                   "  (transcript and its lock), 100 locks per holder process.\n"
                   "- **owners**: a tenth, a third and all of %d distinct owner processes (forked children,\n"
                   "  one lock each, 100 per agent folder).\n\n"
                   "The largest rows are the goal of issue 17 (%d agent folders; 100,000 live locks) capped by\n"
                   "what fits: the daemon keeps a descriptor for the state dir, for `agents/` and one per\n"
                   "agent folder (its `sessions/`; `agents/<id>` keeps none once that is guarded, and is\n"
                   "opened again by name when needed) and a pidfd per owner process, and the rows stay\n"
                   "within 95%% of its limit. Distinct owner processes are at most %d: 100,000\n"
                   "would need pid_max raised above the default 32,768 and GiBs of kernel memory for the\n"
                   "processes alone; 100,000 live locks (the agents series) are held by 100 per process.\n\n"
                   "Start-up: exec → `monitor.ready` (scan, marks, `/proc` seed). RSS right after it; bytes\n"
                   "per tracked file: RSS above the empty daemon's, divided by the files and locks ready\n"
                   "counts. Descriptors: entries of `/proc/PID/fd` right after ready, of the soft limit.\n"
                   "Resync: the daemon's own `duration_us` after a queue overflow (SIGSTOP, more files come\n"
                   "and go than the kernel queues, SIGCONT), one round per row (`bench/resync` repeats it\n"
                   "at one size); it re-reads every folder, walks `/proc` once and reads again the payloads\n"
                   "that changed.\n"
                   "\"per 1k\" divides by thousands of tracked files (files and agents series) or of owner\n"
                   "processes (owners series).\n\n",
                machine, bench_commit(), limit, agents_max, owners_max, AGENTS_MAX, OWNERS_MAX);
        fprintf(r, "| series | agent folders | transcripts | live locks | holder processes | tracked | start-up ms | ms per 1k | "
                   "RSS KiB | bytes per tracked file | descriptors / limit | resync ms | resync ms per 1k |\n"
                   "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        FILE *w = raw ? fopen(raw, "we") : NULL;
        if (w)
                fprintf(w, "series\tagents\tfiles\tlocks\tholders\ttracked\tstartup_ms\trss_kib\tfds\tnofile\tresync_ms\n");
        for (size_t i = 0; i < n; i++) {
                long tracked = s[i].sessions_seen + s[i].locks_seen;
                long unit = strcmp(s[i].c.series, "owners") == 0 ? s[i].holders : tracked;
                char per[32] = "-", su[32] = "-", rs[32] = "-";
                if (tracked > 0) {
                        if (s[0].c.files == 0) /* the empty daemon: SCALE_SERIES may leave it out */
                                snprintf(per, sizeof(per), "%.0f",
                                         (double) (s[i].rss_kib - s[0].rss_kib) * 1024.0 / (double) tracked);
                        snprintf(su, sizeof(su), "%.2f", per_k(s[i].startup_ms, unit));
                        snprintf(rs, sizeof(rs), "%.2f", per_k(s[i].resync_ms, unit));
                }
                fprintf(r, "| %s | %d | %d | %d | %d | %ld | %.1f | %s | %ld | %s | %ld / %ld | %.1f | %s |\n", s[i].c.series,
                        s[i].c.agents, s[i].c.files, s[i].c.locks, s[i].holders, tracked, s[i].startup_ms, su,
                        s[i].rss_kib, per, s[i].fds, s[i].nofile, s[i].resync_ms, rs);
                if (w)
                        fprintf(w, "%s\t%d\t%d\t%d\t%d\t%ld\t%.3f\t%ld\t%ld\t%ld\t%.3f\n", s[i].c.series, s[i].c.agents,
                                s[i].c.files, s[i].c.locks, s[i].holders, tracked, s[i].startup_ms, s[i].rss_kib,
                                s[i].fds, s[i].nofile, s[i].resync_ms);
        }
        if (w)
                fclose(w);
        if (plot && raw && system("command -v gnuplot >/dev/null") == 0) {
                char cmd[8192];
                snprintf(cmd, sizeof(cmd),
                         "gnuplot -e \"set terminal png size 800,450; set output '%s'; set logscale x; set logscale y; set logscale y2; "
                         "set xlabel 'tracked files'; set ylabel 'start-up ms'; set y2label 'RSS KiB'; set y2tics; "
                         "set key left top; plot '%s' every ::2 using 6:7 with linespoints title 'start-up (ms)', "
                         "'' every ::2 using 6:8 axes x1y2 with linespoints title 'RSS (KiB)'\"",
                         plot, raw);
                if (system(cmd) == 0)
                        fprintf(r, "\n![start-up and memory against tracked files](%s)\n", strrchr(plot, '/') ? strrchr(plot, '/') + 1 : plot);
        }
        if (results)
                fclose(r);
        return 0;
}
