#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# shellcheck source-path=SCRIPTDIR disable=SC2317
# Signals: SIGTERM and SIGINT stop the loop gracefully (exit 0 and 130), a second SIGINT
# interrupts a stuck callback, and mockit.signal handlers replace the defaults.
# Marker files written by the scripts say when to send a signal; nothing relies on a
# fixed sleep being long enough, except to show that a process is still running.
#
#   tests/app/test_signals.sh path/to/mockit-run
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh" "$@"

# An interval (every 100 ms) whose first call writes "started", works for 600 ms on the CPU
# (no sleep a signal could cut short), then writes "finished"; later calls, which the
# backlog of that long first call makes due at once, each write "later<N>".
write_busy_interval() {
    cat >busy.lua <<'LUA'
local dir = arg[1]
local function mark(name)
    local f = assert(io.open(dir .. "/" .. name, "w"))
    f:close()
end
local calls = 0
mockit.getit(100, function()
    calls = calls + 1
    if calls > 1 then return mark("later" .. calls) end
    mark("started")
    local t0 = mockit.hrtime()
    while mockit.hrtime() - t0 < 600 * 1000000 do end
    mark("finished")
end)
LUA
}

# An idle loop (a far interval) that writes "ready" from the main chunk.
write_idle() {
    cat >idle.lua <<'LUA'
mockit.getit(60000, function() print("must not run") end)
local f = assert(io.open(arg[1] .. "/ready", "w"))
f:close()
LUA
}

# signal_during_callback SIGNAL: starts busy.lua and sends SIGNAL during its first callback,
# then collects it.
signal_during_callback() {
    write_busy_interval
    start_bg "$MOCKIT_RUN" busy.lua "$CASE_DIR"
    wait_for_file started || return 1
    signal_bg "$1"
    wait_bg
}

# The callback running when the signal arrives finishes; the exit status says which.
case_sigterm_during_callback() {
    signal_during_callback TERM || return
    expect_status 0
    [[ -e finished ]] || fail "the running callback did not finish"
    expect_stderr_not_contains "interrupted!"
}

case_sigint_during_callback() {
    signal_during_callback INT || return
    expect_status 130
    [[ -e finished ]] || fail "the running callback did not finish"
    expect_stderr_not_contains "interrupted!"
}

# ...and no other callback starts, even one already queued (the interval's backlog).
nothing_else_starts() {
    signal_during_callback "$1" || return
    local later
    later=$(compgen -G 'later*' | tr '\n' ' ')
    [[ -z "$later" ]] || fail "callbacks started after SIG$1: ${later}(markers)"
}

case_sigterm_nothing_else_starts() {
    nothing_else_starts TERM
}

case_sigint_nothing_else_starts() {
    nothing_else_starts INT
}

case_sigterm_idle() {
    write_idle
    start_bg "$MOCKIT_RUN" idle.lua "$CASE_DIR"
    wait_for_file ready || return
    sleep 0.3 # well inside the loop's wait by now
    signal_bg TERM
    wait_bg 10
    expect_status 0
    expect_stdout_equals ""
}

case_sigint_idle() {
    write_idle
    start_bg "$MOCKIT_RUN" idle.lua "$CASE_DIR"
    wait_for_file ready || return
    sleep 0.3
    signal_bg INT
    wait_bg 10
    expect_status 130
    expect_stdout_equals ""
}

# A callback stuck in `while true do end`: the first SIGINT waits for it (it never
# finishes), the second interrupts the Lua code as lua5.4 does.
case_second_sigint_interrupts_stuck_callback() {
    cat >stuck.lua <<'EOF'
mockit.oneoff(10, function()
    local f = assert(io.open(arg[1] .. "/started", "w"))
    f:close()
    while true do end
end)
EOF
    start_bg "$MOCKIT_RUN" stuck.lua "$CASE_DIR"
    wait_for_file started || return
    sleep 0.3
    signal_bg INT
    sleep 1
    bg_alive || fail "the first SIGINT ended a callback that was still running"
    signal_bg INT
    wait_bg 10
    expect_status 130
    expect_stderr_contains "mockit-run: interrupted!"
    expect_stderr_contains "stuck.lua:4"
}

