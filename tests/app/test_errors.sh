#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# shellcheck source-path=SCRIPTDIR disable=SC2317
# Errors: in the main chunk, in -e, in callbacks (exit 1, or logged with --keep-going),
# mockit.on_error, error objects that are not strings, and the table of bad input in
# packaging/doc/reference.md.
#
#   tests/app/test_errors.sh path/to/mockit-run
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh" "$@"

# stderr holds "mockit-run: <message>" and a traceback.
expect_reported() {
    expect_stderr_contains "mockit-run: $1"
    expect_stderr_contains "stack traceback:"
}

case_main_chunk_error() {
    printf 'print("before")\nerror("boom in main")\nprint("after")\n' >s.lua
    run_capture "$MOCKIT_RUN" s.lua
    expect_status 1
    expect_reported "s.lua:2: boom in main"
    expect_stdout_equals "before"
}

# Timers armed before the error do not run: the process ends with the main chunk.
case_main_chunk_error_skips_loop() {
    printf 'mockit.oneoff(10, print, "timer")\nlocal x = nil + 1\n' >s.lua
    run_capture "$MOCKIT_RUN" s.lua
    expect_status 1
    expect_reported "s.lua:2: attempt to perform arithmetic on a nil value"
    expect_stdout_not_contains "timer"
}

case_main_chunk_error_with_keep_going() {
    printf 'error("boom in main")\n' >s.lua
    run_capture "$MOCKIT_RUN" --keep-going s.lua
    expect_status 1
    expect_reported "s.lua:1: boom in main"
}

case_syntax_error() {
    printf 'print("x"\n' >s.lua
    run_capture "$MOCKIT_RUN" s.lua
    expect_status 1
    expect_stderr_contains "mockit-run: s.lua:"
    expect_stdout_equals ""
}

case_e_error() {
    printf 'print("script")\n' >s.lua
    run_capture "$MOCKIT_RUN" -e 'error("boom in -e")' s.lua
    expect_status 1
    expect_reported "(command line):1: boom in -e"
    expect_stdout_equals ""
    run_capture "$MOCKIT_RUN" -e 'this is not lua'
    expect_status 1
    expect_stderr_contains "mockit-run: (command line):1:"
}

# Without --keep-going a callback error ends the process: exit 1, message and traceback,
# and no other callback runs.
case_callback_error() {
    cat >s.lua <<'EOF'
mockit.getit(10, function() io.write("tick\n") end)
mockit.oneoff(30, function()
    print("callback starts")
    error("boom in callback")
end)
mockit.oneoff(1000, function() print("must not run") end)
EOF
    run_capture "$MOCKIT_RUN" s.lua
    expect_status 1
    expect_reported "s.lua:4: boom in callback"
    expect_stderr_contains "in function <s.lua:2>"
    expect_stdout_contains "callback starts"
    expect_stdout_not_contains "must not run"
}

# With --keep-going the error is logged at error level and the loop goes on: the same
# interval keeps ticking and later timers run.
case_callback_error_keep_going() {
    cat >s.lua <<'EOF'
local n = 0
mockit.getit(20, function()
    n = n + 1
    if n <= 2 then error("boom " .. n) end
    print("tick", n)
    if n == 4 then mockit.stop() end
end)
EOF
    run_capture "$MOCKIT_RUN" --keep-going s.lua
    expect_status 0
    expect_stdout_equals "$(printf 'tick\t3\ntick\t4')"
    expect_stderr_matches '^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:.]+ error s\.lua:4: boom 1$'
    expect_stderr_matches ' error s\.lua:4: boom 2$'
    expect_stderr_contains "stack traceback:"
    expect_stderr_not_contains "mockit-run: s.lua"
}

case_callback_error_keep_going_exit_status() {
    run_capture "$MOCKIT_RUN" --keep-going -e 'mockit.oneoff(10, function() error("x") end)' \
        -e 'mockit.oneoff(50, function() print("later") end)'
    expect_status 0
    expect_stdout_equals "later"
    expect_stderr_contains "error (command line):1: x"
}

# mockit.on_error takes the errors; the loop goes on; nil restores the default.
case_on_error() {
    cat >s.lua <<'EOF'
mockit.on_error(function(err, traceback)
    print("handled: " .. tostring(err), type(traceback))
end)
mockit.oneoff(10, function() error("first", 0) end)
mockit.oneoff(40, function()
    mockit.on_error(nil)
    error("second", 0)
end)
mockit.oneoff(1000, function() print("must not run") end)
EOF
    run_capture "$MOCKIT_RUN" s.lua
    expect_status 1
    expect_stdout_equals "$(printf 'handled: first\tstring')"
    expect_stderr_contains "mockit-run: second"
}

