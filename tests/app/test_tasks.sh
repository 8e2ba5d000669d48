#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# shellcheck source-path=SCRIPTDIR disable=SC2317
# Tasks under mockit-run: the main chunk pauses as a task does, signals and SIGTERM reach paused
# tasks as documented, and errors in tasks end the run as a callback's do.
#
#   tests/app/test_tasks.sh path/to/mockit-run
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh" "$@"

case_main_chunk_pauses() {
    cat >s.lua <<'EOF'
local t0 = mockit.mstimestamp()
mockit.getit(10, function() io.write("tick ") end)
for attempt = 1, 3 do
    mockit.pause(25)
    print(("attempt %d at %d"):format(attempt, mockit.mstimestamp() - t0))
end
mockit.stop()
EOF
    run_capture "$MOCKIT_RUN" --virtual-time s.lua
    expect_status 0
    expect_stdout_equals "tick tick attempt 1 at 25
tick tick tick attempt 2 at 50
tick tick attempt 3 at 75"
    # The same in real time, with generous bounds: ticks run while the main chunk pauses.
    run_capture "$MOCKIT_RUN" s.lua
    expect_status 0
    [[ $(grep -o tick <<<"$OUT" | wc -l) -ge 3 ]] || fail "no ticks while the main chunk paused"
    # -e chunks are the main chunk's kin.
    run_capture "$MOCKIT_RUN" --virtual-time -e 'mockit.pause(1000) print(mockit.mstimestamp())'
    expect_stdout_equals "946684801000"
}

case_stop_during_main_pause() {
    run_capture "$MOCKIT_RUN" --virtual-time -e 'mockit.oneoff(10, mockit.stop, 4)
        local c <close> = setmetatable({}, {__close = function() print("closed") end})
        mockit.pause(100) print("never")'
    expect_status 4
    expect_stdout_equals "closed"
    expect_stderr_empty
}

# SIGTERM stops the loop with paused tasks left paused; their <close> variables run as the state
# closes.
case_sigterm_leaves_tasks_paused() {
    cat >s.lua <<'EOF'
mockit.spawn(function()
    local c <close> = setmetatable({}, {__close = function() print("task closed") end})
    io.open("ready", "w"):close()
    mockit.pause(60000)
    print("never")
end)
EOF
    start_bg "$MOCKIT_RUN" s.lua
    wait_for_file ready
    signal_bg TERM
    wait_bg
    expect_status 0
    expect_stdout_equals "task closed"
}

case_await_signal() {
    cat >s.lua <<'EOF'
io.open("ready", "w"):close()
print("got", mockit.await_signal("SIGUSR1", 20000))
print("then", mockit.await_signal("SIGUSR1", 10))
EOF
    start_bg "$MOCKIT_RUN" s.lua
    wait_for_file ready
    sleep 0.2
    signal_bg USR1
    wait_bg
    expect_status 0
    expect_stdout_equals "got	true
then	nil	timeout"
}

case_stuck_task_in_virtual_time() {
    run_capture "$MOCKIT_RUN" --virtual-time -e 'mockit.spawn(mockit.await_signal, "SIGHUP")'
    expect_status 3
    expect_stderr_contains "mockit-run: stuck in simulated time: wait() has no timer to wait for and no timeout; tasks wait for SIGHUP"
}

case_errors_in_tasks() {
    run_capture "$MOCKIT_RUN" -e 'mockit.spawn(function() mockit.pause(5) error("in a task") end)'
    expect_status 1
    expect_stderr_contains "in a task"
    expect_stderr_contains "stack traceback:"
    run_capture "$MOCKIT_RUN" --keep-going -e 'mockit.spawn(function() mockit.pause(5) error("in a task") end)
        mockit.oneoff(20, function() print("went on") end)'
    expect_status 0
    expect_stdout_equals "went on"
    expect_stderr_contains "in a task"
}

# The second SIGINT interrupts Lua code stuck in a task that has paused: the host's hook reaches
# the task's coroutine, not only the main thread.
case_sigint_interrupts_stuck_task() {
    cat >s.lua <<'EOF'
mockit.spawn(function()
    mockit.pause(10)
    io.open("ready", "w"):close()
    while true do end
end)
EOF
    start_bg "$MOCKIT_RUN" s.lua
    wait_for_file ready
    signal_bg INT
    sleep 0.2
    signal_bg INT
    wait_bg 10
    expect_status 130
    expect_stderr_contains "interrupted!"
}

# A paused task's <close> handler, run as the state closes, may run the loop: neither that task
# (its wake-up due) nor another paused one resumes there.
case_close_handler_runs_loop_at_state_close() {
    cat >s.lua <<'EOF'
for i = 1, 2 do
    mockit.spawn(function()
        local c <close> = setmetatable({}, {__close = function()
            mockit.clock.advance(1000)
            print("closing " .. i, mockit.process_events())
        end})
        mockit.pause(100)
        print("resumed " .. i)
    end):unref()
end
EOF
    run_capture "$MOCKIT_RUN" --virtual-time s.lua
    expect_status 0
    # They close in no set order.
    expect_stdout_contains "closing 1	0"
    expect_stdout_contains "closing 2	0"
    expect_stdout_not_contains "resumed"
    expect_stderr_empty
}

# on_error runs on the main thread: inside the main chunk's pause it cannot pause too (that would
# take the main chunk's wake-up, and its pause would never end).
case_on_error_cannot_pause_inside_main_pause() {
    run_capture "$MOCKIT_RUN" --virtual-time -e 'mockit.on_error(function() mockit.pause(5) end)
        mockit.oneoff(10, error, "boom")
        mockit.pause(100) print("never")'
    expect_status 1
    expect_stderr_contains "pause: the main chunk is paused already"
    expect_stdout_equals ""
}

run_case "the main chunk pauses as a task: other timers run meanwhile" case_main_chunk_pauses
run_case "mockit.stop() while the main chunk pauses: it ends there, with the stop's code" case_stop_during_main_pause
run_case "SIGTERM leaves paused tasks paused; their <close> runs as the state closes" case_sigterm_leaves_tasks_paused
run_case "await_signal in the main chunk, and its timeout" case_await_signal
run_case "a task waiting for a signal, nothing else, in simulated time: exit 3" case_stuck_task_in_virtual_time
run_case "an error in a task: exit 1, or logged with --keep-going" case_errors_in_tasks
run_case "the second SIGINT interrupts a task stuck after a pause: exit 130" case_sigint_interrupts_stuck_task
run_case "a <close> handler running the loop as the state closes resumes no paused task" case_close_handler_runs_loop_at_state_close
run_case "on_error cannot pause while the main chunk pauses: an error, not a hang" case_on_error_cannot_pause_inside_main_pause
finish