# Outside the loop (the main chunk) the first SIGINT interrupts at once, as in lua5.4.
case_sigint_in_main_chunk() {
    cat >spin.lua <<'EOF'
local f = assert(io.open(arg[1] .. "/started", "w"))
f:close()
while true do end
EOF
    start_bg "$MOCKIT_RUN" spin.lua "$CASE_DIR"
    wait_for_file started || return
    sleep 0.3
    signal_bg INT
    wait_bg 10
    expect_status 130
    expect_stderr_contains "mockit-run: interrupted!"
}

# SIGTERM while the main chunk runs: it finishes, then the loop does not start. Exit 0.
case_sigterm_in_main_chunk() {
    cat >slow.lua <<'EOF'
mockit.getit(10, function() print("must not run") end)
local f = assert(io.open(arg[1] .. "/started", "w"))
f:close()
local t0 = mockit.hrtime()
while mockit.hrtime() - t0 < 800 * 1000000 do end
print("main chunk done")
EOF
    start_bg "$MOCKIT_RUN" slow.lua "$CASE_DIR"
    wait_for_file started || return
    signal_bg TERM
    wait_bg 10
    expect_status 0
    expect_stdout_equals "main chunk done"
}

# A SIGHUP handler from mockit.signal runs from the loop, once per signal.
case_sighup_handler() {
    cat >hup.lua <<'EOF'
local dir = arg[1]
local count = 0
mockit.signal("SIGHUP", function(name)
    count = count + 1
    local f = assert(io.open(dir .. "/hup" .. count, "w"))
    f:write(name)
    f:close()
    if count == 2 then mockit.stop() end
end)
mockit.getit(60000, function() end)
local f = assert(io.open(dir .. "/ready", "w"))
f:close()
EOF
    start_bg "$MOCKIT_RUN" hup.lua "$CASE_DIR"
    wait_for_file ready || return
    sleep 0.3
    signal_bg HUP
    wait_for_file hup1 || return
    signal_bg HUP
    wait_bg 10
    expect_status 0
    expect_file_contains hup1 SIGHUP
    expect_file_contains hup2 SIGHUP
}

# handler_replaces_default SIGNAL: a mockit.signal handler for SIGNAL runs instead of the
# host's stop, and the loop goes on until the handler stops it with code 6.
handler_replaces_default() {
    local signal=$1
    cat >h.lua <<EOF
local dir = arg[1]
local ticks_after = 0
local got = false
mockit.signal("SIG$signal", function(name)
    print("handled", name)
    got = true
end)
mockit.getit(20, function()
    if got then
        ticks_after = ticks_after + 1
        if ticks_after == 3 then mockit.stop(6) end
    end
end)
local f = assert(io.open(dir .. "/ready", "w"))
f:close()
EOF
    start_bg "$MOCKIT_RUN" h.lua "$CASE_DIR"
    wait_for_file ready || return
    sleep 0.3
    signal_bg "$signal"
    wait_bg 10
    expect_status 6
    expect_stdout_equals "$(printf 'handled\tSIG%s' "$signal")"
}

case_sigterm_handler() {
    handler_replaces_default TERM
}

case_sigint_handler() {
    handler_replaces_default INT
}

# start_on_fifo CMD...: start_bg with standard input from a pipe that stays open and empty (this
# shell holds its write end on fd 7), so a read from stdin blocks until a signal cuts it short.
start_on_fifo() {
    mkfifo in.fifo
    exec 7<>in.fifo
    LAST_CMD=$(quote "$@")
    "$@" <in.fifo >"$CASE_DIR/.out" 2>"$CASE_DIR/.err" &
    BG_PID=$!
}

# A script stuck in a system call (io.read() on an empty pipe) gets EINTR from SIGINT, which
# SA_RESTART used to restart for ever: "interrupted!" and 130, as lua5.4.
case_sigint_interrupts_blocking_read() {
    start_on_fifo "$MOCKIT_RUN" -e 'io.open("started", "w"):close() print(io.read())'
    wait_for_file started || return
    sleep 0.3 # inside read(2) by now
    signal_bg INT
    wait_bg 10
    exec 7>&-
    expect_status 130
    expect_stderr_contains "interrupted!"
}

