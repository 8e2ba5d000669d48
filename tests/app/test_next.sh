#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# shellcheck source-path=SCRIPTDIR disable=SC2317
# mockit-run --next EXPR [--count N] [--tz ZONE]: a calendar schedule's next runs, from now or
# from --virtual-time's START, and each bad input's message and exit status. tests/cron compares
# thousands of schedules with croner; this is the command line around them.
#
#   tests/app/test_next.sh path/to/mockit-run
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh" "$@"

USAGE="usage: mockit-run [options] [script [args...]] (--help for more)"

case_from_virtual_start() {
    run_capture "$MOCKIT_RUN" --next '30 2 * * *' --tz Europe/Berlin \
        --virtual-time=2026-03-27T12:00:00Z --count 3
    expect_status 0
    expect_stdout_equals "$(printf '%s\n' 2026-03-28T02:30:00+01:00 2026-03-29T03:00:00+02:00 \
        2026-03-30T02:30:00+02:00)"
    expect_stderr_empty
    # ms since the epoch, as --virtual-time takes them; the default count is 5
    run_capture "$MOCKIT_RUN" --virtual-time=1767225600000 --next '@daily' --tz UTC
    expect_status 0
    expect_stdout_equals "$(printf '2026-01-%02dT00:00:00+00:00\n' 2 3 4 5 6)"
}

case_from_now() {
    local before after
    before=$(date -u +%s)
    run_capture "$MOCKIT_RUN" --next '* * * * * *' --tz UTC --count 1
    after=$(date -u +%s)
    expect_status 0
    local run
    run=$(date -u -d "$OUT" +%s) || fail "not a time: $OUT"
    ((run > before && run <= after + 1)) || fail "the next second after now is $OUT"
}

case_no_script_runs() {
    run_capture "$MOCKIT_RUN" --next '@hourly' --virtual-time --count 1 -e 'print("ran")' s.lua
    expect_status 0
    expect_stdout_equals "2000-01-01T01:00:00+00:00"
}

case_local_zone_from_tz() {
    TZ=Asia/Kolkata run_capture "$MOCKIT_RUN" --next '0 12 * * *' --virtual-time --count 1
    expect_status 0
    expect_stdout_equals "2000-01-01T12:00:00+05:30"
    TZ=:Pacific/Chatham run_capture "$MOCKIT_RUN" --next '0 12 * * *' --virtual-time --count 1
    expect_stdout_equals "2000-01-02T12:00:00+13:45"  # 00:00Z is 13:45 there: noon has passed
    # --tz wins over TZ
    TZ=Asia/Kolkata run_capture "$MOCKIT_RUN" --next '0 12 * * *' --virtual-time --count 1 --tz UTC
    expect_stdout_equals "2000-01-01T12:00:00+00:00"
    # A POSIX rule, as glibc and so os.date read it: Berlin's rule gives Berlin's runs.
    TZ=CET-1CEST,M3.5.0,M10.5.0/3 run_capture "$MOCKIT_RUN" --next '30 2 * * *' \
        --virtual-time=2026-03-27T12:00:00Z --count 3
    expect_stdout_equals "$(printf '%s\n' 2026-03-28T02:30:00+01:00 2026-03-29T03:00:00+02:00 \
        2026-03-30T02:30:00+02:00)"
    # An empty TZ is UTC for glibc, and so for the schedule, whatever the system's zone.
    TZ= run_capture "$MOCKIT_RUN" --next '0 12 * * *' --virtual-time --count 1
    expect_stdout_equals "2000-01-01T12:00:00+00:00"
}

case_never() {
    run_capture "$MOCKIT_RUN" --next '0 0 30 2 *' --virtual-time
    expect_status 0
    expect_stdout_equals ""
    expect_stderr_contains "mockit-run: --next: no run in the 400 years after 2000-01-01T00:00:00+00:00"
}

# bad_next ARGS... -- MESSAGE: mockit-run --next ARGS fails with MESSAGE and the usage line, 2.
bad_next() {
    local args=()
    while [[ "$1" != "--" ]]; do
        args+=("$1")
        shift
    done
    run_capture "$MOCKIT_RUN" --next "${args[@]}"
    expect_status 2
    expect_stdout_equals ""
    [[ "$ERR" == "$2"$'\n'"$USAGE" ]] || fail "stderr is '$ERR', not '$2' and the usage line"
}

case_bad_expressions() {
    bad_next '61 * * * *' -- "mockit-run: --next: minute: 61 is out of range 0-59"
    bad_next '0 0 * * FOO' -- "mockit-run: --next: day-of-week: unknown name 'FOO'"
    bad_next '*/0 * * * *' -- "mockit-run: --next: minute: step: */0 must be at least 1"
    bad_next '* * *' -- "mockit-run: --next: expected 5 or 6 fields, got 3"
    bad_next '5-2 * * * *' -- "mockit-run: --next: minute: range 5-2 runs backwards"
    bad_next '@reboot' -- "mockit-run: --next: unknown nickname '@reboot' (known: @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly)"
}

case_bad_zone_and_count() {
    bad_next '* * * * *' --tz Mars/Olympus -- "mockit-run: --next: unknown time zone 'Mars/Olympus'"
    # an empty --tz (--tz "$ZONE" with ZONE unset) is no zone, not the local one
    bad_next '* * * * *' --tz '' -- "mockit-run: --next: unknown time zone ''"
    # a control character is shown escaped, so the message stays one line
    bad_next $'0 0 * * \e[31m' -- "mockit-run: --next: day-of-week: unknown name '\\x1b[31m'"
    bad_next '* * * * *' --count 0 -- "mockit-run: --next: --count '0' is not a whole number from 1 to 100000"
    bad_next '* * * * *' --count x -- "mockit-run: --next: --count 'x' is not a whole number from 1 to 100000"
    run_capture "$MOCKIT_RUN" --count 3
    expect_status 2
    expect_stderr_contains "mockit-run: --count requires --next"
    run_capture "$MOCKIT_RUN" --tz UTC
    expect_status 2
    expect_stderr_contains "mockit-run: --tz requires --next"
}

run_case "--next from --virtual-time's START, in the zone's offsets" case_from_virtual_start
run_case "--next from now" case_from_now
run_case "--next runs no script and no -e" case_no_script_runs
run_case "--next without --tz: the zone TZ names, a POSIX rule, an empty TZ" case_local_zone_from_tz
run_case "--next of a schedule that never runs: nothing, a note, exit 0" case_never
run_case "--next with a bad expression: usage error naming the field, exit 2" case_bad_expressions
run_case "--next with a bad --tz or --count: usage error, exit 2" case_bad_zone_and_count
finish
