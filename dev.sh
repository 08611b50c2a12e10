#!/bin/bash
# dev.sh: the two set-up commands of the README, for a fresh Debian 12 machine as root.
#   ./dev.sh run [ARGS...]   install build dependencies if missing, build, run the daemon in
#                            the foreground (default: lockwarden run, guarding every gateway
#                            it finds and each local user's ~/.openclaw)
#   ./dev.sh ctl VERB [ARGS...]  the operator commands of that build (status, locks, ...),
#                            for the daemon ./dev.sh run started
#   ./dev.sh check           install build and test dependencies if missing, build with
#                            -Werror and ASan/UBSan, run the whole test suite; as root on
#                            Debian also the release checks: make distcheck, the .deb built,
#                            linted, installed and run, the RPM built; make lint, the fuzzers
#                            and the chaos soak (60 s each); and the interop suite against
#                            the real application's lock code (npm)
set -euo pipefail
cd "$(dirname "$0")"

BUILD_DEPS=(build-essential autoconf automake pkg-config libsystemd-dev libcap-dev libjansson-dev)
# sqlite3 makes the SQLite session store of the interop suite (2026.9.6) on node 20;
# debootstrap and systemd-container (systemd-nspawn) boot the package under a real systemd
# (tests/test-nspawn.sh); bindfs and fuse3 stall a FUSE server under the daemon
# (tests/test-fuse-stall);
# systemd for journald/journalctl, procps for pgrep, util-linux for setpriv, valgrind for
# `make check-valgrind`, bash-completion to drive the completion in tests/test-docs.sh,
# strace for the unit's system call filter (tests/test-unit.sh), systemd-journal-remote
# for fleet forwarding (tests/test-fleet.sh), and for the packages: debhelper, lintian;
# fatrace and inotify-tools are the other consumers `make bench`'s throughput part runs, and
# linux-perf profiles its storm (bench/profile.sh).
TEST_DEPS=(systemd procps util-linux valgrind bash-completion strace systemd-journal-remote
           debhelper lintian fakeroot rpm clang cppcheck clang-tidy sqlite3 debootstrap systemd-container
           bindfs fuse3 fatrace inotify-tools linux-perf)

