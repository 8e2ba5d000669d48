#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# shellcheck source-path=SCRIPTDIR disable=SC2317
# --virtual-time as a test suite uses it: byte-identical runs with --seed, every clock the script
# can read on the simulated one (log stamps included), exit 3 for a wait nothing can end, and
# heartbeat.lua tested over a simulated day.
#
#   tests/app/test_virtual_time.sh path/to/mockit-run
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh" "$@"

# Many timers with equal deadlines, random delays, log lines and dates: the same run twice.
write_busy_script() {
    cat >busy.lua <<'EOF'
local order = {}
for i = 1, 300 do
    local delay = math.random(1, 20) * 1000 -- many equal deadlines
    mockit.oneoff(delay, function() order[#order + 1] = i end)
end
local ticks = 0
mockit.getit(1500, function()
    ticks = ticks + 1
    mockit.log.info("tick %d at %s, random %d", ticks, os.date("!%H:%M:%S"), math.random(1e9))
end)
mockit.oneoff(21000, function()
    print(table.concat(order, " "))
    print(os.time(), mockit.mstimestamp(), mockit.hrtime())
    mockit.stop()
end)
EOF
}

case_same_seed_same_bytes() {
    write_busy_script
    run_capture "$MOCKIT_RUN" --virtual-time --seed 42 busy.lua
    expect_status 0
    local out1=$OUT err1=$ERR
    [[ $(wc -w <<<"$out1") -ge 300 ]] || fail "the timers did not all run"
    [[ "$err1" == *"info tick 14 at 00:00:21"* ]] || fail "no log line stamped with the simulated time"
    run_capture "$MOCKIT_RUN" --virtual-time --seed 42 busy.lua
    [[ "$OUT" == "$out1" && "$ERR" == "$err1" ]] || fail "two runs with --seed 42 differ"
    MOCKIT_SEED=42 run_capture "$MOCKIT_RUN" --virtual-time busy.lua
    [[ "$OUT" == "$out1" && "$ERR" == "$err1" ]] || fail "MOCKIT_SEED=42 differs from --seed 42"
    # The test can fail: another seed draws other delays.
    run_capture "$MOCKIT_RUN" --virtual-time --seed 43 busy.lua
    [[ "$OUT" != "$out1" ]] || fail "--seed 43 gave the same order as --seed 42"
    # The command line wins over the environment.
    MOCKIT_SEED=43 run_capture "$MOCKIT_RUN" --virtual-time --seed 42 busy.lua
    [[ "$OUT" == "$out1" ]] || fail "MOCKIT_SEED overrode --seed"
}

case_bad_seed() {
    local bad
    for bad in x 1.5 '' 0x10 ' 7' 9223372036854775808 -9223372036854775809; do
        run_capture "$MOCKIT_RUN" --seed "$bad" -e 'print(1)'
        expect_status 2
        expect_stderr_contains "mockit-run: --seed: '$bad' is not an integer from -2^63 to 2^63-1"
        expect_stdout_equals ""
    done
    MOCKIT_SEED=seven run_capture "$MOCKIT_RUN" -e 'print(1)'
    expect_status 2
    expect_stderr_contains "mockit-run: MOCKIT_SEED: 'seven' is not an integer"
    # An empty variable counts as unset; the extremes are seeds.
    MOCKIT_SEED='' run_capture "$MOCKIT_RUN" -e 'print(1)'
    expect_status 0
    run_capture "$MOCKIT_RUN" --seed=-9223372036854775808 -e 'print(math.type(math.random(9)))'
    expect_stdout_equals "integer"
}

# Nothing reads the real clocks behind the simulated one: everything the script can read is in
# 2038 and moves exactly as the simulation says.
case_every_clock_is_simulated() {
    cat >clocks.lua <<'EOF'
local function show(what)
    local secs, ms = mockit.time()
    print(what, mockit.mstimestamp(), secs, ms, mockit.hrtime(), os.time(),
        os.date("!%Y-%m-%dT%H:%M:%S"), os.date("!*t").year, os.date("%Y", nil))
    mockit.log.info("%s", what)
end
show("start")
mockit.sleep(1500)
show("slept")
mockit.wait(250)
show("waited")
mockit.oneoff(750, function() show("oneoff") end)
EOF
    TZ=UTC run_capture "$MOCKIT_RUN" --virtual-time=2038-01-19T03:14:08Z clocks.lua
    expect_status 0
    local hour_ns=3600000000000
    expect_stdout_equals "$(printf '%s\n' \
        "start	2147483648000	2147483648	0	$hour_ns	2147483648	2038-01-19T03:14:08	2038	2038" \
        "slept	2147483649500	2147483649	500	$((hour_ns + 1500000000))	2147483649	2038-01-19T03:14:09	2038	2038" \
        "waited	2147483649750	2147483649	750	$((hour_ns + 1750000000))	2147483649	2038-01-19T03:14:09	2038	2038" \
        "oneoff	2147483650500	2147483650	500	$((hour_ns + 2500000000))	2147483650	2038-01-19T03:14:10	2038	2038")"
    expect_stderr_matches '^2038-01-19 03:14:08\.000 info start$'
    expect_stderr_matches '^2038-01-19 03:14:09\.500 info slept$'
    expect_stderr_matches '^2038-01-19 03:14:10\.500 info oneoff$'
}

# The binding reads time only through the clock its context was given (context.hpp's default is
# the one place that names the system's): a new read of a real clock fails this test. The
# poller's watch of the wall clock reads no time: it is told of steps, on the real clock only.
case_no_clock_read_behind_the_clock() {
    local hits
    hits=$(grep -nE 'clock_gettime|gettimeofday|_clock::now|system_clock_source|\btime\((nullptr|NULL|0)\)|CLOCK_(REALTIME|MONOTONIC)' \
        "$SOURCE_DIR"/libmockit/lua/src/*.cpp "$SOURCE_DIR"/libmockit/lua/src/*.hpp |
        grep -v -e 'context.hpp:.*clock_source\* clock = &system_clock_source::instance();' \
            -e 'poller.cpp:.*::timerfd_create(CLOCK_REALTIME, ')
    [[ -z "$hits" ]] || fail "the binding reads a real clock directly: $hits"
}

case_stuck_exits_3() {
    run_capture "$MOCKIT_RUN" --virtual-time -e 'while true do mockit.wait() end'
    expect_status 3
    expect_stderr_contains "mockit-run: stuck in simulated time: wait() has no timer to wait for and no timeout"
    expect_stderr_not_contains "traceback"
    # The message names the signal handlers that wait.
    run_capture "$MOCKIT_RUN" --virtual-time -e 'mockit.signal("SIGUSR1", print) mockit.signal("SIGHUP", print)
        mockit.oneoff(10, function() end) while true do mockit.wait() mockit.process_events() end'
    expect_status 3
    expect_stderr_contains "no timeout; signal handlers wait for SIGHUP, SIGUSR1"
    # Inside a callback, on_error does not see it: the run ends as stuck.
    run_capture "$MOCKIT_RUN" --virtual-time -e 'mockit.on_error(function() print("on_error") end)
        mockit.oneoff(5, function() mockit.wait() end)'
    expect_status 3
    expect_stdout_equals ""
    # Not stuck: a timeout, an unref'd timer, a built-in loop with nothing left, real time.
    run_capture "$MOCKIT_RUN" --virtual-time -e 'print(mockit.wait(5000), mockit.mstimestamp())'
    expect_status 0
    expect_stdout_equals "$(printf '0\t946684805000')"
    run_capture "$MOCKIT_RUN" --virtual-time -e 'mockit.oneoff(5, function() print("ran") end):unref()
        mockit.wait() mockit.process_events()'
    expect_status 0
    expect_stdout_equals "ran"
    run_capture "$MOCKIT_RUN" --virtual-time -e 'mockit.signal("SIGHUP", print)'
    expect_status 0
    run_capture "$MOCKIT_RUN" -e 'print(mockit.wait(10))'
    expect_status 0
    # pcall catches it, as any error: the script goes on.
    run_capture "$MOCKIT_RUN" --virtual-time -e 'local ok, e = pcall(mockit.wait) print(ok, tostring(e))'
    expect_status 0
    expect_stdout_contains "false	stuck in simulated time"
}

# The README's example: heartbeat.lua tested over a simulated day.
case_heartbeat_over_a_day() {
    local t0=$SECONDS
    run_capture "$MOCKIT_RUN" --virtual-time --no-loop "$SOURCE_DIR/scripts/examples/heartbeat_test.lua"
    expect_status 0
    expect_stdout_equals "ok: 1440 heartbeats in a simulated day, each on the minute"
    ((SECONDS - t0 < 5)) || fail "a simulated day took $((SECONDS - t0)) s"
    # Run as the README also shows: the log itself, a line a minute. The stop, armed first, runs
    # before the heartbeat due at the same time: equal deadlines run in the order armed.
    run_capture "$MOCKIT_RUN" --virtual-time -e 'mockit.oneoff(86400 * 1000, mockit.stop)' \
        "$SOURCE_DIR/scripts/examples/heartbeat.lua" 60000
    expect_status 0
    [[ $(grep -c ' info heartbeat [0-9]*: alive$' <<<"$ERR") == 1439 ]] ||
        fail "not 1439 heartbeat lines before the stop"
    [[ "$ERR" == *$'\n2000-01-01 23:59:00.000 info heartbeat 1439: alive' ]] ||
        fail "the last line is not heartbeat 1439 at 23:59"
}

# The README's example test, as printed there, from the repository's top directory.
case_readme_example_test() {
    awk '/heartbeat_test.lua   \(or/ { f = 1 } f && /^```/ { exit } f' "$SOURCE_DIR/README.md" >readme_test.lua
    [[ -s readme_test.lua ]] || fail "the README's example test is not where this test looks"
    pushd "$SOURCE_DIR" >/dev/null || return
    run_capture "$MOCKIT_RUN" --virtual-time --no-loop "$CASE_DIR/readme_test.lua"
    popd >/dev/null || return
    expect_status 0
    expect_stderr_empty
}

run_case "the same --seed gives byte-identical output; another seed another" case_same_seed_same_bytes
run_case "a bad --seed or MOCKIT_SEED is a usage error, exit 2" case_bad_seed
run_case "every clock the script reads is simulated, log stamps too" case_every_clock_is_simulated
run_case "the binding reads no real clock behind its clock" case_no_clock_read_behind_the_clock
run_case "a wait nothing can end in simulated time: exit 3, naming what waits" case_stuck_exits_3
run_case "heartbeat.lua over a simulated day, in well under a second" case_heartbeat_over_a_day
run_case "the README's example test passes" case_readme_example_test
finish