case_error_objects() {
    run_capture "$MOCKIT_RUN" -e 'mockit.oneoff(10, function() error({}) end)'
    expect_status 1
    expect_stderr_contains "mockit-run: (error object is a table value)"
    run_capture "$MOCKIT_RUN" -e 'mockit.oneoff(10, function() error() end)'
    expect_status 1
    expect_stderr_contains "mockit-run: (error object is a nil value)"
    run_capture "$MOCKIT_RUN" -e \
        'mockit.oneoff(10, function() error(setmetatable({}, {__tostring = function() return "custom" end})) end)'
    expect_status 1
    expect_stderr_contains "mockit-run: custom"
    run_capture "$MOCKIT_RUN" -e 'error(setmetatable({}, {__tostring = function() return "main custom" end}))'
    expect_status 1
    expect_stderr_contains "mockit-run: main custom"
}

case_bad_argument() {
    run_capture "$MOCKIT_RUN" -e 'mockit.oneoff(-1, print)'
    expect_status 1
    expect_stderr_contains "bad argument #1 to 'oneoff'"
    run_capture "$MOCKIT_RUN" -e 'mockit.getit(10, 42)'
    expect_status 1
    expect_stderr_contains "bad argument #2 to 'getit'"
    run_capture "$MOCKIT_RUN" -e 'mockit.signal("SIGNOPE", print)'
    expect_status 1
    expect_stderr_contains "bad argument #1 to 'signal'"
}

# The table "Bad input and what it gets" of packaging/doc/reference.md, command-line half: one
# case per row, each asserting the row's first stderr line exactly and its exit status.

USAGE_LINE="usage: mockit-run [options] [script [args...]] (--help for more)"

# expect_stderr_line N TEXT: line N of stderr is exactly TEXT.
expect_stderr_line() {
    local line
    line=$(sed -n "$1p" <<<"$ERR")
    [[ "$line" == "$2" ]] || fail "stderr line $1 is '$line', expected '$2'"
}

case_table_unknown_option() {
    run_capture "$MOCKIT_RUN" --bogus s.lua
    expect_status 2
    expect_stderr_line 1 "mockit-run: unrecognized option '--bogus'"
    expect_stderr_line 2 "$USAGE_LINE"
}

case_table_missing_option_value() {
    run_capture "$MOCKIT_RUN" -e
    expect_status 2
    expect_stderr_line 1 "mockit-run: '-e' needs argument"
    expect_stderr_line 2 "$USAGE_LINE"
    run_capture "$MOCKIT_RUN" -l
    expect_status 2
    expect_stderr_line 1 "mockit-run: '-l' needs argument"
    # As lua5.4: -i, -v, -E and -W stand alone.
    local option
    for option in -iv -vv -Ex -Wi; do
        run_capture "$MOCKIT_RUN" "$option"
        expect_status 2
        expect_stderr_line 1 "mockit-run: unrecognized option '$option'"
        expect_stderr_line 2 "$USAGE_LINE"
    done
}

case_table_bad_option_value() {
    run_capture "$MOCKIT_RUN" --log-level loud -e 'print("ran")'
    expect_status 2
    expect_stderr_line 1 "mockit-run: --log-level: loud not in {trace,debug,info,warn,error,off}"
    expect_stdout_equals ""
    run_capture env MOCKIT_LOG_LEVEL=loud "$MOCKIT_RUN" -e 'print("ran")'
    expect_status 2
    expect_stderr_line 1 "mockit-run: unknown log level in MOCKIT_LOG_LEVEL"
}

case_table_missing_script() {
    run_capture "$MOCKIT_RUN" nope.lua
    expect_status 2
    expect_stderr_line 1 "mockit-run: cannot open nope.lua: No such file or directory"
}

# Root reads any file whatever its mode, so as root the locked file is read as nobody.
case_table_unreadable_script() {
    printf 'print("read")\n' >locked.lua
    chmod 000 locked.lua
    if ((EUID == 0)); then
        if ! command -v setpriv >/dev/null; then
            skip "running as root and setpriv(1) from util-linux is missing"
            return
        fi
        chmod o+x "$TEST_ROOT" "$CASE_DIR"
        run_capture setpriv --reuid=nobody --regid=nogroup --clear-groups "$MOCKIT_RUN" locked.lua
    else
        run_capture "$MOCKIT_RUN" locked.lua
    fi
    expect_status 2
    expect_stderr_line 1 "mockit-run: cannot open locked.lua: Permission denied"
    expect_stdout_equals ""
    # A file that opens but cannot be read: this process's own memory at address 0.
    run_capture "$MOCKIT_RUN" /proc/self/mem
    expect_status 2
    expect_stderr_line 1 "mockit-run: cannot read /proc/self/mem: Input/output error"
}

