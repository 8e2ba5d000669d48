#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# shellcheck source-path=SCRIPTDIR disable=SC2317
# mockit-run as a Type=notify service: this script plays the service manager. A listener binds
# the datagram socket named by NOTIFY_SOCKET and logs every notification with its arrival
# time; the cases check READY=1, STATUS=..., STOPPING=1, the watchdog's cadence, and that a
# stuck callback stops the pings (so systemd would restart the service).
#
#   tests/app/test_systemd.sh path/to/mockit-run path/to/mockit_notify_listener
if (($# < 2)) || [[ ! -x "$2" ]]; then
    echo "usage: $0 path/to/mockit-run path/to/mockit_notify_listener" >&2
    exit 2
fi
LISTENER=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh" "$1"

LISTENER_PID=""
NOTES=""

# listen SOCKET [SECONDS]: starts the listener on SOCKET and waits until it is bound.
listen() {
    local marker=${1#@}
    marker="${marker}.bound"
    rm -f "$marker"  # a listener before this one on the same socket left it
    "$LISTENER" "$1" "${2:-15}" >"$CASE_DIR/notes" 2>"$CASE_DIR/listener.err" &
    LISTENER_PID=$!
    wait_for_file "$marker"
}

# notes: waits for the listener to finish (it stops at STOPPING=1) and reads what it got.
notes() {
    wait "$LISTENER_PID"
    NOTES=$(<"$CASE_DIR/notes")
}

# wait_for_note TEXT: polls the listener's log until a notification equals TEXT (10 s at most).
wait_for_note() {
    local waited=0
    while ! grep -qx -- "[0-9]* $1" "$CASE_DIR/notes" 2>/dev/null && ((waited < 200)); do
        sleep 0.05
        waited=$((waited + 1))
    done
    grep -qx -- "[0-9]* $1" "$CASE_DIR/notes" || fail "no $1 within 10 s"
}

# keys: the notifications without their times, one per line.
keys() {
    printf '%s\n' "$NOTES" | cut -d' ' -f2-
}

expect_note_order() {
    local expected=$1 got
    got=$(keys | grep -v '^WATCHDOG=1$' | paste -sd' ')
    [[ "$got" == "$expected" ]] || fail "notifications: expected '$expected', got '$got'"
}

count_pings() {
    keys | grep -c '^WATCHDOG=1$'
}

# run_as_own_watchdog_pid CMD...: runs CMD with WATCHDOG_PID set to CMD's own pid, as systemd
# sets it for the main process.
own_pid_wrapper=(bash -c 'export WATCHDOG_PID=$$; exec "$@"' own-pid)

write_status_script() {
    cat >status.lua <<'LUA'
mockit.oneoff(100, function() mockit.notify("STATUS=working") end)
LUA
}

case_ready_status_stopping() {
    write_status_script
    listen "$CASE_DIR/notify.sock"
    NOTIFY_SOCKET="$CASE_DIR/notify.sock" run_capture "$MOCKIT_RUN" status.lua
    notes
    expect_status 0
    expect_note_order "READY=1 STATUS=working STOPPING=1"
    [[ $(count_pings) == 0 ]] || fail "watchdog pings without WATCHDOG_USEC"
}
run_case "a path socket gets READY=1, the script's STATUS and STOPPING=1, in order" \
    case_ready_status_stopping

case_abstract_socket() {
    write_status_script
    local name="@mockit-run-test-$$-abstract"
    listen "$name"
    NOTIFY_SOCKET="$name" run_capture "$MOCKIT_RUN" status.lua
    notes
    expect_status 0
    expect_note_order "READY=1 STATUS=working STOPPING=1"
}
run_case "an abstract socket (@name) gets the same notifications" case_abstract_socket

case_sigterm_stopping() {
    cat >idle.lua <<'LUA'
mockit.getit(60000, function() end)
LUA
    listen "$CASE_DIR/notify.sock"
    NOTIFY_SOCKET="$CASE_DIR/notify.sock" start_bg "$MOCKIT_RUN" idle.lua
    wait_for_note "READY=1" || return
    signal_bg TERM
    wait_bg
    notes
    expect_status 0
    expect_note_order "READY=1 STOPPING=1"
}
run_case "SIGTERM: READY=1, then STOPPING=1 and exit 0" case_sigterm_stopping

# systemctl reload sends SIGHUP: a service without a handler warns and goes on; a script with one
# runs it; outside systemd SIGHUP ends the process, as under lua5.4.
case_sighup_reload() {
    cat >s.lua <<'LUA'
mockit.oneoff(1500, function() print("still running") end)
LUA
    listen "$CASE_DIR/notify.sock"
    NOTIFY_SOCKET="$CASE_DIR/notify.sock" start_bg "$MOCKIT_RUN" s.lua
    wait_for_note "READY=1" || return
    signal_bg HUP
    wait_bg
    notes
    expect_status 0
    expect_stdout_equals "still running"
    expect_stderr_contains 'warning SIGHUP: nothing to reload (the script has no mockit.signal("SIGHUP") handler); going on'
    cat >h.lua <<'LUA'
mockit.signal("SIGHUP", function() print("reloaded") end)
mockit.oneoff(1500, function() print("still running") end)
LUA
    listen "$CASE_DIR/notify.sock"
    NOTIFY_SOCKET="$CASE_DIR/notify.sock" start_bg "$MOCKIT_RUN" h.lua
    wait_for_note "READY=1" || return
    signal_bg HUP
    wait_bg
    notes
    expect_status 0
    expect_stdout_equals "$(printf 'reloaded\nstill running')"
    expect_stderr_empty
    start_bg "$MOCKIT_RUN" s.lua
    sleep 0.3
    signal_bg HUP
    wait_bg
    expect_status 129
    expect_stdout_equals ""
}
run_case "SIGHUP (systemctl reload): a service without a handler goes on; outside systemd it ends" \
    case_sighup_reload

# max_gap: the longest time between consecutive pings, starting from READY=1.
max_gap() {
    printf '%s\n' "$NOTES" | awk '
        $2 == "READY=1" || $2 == "WATCHDOG=1" { if (seen) { g = $1 - last; if (g > max) max = g }
                                               last = $1; seen = 1 }
        END { print max + 0 }'
}

# run_watched SCRIPT: runs SCRIPT as systemd's main process with WATCHDOG_USEC=400 ms (pings due
# every 200 ms; systemd would act after 400 ms without one), then checks the cadence.
run_watched() {
    listen "$CASE_DIR/notify.sock"
    NOTIFY_SOCKET="$CASE_DIR/notify.sock" WATCHDOG_USEC=400000 \
        run_capture "${own_pid_wrapper[@]}" "$MOCKIT_RUN" "$1"
    notes
    expect_status 0
    expect_note_order "READY=1 STOPPING=1"
    check_cadence
}

check_cadence() {
    local pings gap
    pings=$(count_pings)
    gap=$(max_gap)
    echo "  $pings pings in 2 s, longest gap ${gap} ms (watchdog 400 ms)"
    ((pings >= 5 && pings <= 40)) || fail "expected about 10 pings in 2 s, got $pings"
    ((gap < 400)) || fail "a gap of ${gap} ms between pings would let the watchdog fire"
}

case_watchdog_busy() {
    cat >busy.lua <<'LUA'
local t0 = mockit.hrtime()
mockit.getit(20, function()
    if mockit.hrtime() - t0 >= 2000 * 1000000 then mockit.stop(0) end
end)
LUA
    run_watched busy.lua
}
run_case "watchdog: a busy loop pings at half WATCHDOG_USEC" case_watchdog_busy

case_watchdog_idle() {
    cat >idle.lua <<'LUA'
mockit.oneoff(2000, function() end)
LUA
    run_watched idle.lua
}
run_case "watchdog: an idle loop (one timer 2 s away) still pings on time" case_watchdog_idle

case_watchdog_stuck() {
    cat >stuck.lua <<'LUA'
mockit.oneoff(500, function()
    mockit.notify("STATUS=stuck")
    local t0 = mockit.hrtime()
    while mockit.hrtime() - t0 < 1500 * 1000000 do end
    mockit.notify("STATUS=unstuck")
end)
LUA
    listen "$CASE_DIR/notify.sock"
    NOTIFY_SOCKET="$CASE_DIR/notify.sock" WATCHDOG_USEC=200000 \
        run_capture "${own_pid_wrapper[@]}" "$MOCKIT_RUN" stuck.lua
    notes
    expect_status 0
    expect_note_order "READY=1 STATUS=stuck STATUS=unstuck STOPPING=1"
    local during before
    during=$(keys | sed -n '/^STATUS=stuck$/,/^STATUS=unstuck$/p' | grep -c '^WATCHDOG=1$')
    before=$(keys | sed '/^STATUS=stuck$/q' | grep -c '^WATCHDOG=1$')
    echo "  $before pings before the stuck callback, $during while it ran"
    ((before >= 2)) || fail "expected pings before the callback got stuck, got $before"
    ((during == 0)) || fail "$during pings while a callback was stuck for 1.5 s"
}
run_case "watchdog: a callback stuck longer than the watchdog stops the pings" \
    case_watchdog_stuck

# A WATCHDOG_PID naming another process (a parent that passed its environment down) or a
# WATCHDOG_USEC that is not a positive number turns the watchdog off, as sd_watchdog_enabled.
case_watchdog_not_ours() {
    cat >short.lua <<'LUA'
mockit.oneoff(600, function() end)
LUA
    local pid_value usec_value
    for pair in "$$:200000" "1:200000" "x:200000" ":abc" ":0" ":-5" ":200000us"; do
        pid_value=${pair%%:*}
        usec_value=${pair#*:}
        listen "$CASE_DIR/notify.sock"
        if [[ -n "$pid_value" ]]; then
            NOTIFY_SOCKET="$CASE_DIR/notify.sock" WATCHDOG_PID=$pid_value \
                WATCHDOG_USEC=$usec_value run_capture "$MOCKIT_RUN" short.lua
        else
            NOTIFY_SOCKET="$CASE_DIR/notify.sock" WATCHDOG_USEC=$usec_value \
                run_capture "$MOCKIT_RUN" short.lua
        fi
        notes
        expect_status 0
        expect_note_order "READY=1 STOPPING=1"
        [[ $(count_pings) == 0 ]] ||
            fail "WATCHDOG_PID='$pid_value' WATCHDOG_USEC='$usec_value' still pinged"
    done
}
run_case "watchdog: off for another process's WATCHDOG_PID or a bad WATCHDOG_USEC" \
    case_watchdog_not_ours

case_no_listener() {
    write_status_script
    for socket in "$CASE_DIR/nobody.sock" "@mockit-run-test-$$-nobody" "relative.sock" "@"; do
        NOTIFY_SOCKET=$socket WATCHDOG_USEC=100000 run_capture "$MOCKIT_RUN" status.lua
        expect_status 0
        expect_stderr_empty
    done
}
run_case "a NOTIFY_SOCKET nobody listens on, or not a socket name, changes nothing" \
    case_no_listener

case_no_loop() {
    write_status_script
    listen "$CASE_DIR/notify.sock" 3
    NOTIFY_SOCKET="$CASE_DIR/notify.sock" run_capture "$MOCKIT_RUN" --no-loop status.lua
    notes
    expect_status 0
    expect_note_order "STOPPING=1"
}
run_case "--no-loop: no READY=1 (the script sends it if it wants), STOPPING=1 at exit" \
    case_no_loop

finish
