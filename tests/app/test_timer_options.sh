#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# shellcheck source-path=SCRIPTDIR disable=SC2317
# mockit.timer{...} as a service uses it: jitter reproducible with --seed, names in the log lines
# of callback errors, and the metrics file (--metrics-file): written atomically, on time, read by
# promtool, its lateness _count equal to the callbacks run; a bad path logged, not fatal.
#
#   tests/app/test_timer_options.sh path/to/mockit-run
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh" "$@"

# A simulated hour of a jittered, skipping, named timer, printing each run.
write_service_script() {
    cat >service.lua <<'EOF'
local t = mockit.timer{every = 60000, jitter = 30000, missed = "skip", name = "sync",
    fn = function(t) print(mockit.mstimestamp() - t:due(), t:missed()) end}
mockit.oneoff(3600 * 1000, function() t:destroy() end)
EOF
}

case_jitter_follows_the_seed() {
    write_service_script
    run_capture "$MOCKIT_RUN" --virtual-time --seed 7 service.lua
    expect_status 0
    local first=$OUT
    [[ $(wc -l <<<"$first") == 59 ]] || fail "not 59 runs in the hour"
    [[ $(sort -u <<<"$first" | wc -l) -ge 20 ]] || fail "the jitter barely varies"
    awk '$1 < 0 || $1 >= 30000 || $2 != 0 { bad = 1 } END { exit bad }' <<<"$first" ||
        fail "a delay outside [0, 30000) ms, or a missed run"
    run_capture "$MOCKIT_RUN" --virtual-time --seed 7 service.lua
    [[ "$OUT" == "$first" ]] || fail "two runs with --seed 7 drew different delays"
    run_capture "$MOCKIT_RUN" --virtual-time --seed 8 service.lua
    [[ "$OUT" != "$first" ]] || fail "--seed 8 drew the same delays as --seed 7"
}

case_name_in_error_lines() {
    run_capture "$MOCKIT_RUN" --keep-going --virtual-time -e '
        mockit.timer{after = 5, name = "sync", fn = function() error("db down") end}
        mockit.timer{after = 6, fn = function() error("nameless") end}'
    expect_status 0
    expect_stderr_matches "error timer 'sync': \(command line\):2: db down"
    expect_stderr_matches "error \(command line\):3: nameless"
    run_capture "$MOCKIT_RUN" -e 'mockit.timer{after = 5, name = "sync", fn = function() error("db down") end}'
    expect_status 1
    expect_stderr_contains "mockit-run: timer 'sync': (command line):1: db down"
}

# The file is there from the start, refreshed as the loop runs, and never seen half written.
case_metrics_file() {
    cat >svc.lua <<'EOF'
local n = 0
mockit.timer{every = 20, name = "tick", fn = function() n = n + 1 end}
mockit.timer{every = 50, name = 'odd "name" \\ é', fn = function() end}
mockit.getit(30, function() end)
mockit.oneoff(1500, function() mockit.stop() end)
EOF
    start_bg "$MOCKIT_RUN" --metrics-file "$CASE_DIR/m.prom" --metrics-interval 0.2 svc.lua
    wait_for_file m.prom 5
    local early
    early=$(grep '^mockit_timer_runs_total{timer="tick"}' m.prom)
    sleep 0.6
    local later
    later=$(grep '^mockit_timer_runs_total{timer="tick"}' m.prom)
    [[ "$early" != "$later" ]] || fail "the file was not rewritten while the loop ran: $later"
    wait_bg
    expect_status 0
    [[ ! -e m.prom.tmp ]] || fail "the temporary file was left behind"
    if command -v promtool >/dev/null; then
        promtool check metrics <m.prom >promtool.out 2>&1 || fail "promtool: $(cat promtool.out)"
    else
        skip "promtool is not installed (Debian package prometheus)"
    fi
    # Every callback is in the lateness histogram, once.
    local runs count inf
    runs=$(awk '/^mockit_timer_runs_total/ { s += $NF } END { print s }' m.prom)
    count=$(awk '/^mockit_callback_lateness_seconds_count/ { print $2 }' m.prom)
    inf=$(awk '/^mockit_callback_lateness_seconds_bucket\{le="\+Inf"\}/ { print $2 }' m.prom)
    # the getit's runs and the stop are callbacks too: 1500/30 = 50, and one
    [[ "$count" -ge $((runs + 50)) && "$count" -le $((runs + 51)) && "$inf" == "$count" ]] ||
        fail "lateness count $count, +Inf $inf, named runs $runs (+51 unnamed)"
    grep -q '^mockit_timer_runs_total{timer="odd \\"name\\" \\\\ é"} ' m.prom ||
        fail "the odd name is not escaped: $(grep odd m.prom)"
    grep -q '^# EOF$' m.prom || fail "no # EOF line"
    grep -Eq '^mockit_loop_idle_seconds_total [0-9.e+-]+$' m.prom || fail "no idle time"
}

