#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# shellcheck source-path=SCRIPTDIR disable=SC2317
# Logging: mockit.log.* through the host's logger on stderr, --log-level and
# MOCKIT_LOG_LEVEL, and --log-format text/journal/auto (journal: "<N>" syslog priorities,
# no timestamp).
#
#   tests/app/test_logging.sh path/to/mockit-run
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh" "$@"

# One line at each level, then one with format arguments.
LOG_ALL='mockit.log.trace("T line") mockit.log.debug("D line") mockit.log.info("I line")
mockit.log.warn("W line") mockit.log.error("E line")'

TIMESTAMP='[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}'

case_default_is_info() {
    run_capture "$MOCKIT_RUN" -e "$LOG_ALL"
    expect_status 0
    expect_stdout_equals ""
    expect_stderr_not_contains "T line"
    expect_stderr_not_contains "D line"
    expect_stderr_contains "I line"
    expect_stderr_contains "W line"
    expect_stderr_contains "E line"
}

case_level_debug() {
    run_capture "$MOCKIT_RUN" --log-level debug -e "$LOG_ALL"
    expect_status 0
    expect_stderr_not_contains "T line"
    expect_stderr_matches "^$TIMESTAMP.* debug D line$"
    expect_stderr_contains "I line"
    run_capture "$MOCKIT_RUN" --log-level trace -e "$LOG_ALL"
    expect_stderr_matches " trace T line$"
}

case_level_warn_hides_info() {
    run_capture "$MOCKIT_RUN" --log-level warn -e "$LOG_ALL"
    expect_status 0
    expect_stderr_not_contains "D line"
    expect_stderr_not_contains "I line"
    expect_stderr_contains "W line"
    expect_stderr_contains "E line"
}

case_level_error_and_off() {
    run_capture "$MOCKIT_RUN" --log-level error -e "$LOG_ALL"
    expect_status 0
    expect_stderr_not_contains "W line"
    expect_stderr_contains "E line"
    run_capture "$MOCKIT_RUN" --log-level off -e "$LOG_ALL"
    expect_status 0
    expect_stderr_empty
}

case_env_level() {
    run_capture env MOCKIT_LOG_LEVEL=debug "$MOCKIT_RUN" -e "$LOG_ALL"
    expect_status 0
    expect_stderr_contains "D line"
    run_capture env MOCKIT_LOG_LEVEL=warn "$MOCKIT_RUN" -e "$LOG_ALL"
    expect_status 0
    expect_stderr_not_contains "I line"
    expect_stderr_contains "W line"
    # The option wins over the environment.
    run_capture env MOCKIT_LOG_LEVEL=warn "$MOCKIT_RUN" --log-level debug -e "$LOG_ALL"
    expect_status 0
    expect_stderr_contains "D line"
}

case_invalid_level() {
    run_capture "$MOCKIT_RUN" --log-level loud -e 'print("ran")'
    expect_status 2
    expect_stderr_contains "loud"
    expect_stdout_equals ""
    run_capture env MOCKIT_LOG_LEVEL=loud "$MOCKIT_RUN" -e 'print("ran")'
    expect_status 2
    expect_stderr_contains "MOCKIT_LOG_LEVEL"
    expect_stdout_equals ""
}

case_invalid_format() {
    run_capture "$MOCKIT_RUN" --log-format xml -e 'print("ran")'
    expect_status 2
    expect_stdout_equals ""
}

case_format_arguments() {
    run_capture "$MOCKIT_RUN" -e 'mockit.log.info("%s=%d (%5.1f%%)", "answer", 42, 99.5)'
    expect_status 0
    expect_stderr_matches " info answer=42 \( 99\.5%\)$"
}

# Journal: the syslog priority starts the line, and there is no timestamp.
case_journal_format() {
    run_capture "$MOCKIT_RUN" --log-format journal --log-level debug -e "$LOG_ALL"
    expect_status 0
    expect_stderr_matches '^<7>D line$'
    expect_stderr_matches '^<6>I line$'
    expect_stderr_matches '^<4>W line$'
    expect_stderr_matches '^<3>E line$'
    expect_stderr_not_matches "$TIMESTAMP"
}

case_text_format() {
    run_capture "$MOCKIT_RUN" --log-format text -e "$LOG_ALL"
    expect_status 0
    expect_stderr_matches "^$TIMESTAMP\.[0-9]{3} info I line$"
    expect_stderr_matches "^$TIMESTAMP\.[0-9]{3} (warn|warning) W line$"
    expect_stderr_matches "^$TIMESTAMP\.[0-9]{3} (error|err) E line$"
    expect_stderr_not_matches '^<[0-9]>'
}

