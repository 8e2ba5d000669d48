#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR disable=SC2317
# The built-in loop mockit-run runs after the main chunk: when it ends, --no-loop,
# unref'd timers, mockit.stop(code), and a script that ran mockit.run() itself.
#
#   tests/app/test_loop.sh path/to/mockit-run
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh" "$@"

# The loop ends by itself once the last one-off has fired: exit 0.
case_exits_when_idle() {
    run_capture "$MOCKIT_RUN" -e 'mockit.oneoff(30, print, "fired", 42)'
    expect_status 0
    expect_stdout_equals "$(printf 'fired\t42')"
    expect_stderr_empty
}

case_nothing_armed() {
    run_capture "$MOCKIT_RUN" -e 'print("main chunk only")'
    expect_status 0
    expect_stdout_equals "main chunk only"
}

case_no_loop() {
    run_capture "$MOCKIT_RUN" --no-loop -e 'mockit.oneoff(10, print, "fired")' \
        -e 'mockit.getit(10, print, "tick")' -e 'print("main chunk")'
    expect_status 0
    expect_stdout_equals "main chunk"
}

# With --no-loop the script may still drive the loop itself.
case_no_loop_script_runs_its_own() {
    printf 'mockit.oneoff(10, print, "fired")\nprint("run ->", mockit.run())\n' >s.lua
    run_capture "$MOCKIT_RUN" --no-loop s.lua
    expect_status 0
    expect_stdout_equals "$(printf 'fired\nrun ->\t0')"
}

case_interval_ticks_then_stop() {
    cat >s.lua <<'EOF'
local n = 0
mockit.getit(20, function(tag)
    n = n + 1
    print(tag, n)
    if n == 5 then mockit.stop() end
end, "tick")
EOF
    run_capture "$MOCKIT_RUN" s.lua
    expect_status 0
    expect_stdout_equals "$(printf 'tick\t1\ntick\t2\ntick\t3\ntick\t4\ntick\t5')"
}

# An unref'd interval does not keep the loop alive: it ticks while the one-off is pending,
# then the loop ends.
case_unref_interval() {
    cat >s.lua <<'EOF'
local ticks = 0
mockit.getit(10, function() ticks = ticks + 1 end):unref()
mockit.oneoff(200, function() print("one-off done", ticks > 0) end)
EOF
    run_capture "$MOCKIT_RUN" s.lua
    expect_status 0
    expect_stdout_equals "$(printf 'one-off done\ttrue')"
    # Alone, it does not start the loop at all.
    run_capture "$MOCKIT_RUN" -e 'mockit.getit(10, function() print("tick") end):unref()'
    expect_status 0
    expect_stdout_equals ""
}

case_ref_again_keeps_alive() {
    cat >s.lua <<'EOF'
local ticks = 0
local t = mockit.getit(10, function() ticks = ticks + 1 end)
t:unref()
t:ref()
mockit.oneoff(150, function() print("ticked", ticks > 3) mockit.stop(5) end):unref()
EOF
    run_capture "$MOCKIT_RUN" s.lua
    expect_status 5
    expect_stdout_equals "$(printf 'ticked\ttrue')"
}

case_stop_code() {
    local code
    for code in 0 3 7 100 255; do
        run_capture "$MOCKIT_RUN" -e \
            "mockit.getit(10, function() end) mockit.oneoff(30, function() mockit.stop($code) end)"
        expect_status "$code"
    done
    run_capture "$MOCKIT_RUN" -e 'mockit.getit(10, function() end)' \
        -e 'mockit.oneoff(30, function() mockit.stop() end)'
    expect_status 0
}

# stop() ends the loop after the current callback: nothing else starts.
case_stop_after_current_callback() {
    cat >s.lua <<'EOF'
mockit.oneoff(20, function()
    mockit.stop(9)
    print("rest of the callback")
end)
mockit.oneoff(20, function() print("must not run") end)
EOF
    run_capture "$MOCKIT_RUN" s.lua
    expect_status 9
    expect_stdout_equals "rest of the callback"
}

case_stop_out_of_range() {
    run_capture "$MOCKIT_RUN" -e 'mockit.oneoff(10, function() mockit.stop(256) end)'
    expect_status 1
    expect_stderr_contains "bad argument #1 to 'stop'"
}

# A script that ran mockit.run() to completion: its exit code is the process's, and the
# built-in loop does not run again.
case_script_ran_the_loop() {
    printf 'mockit.oneoff(10, function() mockit.stop(4) end)\nprint("run ->", mockit.run())\n' >s.lua
    run_capture "$MOCKIT_RUN" s.lua
    expect_status 4
    expect_stdout_equals "$(printf 'run ->\t4')"
    printf 'mockit.oneoff(10, print, "a")\nmockit.run()\nmockit.oneoff(10, print, "b")\n' >t.lua
    run_capture "$MOCKIT_RUN" t.lua
    expect_status 0
    expect_stdout_equals "a"
}

# os.exit ends the process at once with its status, timers armed or not (with close = true
# the state is closed first).
case_os_exit() {
    run_capture "$MOCKIT_RUN" -e 'mockit.getit(10, function() end) mockit.oneoff(20, function() os.exit(3) end)'
    expect_status 3
    run_capture "$MOCKIT_RUN" -e 'mockit.getit(10, function() end) mockit.oneoff(20, function() os.exit(4, true) end)'
    expect_status 4
    run_capture "$MOCKIT_RUN" -e 'mockit.getit(10, function() print("tick") end) os.exit(false)'
    expect_status 1
    expect_stdout_equals ""
    run_capture "$MOCKIT_RUN" -e 'mockit.oneoff(10, function() os.exit(true, true) end)'
    expect_status 0
}

case_destroyed_timer_does_not_keep_alive() {
    cat >s.lua <<'EOF'
local t = mockit.getit(10, function() print("tick") end)
t:destroy()
mockit.oneoff(50, function() print("done") end)
EOF
    run_capture "$MOCKIT_RUN" s.lua
    expect_status 0
    expect_stdout_equals "done"
}

run_case "the loop exits 0 when the last one-off has fired" case_exits_when_idle
run_case "nothing armed: exit 0 after the main chunk" case_nothing_armed
run_case "--no-loop: armed timers are not run, exit 0" case_no_loop
run_case "--no-loop: the script may call mockit.run() itself" case_no_loop_script_runs_its_own
run_case "an interval ticks in order until mockit.stop()" case_interval_ticks_then_stop
run_case "an unref'd interval does not keep the loop alive" case_unref_interval
run_case "t:ref() after t:unref() keeps the loop alive again" case_ref_again_keeps_alive
run_case "mockit.stop(code) is the exit status" case_stop_code
run_case "mockit.stop() lets the current callback finish, starts nothing else" case_stop_after_current_callback
run_case "mockit.stop(256) raises: exit 1" case_stop_out_of_range
run_case "a script that ran mockit.run() itself" case_script_ran_the_loop
run_case "a destroyed interval does not keep the loop alive" case_destroyed_timer_does_not_keep_alive
run_case "os.exit(n) from the main chunk or a callback: exit n" case_os_exit
finish
