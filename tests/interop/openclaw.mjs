// SPDX-License-Identifier: LGPL-2.1-or-later
// Drives the real application's own session-lock module (OpenClaw's published npm package,
// dist/session-write-lock-*.js) for tests/interop/run.sh. Named openclaw.mjs on purpose: the
// application's contenders treat a lock owner whose command line does not look like OpenClaw
// as stale ("non-openclaw-owner"), and this script stands in for the gateway.
//
//   node openclaw.mjs hold FILE [MAX_HOLD_MS]   acquire, print "locked PID", hold until a signal
//                                               (the application's own handler then releases)
//   node openclaw.mjs acquire FILE TIMEOUT_MS   acquire, print "acquired MS" (the wait), release
//   node openclaw.mjs cycles FILE N             N times: acquire, append a line, release
//   node openclaw.mjs inspect DIR               the application's own verdict on every lock in
//                                               DIR (cleanStaleLockFiles, removing nothing), JSON
//
// LW_OPENCLAW_DIST names the package's dist/ folder.
import fs from "node:fs";
import path from "node:path";

const dist = process.env.LW_OPENCLAW_DIST;
if (!dist) {
        console.error("LW_OPENCLAW_DIST is not set");
        process.exit(2);
}
let lockModule = null;
for (const name of fs.readdirSync(dist).filter((n) => /^session-write-lock-[A-Za-z0-9_-]+\.js$/.test(n))) {
        const m = await import(path.join(dist, name));
        if (typeof m.acquireSessionWriteLock === "function" && typeof m.cleanStaleLockFiles === "function") {
                lockModule = m;
                break;
        }
}
if (!lockModule) {
        console.error(`no session-write-lock module with acquireSessionWriteLock in ${dist}`);
        process.exit(2);
}
const { acquireSessionWriteLock, cleanStaleLockFiles } = lockModule;
const [mode, target, arg] = process.argv.slice(2);

switch (mode) {
case "hold": {
        const params = { sessionFile: target, timeoutMs: 10000 };
        if (arg) params.maxHoldMs = Number(arg);
        await acquireSessionWriteLock(params);
        console.log(`locked ${process.pid}`);
        setInterval(() => {}, 1 << 30);
        break;
}
case "acquire": {
        const t0 = performance.now();
        const lock = await acquireSessionWriteLock({ sessionFile: target, timeoutMs: Number(arg) });
        console.log(`acquired ${Math.round(performance.now() - t0)}`);
        await lock.release();
        break;
}
case "cycles": {
        for (let i = 0; i < Number(arg); i++) {
                const lock = await acquireSessionWriteLock({ sessionFile: target, timeoutMs: 60000 });
                fs.appendFileSync(target, JSON.stringify({ pid: process.pid, n: i }) + "\n");
                await lock.release();
        }
        console.log(`cycled ${arg}`);
        break;
}
case "inspect": {
        const r = await cleanStaleLockFiles({ sessionsDir: target, removeStale: false });
        console.log(JSON.stringify(r.locks.map((l) => ({ lock: l.lockPath, pid: l.pid, stale: l.stale, reasons: l.staleReasons }))));
        break;
}
default:
        console.error(`unknown mode ${mode}`);
        process.exit(2);
}
