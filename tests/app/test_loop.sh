#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# shellcheck source-path=SCRIPTDIR disable=SC2317
# The built-in loop mockit-run runs after the main chunk: when it ends, --no-loop,
# unref'd timers, mockit.stop(code), and a script that ran mockit.run() itself.
#
# Cases whose timers only decide what runs, in what order and how often (ticks until a stop,
# the status a stop gives) run with --virtual-time: the same loop, but its waits take no time
# and each callback runs at its due time, so they assert exact counts and times.
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
local start = mockit.mstimestamp()
local n = 0
mockit.getit(20, function(tag)
    n = n + 1
    print(tag, n, mockit.mstimestamp() - start)
    if n == 5 then mockit.stop() end
end, "tick")
EOF
    run_capture "$MOCKIT_RUN" --virtual-time s.lua
    expect_status 0
    expect_stdout_equals "$(printf 'tick\t%d\t%d\n' 1 20 2 40 3 60 4 80 5 100)"
}

# An unref'd interval does not keep the loop alive: it ticks while the one-off is pending,
# then the loop ends. At 200 ms the interval, armed first, ticks before the one-off runs.
case_unref_interval() {
    cat >s.lua <<'EOF'
local ticks = 0
mockit.getit(10, function() ticks = ticks + 1 end):unref()
mockit.oneoff(200, function() print("one-off done", ticks) end)
EOF
    run_capture "$MOCKIT_RUN" --virtual-time s.lua
    expect_status 0
    expect_stdout_equals "$(printf 'one-off done\t20')"
    # Alone, it does not start the loop at all.
    run_capture "$MOCKIT_RUN" -e 'mockit.getit(10, function() print("tick") end):unref()'
    expect_status 0
    expect_stdout_equals ""
}

# At 150 ms the interval, armed first, ticks a 15th time before the one-off runs.
case_ref_again_keeps_alive() {
    cat >s.lua <<'EOF'
local ticks = 0
local t = mockit.getit(10, function() ticks = ticks + 1 end)
t:unref()
t:ref()
mockit.oneoff(150, function() print("ticked", ticks) mockit.stop(5) end):unref()
EOF
    run_capture "$MOCKIT_RUN" --virtual-time s.lua
    expect_status 5
    expect_stdout_equals "$(printf 'ticked\t15')"
}

case_stop_code() {
    local code
    for code in 0 3 7 100 255; do
        run_capture "$MOCKIT_RUN" --virtual-time -e \
            "mockit.getit(10, function() end) mockit.oneoff(30, function() mockit.stop($code) end)"
        expect_status "$code"
    done
    run_capture "$MOCKIT_RUN" --virtual-time -e 'mockit.getit(10, function() end)' \
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
}

# What the script arms after its own run() returned runs too, and decides the exit status: the
# host's loop runs whenever something was armed since, whatever the earlier run() returned.
case_armed_after_run() {
    printf 'mockit.oneoff(10, print, "a")\nmockit.run()\nmockit.oneoff(10, print, "b")\n' >t.lua
    run_capture "$MOCKIT_RUN" t.lua
    expect_status 0
    expect_stdout_equals "$(printf 'a\nb')"
    cat >u.lua <<'EOF'
mockit.oneoff(10, function() mockit.stop(2) end)
print("run ->", mockit.run())
mockit.oneoff(10, function() print("later") mockit.stop(4) end)
EOF
    run_capture "$MOCKIT_RUN" u.lua
    expect_status 4
    expect_stdout_equals "$(printf 'run ->\t2\nlater')"
}

# A callback error the script caught around its own run() is handled: it poisons neither the
# exit status nor the timers armed after it.
case_pcall_around_run() {
    cat >s.lua <<'EOF'
mockit.oneoff(10, function() error("boom") end)
print(pcall(mockit.run) == false)
mockit.oneoff(10, function() print("after") end)
EOF
    run_capture "$MOCKIT_RUN" s.lua
    expect_status 0
    expect_stdout_equals "$(printf 'true\nafter')"
    expect_stderr_empty
}

# The host reaches its loop through what it loaded, not through the global `mockit`, which a
# script may clear (Lua's own test suite clears every global) or use for something else.
case_global_mockit_overwritten() {
    run_capture "$MOCKIT_RUN" -e 'local m = mockit; m.oneoff(10, function() print("fired") end); mockit = nil'
    expect_status 0
    expect_stdout_equals "fired"
    run_capture "$MOCKIT_RUN" -e 'local m = mockit; m.oneoff(10, function() print("fired") end); mockit = {run = function() error("not mine") end}'
    expect_status 0
    expect_stdout_equals "fired"
    expect_stderr_empty
}

