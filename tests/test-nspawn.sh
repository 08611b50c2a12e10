#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The package under a real systemd. A Debian 12 root (debootstrap --variant=minbase with
# systemd and dbus, cached in LW_NSPAWN_CACHE, default /var/cache/lockwarden-test/nspawn, so a
# machine pays the debootstrap once) gets the built .deb installed and is booted by
# systemd-nspawn with systemd 252 as its PID 1. Then what an operator relies on:
#   1. the packaged unit is active (running) through READY=1, with a STATUS= line;
#   2. a gateway user's holder (an unprivileged account, its state dir under /home) is
#      SIGKILLed 20 times: each lock is removed by the packaged service, hardening in force,
#      within a second (kill → gone measured by an inotify observer on the host);
#   3. a live holder's lock is kept (past the grace: a leaked barrier lock cleaned after it);
#   4. systemctl reload applies a changed /etc/lockwarden/lockwarden.json (a new state dir is
#      guarded), without /bin/kill (procps is not installed);
#   5. journalctl -u lockwarden -x explains a cleanup with the catalog text and its fields;
#   6. the watchdog restarts a SIGSTOPped daemon;
#   7. lockwarden status works for a member of the socket's group, and is refused to others;
#   8. systemctl stop is clean; 9. the package purges cleanly.
# Usage: test-nspawn.sh DEB [TRANSCRIPT.md]. TRANSCRIPT gets the session's real output (for the
# README's deployment section) and the figures. Exit 77 (skip, saying why) where nspawn cannot
# boot a container here, or without root, debootstrap or the registry.
set -euo pipefail
deb=${1:?usage: test-nspawn.sh DEB [TRANSCRIPT.md]}
transcript=${2:-}
src=${LW_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
cache=${LW_NSPAWN_CACHE:-/var/cache/lockwarden-test/nspawn}
# What the root holds besides systemd: the package's run-time dependencies, nothing else
# (no procps: systemctl reload must not need /bin/kill).
include=systemd,dbus,libjansson4,libcap2,libsystemd0
mirror=${LW_DEBIAN_MIRROR:-$(sed -n 's/^URIs: *\(http[^ ]*debian\)$/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)}
mirror=${mirror:-http://deb.debian.org/debian}

skip() { echo "test-nspawn skipped: $*"; exit 77; }
fail() { echo "FAIL: $*" >&2; [[ -z ${root:-} ]] || { echo "== journal" >&2; in_ct journalctl -u lockwarden --no-pager -n 60 >&2 || true; }; exit 1; }
[[ $(id -u) -eq 0 ]] || skip "needs root"
for c in systemd-nspawn debootstrap nsenter setpriv gcc; do
        command -v "$c" >/dev/null || skip "$c is not installed"
done
[[ -f $deb ]] || fail "no package at $deb"

# The cached root, made once.
key=$(echo "$include $mirror" | md5sum | cut -c1-12)
base=$cache/bookworm-$key
if [[ ! -f $base/.complete ]]; then
        rm -rf "$base"
        mkdir -p "$base"
        timeout 900 debootstrap --variant=minbase --include="$include" bookworm "$base/root" "$mirror" \
                >"$cache/debootstrap.log" 2>&1 || skip "debootstrap from $mirror failed: $(tail -1 "$cache/debootstrap.log")"
        touch "$base/.complete"
fi

tmp=$(mktemp -d /var/tmp/lockwarden-nspawn.XXXXXX)
root=$tmp/root
nspawn=
cleanup() {
        [[ -z $nspawn ]] || { kill -TERM "$nspawn" 2>/dev/null; timeout 20 tail --pid="$nspawn" -f /dev/null 2>/dev/null || kill -KILL "$nspawn" 2>/dev/null; }
        rm -rf "$tmp"
}
trap cleanup EXIT
cp -a "$base/root" "$root"

# The package, a gateway account with its state dir, an operator in the socket's group, and a
# lock holder built as a plain program (tests/lock-holder, the protocol's other side).
cp "$deb" "$root/tmp/lockwarden.deb"
chroot "$root" dpkg -i /tmp/lockwarden.deb >"$tmp/dpkg-install.log" 2>&1 || { cat "$tmp/dpkg-install.log"; fail "dpkg -i"; }
chroot "$root" useradd -m -s /bin/sh openclaw
chroot "$root" useradd -m -s /bin/sh ops
chroot "$root" usermod -a -G lockwarden ops
chroot "$root" su -s /bin/sh openclaw -c "mkdir -p /home/openclaw/.openclaw/agents/main/sessions"
gcc -O2 -o "$root/usr/local/bin/lock-holder" "$src/tests/lock-holder.c"
gcc -O2 -o "$tmp/kill-wait-gone" "$src/tests/kill-wait-gone.c"
sessions=/home/openclaw/.openclaw/agents/main/sessions

# Boot. nspawn's own seccomp filter denies fanotify unless told otherwise.
t_boot=$(date +%s%N)
systemd-nspawn -D "$root" --boot --keep-unit --register=no --quiet \
        --system-call-filter='fanotify_init fanotify_mark' >"$tmp/console.log" 2>&1 </dev/null &
nspawn=$!
leader=
for _ in $(seq 1 200); do
        leader=$(pgrep -P "$nspawn" | head -1 || true)
        [[ -n $leader ]] && break
        kill -0 "$nspawn" 2>/dev/null || break
        sleep 0.05
done
[[ -n $leader ]] || { cat "$tmp/console.log"; skip "systemd-nspawn could not boot a container here"; }
in_ct() { timeout 60 nsenter -t "$leader" -m -u -i -n -p -- "$@"; }
# Bounded: systemd's manager socket appears, then it reports the boot done (degraded is fine).
for _ in $(seq 1 600); do
        in_ct test -S /run/systemd/private 2>/dev/null && break
        kill -0 "$nspawn" 2>/dev/null || break
        sleep 0.05
done
state=$(in_ct systemctl is-system-running --wait 2>/dev/null || true)
[[ $state == running || $state == degraded ]] || { cat "$tmp/console.log"; fail "the container did not finish booting: $state"; }
say() { echo "$*"; [[ -z $transcript ]] || echo "$*" >>"$tmp/transcript"; }
shell() { # CMD...: run in the container, show the command and its output in the transcript
        local out rc=0
        out=$(in_ct "$@" 2>&1) || rc=$?
        echo "$out"
        if [[ -n $transcript ]]; then
                { echo "# $*"; echo "$out"; } >>"$tmp/commands"
        fi
        return $rc
}

# 1. Active through READY=1, with STATUS=.
[[ $(in_ct systemctl is-active lockwarden) == active ]] || fail "lockwarden is not active: $(in_ct systemctl status lockwarden --no-pager)"
status_text=$(in_ct systemctl show -p StatusText --value lockwarden)
[[ -n $status_text ]] || fail "no STATUS= line"
# Boot to ready: the container's systemd started → lockwarden's READY=1 (both in its clock).
ready_us=$(in_ct systemctl show -p ActiveEnterTimestampMonotonic --value lockwarden)
start_us=$(in_ct systemctl show -p ExecMainStartTimestampMonotonic --value lockwarden)
userspace_us=$(in_ct systemctl show -p UserspaceTimestampMonotonic --value)
say "1. active (running) through READY=1: boot → ready $(((ready_us - userspace_us) / 1000)) ms (lockwarden start → ready $(((ready_us - start_us) / 1000)) ms); STATUS=$status_text"
shell systemctl status lockwarden --no-pager -n 0 | head -12 >/dev/null || true

# A holder inside the container, as the gateway user; its pid on the host.
hold() { # LOCK [ARGS...]: prints the holder's host pid once it holds the lock
        local lock=$1 out=$tmp/hold-$RANDOM
        shift
        in_ct setpriv --reuid=openclaw --regid=openclaw --init-groups /usr/local/bin/lock-holder "$@" "$lock" >"$out" 2>&1 &
        local waiter=$! p=
        for _ in $(seq 1 200); do
                grep -q '^locked ' "$out" 2>/dev/null && break
                kill -0 "$waiter" 2>/dev/null || fail "lock-holder failed: $(cat "$out")"
                sleep 0.02
        done
        grep -q '^locked ' "$out" || fail "lock-holder did not take $lock"
        # The holder itself, not the nsenter that started it (its command line ends the same).
        for p in $(pgrep -f -- "$lock\$"); do
                [[ $(cat "/proc/$p/comm" 2>/dev/null) == lock-holder ]] && { echo "$p"; return; }
        done
        fail "no lock-holder process for $lock"
}

# 2. SIGKILLed holders: removed by the packaged service, within a second, 20 times.
lat=()
for i in $(seq 1 20); do
        lock=$sessions/s$i.jsonl.lock
        p=$(hold "$lock")
        # Acquired (judged live) first: lockwarden knows the holder before it dies.
        for _ in $(seq 1 100); do in_ct lockwarden locks --json 2>/dev/null | grep -q "s$i.jsonl.lock" && break; sleep 0.02; done
        us=$("$tmp/kill-wait-gone" "$p" "$root$lock" 1000) || fail "s$i.jsonl.lock was not removed within a second of the SIGKILL"
        lat+=("$us")
done
sorted=($(printf '%s\n' "${lat[@]}" | sort -n))
median=$(((sorted[9] + sorted[10]) / 2))
say "2. 20 gateway-user holders SIGKILLed: each lock removed by the packaged service; kill → gone median $median µs, max ${sorted[19]} µs"

# 3. A live holder's lock stays, past the grace (a leaked lock taken after it is cleaned first).
live=$sessions/live.jsonl.lock
plive=$(hold "$live")
barrier=$sessions/barrier.jsonl.lock
pb=$(hold "$barrier" --mode=leak)
for _ in $(seq 1 200); do [[ -e $root$barrier ]] || break; sleep 0.02; done
[[ ! -e $root$barrier ]] || fail "the leaked barrier lock was not cleaned"
[[ -e $root$live ]] || fail "a live holder's lock was removed"
kill -TERM "$pb" "$plive"
say "3. a live holder's lock kept past the grace"

# 4. systemctl reload applies a changed configuration: a new state dir is guarded.
[[ ! -e $root/usr/bin/kill && ! -e $root/bin/kill ]] || say "(note: /bin/kill exists in this root)"
chroot "$root" su -s /bin/sh openclaw -c "mkdir -p /home/openclaw/.openclaw2/agents/main/sessions"
printf '{"state_dirs": ["/home/openclaw/.openclaw", "/home/openclaw/.openclaw2"]}\n' >"$root/etc/lockwarden/lockwarden.json"
shell systemctl reload lockwarden >/dev/null || fail "systemctl reload failed: $(in_ct systemctl status lockwarden --no-pager)"
in_ct lockwarden status --json | grep -q '/home/openclaw/.openclaw2/agents/main/sessions' ||
        fail "the new state dir is not guarded after the reload: $(in_ct lockwarden status)"
p2=$(hold /home/openclaw/.openclaw2/agents/main/sessions/r.jsonl.lock)
"$tmp/kill-wait-gone" "$p2" "$root/home/openclaw/.openclaw2/agents/main/sessions/r.jsonl.lock" 1000 >/dev/null ||
        fail "a lock in the state dir added by the reload was not removed"
say "4. systemctl reload (no /bin/kill in the root): the added state dir guarded, its dead lock removed"

# 5. The journal explains a cleanup with the catalog's text and the event's fields.
x=$(shell journalctl -u lockwarden -x --no-pager -n 1 MESSAGE_ID=40421cfd85674fddb5db4a8b3a92c4d6)
grep -q 'What lockwarden did' <<<"$x" && grep -q 'r.jsonl.lock (owner pid [0-9]*) was stale (dead-pid)' <<<"$x" ||
        fail "journalctl -x does not explain lock.cleaned: $x"
say "5. journalctl -u lockwarden -x explains lock.cleaned with the catalog and the lock's path"

# 6. The watchdog restarts a stopped daemon.
old=$(in_ct systemctl show -p MainPID --value lockwarden)
in_ct systemctl kill --signal=SIGSTOP lockwarden
t_stop=$(date +%s%N)
new=$old
for _ in $(seq 1 300); do
        new=$(in_ct systemctl show -p MainPID --value lockwarden)
        [[ $new != "$old" && $new != 0 && $(in_ct systemctl is-active lockwarden) == active ]] && break
        sleep 0.1
done
[[ $new != "$old" && $new != 0 ]] || fail "the watchdog did not restart the stopped daemon"
say "6. SIGSTOPped daemon restarted by the watchdog after $((($(date +%s%N) - t_stop) / 1000000)) ms (WatchdogSec=10s)"

# 7. The socket's group may ask; others may not.
in_ct setpriv --reuid=ops --regid=ops --init-groups lockwarden status >"$tmp/op.out" 2>&1 ||
        fail "a member of the lockwarden group cannot ask: $(cat "$tmp/op.out")"
if in_ct setpriv --reuid=openclaw --regid=openclaw --init-groups lockwarden status >"$tmp/other.out" 2>&1; then
        fail "a user outside the group may ask: $(cat "$tmp/other.out")"
fi
say "7. lockwarden status: answered for the lockwarden group ($(head -1 "$tmp/op.out")), refused to others ($(head -1 "$tmp/other.out"))"
shell lockwarden status >/dev/null || true

# 8. A clean stop; 9. a clean purge.
in_ct systemctl stop lockwarden
result=$(in_ct systemctl show -p Result --value lockwarden)
[[ $(in_ct systemctl is-active lockwarden || true) == inactive && $result == success ]] ||
        fail "systemctl stop: $(in_ct systemctl status lockwarden --no-pager)"
in_ct dpkg --purge lockwarden >"$tmp/purge.log" 2>&1 || { cat "$tmp/purge.log"; fail "dpkg --purge"; }
left=$(ls "$root/etc/lockwarden" "$root/lib/systemd/system/lockwarden.service" "$root/usr/bin/lockwarden" 2>/dev/null || true)
[[ -z $left ]] || fail "left after the purge: $left"
say "8. systemctl stop: inactive, Result=success; 9. dpkg --purge: nothing left"

if [[ -n $transcript ]]; then
        exposure=$(systemd-analyze security --offline=yes "$src/contrib/lockwarden.service" 2>/dev/null | tail -1 |
                   sed -n 's/.*: \([0-9.]*\) .*/\1/p')
        {
                echo "# The package under a real systemd"
                echo
                echo "Written by \`tests/test-nspawn.sh\` (\`make nspawn-results\`) on $(date -u '+%Y-%m-%d %H:%M UTC'):"
                echo "the .deb installed in a Debian 12 root booted by systemd-nspawn (systemd"
                echo "$(chroot "$root" dpkg-query -W -f='${Version}' systemd 2>/dev/null) as PID 1), host kernel $(uname -r). Unit exposure (\`systemd-analyze security\`): $exposure."
                echo
                sed 's/^/- /' "$tmp/transcript"
                echo
                echo "The session, as run (inside the container):"
                echo
                echo '```'
                cat "$tmp/commands"
                echo '```'
        } >"$transcript"
fi
echo "test-nspawn: all checks pass"
