# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# Helpers shared by the tests/app scripts, which drive mockit-run as a user would. Sourced by
# each script, whose first argument is the mockit-run binary:
#
#   source "$(dirname "$0")/lib.sh" "$@"
#   case_missing() { run_capture "$MOCKIT_RUN" nope.lua; expect_status 2; }
#   run_case "a missing script is a usage error" case_missing
#   finish
#
# Each case runs in its own directory ($CASE_DIR, also the working directory) under one
# `mktemp -d` per script, removed on exit with any background process a case left behind.
# A failed expectation marks the case failed and the script goes on; `finish` prints
# "N passed, M failed" and exits 1 when anything failed. Bash and Debian base tools only.
# The scripts tell shellcheck `disable=SC2317`: their cases are functions only run_case calls.
set -u

if (($# < 1)) || [[ ! -x "$1" ]]; then
    echo "usage: $0 path/to/mockit-run" >&2
    exit 2
fi
# For the scripts that source this file:
# shellcheck disable=SC2034
MOCKIT_RUN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
# shellcheck disable=SC2034
MOCKIT_BIN_DIR=$(dirname "$MOCKIT_RUN")
TESTS_APP_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck disable=SC2034
SOURCE_DIR=$(cd "$TESTS_APP_DIR/../.." && pwd)

# Seconds any one command may take before it counts as hung (the ctest TIMEOUT is 60 per script).
RUN_TIMEOUT=${RUN_TIMEOUT:-20}

# The user's environment must not leak in: these change what mockit-run and lua5.4 do.
unset LUA_INIT LUA_INIT_5_4 LUA_PATH LUA_PATH_5_4 LUA_CPATH LUA_CPATH_5_4 \
    MOCKIT_LOG_LEVEL JOURNAL_STREAM NOTIFY_SOCKET WATCHDOG_USEC WATCHDOG_PID

TEST_ROOT=$(mktemp -d "${TMPDIR:-/tmp}/mockit-app.XXXXXX")
BG_PID=""
# Kills only this shell's own background jobs still running (never a pid it already reaped).
cleanup() {
    local pid
    for pid in $(jobs -rp); do
        kill -KILL "$pid" 2>/dev/null
    done
    rm -rf "$TEST_ROOT"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

passed=0
failed=0
skipped=0
CASE_NAME=""
CASE_DIR=""
case_failed=0
case_skipped=0
case_count=0

# What the last run_capture / wait_bg saw.
STATUS=""
OUT=""
ERR=""
LAST_CMD=""

# run_case NAME FUNCTION: runs FUNCTION in a fresh directory and tallies it.
run_case() {
    local name=$1 fn=$2
    case_count=$((case_count + 1))
    CASE_NAME=$name
    CASE_DIR="$TEST_ROOT/case$case_count"
    mkdir -p "$CASE_DIR"
    case_failed=0
    case_skipped=0
    STATUS="" OUT="" ERR="" LAST_CMD=""
    pushd "$CASE_DIR" >/dev/null || exit 1
    "$fn"
    # A process the case left running (it failed early) goes now, not at exit.
    if [[ -n "$BG_PID" ]] && bg_alive; then
        kill -KILL "$BG_PID" 2>/dev/null
        wait "$BG_PID" 2>/dev/null
    fi
    BG_PID=""
    popd >/dev/null || exit 1
    if ((case_skipped)); then
        skipped=$((skipped + 1))
        echo "skip: $name"
    elif ((case_failed)); then
        failed=$((failed + 1))
        echo "FAIL: $name"
    else
        passed=$((passed + 1))
        echo "ok:   $name"
    fi
}

# skip REASON: the case cannot run here (a missing tool); it counts as neither.
skip() {
    echo "  skipped: $*"
    case_skipped=1
}

# fail MESSAGE: marks the case failed; the first failure also shows the last command's result.
fail() {
    echo "  FAIL [$CASE_NAME]: $*"
    if ((case_failed == 0)) && [[ -n "$LAST_CMD" ]]; then
        echo "  command: $LAST_CMD"
        echo "  status:  $STATUS"
        echo "  stdout:"
        printf '%s\n' "$OUT" | head -n 40 | sed 's/^/    | /'
        echo "  stderr:"
        printf '%s\n' "$ERR" | head -n 40 | sed 's/^/    | /'
    fi
    case_failed=1
    return 1
}

# quote ARGS...: the arguments as one shell-quoted line (for messages and `script -c`).
# No subshell per argument: a command of 50,000 arguments is quoted in a blink.
quote() {
    local out
    printf -v out '%q ' "$@"
    printf '%s' "${out% }"
}

# run_capture CMD...: runs CMD with standard input from /dev/null (or from $STDIN_FILE when
# set), capturing STATUS, OUT and ERR. A command still running after $RUN_TIMEOUT s is killed
# (STATUS 124 or 137).
run_capture() {
    LAST_CMD=$(quote "$@")
    timeout -k 5 "$RUN_TIMEOUT" "$@" <"${STDIN_FILE:-/dev/null}" \
        >"$CASE_DIR/.out" 2>"$CASE_DIR/.err"
    STATUS=$?
    OUT=$(<"$CASE_DIR/.out")
    ERR=$(<"$CASE_DIR/.err")
    return 0
}

# run_capture_in FILE CMD...: run_capture with standard input from FILE.
run_capture_in() {
    local file=$1
    shift
    STDIN_FILE=$file run_capture "$@"
}

# start_bg CMD...: starts CMD in the background (stdin /dev/null, output to files) and sets
# BG_PID; wait_bg collects it. Bash ignores SIGINT in background jobs of a script, but
# mockit-run installs its own SIGINT handler, as lua5.4 does.
start_bg() {
    LAST_CMD=$(quote "$@")
    "$@" </dev/null >"$CASE_DIR/.out" 2>"$CASE_DIR/.err" &
    BG_PID=$!
}

# wait_bg [SECONDS]: waits for BG_PID to exit (default $RUN_TIMEOUT s) and captures STATUS,
# OUT and ERR. A process still alive then is killed and the case fails.
wait_bg() {
    local limit=${1:-$RUN_TIMEOUT} waited=0
    while bg_alive && ((waited < limit * 20)); do
        sleep 0.05
        waited=$((waited + 1))
    done
    if bg_alive; then
        kill -KILL "$BG_PID" 2>/dev/null
        wait "$BG_PID" 2>/dev/null
        STATUS=killed
        OUT=$(<"$CASE_DIR/.out")
        ERR=$(<"$CASE_DIR/.err")
        fail "still running after ${limit}s (killed)"
        return 1
    fi
    wait "$BG_PID"
    STATUS=$?
    OUT=$(<"$CASE_DIR/.out")
    ERR=$(<"$CASE_DIR/.err")
    return 0
}

# signal_bg SIGNAL: sends SIGNAL (TERM, INT, HUP...) to BG_PID if it still runs; fails if not.
signal_bg() {
    if bg_alive; then
        kill -"$1" "$BG_PID"
    else
        fail "cannot send SIG$1: the process already exited"
    fi
}

# bg_alive: whether BG_PID is still running. Asks the shell's job table rather than kill -0,
# which could reach an unrelated process once the pid is reaped and reused.
bg_alive() {
    local pid
    for pid in $(jobs -rp); do
        [[ "$pid" == "$BG_PID" ]] && return 0
    done
    return 1
}

# wait_for_file PATH [SECONDS]: polls until PATH exists (default 10 s); fails the case if not.
wait_for_file() {
    local path=$1 limit=${2:-10} waited=0
    while [[ ! -e "$path" ]] && ((waited < limit * 20)); do
        sleep 0.05
        waited=$((waited + 1))
    done
    [[ -e "$path" ]] || fail "$path did not appear within ${limit}s"
}

# wait_for_output WHICH TEXT [SECONDS]: polls the running background process's stdout or
# stderr (WHICH = out|err) until it contains TEXT (default 10 s); fails the case if not.
wait_for_output() {
    local which=$1 text=$2 limit=${3:-10} waited=0
    while ! grep -qF -- "$text" "$CASE_DIR/.$which" 2>/dev/null && ((waited < limit * 20)); do
        sleep 0.05
        waited=$((waited + 1))
    done
    grep -qF -- "$text" "$CASE_DIR/.$which" 2>/dev/null ||
        fail "std$which did not show '$text' within ${limit}s"
}

expect_status() {
    [[ "$STATUS" == "$1" ]] || fail "exit status $STATUS, expected $1"
}

expect_status_not() {
    [[ "$STATUS" != "$1" ]] || fail "exit status $STATUS, expected anything else"
}

expect_stdout_contains() {
    [[ "$OUT" == *"$1"* ]] || fail "stdout does not contain '$1'"
}

expect_stdout_not_contains() {
    [[ "$OUT" != *"$1"* ]] || fail "stdout contains '$1'"
}

expect_stdout_equals() {
    [[ "$OUT" == "$1" ]] || fail "stdout is not exactly '$1'"
}

expect_stderr_contains() {
    [[ "$ERR" == *"$1"* ]] || fail "stderr does not contain '$1'"
}

expect_stderr_not_contains() {
    [[ "$ERR" != *"$1"* ]] || fail "stderr contains '$1'"
}

expect_stderr_empty() {
    [[ -z "$ERR" ]] || fail "stderr is not empty"
}

# expect_stderr_matches ERE: some line of stderr matches the extended regular expression.
expect_stderr_matches() {
    grep -qE -- "$1" <<<"$ERR" || fail "no stderr line matches /$1/"
}

expect_stderr_not_matches() {
    ! grep -qE -- "$1" <<<"$ERR" || fail "a stderr line matches /$1/"
}

# expect_file_contains PATH TEXT
expect_file_contains() {
    [[ -e "$1" ]] || {
        fail "$1 does not exist"
        return 1
    }
    grep -qF -- "$2" "$1" || fail "$1 does not contain '$2'"
}

# finish: prints the summary and exits 1 when a case failed (or none ran).
finish() {
    echo
    local extra=""
    ((skipped == 0)) || extra=", $skipped skipped"
    echo "$(basename "$0"): $passed passed, $failed failed$extra"
    ((failed == 0 && passed > 0))
    exit $?
}
