#!/usr/bin/env bash
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
finish