case_metrics_file_unwritable() {
    run_capture "$MOCKIT_RUN" --metrics-file /nonexistent/dir/m.prom -e 'mockit.oneoff(10, function() print("ran") end)'
    expect_status 0
    expect_stdout_equals "ran"
    expect_stderr_contains "--metrics-file: cannot write /nonexistent/dir/m.prom: No such file or directory (the script goes on without it)"
    [[ $(grep -c "cannot write" <<<"$ERR") == 1 ]] || fail "the problem was logged more than once"
}

# The rename would replace whatever is at the path: a device, a FIFO or a symbolic link there (as
# --metrics-file /dev/full or /dev/stdout would be, as root) is left alone, and a link at PATH.tmp
# is not written through.
case_metrics_file_not_regular() {
    mkfifo fifo.prom
    echo keep >target.prom
    ln -s target.prom link.prom
    ln -s target.prom m.prom.tmp
    local path
    for path in fifo.prom link.prom; do
        run_capture "$MOCKIT_RUN" --metrics-file "$path" -e 'mockit.oneoff(10, function() print("ran") end)'
        expect_status 0
        expect_stdout_equals "ran"
        expect_stderr_contains "--metrics-file: cannot write $path: not a regular file (left alone) (the script goes on without it)"
    done
    [[ -p fifo.prom ]] || fail "the FIFO was replaced"
    [[ -L link.prom && $(cat target.prom) == keep ]] || fail "the symbolic link or its target was replaced"
    [[ ! -e fifo.prom.tmp && ! -e link.prom.tmp ]] || fail "a temporary file was left behind"
    run_capture "$MOCKIT_RUN" --metrics-file m.prom -e 'print(1)'
    expect_status 0
    [[ $(cat target.prom) == keep ]] || fail "the write went through the link at m.prom.tmp"
    grep -q '^# EOF$' m.prom || fail "m.prom was not written"
}

case_metrics_options_bad() {
    run_capture "$MOCKIT_RUN" --metrics-interval 5 -e 'print(1)'
    expect_status 2
    expect_stderr_contains "--metrics-interval requires --metrics-file"
    local bad
    for bad in 0 -1 x 86401 1e3 nan 0.0004 '' ' 5'; do
        run_capture "$MOCKIT_RUN" --metrics-file m.prom --metrics-interval "$bad" -e 'print(1)'
        expect_status 2
        expect_stderr_contains "mockit-run: --metrics-interval: '$bad' is not a number of seconds from 0.001 to 86400"
    done
    run_capture "$MOCKIT_RUN" --metrics-file m.prom --metrics-interval 0.5 -e 'print(1)'
    expect_status 0
    run_capture "$MOCKIT_RUN" --metrics-file '' -e 'print(1)'
    expect_status 2
    expect_stderr_contains "mockit-run: --metrics-file: the path is empty"
}