# SIGTERM cuts the read short too: io.read() returns its error, the main chunk goes on, and the
# loop, asked to stop, does not start. A clean stop: 0.
case_sigterm_interrupts_blocking_read() {
    start_on_fifo "$MOCKIT_RUN" -e 'mockit.getit(10, function() print("must not run") end)
io.open("started", "w"):close()
print("read:", io.read())'
    wait_for_file started || return
    sleep 0.3
    signal_bg TERM
    wait_bg 10
    exec 7>&-
    expect_status 0
    expect_stdout_contains "Interrupted system call"
    expect_stdout_not_contains "must not run"
}

# Opening a FIFO that has no writer blocks in open(2): SIGINT ends that as well.
case_sigint_interrupts_fifo_open() {
    mkfifo nowriter
    start_bg "$MOCKIT_RUN" -e 'io.open("started", "w"):close() print(io.open("nowriter"))'
    wait_for_file started || return
    sleep 0.3
    signal_bg INT
    wait_bg 10
    expect_status 130
}

# sigterm_interrupts CHUNK: CHUNK, once it wrote "started", never ends by itself; SIGTERM waits
# for it the grace of a second, then interrupts it: "terminated", exit 143.
sigterm_interrupts() {
    start_bg "$MOCKIT_RUN" -e "$1"
    wait_for_file started || return
    signal_bg TERM
    sleep 0.5
    bg_alive || fail "stopped before the grace of a second was over"
    wait_bg 10
    expect_status 143
    expect_stderr_contains "mockit-run: terminated"
}

case_sigterm_interrupts_busy_main_chunk() {
    sigterm_interrupts 'io.open("started", "w"):close() while true do end'
}

case_sigterm_interrupts_stuck_callback() {
    sigterm_interrupts 'mockit.oneoff(1, function() io.open("started", "w"):close() while true do end end)'
}

# An error object whose __tostring never returns: the report itself is stuck.
case_sigterm_interrupts_stuck_report() {
    sigterm_interrupts 'io.open("started", "w"):close()
error(setmetatable({}, {__tostring = function() while true do end end}))'
}

# A loop of the script's own, as the seed wrote them, used to spin once a stop was asked for
# (wait() returning 0 at once, for ever). Its next wait() now ends it, with the signal's status.
write_own_loop() {
    cat >own.lua <<'EOF'
local m = require("mockit")
m.getit(10, function() end)
io.open(arg[1] .. "/started", "w"):close()
while true do m.wait(1000) m.process_events() end
EOF
}

case_sigterm_ends_own_loop() {
    write_own_loop
    start_bg "$MOCKIT_RUN" own.lua "$CASE_DIR"
    wait_for_file started || return
    sleep 0.2
    signal_bg TERM
    sleep 0.5 # well inside the grace: only the stop raised by wait() can have ended it
    bg_alive && fail "still running 0.5 s after SIGTERM"
    wait_bg 10
    expect_status 0
    expect_stderr_empty
}

case_sigint_ends_own_loop() {
    write_own_loop
    start_bg "$MOCKIT_RUN" own.lua "$CASE_DIR"
    wait_for_file started || return
    sleep 0.2
    signal_bg INT
    wait_bg 10
    expect_status 130
}

# ...and a loop that asks mockit.stopping() finishes its own work first.
case_own_loop_sees_the_stop() {
    cat >own.lua <<'EOF'
local m = require("mockit")
m.getit(10, function() end)
io.open(arg[1] .. "/started", "w"):close()
while not m.stopping() do m.wait(1000) m.process_events() end
print("cleaning up", select(2, m.stopping()))
EOF
    start_bg "$MOCKIT_RUN" own.lua "$CASE_DIR"
    wait_for_file started || return
    sleep 0.2
    signal_bg TERM
    wait_bg 10
    expect_status 0
    expect_stdout_equals "$(printf 'cleaning up\t0')"
}