# require("mockit") is the built-in module even once package.loaded forgets it, and even with a
# mockit.so on LUA_CPATH: a second copy would have timers no loop runs.
case_require_after_unloading() {
    mkdir -p mods
    cp "$MOCKIT_BIN_DIR/../lua/mockit.so" mods/ || return
    cat >s.lua <<'EOF'
local first = require("mockit")
package.loaded.mockit = nil
local again = require("mockit")
print(first == again)
again.oneoff(10, function() print("fired") end)
EOF
    LUA_CPATH="$CASE_DIR/mods/?.so" run_capture "$MOCKIT_RUN" s.lua
    expect_status 0
    expect_stdout_equals "$(printf 'true\nfired')"
    # With the preload gone as well, the mockit.so on the cpath loads, and gives the table the
    # state already has.
    sed -i 's/^package.loaded.mockit = nil$/package.preload.mockit = nil package.loaded.mockit = nil/' s.lua
    LUA_CPATH="$CASE_DIR/mods/?.so" run_capture "$MOCKIT_RUN" s.lua
    expect_status 0
    expect_stdout_equals "$(printf 'true\nfired')"
}

# --keep-going goes on after an error whose __tostring raises too.
case_keep_going_raising_tostring() {
    run_capture "$MOCKIT_RUN" --keep-going -e 'mockit.oneoff(1, function() error(setmetatable({}, {__tostring = function() error("ts boom") end})) end)
mockit.oneoff(30, function() print("went on") end)'
    expect_status 0
    expect_stdout_equals "went on"
    expect_stderr_contains "(error object is a table value)"
}

# A loop of the script's own, as the seed wrote them, ends with the code of a mockit.stop()
# called from a callback: its next wait() raises the stop, which is no error.
case_own_loop_stop_code() {
    cat >s.lua <<'EOF'
local m = require("mockit")
local n = 0
m.getit(5, function() n = n + 1 if n == 3 then m.stop(5) end end)
while true do m.wait(1000) m.process_events() end
EOF
    run_capture "$MOCKIT_RUN" s.lua
    expect_status 5
    expect_stderr_empty
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

# switches PID: voluntary context switches of every thread of PID so far (each is a wake-up
# from a sleep).
switches() {
    local task total=0 n
    for task in /proc/"$1"/task/*; do
        n=$(awk '/^voluntary_ctxt_switches/ {print $2}' "$task/status" 2>/dev/null)
        total=$((total + ${n:-0}))
    done
    echo "$total"
}

# The loop runs on the script's thread: a 1 ms interval needs no other.
case_one_thread() {
    cat >s.lua <<'EOF'
local ticks = 0
mockit.getit(1, function() ticks = ticks + 1 end)
mockit.signal("SIGUSR1", function() print("ticks", ticks > 100) mockit.stop() end)
io.open("started", "w"):close()
EOF
    start_bg "$MOCKIT_RUN" s.lua
    wait_for_file started
    sleep 0.3
    local threads
    threads=$(find /proc/"$BG_PID"/task -mindepth 1 -maxdepth 1 | wc -l)
    signal_bg USR1
    wait_bg
    expect_status 0
    expect_stdout_equals "$(printf 'ticks\ttrue')"
    [[ "$threads" == 1 ]] || fail "$threads threads, expected 1"
}

# An idle process (one timer an hour away) sleeps until then: no wake-up at all.
case_idle_wakes_never() {
    cat >s.lua <<'EOF'
mockit.oneoff(3600 * 1000, function() end)
mockit.signal("SIGUSR1", function() mockit.stop() end)
io.open("started", "w"):close()
EOF
    start_bg "$MOCKIT_RUN" s.lua
    wait_for_file started
    sleep 0.2
    local before after
    before=$(switches "$BG_PID")
    sleep 1
    after=$(switches "$BG_PID")
    signal_bg USR1
    wait_bg
    expect_status 0
    ((after - before == 0)) || fail "$((after - before)) wake-ups in 1 s while idle"
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
run_case "timers armed after the script's run() returned run, and their stop(n) counts" case_armed_after_run
run_case "pcall(mockit.run) catching a callback error leaves exit 0 and later timers" case_pcall_around_run
run_case "the loop runs with the global mockit cleared or replaced" case_global_mockit_overwritten
run_case "require after package.loaded.mockit = nil gives the built-in module" case_require_after_unloading
run_case "a loop of the script's own ends with mockit.stop(n)'s code" case_own_loop_stop_code
run_case "--keep-going goes on after an error whose __tostring raises" case_keep_going_raising_tostring
run_case "a destroyed interval does not keep the loop alive" case_destroyed_timer_does_not_keep_alive
run_case "os.exit(n) from the main chunk or a callback: exit n" case_os_exit
run_case "a 1 ms interval runs on one thread" case_one_thread
run_case "an idle process (one timer an hour away) wakes 0 times in 1 s" case_idle_wakes_never
finish
