// SPDX-License-Identifier: LGPL-2.1-or-later
// Drives the real application's own code (OpenClaw's published npm package: its session-lock
// module dist/session-write-lock-*.js and its restart recovery
// dist/main-session-restart-recovery-*.js) for tests/interop/run.sh. Named openclaw.mjs on
// purpose: the application's contenders treat a lock owner whose command line does not look
// like OpenClaw as stale ("non-openclaw-owner"), and this script stands in for the gateway.
// run.sh copies it into the unpacked package (PKG/lockwarden-interop/openclaw.mjs) and runs it
// from there, as the application runs from its own package: lockwarden finds the release by
// walking up from the script to the package.json named "openclaw".
//
//   node openclaw.mjs hold FILE [MAX_HOLD_MS]   acquire, print "locked PID", hold until a signal
//                                               (the application's own handler then releases)
//   node openclaw.mjs leak FILE                 acquire, print "locked PID"; on SIGUSR1 close the
//                                               lock's descriptor without unlinking it (a leaked
//                                               lock), print "leaked EPOCH_MS", stay alive
//   node openclaw.mjs hold-fork FILE            acquire, hand the lock's write descriptor to a
//                                               child ("sleep 1000", which never opens the file),
//                                               print "locked PID child CHILD_PID", hold
//   node openclaw.mjs acquire FILE TIMEOUT_MS   print "waiting EPOCH_MS", acquire, print
//                                               "acquired MS EPOCH_MS" (MS: the wait), release;
//                                               on failure "failed MS" and the application's
//                                               error on standard error, exit 1
//   node openclaw.mjs cycles FILE N             N times: acquire, append a line, release
//   node openclaw.mjs inspect DIR               the application's own verdict on every lock in
//                                               DIR (cleanStaleLockFiles, removing nothing), JSON
//   node openclaw.mjs recover DIR               the gateway's start-up sweep of one sessions
//                                               folder (cleanupStaleSessionLocks):
//                                               cleanStaleLockFiles({removeStale: true}), then
//                                               markRestartAbortedMainSessionsFromLocks with the
//                                               locks it removed; prints {"cleaned":N,"marked":M}
//   node openclaw.mjs sqlite-path STATE_DIR     (2026.8+) the application's path of agent main's
//                                               SQLite store in STATE_DIR
//
// Words after the arguments (such as "gateway") are ignored: they only shape the command line
// that lockwarden and the application's contenders judge.
// The package's dist/ folder: LW_OPENCLAW_DIST, else ../dist from this script.
import fs from "node:fs";
import path from "node:path";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const dist = process.env.LW_OPENCLAW_DIST || path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "dist");
const [mode, target, arg] = process.argv.slice(2);
const numericArg = arg !== undefined && /^\d+$/.test(arg) ? Number(arg) : undefined;
const now = () => performance.timeOrigin + performance.now();

// A module of dist/ whose name starts with PREFIX and that exports every name in NAMES: found
// by its exports, not by its hashed file name.
async function findModule(prefix, names) {
        const re = new RegExp(`^${prefix}-[A-Za-z0-9_-]+\\.m?js$`);
        for (const name of fs.readdirSync(dist).filter((n) => re.test(n)).sort()) {
                const m = await import(path.join(dist, name));
                if (names.every((n) => typeof m[n] === "function"))
                        return m;
        }
        console.error(`no ${prefix} module exporting ${names.join(", ")} in ${dist}`);
        process.exit(2);
}
const lockModule = () => findModule("session-write-lock", ["acquireSessionWriteLock", "cleanStaleLockFiles"]);

// The lock's descriptor as the application keeps it: the session-lock manager (fs-safe's
// sidecar lock, shared through a global symbol) keeps a FileHandle per held lock.
function heldLock(lockPath) {
        const managers = globalThis[Symbol.for("fsSafe.sidecarLockManagers")];
        for (const state of managers?.values?.() ?? [])
                for (const held of state.held?.values?.() ?? [])
                        if (held.lockPath === lockPath && typeof held.handle?.fd === "number")
                                return held;
        return null;
}
// The lock path the application builds: the realpath of the folder, the name plus ".lock".
function lockPathOf(file) {
        const resolved = path.resolve(file);
        let dir = path.dirname(resolved);
        try {
                dir = fs.realpathSync(dir);
        } catch {}
        return path.join(dir, path.basename(resolved)) + ".lock";
}
function starttime() {
        const stat = fs.readFileSync("/proc/self/stat", "utf8");
        return Number(stat.slice(stat.lastIndexOf(")") + 1).trimStart().split(/\s+/)[19]);
}
const stayAlive = () => setInterval(() => {}, 1 << 30);