# auto: journal when $JOURNAL_STREAM names stderr's device and inode, text otherwise.
case_auto_format() {
    : >"$CASE_DIR/.err" # run_capture truncates this file: the inode stays
    local stream
    stream=$(stat -c '%d:%i' "$CASE_DIR/.err")
    run_capture env JOURNAL_STREAM="$stream" "$MOCKIT_RUN" -e 'mockit.log.warn("W line")'
    expect_status 0
    expect_stderr_matches '^<4>W line$'
    : >other
    stream=$(stat -c '%d:%i' other)
    run_capture env JOURNAL_STREAM="$stream" "$MOCKIT_RUN" -e 'mockit.log.warn("W line")'
    expect_stderr_matches "^$TIMESTAMP.* W line$"
    # --log-format text wins even on the journal.
    stream=$(stat -c '%d:%i' "$CASE_DIR/.err")
    run_capture env JOURNAL_STREAM="$stream" "$MOCKIT_RUN" --log-format text -e 'mockit.log.warn("W line")'
    expect_stderr_matches "^$TIMESTAMP.* W line$"
}

# --keep-going logs callback errors at error level: <3> on the journal.
case_keep_going_error_level_journal() {
    run_capture "$MOCKIT_RUN" --keep-going --log-format journal \
        -e 'mockit.oneoff(10, function() error("cb failed") end)'
    expect_status 0
    expect_stderr_matches '^<3>\(command line\):1: cb failed$'
}

# Every line of a multi-line entry (a traceback) carries the priority: the journal takes each
# line of stderr as an entry of its own.
case_journal_multiline() {
    run_capture "$MOCKIT_RUN" --keep-going --log-format journal \
        -e 'mockit.oneoff(10, function() error("cb failed") end)'
    expect_status 0
    local bad
    bad=$(printf '%s\n' "$ERR" | grep -cv '^<[0-9]>' || true)
    [[ "$bad" == 0 ]] || fail "$bad journal lines without a priority prefix: $ERR"
    expect_stderr_matches '^<3>stack traceback:$'
}

# An empty MOCKIT_LOG_LEVEL counts as unset; the variable takes the option's names only.
case_env_level_names() {
    run_capture env MOCKIT_LOG_LEVEL= "$MOCKIT_RUN" -e 'mockit.log.info("shown")'
    expect_status 0
    expect_stderr_contains "shown"
    run_capture env MOCKIT_LOG_LEVEL=warning "$MOCKIT_RUN" -e ''
    expect_status 2
    expect_stderr_contains "MOCKIT_LOG_LEVEL"
}

# A line with a NUL in it is written whole, through the host's logger and through the module's
# default one under the stock lua5.4 (whose printf("%.*s") stopped at the NUL).
case_nul_in_a_line() {
    LAST_CMD="mockit-run -e 'mockit.log.info(\"a\\0b %d\", 3)' | od -c"
    OUT=$("$MOCKIT_RUN" --log-format journal -e 'mockit.log.info("a\0b %d", 3)' 2>&1 | od -An -c | tr -s ' \n' ' ')
    [[ "$OUT" == *"a \\0 b 3"* ]] || fail "the line was cut at its NUL: $OUT"
    local lua54 module_dir
    lua54=$(command -v lua5.4) || { skip "no lua5.4"; return; }
    module_dir=$(cd "$MOCKIT_BIN_DIR/../lua" && pwd) || return
    if ldd "$module_dir/mockit.so" | grep -Eq 'lib(a|t)san'; then skip "a sanitized mockit.so needs its runtime preloaded"; return; fi
    LAST_CMD="lua5.4 -e 'require(\"mockit\").log.info(\"a\\0b\")' | od -c"
    OUT=$(LUA_CPATH="$module_dir/?.so" "$lua54" -e 'require("mockit").log.info("a\0b %d", 3)' 2>&1 | od -An -c | tr -s ' \n' ' ')
    [[ "$OUT" == *"a \\0 b 3"* ]] || fail "the module's default log cut the line at its NUL: $OUT"
}

run_case "default level info: debug and trace hidden" case_default_is_info
run_case "--log-level debug and trace show more" case_level_debug
run_case "--log-level warn hides info" case_level_warn_hides_info
run_case "--log-level error and off" case_level_error_and_off
run_case "MOCKIT_LOG_LEVEL sets the level; --log-level wins" case_env_level
run_case "an unknown level (option or environment): exit 2" case_invalid_level
run_case "an unknown --log-format: exit 2" case_invalid_format
run_case "mockit.log.* formats like string.format" case_format_arguments
run_case "--log-format journal: <7>/<6>/<4>/<3>, no timestamp" case_journal_format
run_case "--log-format text: timestamp and level name" case_text_format
run_case "--log-format auto follows JOURNAL_STREAM" case_auto_format
run_case "--keep-going errors are <3> on the journal" case_keep_going_error_level_journal
run_case "journal: every line of a traceback has its priority" case_journal_multiline
run_case "MOCKIT_LOG_LEVEL: empty is unset, option names only" case_env_level_names
run_case "a line with a NUL is written whole" case_nul_in_a_line
finish