# On simulated time the file is written at the start and the end, and says simulated seconds.
case_metrics_file_virtual_time() {
    run_capture "$MOCKIT_RUN" --virtual-time --metrics-file m.prom -e '
        local t = mockit.timer{every = 1000, name = "s", fn = function() end}
        mockit.oneoff(86400 * 1000, function() t:destroy() end)'
    expect_status 0
    # the timer, armed first, runs at 86,400 s before the one-off that destroys it
    grep -q '^mockit_timer_runs_total{timer="s"} 86400$' m.prom || fail "$(grep runs m.prom)"
    grep -q '^mockit_loop_idle_seconds_total 86400$' m.prom || fail "$(grep idle m.prom)"
    grep -q '^mockit_callback_lateness_seconds_count 86401$' m.prom || fail "$(grep _count m.prom)"
}

# The README's service example, as printed there: an hour in simulated time, with a stall.
case_readme_service_example() {
    awk '/^A service says/ { f = 1 } f && /^```lua/ { p = 1; next } p && /^```/ { exit } p' \
        "$SOURCE_DIR/README.md" >example.lua
    [[ -s example.lua ]] || fail "the README's service example is not where this test looks"
    cat >service.lua <<'EOF'
local synced = {}
function sync_since(ms) synced[#synced + 1] = ms end
mockit.oneoff(20 * 60000, function() mockit.clock.suspend(20 * 60000) end)
mockit.oneoff(3600 * 1000 - 1, function()
    print(#synced, synced[1] % 300000, mockit.metrics().timers.sync.missed)
    mockit.stop()
end)
dofile("example.lua")
EOF
    run_capture "$MOCKIT_RUN" --virtual-time --metrics-file m.prom service.lua
    expect_status 0
    # 11 ticks before the stop: 5, 10, 15, then the stall from 20 to 40 minutes folds the ticks of
    # 20 to 40 into one run at 40 (due 40, missed 4), then 45, 50, 55
    expect_stdout_equals "$(printf '7\t0\t4')"
    expect_stderr_contains "00:40:00.000 warning caught up 4 ticks"
    grep -q '^mockit_timer_runs_total{timer="sync"} 7$' m.prom || fail "$(grep runs m.prom)"
}

# Recording statistics adds no wake-up: named timers with jitter, far away, and metrics read.
case_idle_wakes_never() {
    cat >s.lua <<'EOF'
mockit.timer{every = 3600 * 1000, jitter = 60000, name = "hourly", missed = "skip", fn = function() end}
mockit.timer{after = 3600 * 1000, name = "once", fn = function() end}
assert(mockit.metrics().loop.callbacks == 0)
mockit.signal("SIGUSR1", function() mockit.stop() end)
io.open("started", "w"):close()
EOF
    start_bg "$MOCKIT_RUN" s.lua
    wait_for_file started
    sleep 0.2
    local before after
    before=$(awk '/^voluntary_ctxt_switches/ {print $2}' /proc/"$BG_PID"/status)
    sleep 1
    after=$(awk '/^voluntary_ctxt_switches/ {print $2}' /proc/"$BG_PID"/status)
    signal_bg USR1
    wait_bg
    expect_status 0
    ((after - before == 0)) || fail "$((after - before)) wake-ups in 1 s while idle"
}

run_case "jitter draws from --seed: the same delays for the same seed" case_jitter_follows_the_seed
run_case "a named timer's errors name it in the log" case_name_in_error_lines
run_case "timers with options and their statistics add no wake-up while idle" case_idle_wakes_never
run_case "--metrics-file: written atomically, refreshed, promtool-clean, every callback counted" case_metrics_file
run_case "--metrics-file in a missing directory is logged once; the script runs" case_metrics_file_unwritable
run_case "--metrics-file leaves a FIFO or a symbolic link alone, and writes no link through" \
    case_metrics_file_not_regular
run_case "bad --metrics-file and --metrics-interval values are usage errors, exit 2" case_metrics_options_bad
run_case "--metrics-file on simulated time" case_metrics_file_virtual_time
run_case "the README's service example runs as shown" case_readme_service_example
finish