case_table_directory() {
    mkdir adir
    run_capture "$MOCKIT_RUN" adir
    expect_status 2
    expect_stderr_line 1 "mockit-run: cannot read adir: Is a directory"
}

# A binary that is not Lua is read as source: a syntax error on its first byte.
case_table_binary_file() {
    cp "$(type -P true)" prog
    run_capture "$MOCKIT_RUN" prog
    expect_status 1
    expect_stderr_line 1 "mockit-run: prog:1: unexpected symbol near '<\\127>'"
    expect_stdout_equals ""
}

# A file that starts like a precompiled chunk is loaded as one, as lua5.4 does, and checked.
case_table_corrupt_precompiled_chunk() {
    printf '\033Lua' >chunk.luac
    run_capture "$MOCKIT_RUN" chunk.luac
    expect_status 1
    expect_stderr_line 1 "mockit-run: chunk.luac: bad binary format (truncated chunk)"
}

case_table_syntax_error() {
    printf 'print("x"\n' >s.lua
    run_capture "$MOCKIT_RUN" s.lua
    expect_status 1
    expect_stderr_line 1 "mockit-run: s.lua:2: ')' expected (to close '(' at line 1) near <eof>"
    expect_stdout_equals ""
}

case_table_missing_module() {
    run_capture "$MOCKIT_RUN" -l nosuch -e 'print("ran")'
    expect_status 1
    expect_stderr_line 1 "mockit-run: module 'nosuch' not found:"
    expect_stderr_contains "no file './nosuch.lua'"
    expect_stderr_contains "stack traceback:"
    expect_stdout_equals ""
}

case_table_runtime_error() {
    printf 'error("boom")\n' >s.lua
    run_capture "$MOCKIT_RUN" s.lua
    expect_status 1
    expect_stderr_line 1 "mockit-run: s.lua:1: boom"
    expect_stderr_line 2 "stack traceback:"
}

# A bad argument to the API is a runtime error like any other: the row of the API table.
case_table_bad_argument() {
    printf 'mockit.getit(-1, print)\n' >s.lua
    run_capture "$MOCKIT_RUN" s.lua
    expect_status 1
    expect_stderr_line 1 \
        "mockit-run: s.lua:1: bad argument #1 to 'getit' (delay must be an integer from 0 to 1099511627776 ms)"
}

# A sanitizer's runtime reserves terabytes of address space and starts threads of its own:
# `ulimit -v` and `ulimit -u` cannot apply to it.
sanitized() {
    ldd "$MOCKIT_RUN" 2>/dev/null | grep -Eq 'lib(a|t)san'
}

# With stdin or stdout closed, the library's own descriptors stay off 0-2: io.read() fails as
# under lua5.4 ("Bad file descriptor") rather than read the library's eventfd.
case_closed_stdin_and_stdout() {
    LAST_CMD="mockit-run <&- (io.read in a callback)"
    OUT=$("$MOCKIT_RUN" -e 'mockit.oneoff(1, function() print(io.read()) end)' <&- 2>"$CASE_DIR/.err")
    STATUS=$?
    ERR=$(<"$CASE_DIR/.err")
    expect_status 0
    expect_stdout_contains "Bad file descriptor"
    LAST_CMD="mockit-run >&- (io.stdout:write in a callback)"
    "$MOCKIT_RUN" -e 'mockit.oneoff(1, function() io.stderr:write(tostring(select(2, io.stdout:write("x\n"):flush())), "\n") end)' >&- 2>"$CASE_DIR/.err"
    STATUS=$?
    ERR=$(<"$CASE_DIR/.err")
    expect_status 0
    expect_stderr_contains "Bad file descriptor"
}

# Out of memory is Lua's "not enough memory", whether arming or in a callback; never
# std::bad_alloc, and never a report without its message.
case_out_of_memory() {
    if sanitized; then skip "ulimit -v does not apply under a sanitizer"; return; fi
    run_with_300_mb 'local t = {} for i = 1, 1e9 do t[i] = mockit.oneoff(1e6, function() end) end'
    expect_status 1
    expect_stderr_contains "not enough memory"
    expect_stderr_not_contains "bad_alloc"
    run_with_300_mb 'mockit.oneoff(1, function() local t = {} for i = 1, 1e9 do t[i] = ("x"):rep(100) .. i end end)'
    expect_status 1
    expect_stderr_contains "mockit-run: not enough memory"
    expect_stderr_not_contains "(no traceback)"
}

# run_with_300_mb CHUNK: mockit-run -e CHUNK under `ulimit -v 300000`; sets STATUS and ERR.
run_with_300_mb() {
    LAST_CMD="ulimit -v 300000; mockit-run -e $(quote "$1")"
    ERR=$( (ulimit -v 300000; "$MOCKIT_RUN" -e "$1") 2>&1 >/dev/null)
    STATUS=$?
}