# An interruption the script caught (pcall around a loop that SIGINT interrupted) leaves the
# next signal its own: SIGTERM still interrupts what runs after it.
case_interrupt_caught_then_sigterm() {
    start_bg "$MOCKIT_RUN" -e 'io.open("started", "w"):close()
print(pcall(function() while true do end end))
io.open("caught", "w"):close()
while true do end'
    wait_for_file started || return
    sleep 0.2
    signal_bg INT
    wait_for_file caught || return
    signal_bg TERM
    wait_bg 10
    expect_status 143 # the interruption that ended it
    expect_stdout_contains "interrupted!"
    expect_stderr_contains "mockit-run: terminated"
}

# ends_within SECONDS SIGNAL...: sends each SIGNAL (TERM, INT) in turn, 0.3 s apart, to the
# running BG_PID, and requires it gone SECONDS after the first.
ends_within() {
    local limit=$1 signal
    shift
    for signal in "$@"; do
        signal_bg "$signal"
        sleep 0.3
    done
    wait_bg "$limit"
}

# Code the hook cannot reach, or that swallows what it raises, still ends: the second SIGINT
# has the default action, as under lua5.4, and SIGTERM's hard stop comes 2 s after it.
case_swallowed_interruption_sigint_twice() {
    start_bg "$MOCKIT_RUN" -e 'io.open("started", "w"):close()
while true do pcall(function() while true do end end) end'
    wait_for_file started || return
    ends_within 5 INT INT
    expect_status 130
}

case_swallowed_termination_hard_stop() {
    start_bg "$MOCKIT_RUN" -e 'mockit.getit(100, function() end)
io.open("started", "w"):close()
while true do pcall(function() mockit.wait() mockit.process_events() end) end'
    wait_for_file started || return
    ends_within 5 TERM
    expect_status 143
}

# coroutine_stuck STATUS SIGNAL...: busy code inside a coroutine, which the hook on the main
# thread never reaches, ends with STATUS once the SIGNALs are sent.
coroutine_stuck() {
    local status=$1
    shift
    start_bg "$MOCKIT_RUN" -e 'io.open("started", "w"):close()
coroutine.wrap(function() while true do end end)()'
    wait_for_file started || return
    ends_within 5 "$@"
    expect_status "$status"
}

case_coroutine_sigterm() {
    coroutine_stuck 143 TERM
}

case_coroutine_sigint_twice() {
    coroutine_stuck 130 INT INT
}

# C code that resumes after EINTR (mockit.sleep(ms, true), os.execute) is no hook's to stop.
case_resuming_sleep_sigterm() {
    start_bg "$MOCKIT_RUN" -e 'io.open("started", "w"):close() mockit.sleep(20000, true)'
    wait_for_file started || return
    ends_within 5 TERM
    expect_status 143
}

# The stop that wait() raises, from a loop of the script's own inside a callback, ends the
# script as it does from the main chunk: no report, the stop's status, and on_error never sees it.
case_stop_raised_in_a_callback() {
    cat >s.lua <<'EOF'
local m = require("mockit")
m.on_error(function(e) print("on_error got", e) end)
m.oneoff(0, function() m.stop(9) m.wait(0) m.wait(0) print("not reached") end)
EOF
    run_capture "$MOCKIT_RUN" s.lua
    expect_status 9
    expect_stdout_equals ""
    expect_stderr_empty
    cat >t.lua <<'EOF'
local m = require("mockit")
m.getit(100, function() end)
m.oneoff(0, function()
    io.open(arg[1] .. "/started", "w"):close()
    while true do m.wait() m.process_events() end
end)
EOF
    start_bg "$MOCKIT_RUN" t.lua "$CASE_DIR"
    wait_for_file started || return
    ends_within 5 TERM
    expect_status 0
    expect_stderr_empty
}

