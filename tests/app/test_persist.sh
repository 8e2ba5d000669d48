#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# shellcheck source-path=SCRIPTDIR disable=SC2317
# Cron timers with persist="name": the last run's due time kept in $STATE_DIRECTORY/name (or
# --state-dir), so a run missed while the service was down runs once at start, as systemd's
# Persistent=true; a missing file is a first start, a corrupt one is logged and treated as one;
# bad names and state directories are clear errors. On simulated time, each start at its own
# START, as a service stopped and started again days later.
#
#   tests/app/test_persist.sh path/to/mockit-run
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh" "$@"

# A daily 03:00 UTC job printing each run as "at due missed", in ISO times; it stops at STOP.
write_job() {
    cat >job.lua <<'EOF'
local iso = function(ms) return os.date("!%Y-%m-%dT%H:%M", ms // 1000) end
local missed = arg[2] or "once"
local t = mockit.timer{cron = "0 3 * * *", tz = "UTC", persist = "backup", missed = missed,
    fn = function(t) print(iso(mockit.mstimestamp()) .. " " .. iso(t:due()) .. " " .. t:missed()) end}
mockit.clock.advance(tonumber(arg[1]) * 3600 * 1000)
t:destroy()
EOF
}

case_missed_run_at_start() {
    write_job
    mkdir state
    # first start: no file, no catch-up; two runs in 48 hours
    run_capture "$MOCKIT_RUN" --virtual-time=2026-01-01T00:00:00Z --state-dir state job.lua 48
    expect_status 0
    expect_stdout_equals "$(printf '%s\n' "2026-01-01T03:00 2026-01-01T03:00 0" \
        "2026-01-02T03:00 2026-01-02T03:00 0")"
    [[ "$(cat state/backup)" == "1767322800000" ]] || fail "state file holds '$(cat state/backup)'"
    [[ ! -e state/backup.tmp ]] || fail "the temporary file stayed"
    # down from Jan 2, 00:00 to Jan 5, 12:00: three runs passed over, one catch-up at start
    run_capture "$MOCKIT_RUN" --virtual-time=2026-01-05T12:00:00Z --state-dir state job.lua 24
    expect_status 0
    expect_stdout_equals "$(printf '%s\n' "2026-01-05T12:00 2026-01-05T03:00 2" \
        "2026-01-06T03:00 2026-01-06T03:00 0")"
    # STATE_DIRECTORY, as systemd sets it (its first directory), works the same
    run_capture env STATE_DIRECTORY="$PWD/state:/nonexistent" "$MOCKIT_RUN" \
        --virtual-time=2026-01-06T12:00:00Z job.lua 1
    expect_status 0
    expect_stdout_equals ""
}

case_skip_counts_instead() {
    write_job
    mkdir state
    echo 1767322800000 >state/backup # Jan 2, 03:00
    run_capture "$MOCKIT_RUN" --virtual-time=2026-01-05T12:00:00Z --state-dir state job.lua 24 skip
    expect_status 0
    expect_stdout_equals "2026-01-06T03:00 2026-01-06T03:00 3"
}

case_corrupt_file() {
    write_job
    mkdir state
    printf 'yesterday\n' >state/backup
    run_capture "$MOCKIT_RUN" --virtual-time=2026-01-05T12:00:00Z --state-dir state job.lua 24
    expect_status 0
    expect_stdout_equals "2026-01-06T03:00 2026-01-06T03:00 0"
    expect_stderr_contains "persist: state/backup holds no time (a whole number of ms since the epoch); treated as never ran"
    [[ "$(cat state/backup)" == "1767668400000" ]] || fail "not rewritten: '$(cat state/backup)'"
}

case_odd_files_in_the_state_directory() {
    write_job
    mkdir state
    # a FIFO as the state file: refused at once, not waited on for a writer
    mkfifo state/backup
    run_capture "$MOCKIT_RUN" --virtual-time=2026-01-05T12:00:00Z --state-dir state job.lua 24
    expect_status 0
    expect_stdout_equals "2026-01-06T03:00 2026-01-06T03:00 0"
    expect_stderr_contains "persist: cannot read state/backup: not a regular file (treated as never ran)"
    [[ "$(cat state/backup)" == "1767668400000" ]] || fail "not replaced: '$(cat state/backup)'"
    # a symbolic link left at the temporary's name is replaced, never written through
    echo keep >victim
    ln -s "$PWD/victim" state/backup.tmp
    run_capture "$MOCKIT_RUN" --virtual-time=2026-01-07T00:00:00Z --state-dir state job.lua 24
    expect_status 0
    [[ "$(cat victim)" == "keep" ]] || fail "written through the link: '$(cat victim)'"
    [[ "$(cat state/backup)" == "1767754800000" && ! -L state/backup ]] ||
        fail "state file: '$(cat state/backup)'"
    [[ ! -e state/backup.tmp ]] || fail "the temporary file stayed"
}

case_bad_input() {
    local name message
    for name in '' 'a/b' '..' '.hidden' "$(printf 'x%.0s' {1..129})"; do
        run_capture "$MOCKIT_RUN" --virtual-time --state-dir . -e \
            "mockit.timer{cron = '@daily', persist = '$name', fn = print}"
        expect_status 1
        expect_stderr_contains "('persist' must be 1 to 128 letters, digits, '.', '_' or '-', not starting with '.')"
    done
    run_capture "$MOCKIT_RUN" --virtual-time --state-dir . -e \
        "mockit.timer{every = 10, persist = 'x', fn = print}"
    expect_stderr_contains "('persist' applies to 'cron' timers only)"
    run_capture env -u STATE_DIRECTORY "$MOCKIT_RUN" --virtual-time -e \
        "mockit.timer{cron = '@daily', persist = 'x', fn = print}"
    expect_status 1
    message="('persist' needs a state directory: \$STATE_DIRECTORY (systemd's StateDirectory=) or mockit-run --state-dir)"
    expect_stderr_contains "$message"
    run_capture "$MOCKIT_RUN" --virtual-time --state-dir /nonexistent -e \
        "mockit.timer{cron = '@daily', persist = 'x', fn = print}"
    expect_stderr_contains "('persist': cannot write the state directory '/nonexistent': No such file or directory)"
    touch afile
    run_capture "$MOCKIT_RUN" --virtual-time --state-dir afile -e \
        "mockit.timer{cron = '@daily', persist = 'x', fn = print}"
    expect_stderr_contains "('persist': cannot write the state directory 'afile': Not a directory)"
}

case_unwritable_file_logged_once() {
    mkdir state
    mkdir state/job # a directory where the file would go: every write fails
    run_capture "$MOCKIT_RUN" --virtual-time --state-dir state -e "
        local n = 0
        local t = mockit.timer{cron = '* * * * *', persist = 'job', fn = function() n = n + 1 end}
        mockit.clock.advance(5 * 60000); t:destroy(); print(n)"
    expect_status 0
    expect_stdout_equals "5"
    [[ $(grep -c 'persist: cannot write state/job: Is a directory (a run missed while down will not be caught up)' <<<"$ERR") == 1 ]] ||
        fail "not logged exactly once: $ERR"
}

case_one_timer_per_name() {
    mkdir state
    cat >twice.lua <<'EOF'
local function make() return mockit.timer{cron = "@daily", persist = "job", fn = print} end
local first = make()
print(pcall(make))
print(pcall(mockit.timer, {cron = "@hourly", persist = "job", fn = print}))
first:destroy()
local second = make()  -- the name is free again
print(second:kind())
do local third <close> = mockit.timer{cron = "@daily", persist = "other", fn = print} end
print(mockit.timer{cron = "@daily", persist = "other", fn = print}:kind())  -- __close freed it
mockit.stop(0)
EOF
    run_capture "$MOCKIT_RUN" --virtual-time --state-dir state twice.lua
    expect_status 0
    local refused="bad argument #1 to 'mockit.timer' ('persist': 'state/job' is the state file of another live timer (one each))"
    expect_stdout_equals "$(printf '%s\n' "false	twice.lua:1: ${refused/mockit./}" "false	$refused" cron cron)"
}

run_case "a run missed while down runs once at start; the file is written atomically" case_missed_run_at_start
run_case "missed='skip': runs missed while down are counted, not run" case_skip_counts_instead
run_case "a corrupt state file is logged and treated as never ran" case_corrupt_file
run_case "a FIFO as the state file, a link at the temporary's name: neither hangs nor is followed" case_odd_files_in_the_state_directory
run_case "bad persist names and state directories: clear errors" case_bad_input
run_case "a state file that cannot be written is logged once, the timer goes on" case_unwritable_file_logged_once
run_case "one live timer per persist name; destroy frees the name" case_one_timer_per_name
finish