install_missing() {
        local missing=()
        for p in "$@"; do
                dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
        done
        if ((${#missing[@]})); then
                echo "dev.sh: installing ${missing[*]}" >&2
                if [[ $(id -u) -ne 0 ]]; then
                        echo "dev.sh: need root to install packages" >&2
                        exit 1
                fi
                export DEBIAN_FRONTEND=noninteractive
                apt-get update -qq
                apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
        fi
}

configure_in() {
        local dir=$1
        shift
        if [[ -f config.status ]]; then
                echo "dev.sh: this source tree was configured in place (./configure); dev.sh builds" >&2
                echo "dev.sh: in build/. Run 'make distclean' here first." >&2
                exit 1
        fi
        [[ -x configure ]] || autoreconf -fi >&2
        mkdir -p "$dir"
        if [[ ! -f "$dir/Makefile" ]]; then
                (cd "$dir" && ../../configure -q "$@") >&2
        fi
}

case "${1:-}" in
run)
        shift
        install_missing "${BUILD_DEPS[@]}"
        configure_in build/run --enable-werror
        # Build output to stderr: stdout is the daemon's (--events -).
        make -s -C build/run -j"$(nproc)" >&2
        # Which binary this is, and how to ask it: a packaged lockwarden on PATH is another
        # program (its service, if running, holds the socket: this one then says so and stops).
        echo "dev.sh: running $PWD/build/run/src/lockwarden (not installed; 'lockwarden' on PATH is" \
             "$(command -v lockwarden || echo "absent")). Ask it from another shell with:" >&2
        echo "dev.sh:   ./dev.sh ctl status        (= $PWD/build/run/src/lockwarden status)" >&2
        exec build/run/src/lockwarden run "$@"
        ;;
ctl)
        # The operator commands of the binary ./dev.sh run built (status, locks, explain, ...).
        shift
        [[ -x build/run/src/lockwarden ]] || { echo "dev.sh: no build yet: run ./dev.sh run first" >&2; exit 1; }
        exec build/run/src/lockwarden "$@"
        ;;
check)
        install_missing "${BUILD_DEPS[@]}" "${TEST_DEPS[@]}"
        configure_in build/check --enable-werror --enable-sanitizers
        make -s -C build/check -j"$(nproc)"
        status=0
        make -s -C build/check -j"$(nproc)" check || status=$?
        log=build/check/test-suite.log
        pass=$(sed -n 's/^# PASS: *//p' "$log")
        fail=$(sed -n 's/^# FAIL: *//p' "$log")
        err=$(sed -n 's/^# ERROR: *//p' "$log")
        skip=$(sed -n 's/^# SKIP: *//p' "$log")
        if ((status != 0)); then
                grep -h -B2 -A30 '^FAIL\|^ERROR' build/check/tests/*.log 2>/dev/null | head -200 || true
        fi
        # The release, as root on Debian: the tarball builds and passes the tests out of tree
        # (distcheck, without sanitizers), the Debian package builds, lintian finds no error,
        # it installs, and the installed program runs; the RPM builds.
        release_step() { # NAME COMMAND...: one more passed or failed check
                local name=$1
                shift
                echo "dev.sh: release check: $name" >&2
                local r=0
                "$@" >"build/check/release-$name.log" 2>&1 || r=$?
                if ((r == 0)); then
                        pass=$((${pass:-0} + 1))
                        echo "PASS: release/$name"
                elif ((r == 77)); then
                        skip=$((${skip:-0} + 1))
                        echo "SKIP: release/$name: $(tail -1 "build/check/release-$name.log")"
                else
                        fail=$((${fail:-0} + 1))
                        status=1
                        echo "FAIL: release/$name"
                        tail -40 "build/check/release-$name.log"
                fi
        }
        smoke_installed() {
                local dir
                dir=$(mktemp -d)
                mkdir -p "$dir/agents/main/sessions"
                dpkg -i build/check/build-pkg/deb/lockwarden_*.deb &&
                        /usr/bin/lockwarden --version &&
                        /usr/bin/lockwarden scan --state-dir "$dir" &&
                        /usr/bin/lockwarden run --check-config &&
                        getent passwd lockwarden
                local r=$?
                rm -rf "$dir"
                return $r
        }
        if [[ $(id -u) -eq 0 ]] && command -v dpkg-buildpackage >/dev/null; then
                release_step distcheck make -s -C build/check distcheck
                release_step deb env DEB_BUILD_OPTIONS=nocheck make -s -C build/check deb
                release_step lintian lintian --fail-on error build/check/build-pkg/deb/lockwarden_*.changes
                release_step install smoke_installed
                # The package booted under a real systemd 252 (a cached Debian 12 root).
                release_step nspawn env LW_SRCDIR="$PWD" bash tests/test-nspawn.sh \
                        "$(ls build/check/build-pkg/deb/lockwarden_*_*.deb | grep -v dbgsym | head -1)"
                release_step rpm make -s -C build/check rpm RPMBUILD_FLAGS="--nodeps --nocheck"
        fi
        # Reliability: static analysis, the fuzzers (60 s each), the chaos soak (60 s).
        release_step lint make -s -C build/check lint
        if command -v clang >/dev/null; then
                release_step fuzz make -s -C build/check fuzz FUZZ_SECONDS=60
        fi
        soak() { make -s -C build/check bench/soak && LW_BUILDDIR="$PWD/build/check" build/check/bench/soak 60; }
        release_step soak soak
        # The real application's lock code against lockwarden (skips without npm's registry).
        # (node and npm are the machine's; interop-cache/ keeps the package between runs.)
        release_step interop env LW_SRCDIR="$PWD" LW_BUILDDIR="$PWD/build/check" bash tests/interop/run.sh
        echo "${pass:-0} passed, $(( ${fail:-0} + ${err:-0} )) failed, ${skip:-0} skipped"
        exit $status
        ;;
*)
        echo "usage: $0 run [lockwarden run options...] | ctl VERB [ARGS...] | check" >&2
        exit 2
        ;;
esac