# An on_error that raises ends run() through its usual end: the host knows the loop is over, so
# SIGINT in the busy code after it interrupts at once.
case_on_error_raising_ends_run_cleanly() {
    start_bg "$MOCKIT_RUN" -e 'mockit.on_error(function() error("on_error failed") end)
mockit.oneoff(0, function() error("first") end)
print(pcall(mockit.run))
io.open("started", "w"):close()
while true do end'
    wait_for_file started || return
    ends_within 5 INT
    expect_status 130
    expect_stdout_contains "on_error failed"
    expect_stderr_contains "interrupted!"
}

# Interrupted is interrupted: a callback SIGTERM had to stop exits 143 under --keep-going too.
case_keep_going_terminated() {
    start_bg "$MOCKIT_RUN" --keep-going -e 'mockit.oneoff(1, function() io.open("started", "w"):close() while true do end end)'
    wait_for_file started || return
    ends_within 5 TERM
    expect_status 143
    expect_stderr_contains "terminated"
}

# A mockit.signal("SIGTERM") handler set after the first SIGTERM cannot keep the process alive:
# the hard stop is a signal of its own.
case_hard_stop_despite_a_late_handler() {
    start_bg "$MOCKIT_RUN" -e 'mockit.getit(100000, function() end)
io.open("started", "w"):close()
mockit.run()
mockit.signal("SIGTERM", function() end)
while true do pcall(function() for i = 1, 1e5 do end end) end'
    wait_for_file started || return
    sleep 0.2
    ends_within 5 TERM
    expect_status 143
}

# A run() nested in a callback leaves the outer loop's SIGINT graceful.
case_sigint_graceful_after_nested_run() {
    start_bg "$MOCKIT_RUN" -e 'mockit.oneoff(10, function() mockit.oneoff(1, function() mockit.stop() end) mockit.run() end)
mockit.oneoff(50, function()
    io.open("started", "w"):close()
    local t0 = mockit.hrtime()
    while mockit.hrtime() - t0 < 600 * 1000000 do end
    io.open("finished", "w"):close()
end)'
    wait_for_file started || return
    ends_within 5 INT
    expect_status 130
    [[ -e finished ]] || fail "the running callback did not finish"
    expect_stderr_not_contains "interrupted!"
}

# Once SIGTERM's grace runs, a SIGINT ends the process at once (its default action), rather than
# being one more graceful stop.
case_sigint_after_sigterm() {
    start_bg "$MOCKIT_RUN" -e 'mockit.oneoff(1, function()
    io.open("started", "w"):close()
    while true do pcall(function() for i = 1, 1e5 do end end) end
end)'
    wait_for_file started || return
    ends_within 5 TERM INT
    expect_status 130
}

# Under the stock lua5.4, Ctrl-C sets lua.c's hook and nothing else ends mockit's wait for it:
# wait() and run() let the hook run, so "interrupted!" comes at once, as with any Lua code.
case_lua54_sigint_in_wait_and_run() {
    local lua54 module_dir chunk
    lua54=$(command -v lua5.4) || { skip "no lua5.4"; return; }
    module_dir=$(cd "$MOCKIT_BIN_DIR/../lua" && pwd) || return
    if ldd "$module_dir/mockit.so" | grep -Eq 'lib(a|t)san'; then skip "a sanitized mockit.so needs its runtime preloaded"; return; fi
    for chunk in 'm.wait()' 'm.getit(100000, function() end) m.run()'; do
        rm -f started
        start_bg env LUA_CPATH="$module_dir/?.so" "$lua54" -e "local m = require('mockit') io.open('started', 'w'):close() $chunk"
        wait_for_file started || return
        sleep 0.3
        ends_within 5 INT
        expect_status 1 # lua5.4's for an error
        expect_stderr_contains "interrupted!"
    done
}

# A handled signal arriving while the process ends (the state closes, the handler goes) does
# not end it by that signal: it exits with the script's status.
case_signal_storm_at_exit() {
    cat >s.lua <<'EOF'
local got = 0
mockit.signal("SIGUSR1", function() got = got + 1 end)
io.open("ready", "w"):close()
-- Until the storm has begun (a loaded machine may take a while to start it), then some more.
for _ = 1, 400 do mockit.wait(50); mockit.process_events(); if got > 0 then break end end
for _ = 1, 3 do mockit.wait(50); mockit.process_events() end
print("got some", got > 0)
EOF
    start_bg "$MOCKIT_RUN" s.lua
    wait_for_file ready
    local sent=0
    while bg_alive && ((sent < 20000)); do
        kill -USR1 "$BG_PID" 2>/dev/null || break
        sent=$((sent + 1))
    done
    wait_bg
    expect_status 0
    expect_stdout_equals "$(printf 'got some\ttrue')"
}