switch (mode) {
case "hold": {
        const { acquireSessionWriteLock } = await lockModule();
        const params = { sessionFile: target, timeoutMs: 10000 };
        if (numericArg) params.maxHoldMs = numericArg;
        await acquireSessionWriteLock(params);
        console.log(`locked ${process.pid}`);
        stayAlive();
        break;
}
case "leak": {
        const { acquireSessionWriteLock } = await lockModule();
        await acquireSessionWriteLock({ sessionFile: target, timeoutMs: 10000 });
        const lockPath = lockPathOf(target);
        const held = heldLock(lockPath);
        process.on("SIGUSR1", async () => {
                if (held) {
                        // The application's own descriptor, closed; the lock stays on disk and
                        // the application still counts it as held.
                        await held.handle.close();
                } else {
                        // Not reachable in this release: the lock as the application writes it.
                        fs.rmSync(lockPath, { force: true });
                        const fd = fs.openSync(lockPath, "wx");
                        fs.writeSync(fd, `${JSON.stringify({ pid: process.pid, createdAt: new Date().toISOString(), maxHoldMs: 300000, starttime: starttime() }, null, 2)}\n`);
                        fs.closeSync(fd);
                }
                console.log(`leaked ${now().toFixed(1)}`);
        });
        console.log(`locked ${process.pid}`);
        stayAlive();
        break;
}
case "hold-fork": {
        const { acquireSessionWriteLock } = await lockModule();
        await acquireSessionWriteLock({ sessionFile: target, timeoutMs: 10000 });
        const held = heldLock(lockPathOf(target));
        if (!held) {
                console.error("the application's lock descriptor is not reachable");
                process.exit(2);
        }
        // The child gets the write descriptor as its fd 3 (dup2, so without O_CLOEXEC) and
        // never opens the lock itself.
        const child = spawn("sleep", ["1000"], { stdio: ["ignore", "ignore", "ignore", held.handle.fd], detached: true });
        child.unref();
        console.log(`locked ${process.pid} child ${child.pid}`);
        stayAlive();
        break;
}
case "acquire": {
        const { acquireSessionWriteLock } = await lockModule();
        console.log(`waiting ${now().toFixed(1)}`);
        const t0 = performance.now();
        let lock;
        try {
                lock = await acquireSessionWriteLock({ sessionFile: target, timeoutMs: numericArg });
        } catch (err) {
                console.log(`failed ${Math.round(performance.now() - t0)}`);
                console.error(String(err?.message ?? err));
                process.exit(1);
        }
        console.log(`acquired ${Math.round(performance.now() - t0)} ${now().toFixed(1)}`);
        await lock.release();
        break;
}
case "cycles": {
        const { acquireSessionWriteLock } = await lockModule();
        for (let i = 0; i < numericArg; i++) {
                const lock = await acquireSessionWriteLock({ sessionFile: target, timeoutMs: 60000 });
                fs.appendFileSync(target, JSON.stringify({ pid: process.pid, n: i }) + "\n");
                await lock.release();
        }
        console.log(`cycled ${numericArg}`);
        break;
}
case "inspect": {
        const { cleanStaleLockFiles } = await lockModule();
        const r = await cleanStaleLockFiles({ sessionsDir: target, removeStale: false });
        console.log(JSON.stringify(r.locks.map((l) => ({ lock: l.lockPath, pid: l.pid, stale: l.stale, reasons: l.staleReasons }))));
        break;
}
case "recover": {
        // As cleanupStaleSessionLocks (server-startup-post-attach-*.js) does for each folder.
        // The application's logger, silent: no lines on standard output, no log file in /tmp.
        process.env.OPENCLAW_LOG_LEVEL ??= "silent";
        const { cleanStaleLockFiles } = await lockModule();
        const { markRestartAbortedMainSessionsFromLocks } = await findModule("main-session-restart-recovery",
                ["markRestartAbortedMainSessionsFromLocks"]);
        const r = await cleanStaleLockFiles({ sessionsDir: target, removeStale: true });
        let marked = 0;
        if (r.cleaned.length > 0)
                marked = (await markRestartAbortedMainSessionsFromLocks({ sessionsDir: target, cleanedLocks: r.cleaned })).marked;
        console.log(JSON.stringify({ cleaned: r.cleaned.length, marked, reasons: r.cleaned.map((l) => l.staleReasons) }));
        process.exit(0); // the recovery module's imports may leave handles open
}
case "sqlite-path": {
        // openclaw-agent-db.paths-*.mjs: the one export that resolves an agent's SQLite file.
        const re = /^openclaw-agent-db\.paths-[A-Za-z0-9_-]+\.mjs$/;
        for (const name of fs.readdirSync(dist).filter((n) => re.test(n))) {
                const m = await import(path.join(dist, name));
                for (const f of Object.values(m)) {
                        if (typeof f !== "function")
                                continue;
                        let p;
                        try {
                                p = f({ agentId: "main", env: { ...process.env, OPENCLAW_STATE_DIR: target } });
                        } catch {
                                continue;
                        }
                        if (typeof p === "string" && p.endsWith(`${path.sep}openclaw-agent.sqlite`) && p.startsWith(path.resolve(target))) {
                                console.log(p);
                                process.exit(0);
                        }
                }
        }
        console.error(`no resolver of the agent SQLite path in ${dist}`);
        process.exit(2);
}
default:
        console.error(`unknown mode ${mode}`);
        process.exit(2);
}
