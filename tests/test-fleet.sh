#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Fleet forwarding through the journal's own transport: systemd-journal-remote listens on
# loopback, systemd-journal-upload sends it this host's journal, lockwarden performs a real
# cleanup (a lock holder SIGKILLed), and the lock.cleaned entry, with its fields, is found in
# the remote journal files. Needs root (journald, fanotify) and the systemd-journal-remote
# package; skips (77) without them. A journald is started when none runs.
set -euo pipefail
build=${LW_BUILDDIR:-$PWD}
bin=$build/src/lockwarden
CLEANED_ID=40421cfd85674fddb5db4a8b3a92c4d6
remote_bin=/lib/systemd/systemd-journal-remote
upload_bin=/lib/systemd/systemd-journal-upload
[[ $(id -u) -eq 0 ]] || { echo "needs root" >&2; exit 77; }
[[ -x $remote_bin && -x $upload_bin ]] || { echo "systemd-journal-remote is not installed" >&2; exit 77; }

tmp=$(mktemp -d /var/tmp/lockwarden-fleet.XXXXXX)
pids=()
cleanup() {
        for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
        wait 2>/dev/null || true
        rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; for f in "$tmp"/*.log; do echo "== $f" >&2; tail -5 "$f" >&2; done; exit 1; }
# Waits, at most 20 s, until the command succeeds (a condition, never a fixed delay).
await() {
        local what=$1 deadline=$((SECONDS + 20))
        shift
        until "$@" 2>/dev/null; do
                ((SECONDS < deadline)) || fail "timed out waiting for $what"
                sleep 0.05
        done
}

# This host's journal.
if ! pgrep -x systemd-journal >/dev/null; then
        rm -f /run/systemd/journal/socket
        mkdir -p /run/systemd/journal
        /lib/systemd/systemd-journald >"$tmp/journald.log" 2>&1 &
        pids+=($!)
        await "journald" test -S /run/systemd/journal/socket
fi

# The central store: journal-remote on a loopback port, writing journal files to a folder.
mkdir -p "$tmp/remote"
for attempt in 1 2 3 4 5; do
        port=$((20000 + RANDOM % 20000))
        "$remote_bin" --listen-http="127.0.0.1:$port" --output="$tmp/remote/" >"$tmp/remote.log" 2>&1 &
        remote=$!
        listening() { kill -0 "$remote" && (exec 3<>"/dev/tcp/127.0.0.1/$port") ; }
        deadline=$((SECONDS + 10))
        until listening 2>/dev/null || ! kill -0 "$remote" 2>/dev/null || ((SECONDS >= deadline)); do sleep 0.05; done
        if listening 2>/dev/null; then
                pids+=("$remote")
                break
        fi
        kill "$remote" 2>/dev/null || true
        remote=
done
[[ -n ${remote:-} ]] || fail "journal-remote would not listen"

# The sender: journal-upload, following this host's journal from now on. Without a cursor it
# starts at the head and would first send every entry the host ever logged (on a CI machine,
# the whole test suite's), which can take longer than any sane bound on the wait below.
cursor=$(journalctl -q -n1 --show-cursor -o cat 2>/dev/null | sed -n 's/^-- cursor: //p')
from=()
[[ -n $cursor ]] && from=(--after-cursor="$cursor")
"$upload_bin" --url="http://127.0.0.1:$port" --save-state="$tmp/upload.state" --follow=yes "${from[@]}" \
        >"$tmp/upload.log" 2>&1 &
pids+=($!)

# A real cleanup.
state=$tmp/state
mkdir -p "$state/agents/main/sessions"
echo '{}' >"$tmp/config.json"
: >"$tmp/events"
"$bin" run --state-dir "$state" --socket "$tmp/sock" --config "$tmp/config.json" --events "$tmp/events" \
        >"$tmp/daemon.log" 2>&1 &
pids+=($!)
await "monitor.ready" grep -q '"event":"monitor.ready"' "$tmp/events"
lock=$state/agents/main/sessions/fleet.jsonl.lock
"$build/tests/lock-holder" "$lock" >"$tmp/holder.log" &
holder=$!
await "lock.acquired" grep -q '"event":"lock.acquired"' "$tmp/events"
kill -KILL "$holder"
wait "$holder" 2>/dev/null || true
await "lock.cleaned" grep -q '"event":"lock.cleaned"' "$tmp/events"

# In the remote journal, with its fields.
remote_entry() {
        journalctl -D "$tmp/remote" --no-pager -o json "MESSAGE_ID=$CLEANED_ID" "LOCK_PATH=$lock" 2>/dev/null |
                grep -m1 . >"$tmp/entry.json"
}
await "the entry in the remote journal" remote_entry
entry=$(cat "$tmp/entry.json")
field() { sed -n "s/.*\"$1\":\"\\([^\"]*\\)\".*/\\1/p" <<<"$entry"; }
[[ $(field LOCK_PATH) == "$lock" ]] || fail "LOCK_PATH: $entry"
[[ $(field OWNER_PID) == "$holder" ]] || fail "OWNER_PID $(field OWNER_PID), holder $holder"
[[ $(field REASON) == dead-pid ]] || fail "REASON: $entry"
[[ $(field SYSLOG_IDENTIFIER) == lockwarden ]] || fail "SYSLOG_IDENTIFIER: $entry"
[[ $(field PRIORITY) == 5 ]] || fail "PRIORITY: $entry"
[[ -n $(field SINCE_READ_US) && -n $(field _HOSTNAME) ]] || fail "SINCE_READ_US/_HOSTNAME: $entry"
echo "lock.cleaned reached the remote journal: $(ls "$tmp/remote")"
