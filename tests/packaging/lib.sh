# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# Helpers shared by the tests/packaging scripts, which check what gets installed and shipped
# as a user or a distribution would meet it. Sourced by each script after `set -euo pipefail`:
#
#   source "$(dirname "$0")/lib.sh"
#   need_tool dpkg-deb                  # exit 77 (ctest SKIP_RETURN_CODE) when it is missing
#   make_scratch "$BUILD_DIR"           # $SCRATCH: a fresh directory, removed on exit
#   run_logged "cpack" cpack -G DEB     # output kept in a log, shown only when it fails
#   expect_contains "$text" "needle" "what the text is"
#
# Unlike tests/app/lib.sh, the first failed check ends the script: each later check builds on
# the earlier ones (no package, nothing to unpack).

# The user's environment must not change what lua5.4, mockit-run or pkg-config find.
unset LUA_INIT LUA_INIT_5_4 LUA_PATH LUA_PATH_5_4 LUA_CPATH LUA_CPATH_5_4 \
    MOCKIT_LOG_LEVEL JOURNAL_STREAM NOTIFY_SOCKET WATCHDOG_USEC WATCHDOG_PID \
    PKG_CONFIG_PATH PKG_CONFIG_LIBDIR CMAKE_PREFIX_PATH LD_LIBRARY_PATH DESTDIR

SKIP_STATUS=77
SCRATCH=""

# expect_args WANTED GIVEN USAGE...: exits 2 with "usage: <script> USAGE" unless the script was
# given WANTED arguments (GIVEN: its $#).
expect_args() {
    local wanted=$1 given=$2
    shift 2
    ((given == wanted)) && return
    echo "usage: $0 $*" >&2
    exit 2
}

die() {
    echo "FAIL: $*" >&2
    exit 1
}

ok() {
    echo "ok:   $*"
}

skip() {
    echo "skip: $*"
    exit "$SKIP_STATUS"
}

# need_tool NAME...: skips the whole script when a tool it cannot do without is missing.
need_tool() {
    local tool
    for tool in "$@"; do
        command -v "$tool" >/dev/null || skip "$tool is not installed (scripts/setup installs it)"
    done
}

# make_scratch PARENT: sets SCRATCH to a new directory under PARENT (the build tree, never the
# source tree), removed when the script exits however it exits.
make_scratch() {
    mkdir -p "$1"
    SCRATCH=$(mktemp -d "$(realpath "$1")/scratch.XXXXXX")  # absolute: commands cd around
    trap 'rm -rf "$SCRATCH"' EXIT
    trap 'exit 1' INT TERM HUP
}

# run_logged WHAT CMD...: runs CMD with its output in a log under $SCRATCH; on failure shows
# the log's end and fails the script. A command still running after 120 s counts as hung.
run_logged() {
    local what=$1 log
    shift
    log="$SCRATCH/$(tr -c 'a-zA-Z0-9\n' '_' <<<"$what").log"
    if ! timeout -k 5 120 "$@" >"$log" 2>&1; then
        echo "--- $what: $*" >&2
        tail -n 60 "$log" >&2
        die "$what failed"
    fi
}

# expect_contains TEXT NEEDLE WHAT
expect_contains() {
    [[ "$1" == *"$2"* ]] || {
        printf '%s\n' "$1" | head -n 40 | sed 's/^/    | /' >&2
        die "$3 does not contain '$2'"
    }
}

# expect_equals ACTUAL EXPECTED WHAT
expect_equals() {
    [[ "$1" == "$2" ]] || die "$3 is '$1', expected '$2'"
}

# expect_file PATH: PATH exists (a file, or a symlink to one).
expect_file() {
    [[ -f "$1" ]] || die "$1 is missing"
}
