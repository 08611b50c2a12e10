/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit test of what lockwarden knows of the application (openclaw.c), row by row against the
 * rules read from its packages: the gateway argv rule (gateway-process-argv-*.js), the
 * releases, package.json, and which sessions its restart recovery resumes
 * (main-session-restart-recovery-*.js). */
#include <string.h>

#include "lwtest.h"
#include "openclaw.h"

/* argv as /proc/PID/cmdline has it: NUL-separated, into BUF; returns the length. */
static size_t cmdline(const char *const *args, char *buf) {
        size_t n = 0;

        for (size_t i = 0; args[i]; i++) {
                size_t k = strlen(args[i]) + 1;
                memcpy(buf + n, args[i], k);
                n += k;
        }
        return n;
}

static bool gateway(const char *const *args) {
        char buf[1024];
        size_t n = cmdline(args, buf);

        return openclaw_argv_is_gateway(buf, n);
}

static const char *script(const char *const *args) {
        static char buf[1024];
        size_t n = cmdline(args, buf);

        return openclaw_argv_script(buf, n);
}

static int wants(const char *json, const char *transcript) {
        return openclaw_recovery_wants(json, strlen(json), transcript, NULL, 0);
}

int main(void) {
        /* The argv rule: "gateway" and an entry script, or an executable named openclaw. */
        CHECK(gateway((const char *[]) { "node", "/usr/lib/node_modules/openclaw/openclaw.mjs", "gateway", NULL }), "mjs");
        CHECK(gateway((const char *[]) { "node", "/app/dist/index.js", "gateway", "run", NULL }), "dist/index.js");
        CHECK(gateway((const char *[]) { "node", "C:\\app\\dist\\entry.js", "Gateway", NULL }), "backslashes, case");
        CHECK(gateway((const char *[]) { "/usr/local/bin/openclaw", "gateway", NULL }), "launcher");
        CHECK(gateway((const char *[]) { "openclaw.exe", "gateway", NULL }), "windows launcher");
        CHECK(!gateway((const char *[]) { "node", "/app/openclaw.mjs", "agent", NULL }), "no gateway word");
        CHECK(!gateway((const char *[]) { "node", "/app/other.mjs", "gateway", NULL }), "no entry");
        CHECK(!gateway((const char *[]) { "/usr/bin/lock-holder", "gateway", NULL }), "other exe");
        CHECK(!gateway((const char *[]) { "", NULL }), "empty");
        CHECK(!gateway((const char *[]) { "node", "/app/openclaw.mjs", "gatewayx", NULL }), "gateway must be whole");

        /* The script whose package.json tells the release. */
        CHECK(strcmp(script((const char *[]) { "node", "--max-old-space-size=4096", "/a/openclaw.mjs", "gateway", NULL }),
                     "/a/openclaw.mjs") == 0, "script after options");
        CHECK(strcmp(script((const char *[]) { "/usr/bin/openclaw", "gateway", NULL }), "/usr/bin/openclaw") == 0, "launcher");
        CHECK(script((const char *[]) { "node", NULL }) == NULL, "no script");

        /* Only an OpenClaw entry is worth a package.json look-up. */
        CHECK(openclaw_script_is_entry("/usr/lib/node_modules/openclaw/openclaw.mjs") &&
              openclaw_script_is_entry("dist/index.js") && openclaw_script_is_entry("/usr/bin/openclaw") &&
              openclaw_script_is_entry("openclaw") && openclaw_script_is_entry("C:\\app\\dist\\entry.js"),
              "entries");
        CHECK(!openclaw_script_is_entry("/tmp/x.jsonl.lock") && !openclaw_script_is_entry("/usr/bin/node") &&
              !openclaw_script_is_entry("/usr/bin/myopenclaw") && !openclaw_script_is_entry(""), "not entries");

        /* Releases. */
        CHECK(release_from_version("2026.5.28") == RELEASE_2026_5, "2026.5.28");
        CHECK(release_from_version("2026.2.1") == RELEASE_2026_5, "2026.2.1");
        CHECK(release_from_version("2026.6.35") == RELEASE_2026_7, "2026.6.35");
        CHECK(release_from_version("2026.7.1") == RELEASE_2026_7, "2026.7.1");
        CHECK(release_from_version("2026.7.35-beta.2") == RELEASE_2026_7, "prerelease");
        CHECK(release_from_version("2026.8.1") == RELEASE_2026_8, "2026.8.1");
        CHECK(release_from_version("2026.9.6") == RELEASE_2026_8, "2026.9.6");
        CHECK(release_from_version("2027.1.0") == RELEASE_2026_8, "2027");
        CHECK(release_from_version("2026.1.9") == RELEASE_UNKNOWN, "before locks");
        CHECK(release_from_version("1.2") == RELEASE_UNKNOWN && release_from_version("x") == RELEASE_UNKNOWN &&
              release_from_version("") == RELEASE_UNKNOWN && release_from_version(NULL) == RELEASE_UNKNOWN, "junk");
        CHECK(strcmp(release_contenders(RELEASE_2026_5), "steal") == 0 &&
              strcmp(release_contenders(RELEASE_2026_7), "fail-fast") == 0 &&
              release_contenders(RELEASE_2026_8) == NULL && release_contenders(RELEASE_UNKNOWN) == NULL, "contenders");
        for (int r = 0; r < _RELEASE_MAX; r++)
                CHECK(release_from_string(release_to_string(r)) == r, "release table %d", r);
        CHECK(release_from_string("2026.8") == RELEASE_2026_8 && release_from_string("2026.6") < 0, "config names");

        /* package.json */
        char v[32];
        const char *pj = "{\"name\": \"openclaw\", \"version\": \"2026.7.35\"}";
        CHECK(openclaw_package_version(pj, strlen(pj), v, sizeof(v)) == 0 && strcmp(v, "2026.7.35") == 0, "version");
        pj = "{\"name\": \"other\", \"version\": \"2026.7.35\"}";
        CHECK(openclaw_package_version(pj, strlen(pj), v, sizeof(v)) < 0, "another package");
        pj = "{\"name\": \"openclaw\", \"version\": \"1.0\\u001b[2J\"}";
        CHECK(openclaw_package_version(pj, strlen(pj), v, sizeof(v)) < 0, "control bytes in a version");
        CHECK(openclaw_package_version("{", 1, v, sizeof(v)) < 0, "truncated");

        /* The restart recovery's sessions. */
        CHECK(wants("{\"agent:main:main\": {\"sessionId\": \"s1\", \"status\": \"running\"}}", "s1.jsonl") == 1, "running");
        CHECK(wants("{\"agent:main:main\": {\"sessionId\": \" s1 \", \"status\": \"running\"}}", "s1.jsonl") == 1, "trimmed id");
        CHECK(wants("{\"agent:main:main\": {\"sessionId\": \"s1\", \"status\": \"done\"}}", "s1.jsonl") == 0, "not running");
        CHECK(wants("{\"agent:main:main\": {\"sessionId\": \"s2\", \"status\": \"running\"}}", "s1.jsonl") == 0, "another");
        CHECK(wants("{\"k\": {\"sessionId\": \"x\", \"sessionFile\": \"/st/agents/main/sessions/t-s1.jsonl\", "
                    "\"status\": \"running\"}}", "t-s1.jsonl") == 1, "sessionFile");
        CHECK(wants("{\"agent:main:subagent:a\": {\"sessionId\": \"s1\", \"status\": \"running\"}}", "s1.jsonl") == 0,
              "subagent key");
        CHECK(wants("{\"subagent:a\": {\"sessionId\": \"s1\", \"status\": \"running\"}}", "s1.jsonl") == 0, "subagent raw");
        CHECK(wants("{\"agent:main:cron:a\": {\"sessionId\": \"s1\", \"status\": \"running\"}}", "s1.jsonl") == 0, "cron");
        CHECK(wants("{\"acp:a\": {\"sessionId\": \"s1\", \"status\": \"running\"}}", "s1.jsonl") == 0, "acp");
        CHECK(wants("{\"k\": {\"sessionId\": \"s1\", \"status\": \"running\", \"spawnDepth\": 1}}", "s1.jsonl") == 0,
              "spawned");
        CHECK(wants("{\"k\": {\"sessionId\": \"s1\", \"status\": \"running\", \"subagentRole\": \"x\"}}", "s1.jsonl") == 0,
              "subagent role");
        CHECK(wants("{\"k\": {\"sessionId\": \"s1\", \"status\": \"running\", \"subagentRole\": null}}", "s1.jsonl") == 1,
              "null role");
        CHECK(wants("{\"k\": 5, \"j\": null}", "s1.jsonl") == 0, "odd entries");
        CHECK(wants("[]", "s1.jsonl") < 0 && wants("{\"k\":", "s1.jsonl") < 0 && wants("", "s1.jsonl") < 0, "malformed");
        char key[8];
        CHECK(openclaw_recovery_wants("{\"agent:main:main\": {\"sessionId\": \"s1\", \"status\": \"running\"}}", 61,
                                      "s1.jsonl", key, sizeof(key)) == 1 && strcmp(key, "agent:m") == 0, "key cut");
        return 0;
}