# A thread the loop cannot start (ulimit -u, as an unprivileged user: root is exempt) is named.
case_thread_limit() {
    if ! command -v setpriv >/dev/null || ((EUID != 0)); then skip "needs root and setpriv"; return; fi
    # LeakSanitizer's exit-time check needs a thread of its own, which the limit forbids.
    if sanitized; then skip "a sanitizer needs threads of its own"; return; fi
    local chunk='mockit.oneoff(1, function() print("ran") end)'
    LAST_CMD="ulimit -u 1; setpriv --reuid=nobody mockit-run -e '$chunk'"
    OUT=$( (ulimit -u 1; setpriv --reuid=65534 --regid=65534 --clear-groups "$MOCKIT_RUN" -e "$chunk") 2>"$CASE_DIR/err")
    STATUS=$?
    ERR=$(<"$CASE_DIR/err")
    if [[ "$ERR" == *"Permission denied"* ]]; then skip "the build is not readable by nobody"; return; fi
    # The loop runs on the script's own thread: no thread to start, none to fail.
    expect_status 0
    expect_stdout_equals "ran"
    expect_stderr_empty
}

# With one descriptor to spare the script still opens: the loop takes its eventfd when it first
# waits, after the script is read and closed.
# with_four_fds CMD...: runs CMD with stdin, stdout and stderr open and one descriptor to spare:
# the ones the test runner left open go first.
with_four_fds() {
    (
        for fd in /proc/"$BASHPID"/fd/*; do
            fd=${fd##*/}
            if ((fd > 2)); then eval "exec $fd>&-" 2>/dev/null; fi
        done
        ulimit -n 4
        exec "$@"
    )
}

case_fd_limit() {
    if sanitized; then skip "a sanitizer opens files of its own"; return; fi
    printf 'mockit.oneoff(5, function() print("ran") end)\n' >s.lua
    LAST_CMD="ulimit -n 4; mockit-run s.lua"
    OUT=$(with_four_fds "$MOCKIT_RUN" s.lua 2>"$CASE_DIR/err")
    STATUS=$?
    ERR=$(<"$CASE_DIR/err")
    expect_status 0
    expect_stdout_equals "ran"
    expect_stderr_empty
    # A script that keeps that descriptor leaves none for the loop: a clear error, exit 1.
    printf 'keep = io.open("s.lua")\nmockit.oneoff(5, print)\n' >s.lua
    OUT=$(with_four_fds "$MOCKIT_RUN" s.lua 2>"$CASE_DIR/err")
    STATUS=$?
    ERR=$(<"$CASE_DIR/err")
    expect_status 1
    expect_stderr_contains "mockit-run: eventfd: Too many open files"
}

run_case "an error in the main chunk: exit 1, message and traceback" case_main_chunk_error
run_case "an error in the main chunk: the loop does not run" case_main_chunk_error_skips_loop
run_case "--keep-going does not cover the main chunk" case_main_chunk_error_with_keep_going
run_case "a syntax error in the script: exit 1" case_syntax_error
run_case "an error in -e: exit 1, the script does not run" case_e_error
run_case "a callback error: exit 1, message and traceback" case_callback_error
run_case "--keep-going: logged at error level, the loop goes on" case_callback_error_keep_going
run_case "--keep-going: exit 0 once the loop is done" case_callback_error_keep_going_exit_status
run_case "mockit.on_error handles callback errors; nil restores the default" case_on_error
run_case "error objects that are not strings" case_error_objects
run_case "a bad argument to the API: exit 1, lauxlib's message" case_bad_argument
run_case "table: an unknown option" case_table_unknown_option
run_case "table: an option without its value (-e, -l)" case_table_missing_option_value
run_case "table: a bad option value, a bad MOCKIT_LOG_LEVEL" case_table_bad_option_value
run_case "table: a missing script" case_table_missing_script
run_case "table: an unreadable script" case_table_unreadable_script
run_case "table: a directory as the script" case_table_directory
run_case "table: a binary file as the script" case_table_binary_file
run_case "table: a corrupt precompiled chunk" case_table_corrupt_precompiled_chunk
run_case "table: a syntax error" case_table_syntax_error
run_case "table: -l of a missing module" case_table_missing_module
run_case "table: an error in the script" case_table_runtime_error
run_case "table: a bad argument to the API" case_table_bad_argument
run_case "closed stdin and stdout fail as under lua5.4" case_closed_stdin_and_stdout
run_case "out of memory: 'not enough memory', arming or in a callback" case_out_of_memory
run_case "no thread to spare (ulimit -u 1): timers run all the same" case_thread_limit
run_case "one descriptor to spare (ulimit -n 4): the script opens; none left: a clear error" case_fd_limit
finish
