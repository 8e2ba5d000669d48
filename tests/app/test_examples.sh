#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# shellcheck source-path=SCRIPTDIR disable=SC2317
# The example scripts under scripts/examples, run as their header comments say.
#
#   tests/app/test_examples.sh path/to/mockit-run
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh" "$@"

EXAMPLES="$SOURCE_DIR/scripts/examples"

# now_ms: a monotonic-enough wall clock in milliseconds.
now_ms() {
    local ns
    ns=$(date +%s%N)
    echo $((ns / 1000000))
}

case_all_compile_and_have_a_header() {
    local file first
    for file in hello heartbeat retry shebang; do
        file="$EXAMPLES/$file.lua"
        [[ -f "$file" ]] || {
            fail "$file is missing"
            continue
        }
        run_capture "$MOCKIT_RUN" --check "$file"
        expect_status 0
        # The header comment: the first line, or the second after a shebang.
        first=$(grep -v '^#!' "$file" | head -n 1)
        [[ "$first" == "-- "* ]] || fail "$(basename "$file") has no header comment"
        grep -q "mockit-run" "$file" || fail "$(basename "$file") does not say how to run it"
    done
}

case_hello() {
    local start elapsed
    start=$(now_ms)
    run_capture "$MOCKIT_RUN" "$EXAMPLES/hello.lua"
    elapsed=$(($(now_ms) - start))
    expect_status 0
    expect_stdout_contains "Hello, world!"
    expect_stdout_contains "one-off: fired once"
    expect_stdout_contains "Goodbye!"
    expect_stderr_matches ' info interval: tick 1 of 3$'
    expect_stderr_matches ' info interval: tick 2 of 3$'
    expect_stderr_matches ' info interval: tick 3 of 3$'
    expect_stderr_not_contains "tick 4"
    ((elapsed < 2000)) || fail "hello.lua took ${elapsed} ms (should be under 2 s)"
    run_capture "$MOCKIT_RUN" "$EXAMPLES/hello.lua" Ada
    expect_status 0
    expect_stdout_contains "Hello, Ada!"
}

# Start, SIGHUP after changing the config file, then SIGTERM: a clean stop, exit 0.
case_heartbeat() {
    printf '# heartbeat config\nmessage = first config\n' >heartbeat.conf
    start_bg "$MOCKIT_RUN" "$EXAMPLES/heartbeat.lua" 100 heartbeat.conf
    wait_for_output err "heartbeat 2: first config" || return
    printf 'message = reloaded config\ninterval = 50\n' >heartbeat.conf
    signal_bg HUP
    wait_for_output err 'config loaded from heartbeat.conf: message "reloaded config", every 50 ms' ||
        return
    wait_for_output err ": reloaded config" || return
    signal_bg TERM
    wait_bg 10
    expect_status 0
    expect_stdout_equals ""
    expect_stderr_contains "SIGHUP: reloading"
    expect_stderr_not_contains "mockit-run:"
}

case_heartbeat_without_config() {
    start_bg "$MOCKIT_RUN" "$EXAMPLES/heartbeat.lua" 50
    wait_for_output err "heartbeat 1: alive" || return
    signal_bg HUP
    wait_for_output err "no config file to reload" || return
    signal_bg TERM
    wait_bg 10
    expect_status 0
}

case_heartbeat_bad_interval() {
    run_capture "$MOCKIT_RUN" "$EXAMPLES/heartbeat.lua" soon
    expect_status 2
    expect_stderr_contains "positive integer"
}

case_retry() {
    run_capture "$MOCKIT_RUN" "$EXAMPLES/retry.lua"
    expect_status 0
    expect_stdout_contains "attempt 1 at "
    expect_stdout_contains "retrying in 50 ms"
    expect_stdout_contains "retrying in 100 ms"
    expect_stdout_contains "retrying in 200 ms"
    expect_stdout_contains "succeeded"
    [[ "$(grep -c '^attempt ' <<<"$OUT")" == 4 ]] || fail "expected 4 attempts"
    grep -qE '^attempt 4 at (3[5-9][0-9]|[4-9][0-9]{2}|[0-9]{4,}) ms: succeeded' <<<"$OUT" ||
        fail "the 4th attempt came before 350 ms of backoff"
}

case_retry_gives_up() {
    run_capture "$MOCKIT_RUN" "$EXAMPLES/retry.lua" 10 5
    expect_status 1
    expect_stdout_contains "giving up"
    expect_stdout_not_contains "succeeded"
}

case_shebang() {
    [[ -x "$EXAMPLES/shebang.lua" ]] || fail "shebang.lua is not executable"
    cp "$EXAMPLES/shebang.lua" .
    chmod +x shebang.lua # in case the checkout lost the bit: the rest still gets tested
    run_capture env PATH="$MOCKIT_BIN_DIR:$PATH" ./shebang.lua one "two words"
    expect_status 0
    expect_stdout_contains "./shebang.lua: 2 argument(s)"
    expect_stdout_contains "arg[1] = one"
    expect_stdout_contains "arg[2] = two words"
    grep -qE '^timestamp: [0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8}\.[0-9]{3} UTC' <<<"$OUT" ||
        fail "no timestamp line"
    expect_stdout_contains "and a timer fired"
    # And as a plain argument to mockit-run.
    run_capture "$MOCKIT_RUN" "$EXAMPLES/shebang.lua"
    expect_status 0
    expect_stdout_contains "0 argument(s)"
}

run_case "every example compiles and has a header comment" case_all_compile_and_have_a_header
run_case "hello.lua: one-off, 3 ticks, stop; under 2 s" case_hello
run_case "heartbeat.lua: beats, reloads on SIGHUP, exits 0 on SIGTERM" case_heartbeat
run_case "heartbeat.lua without a config file" case_heartbeat_without_config
run_case "heartbeat.lua with a bad interval: exit 2" case_heartbeat_bad_interval
run_case "retry.lua: backs off 50/100/200 ms, succeeds, exit 0" case_retry
run_case "retry.lua: gives up after 6 attempts, exit 1" case_retry_gives_up
run_case "shebang.lua runs directly through env" case_shebang
finish
