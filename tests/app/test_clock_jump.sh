#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# shellcheck source-path=SCRIPTDIR disable=SC2317
# Wall-clock changes (NTP steps, date -s) never move a timer: mockit.mstimestamp() jumps with
# the wall clock, while one-offs, intervals and sleep() keep to the monotonic clock. The wall
# clock is moved for mockit-run alone with libfaketime (Debian package faketime): its offset is
# read from a file the script rewrites mid-run. libfaketime fakes CLOCK_MONOTONIC too unless
# DONT_FAKE_MONOTONIC=1: a real wall-clock step leaves it alone, so the tests do too.
# mockit.sleep() is not timed here: with DONT_FAKE_MONOTONIC, libfaketime 0.9.10 (Debian 12)
# hands clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME) a deadline in the past, so every
# absolute sleep returns at once (wolfcw/libfaketime#426), whatever the program does.
#
#   tests/app/test_clock_jump.sh path/to/mockit-run
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh" "$@"

DAY_MS=86400000

# The multi-threaded libfaketime (mockit-run has an engine thread), or nothing.
FAKETIME_LIB=""
for candidate in /usr/lib/*/faketime/libfaketimeMT.so.1 /usr/lib/faketime/libfaketimeMT.so.1; do
    if [[ -e "$candidate" ]]; then
        FAKETIME_LIB=$candidate
        break
    fi
done

# have_faketime: whether libfaketime is here; skips the case when not.
have_faketime() {
    [[ -n "$FAKETIME_LIB" ]] && return 0
    skip "libfaketime not installed (scripts/setup installs faketime)"
    return 1
}

# run_faked SPEC_FILE CMD...: runs CMD with the wall clock offset by what SPEC_FILE says,
# re-read at every clock read. Under AddressSanitizer libfaketime is preloaded before the ASan
# runtime, which ASan accepts once told not to insist on coming first.
run_faked() {
    local spec=$1
    shift
    run_capture env LD_PRELOAD="$FAKETIME_LIB" FAKETIME_TIMESTAMP_FILE="$spec" \
        FAKETIME_NO_CACHE=1 DONT_FAKE_MONOTONIC=1 \
        ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" "$@"
}

# value NAME: the integer printed as "NAME=<n>" on stdout.
value() {
    sed -n "s/^$1=\(-\{0,1\}[0-9]*\)$/\1/p" <<<"$OUT" | head -n 1
}

# expect_between NAME LOW HIGH: LOW <= NAME <= HIGH.
expect_between() {
    local v
    v=$(value "$1")
    [[ -n "$v" ]] || {
        fail "no $1= line on stdout"
        return 1
    }
    ((v >= $2 && v <= $3)) || fail "$1=$v, expected from $2 to $3"
}

# The script: a 200 ms one-off and a 20 ms interval armed at the start; at 60 ms a callback
# writes JUMP into the spec file. Prints what the clocks said.
write_jump_script() {
    cat >jump.lua <<'EOF'
local spec, jump = arg[1], arg[2]
local wall0, mono0 = mockit.mstimestamp(), mockit.hrtime()
local function mono_ms() return (mockit.hrtime() - mono0) // 1000000 end
local function wall_ms() return mockit.mstimestamp() - wall0 end
local ticks = 0
mockit.getit(20, function() ticks = ticks + 1 end)
mockit.oneoff(60, function()
    local f = assert(io.open(spec, "w"))
    f:write(jump, "\n")
    f:close()
    print("wall_at_jump=" .. wall_ms() - mono_ms()) -- the step itself
end)
mockit.oneoff(200, function()
    print("oneoff_fired_at=" .. mono_ms())
    print("wall_at_oneoff=" .. wall_ms() - mono_ms())
    print("ticks=" .. ticks)
    print("ticks_due=" .. mono_ms() // 20)
    mockit.stop()
end)
EOF
}

# check_jump JUMP_MS: the wall clock stepped by JUMP_MS; nothing else moved.
check_jump() {
    local jump=$1 slack=60000 # the step, give or take a minute
    expect_status 0
    expect_stderr_empty
    expect_between wall_at_jump $((jump - slack)) $((jump + slack))
    expect_between wall_at_oneoff $((jump - slack)) $((jump + slack))
    # 200 ms of monotonic time, however far the wall clock went: never a day early or late.
    expect_between oneoff_fired_at 200 5000
    # No burst of a day's expiries and no stall: the interval kept its monotonic schedule.
    local due
    due=$(value ticks_due)
    expect_between ticks 3 "${due:-0}"
}

# wait(ms) across a step, with nothing armed: it times out on the monotonic clock. A timeout on
# the wall clock would end at once after a forward step, and a day later after a backward one.
check_wait_across() {
    local step=$1
    printf '+0\n' >spec
    cat >wait.lua <<'EOF'
mockit.oneoff(30, function()
    local f = assert(io.open(arg[1], "w"))
    f:write(arg[2], "\n")
    f:close()
    local before = mockit.hrtime()
    print("wait_returned=" .. mockit.wait(150))
    print("waited=" .. (mockit.hrtime() - before) // 1000000)
end)
EOF
    run_faked "$CASE_DIR/spec" "$MOCKIT_RUN" wait.lua "$CASE_DIR/spec" "$step"
    expect_status 0
    expect_between wait_returned 0 0
    expect_between waited 149 5000
}

case_forward_jump() {
    have_faketime || return
    printf '+0\n' >spec
    write_jump_script
    run_faked "$CASE_DIR/spec" "$MOCKIT_RUN" jump.lua "$CASE_DIR/spec" "+1d"
    check_jump "$DAY_MS"
    check_wait_across "+1d"
}

case_backward_jump() {
    have_faketime || return
    printf '+0\n' >spec
    write_jump_script
    run_faked "$CASE_DIR/spec" "$MOCKIT_RUN" jump.lua "$CASE_DIR/spec" "-1d"
    check_jump "-$DAY_MS"
    check_wait_across "-1d"
}

# Without a jump the same script sees no step: the checks above are not vacuous.
case_no_jump() {
    have_faketime || return
    printf '+0\n' >spec
    write_jump_script
    run_faked "$CASE_DIR/spec" "$MOCKIT_RUN" jump.lua "$CASE_DIR/spec" "+0"
    check_jump 0
    expect_between wall_at_jump -1000 1000
}

# The faketime command's own way, a wall clock a year ahead for the whole run: the script
# sees the year, and its timers still take their monotonic time.
case_faketime_command() {
    have_faketime || return
    if ! command -v faketime >/dev/null; then
        skip "faketime command not installed"
        return
    fi
    local now_ms
    now_ms=$(($(date +%s%N) / 1000000))
    cat >year.lua <<'EOF'
local mono0 = mockit.hrtime()
print("wall=" .. mockit.mstimestamp())
mockit.oneoff(100, function() print("fired_at=" .. (mockit.hrtime() - mono0) // 1000000) end)
EOF
    run_capture env ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
        faketime -m --exclude-monotonic -f '+365d' "$MOCKIT_RUN" year.lua
    expect_status 0
    expect_between wall $((now_ms + 365 * DAY_MS - 60000)) $((now_ms + 365 * DAY_MS + 60000))
    expect_between fired_at 100 5000
}

run_case "a forward wall-clock step: mstimestamp jumps a day, timers do not" case_forward_jump
run_case "a backward wall-clock step: mstimestamp goes back a day, timers do not" \
    case_backward_jump
run_case "no step: the same script sees none" case_no_jump
run_case "faketime -f '+365d': a year ahead, timers on time" case_faketime_command
finish