run_case "SIGTERM during a callback: it finishes, exit 0" case_sigterm_during_callback
run_case "SIGINT during a callback: it finishes, exit 130" case_sigint_during_callback
run_case "SIGTERM during a callback: no queued callback starts after it" case_sigterm_nothing_else_starts
run_case "SIGINT during a callback: no queued callback starts after it" case_sigint_nothing_else_starts
run_case "SIGTERM while the loop waits: exit 0" case_sigterm_idle
run_case "SIGINT while the loop waits: exit 130" case_sigint_idle
run_case "a stuck callback: the second SIGINT interrupts it, exit 130" case_second_sigint_interrupts_stuck_callback
run_case "SIGINT in the main chunk interrupts it, exit 130" case_sigint_in_main_chunk
run_case "SIGTERM in the main chunk: it finishes, no loop, exit 0" case_sigterm_in_main_chunk
run_case "a mockit.signal SIGHUP handler runs once per signal" case_sighup_handler
run_case "a mockit.signal SIGTERM handler replaces the default" case_sigterm_handler
run_case "a mockit.signal SIGINT handler replaces the default" case_sigint_handler
run_case "SIGINT interrupts io.read() blocked on a pipe: 130" case_sigint_interrupts_blocking_read
run_case "SIGTERM interrupts io.read(); the loop does not start: 0" case_sigterm_interrupts_blocking_read
run_case "SIGINT interrupts opening a FIFO with no writer: 130" case_sigint_interrupts_fifo_open
run_case "SIGTERM interrupts a busy main chunk after a second: 143" case_sigterm_interrupts_busy_main_chunk
run_case "SIGTERM interrupts a stuck callback after a second: 143" case_sigterm_interrupts_stuck_callback
run_case "SIGTERM interrupts a stuck error report: 143" case_sigterm_interrupts_stuck_report
run_case "SIGTERM ends a loop of the script's own at its next wait(): 0" case_sigterm_ends_own_loop
run_case "SIGINT ends a loop of the script's own: 130" case_sigint_ends_own_loop
run_case "a loop of the script's own sees mockit.stopping() and finishes" case_own_loop_sees_the_stop
run_case "SIGTERM interrupts code after a SIGINT interruption was caught" case_interrupt_caught_then_sigterm
run_case "a swallowed interruption: the second SIGINT ends the process" case_swallowed_interruption_sigint_twice
run_case "a swallowed termination: the hard stop ends the process" case_swallowed_termination_hard_stop
run_case "busy code in a coroutine: SIGTERM's hard stop" case_coroutine_sigterm
run_case "busy code in a coroutine: the second SIGINT" case_coroutine_sigint_twice
run_case "mockit.sleep(ms, true) blocked: SIGTERM's hard stop" case_resuming_sleep_sigterm
run_case "the stop raised in a callback ends the script silently with its code" case_stop_raised_in_a_callback
run_case "an on_error that raises still ends run() properly" case_on_error_raising_ends_run_cleanly
run_case "--keep-going: a callback SIGTERM interrupted exits 143" case_keep_going_terminated
run_case "a SIGTERM handler set after the first SIGTERM: the hard stop still ends it" case_hard_stop_despite_a_late_handler
run_case "SIGINT stays graceful after a run() nested in a callback" case_sigint_graceful_after_nested_run
run_case "SIGINT during SIGTERM's grace ends the process at once" case_sigint_after_sigterm
run_case "lua5.4: SIGINT interrupts mockit.wait() and mockit.run()" case_lua54_sigint_in_wait_and_run
run_case "a storm of a handled signal while the process ends: exit 0, not killed" case_signal_storm_at_exit
finish
