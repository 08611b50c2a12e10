/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* openclaw.h: what lockwarden knows of the application whose locks it guards (see
 * docs/RELEASES.md): which releases have session locks and by which rules, the gateway's argv
 * rule, its package.json, and which sessions its restart recovery resumes from a stale lock.
 * Pure functions over bytes read elsewhere: no syscalls, no clock. */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum Release {
        RELEASE_UNKNOWN,
        RELEASE_2026_5,   /* 2026.2 – 2026.5.x: contenders steal aged locks, orphan grace 5 s */
        RELEASE_2026_7,   /* 2026.6 – 2026.7.x: aged locks are report-only, orphan grace 30 s */
        RELEASE_2026_8,   /* 2026.8 and later: SQLite store, no session write locks */
        _RELEASE_MAX,
        _RELEASE_INVALID = -EINVAL,
} Release;

const char *release_to_string(Release r);
/* "2026.5", "2026.7", "2026.8+" (also "2026.8"), as written in the configuration. */
Release release_from_string(const char *s);
/* The release a version ("2026.7.35", "2026.5.28-beta.1") belongs to. */
Release release_from_version(const char *version);
/* What a contender does with a live holder's too-old/hold-exceeded lock: "steal" (2026.5),
 * "fail-fast" (2026.7), NULL when the release is not known or has no locks. */
const char *release_contenders(Release r);

/* ARGV (NUL-separated, LEN bytes): is it a gateway by the application's own rule? The argv
 * holds "gateway" and an entry ending in an OpenClaw entry script (openclaw.mjs,
 * dist/index.js, dist/entry.js, ...), or the executable is named openclaw. */
bool openclaw_argv_is_gateway(const char *argv, size_t len);
/* The script ARGV runs: the first operand after the executable (node's options skipped), or
 * the executable itself when it is an `openclaw` launcher; NULL if none. Points into ARGV. */
const char *openclaw_argv_script(const char *argv, size_t len);
/* Does SCRIPT (from openclaw_argv_script) name an OpenClaw entry: openclaw.mjs, dist/index.js,
 * dist/entry.js, scripts/run-node.mjs, or a launcher named openclaw? */
bool openclaw_script_is_entry(const char *script);
/* package.json bytes: the version when its name is "openclaw". 0, or -EINVAL (not JSON, not
 * OpenClaw's, no usable version). */
int openclaw_package_version(const char *json, size_t len, char *ret, size_t size);

/* The transcripts of a sessions folder that the restart recovery resumes when their lock is
 * found stale at start-up, from its sessions.json: every entry with status "running" that is
 * not a subagent, cron or ACP session, by the transcript its sessionId or sessionFile names. */
typedef struct RecoverySet {
        char **names;            /* transcript file names ("X.jsonl") */
        char **keys;             /* the session key of each */
        size_t n;
} RecoverySet;

/* 0 and *RET filled, -EINVAL when the bytes are not a JSON object, -ENOMEM. */
int recovery_set_parse(const char *json, size_t len, RecoverySet *ret);
/* TRANSCRIPT's session key when the set has it, else NULL. */
const char *recovery_set_find(const RecoverySet *s, const char *transcript);
void recovery_set_done(RecoverySet *s);

/* sessions.json bytes of a sessions folder: does it hold a main session that the restart
 * recovery would mark interrupted when the lock of TRANSCRIPT (a file name in that folder)
 * is found stale at start-up? (An entry with status "running", not a subagent, cron or ACP
 * session, whose sessionId or sessionFile names that transcript.) 1 yes, 0 no, -EINVAL when
 * the bytes are not a JSON object (so the answer is unknown). RET_KEY (may be NULL) gets the
 * session key that matched, cut to KEY_SIZE. */
int openclaw_recovery_wants(const char *json, size_t len, const char *transcript, char *ret_key,
                            size_t key_size);
