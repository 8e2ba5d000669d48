#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# shellcheck source-path=SCRIPTDIR disable=SC2317
# mockit-run's command line: every option, where the script comes from, the `arg` table
# (compared with lua5.4's own), the LUA_* environment, and shebang scripts.
#
#   tests/app/test_cli.sh path/to/mockit-run
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh" "$@"

LUA54=$(command -v lua5.4 || true)

# A script that prints the global `arg` (its lowest index, the interpreter, as a placeholder,
# since the two interpreters have different paths) and the main chunk's `...`.
write_dump_script() {
    cat >dump.lua <<'EOF'
local lo = 0
while arg[lo - 1] ~= nil do lo = lo - 1 end
local parts = {}
for i = lo, #arg do
    parts[#parts + 1] = ("[%d]=%s"):format(i, i == lo and "<interpreter>" or arg[i])
end
print(table.concat(parts, " "))
print("#arg=" .. #arg)
local dots = {}
for i = 1, select("#", ...) do dots[i] = tostring((select(i, ...))) end
print(("...(%d)=%s"):format(select("#", ...), table.concat(dots, ",")))
EOF
}

# A module that announces when it loads, for -l and require.
write_module() {
    mkdir -p lib
    cat >"lib/$1.lua" <<EOF
print("loading $1")
return { name = "$1" }
EOF
}

case_version() {
    local flag
    for flag in -v --version; do
        run_capture "$MOCKIT_RUN" "$flag"
        expect_status 0
        expect_stdout_contains "mockit-run "
        expect_stdout_contains "Lua 5.4"
        expect_stdout_contains "spdlog "
        expect_stdout_contains "CLI11 "
    done
    # As lua5.4's -v: Lua's line last, then whatever else the command line asks for.
    run_capture "$MOCKIT_RUN" -v -e 'print("hello")'
    expect_status 0
    [[ "$OUT" == *$'PUC-Rio\nhello' ]] || fail "-v -e: hello does not follow the Lua line"
}

case_help() {
    local flag
    for flag in -h --help; do
        run_capture "$MOCKIT_RUN" "$flag"
        expect_status 0
        expect_stdout_contains "--keep-going"
        expect_stdout_contains "--log-level"
        expect_stdout_contains "--check"
        expect_stdout_contains "Exit status"
        expect_stdout_contains "130"
    done
}

case_unknown_option() {
    run_capture "$MOCKIT_RUN" --bogus script.lua
    expect_status 2
    expect_stderr_contains "--bogus"
    run_capture "$MOCKIT_RUN" -x
    expect_status 2
    expect_stderr_contains "-x"
}

case_missing_option_value() {
    run_capture "$MOCKIT_RUN" -e
    expect_status 2
    run_capture "$MOCKIT_RUN" --log-level
    expect_status 2
}

# -e and -l run in command-line order, interleaved; -l NAME and -l global=module.
case_e_and_l_in_order() {
    write_module mymod
    run_capture env LUA_PATH="$CASE_DIR/lib/?.lua" "$MOCKIT_RUN" \
        -e 'print("e1", type(mymod))' -l mymod -e 'print("e2", mymod.name)' \
        -l g=mymod -e 'print("e3", g.name, rawequal(g, mymod))' -lmymod -e'print("e4")'
    expect_status 0
    expect_stdout_equals "$(printf 'e1\tnil\nloading mymod\ne2\tmymod\ne3\tmymod\ttrue\ne4')"
    expect_stderr_empty
}

case_l_global_is_module() {
    write_module other
    run_capture env LUA_PATH="$CASE_DIR/lib/?.lua" "$MOCKIT_RUN" -l o=other \
        -e 'print(o.name, other)'
    expect_status 0
    expect_stdout_equals "$(printf 'loading other\nother\tnil')"
}

case_l_missing_module() {
    run_capture "$MOCKIT_RUN" -l no_such_module_here -e 'print("not reached")'
    expect_status 1
    expect_stderr_contains "mockit-run: "
    expect_stderr_contains "no_such_module_here"
    expect_stdout_not_contains "not reached"
}

case_options_after_script_are_its_own() {
    write_dump_script
    run_capture "$MOCKIT_RUN" dump.lua -v --help -e x --no-loop
    expect_status 0
    expect_stdout_contains "[1]=-v [2]=--help [3]=-e [4]=x [5]=--no-loop"
    expect_stdout_not_contains "CLI11"
}

case_double_dash_ends_options() {
    printf 'print("dash script", ...)\n' >-dash.lua
    run_capture "$MOCKIT_RUN" -- -dash.lua --version
    expect_status 0
    expect_stdout_equals "$(printf 'dash script\t--version')"
    run_capture "$MOCKIT_RUN" -e 'print("e")' -- -dash.lua
    expect_status 0
    expect_stdout_equals "$(printf 'e\ndash script')"
}

case_missing_script() {
    run_capture "$MOCKIT_RUN" no_such_script.lua
    expect_status 2
    expect_stderr_contains "cannot open"
    expect_stderr_contains "no_such_script.lua"
}

# A directory is not a script: a usage error naming it (today: "cannot read DIR: Is a
# directory", exit 2, as lua5.4 words it).
case_directory_as_script() {
    mkdir adir
    run_capture "$MOCKIT_RUN" adir
    expect_status 2
    expect_stderr_contains "mockit-run: "
    expect_stderr_contains "adir"
    expect_stderr_contains "directory"
}

# `arg` and `...` exactly as lua5.4 lays them out, for the same command lines.
case_arg_table_like_lua54() {
    if [[ -z "$LUA54" ]]; then
        skip "lua5.4 not installed"
        return
    fi
    write_dump_script
    local -a cases=(
        "dump.lua"
        "dump.lua x y"
        "dump.lua -e z --no-loop - --"
        "-e x=1 dump.lua p"
        "-- dump.lua q"
        "-e x=1 -l string -- dump.lua r s"
        "-e assert(loadfile('dump.lua'))()"
    )
    local line expected
    local -a args
    for line in "${cases[@]}"; do
        if [[ "$line" == -e\ assert* ]]; then
            args=(-e "${line#-e }")
        else
            read -ra args <<<"$line"
        fi
        run_capture "$LUA54" "${args[@]}"
        expected=$OUT
        [[ "$STATUS" == 0 ]] || fail "lua5.4 $line: exit $STATUS"
        run_capture "$MOCKIT_RUN" "${args[@]}"
        expect_status 0
        [[ "$OUT" == "$expected" ]] ||
            fail "arg for '$line' differs from lua5.4's:"$'\n'"$expected"$'\n'"--- mockit-run:"$'\n'"$OUT"
    done
    # The script on standard input ("-") with arguments.
    run_capture_in dump.lua "$LUA54" - a "b c"
    expected=$OUT
    run_capture_in dump.lua "$MOCKIT_RUN" - a "b c"
    expect_status 0
    [[ "$OUT" == "$expected" ]] ||
        fail "arg for '- a \"b c\"' differs from lua5.4's:"$'\n'"$expected"$'\n'"--- mockit-run:"$'\n'"$OUT"
}

case_dash_reads_stdin() {
    printf 'print("from stdin", ...)\nmockit.oneoff(20, print, "timer fired")\n' >in.lua
    run_capture_in in.lua "$MOCKIT_RUN" - one two
    expect_status 0
    expect_stdout_equals "$(printf 'from stdin\tone\ttwo\ntimer fired')"
}

case_no_script_reads_stdin_when_not_a_terminal() {
    printf 'print("implicit stdin")\n' >in.lua
    run_capture_in in.lua "$MOCKIT_RUN"
    expect_status 0
    expect_stdout_equals "implicit stdin"
    run_capture_in in.lua "$MOCKIT_RUN" --no-loop --log-level warn
    expect_status 0
    expect_stdout_equals "implicit stdin"
}

# -l alone is no script (as in lua5.4): standard input still is.
case_l_alone_reads_stdin() {
    printf 'print("stdin after -l", string ~= nil)\n' >in.lua
    run_capture_in in.lua "$MOCKIT_RUN" -l string
    expect_status 0
    expect_stdout_equals "stdin after -l	true"
}

# With -e there is something to run: standard input is left alone.
case_e_does_not_read_stdin() {
    printf 'print("stdin ran")\n' >in.lua
    run_capture_in in.lua "$MOCKIT_RUN" -e 'print("e ran")'
    expect_status 0
    expect_stdout_equals "e ran"
}

# No script and standard input a terminal: usage on stderr, exit 2 (no interactive mode).
case_no_script_on_a_terminal() {
    if ! command -v script >/dev/null; then
        skip "script(1) from util-linux not installed"
        return
    fi
    if ! script -qec true /dev/null </dev/null >/dev/null 2>&1; then
        skip "script(1) cannot open a pseudo-terminal here"
        return
    fi
    # script(1) runs the command on a new pseudo-terminal, types what it reads (then ^D at its
    # end); -e returns the command's status. The pty carries both output streams to its stdout.
    printf 'print(6 * 7)\n' >typed
    run_capture_in typed script -qec "$(quote "$MOCKIT_RUN")" /dev/null
    expect_status 0
    expect_stdout_contains "Lua 5.4"  # the banner, as lua5.4's
    expect_stdout_contains "> "
    expect_stdout_contains "42"
    expect_stdout_not_contains "usage: mockit-run"
    # --check has nothing to check there.
    run_capture_in typed script -qec "$(quote "$MOCKIT_RUN" --check)" /dev/null
    expect_status 2
    expect_stdout_contains "usage: mockit-run"
}

case_check_syntax_error() {
    printf 'print("ran")\nlocal x =\n' >bad.lua
    run_capture "$MOCKIT_RUN" --check bad.lua
    expect_status 1
    expect_stderr_contains "mockit-run: bad.lua:"
    expect_stderr_contains "unexpected symbol"
    expect_stdout_not_contains "ran"
}

case_check_valid_runs_nothing() {
    printf 'print("main chunk ran")\nmockit.oneoff(10, print, "timer ran")\n' >good.lua
    run_capture "$MOCKIT_RUN" --check good.lua
    expect_status 0
    expect_stdout_equals ""
    expect_stderr_empty
    # From standard input too.
    run_capture_in good.lua "$MOCKIT_RUN" --check -
    expect_status 0
    expect_stdout_equals ""
    printf 'print(\n' >bad.lua
    run_capture_in bad.lua "$MOCKIT_RUN" --check -
    expect_status 1
    expect_stderr_contains "mockit-run: "
}

case_check_missing_file() {
    run_capture "$MOCKIT_RUN" --check no_such_script.lua
    expect_status 2
    expect_stderr_contains "cannot open"
}

case_lua_init() {
    printf 'print("script")\n' >s.lua
    run_capture env LUA_INIT='print("init chunk")' "$MOCKIT_RUN" -e 'print("e")' s.lua
    expect_status 0
    expect_stdout_equals "$(printf 'init chunk\ne\nscript')"

    printf 'print("init file", type(mockit))\n' >init.lua
    run_capture env LUA_INIT="@$CASE_DIR/init.lua" "$MOCKIT_RUN" s.lua
    expect_status 0
    expect_stdout_equals "$(printf 'init file\ttable\nscript')"

    run_capture env LUA_INIT='print("plain")' LUA_INIT_5_4='print("versioned")' "$MOCKIT_RUN" s.lua
    expect_status 0
    expect_stdout_equals "$(printf 'versioned\nscript')"
}

case_lua_init_error() {
    printf 'print("script")\n' >s.lua
    run_capture env LUA_INIT='error("init failed")' "$MOCKIT_RUN" s.lua
    expect_status 1
    expect_stderr_contains "mockit-run: LUA_INIT:1: init failed"
    expect_stdout_not_contains "script"
    run_capture env LUA_INIT="@$CASE_DIR/missing_init.lua" "$MOCKIT_RUN" s.lua
    expect_status 1
    expect_stderr_contains "missing_init.lua"
}

case_lua_path() {
    write_module plain_path
    mkdir -p lib54
    printf 'return { name = "from LUA_PATH_5_4" }\n' >lib54/plain_path.lua
    run_capture env LUA_PATH="$CASE_DIR/lib/?.lua;;" "$MOCKIT_RUN" \
        -e 'print(require("plain_path").name)'
    expect_status 0
    expect_stdout_equals "$(printf 'loading plain_path\nplain_path')"
    run_capture env LUA_PATH="$CASE_DIR/lib/?.lua;;" LUA_PATH_5_4="$CASE_DIR/lib54/?.lua;;" \
        "$MOCKIT_RUN" -e 'print(require("plain_path").name)'
    expect_status 0
    expect_stdout_equals "from LUA_PATH_5_4"
}

# `#!/usr/bin/env mockit-run`, chmod +x, run directly with mockit-run found on PATH.
case_shebang_through_env() {
    cat >tool.lua <<'EOF'
#!/usr/bin/env mockit-run
print("shebang", arg[0], ...)
mockit.oneoff(10, function() print("timer") end)
EOF
    chmod +x tool.lua
    run_capture env PATH="$MOCKIT_BIN_DIR:$PATH" ./tool.lua a "b c"
    expect_status 0
    expect_stdout_equals "$(printf 'shebang\t./tool.lua\ta\tb c\ntimer')"
}

# The collector runs in the mode lua5.4 puts it in (generational): with the incremental mode a
# long run's short-lived garbage piled up to several times the live heap (the soak test saw RSS
# climb by 2 MB steps).
case_gc_mode_as_lua54() {
    if [[ -z "$LUA54" ]]; then
        skip "lua5.4 not installed"
        return
    fi
    local chunk='print(collectgarbage("incremental"))'
    run_capture "$LUA54" -e "$chunk"
    local want=$OUT
    run_capture "$MOCKIT_RUN" -e "$chunk"
    expect_status 0
    expect_stdout_equals "$want"
    expect_stdout_equals "generational"
}

# Every argument reaches the script, however many: the stack is grown for them first (lua.c's
# luaL_checkstack). 41 and more used to overrun it; a shebang script run on $(ls) meets that.
case_many_script_arguments() {
    printf 'print(select("#", ...), #arg, arg[#arg], (select(select("#", ...), ...)))\n' >count.lua
    local n
    for n in 41 60 70 200 50000; do
        # shellcheck disable=SC2046
        run_capture "$MOCKIT_RUN" count.lua $(seq 1 "$n")
        expect_status 0
        expect_stdout_equals "$(printf '%s\t%s\t%s\t%s' "$n" "$n" "$n" "$n")"
    done
    # shellcheck disable=SC2046
    run_capture_in count.lua "$MOCKIT_RUN" - $(seq 1 500)
    expect_status 0
    expect_stdout_equals "$(printf '500\t500\t500\t500')"
}

# After "--", "-" is a file of that name, as in lua5.4; without it, standard input.
case_dash_after_double_dash_is_a_file() {
    printf 'print("the file named -")\n' >-
    printf 'print("stdin")\n' >in.lua
    run_capture_in in.lua "$MOCKIT_RUN" -- -
    expect_status 0
    expect_stdout_equals "the file named -"
    run_capture_in in.lua "$MOCKIT_RUN" -
    expect_stdout_equals "stdin"
}

# --virtual-time[=START]: every clock the script reads is simulated, and the loop jumps from
# deadline to deadline.
case_virtual_time() {
    run_capture "$MOCKIT_RUN" --virtual-time -e 'print(os.date("!%Y-%m-%dT%H:%M:%S"), mockit.mstimestamp(), mockit.clock.is_virtual())'
    expect_status 0
    expect_stdout_equals "$(printf '2000-01-01T00:00:00\t946684800000\ttrue')"
    run_capture "$MOCKIT_RUN" --virtual-time=2026-03-29T01:30:00+01:00 -e 'print(os.date("!%H:%M"))'
    expect_stdout_equals "00:30"
    run_capture "$MOCKIT_RUN" --virtual-time=1700000000123 -e 'print(mockit.mstimestamp())'
    expect_stdout_equals "1700000000123"
    # A simulated day of a 1 s interval, through the built-in loop.
    cat >day.lua <<'EOF'
local n = 0
mockit.getit(1000, function()
    n = n + 1
    if n == 86400 then print(n, os.date("!%Y-%m-%d %H:%M:%S")) mockit.stop() end
end)
EOF
    local t0=$SECONDS
    run_capture "$MOCKIT_RUN" --virtual-time day.lua
    expect_status 0
    expect_stdout_equals "$(printf '86400\t2000-01-02 00:00:00')"
    ((SECONDS - t0 < 10)) || fail "a simulated day took $((SECONDS - t0)) s"
    # Without the option the clock is real.
    run_capture "$MOCKIT_RUN" -e 'print(mockit.clock.is_virtual())'
    expect_stdout_equals "false"
}

case_virtual_time_bad_start() {
    local bad
    for bad in yesterday 2026-13-01T00:00:00Z 2026-03-29T01:30:00 1969-12-31T23:59:59Z \
        2109-05-15T07:35:12Z 2300-01-01T00:00:00Z -5; do
        run_capture "$MOCKIT_RUN" "--virtual-time=$bad" -e 'print(1)'
        expect_status 2
        expect_stderr_contains "mockit-run: --virtual-time: '$bad' is not a start time from 1970 to 2109-05-15"
        expect_stdout_equals ""
    done
}

run_case "-v/--version print the versions, then run the rest" case_version
run_case "-h/--help describe the options and exit statuses, exit 0" case_help
run_case "an unknown option is a usage error (exit 2)" case_unknown_option
run_case "an option without its value is a usage error (exit 2)" case_missing_option_value
run_case "-e and -l run in order, interleaved" case_e_and_l_in_order
run_case "-l g=mod sets the global g only" case_l_global_is_module
run_case "-l of a missing module: exit 1, nothing else runs" case_l_missing_module
run_case "options after the script belong to the script" case_options_after_script_are_its_own
run_case "-- ends the options" case_double_dash_ends_options
run_case "a missing script file: exit 2, 'cannot open'" case_missing_script
run_case "a directory as script: exit 2 and a clear message" case_directory_as_script
run_case "arg and ... laid out as lua5.4 lays them out" case_arg_table_like_lua54
run_case "'-' reads the script from standard input" case_dash_reads_stdin
run_case "no script: standard input when it is not a terminal" case_no_script_reads_stdin_when_not_a_terminal
run_case "no script but -e: standard input is not read" case_e_does_not_read_stdin
run_case "no script on a terminal: the prompt, as lua5.4" case_no_script_on_a_terminal
run_case "--check reports a syntax error: exit 1" case_check_syntax_error
run_case "--check of a valid script runs nothing: exit 0" case_check_valid_runs_nothing
run_case "--check of a missing file: exit 2" case_check_missing_file
# -E and -W, as lua5.4 has them: compared with lua5.4 itself.
case_ignore_environment_and_warnings() {
    mkdir -p lib && echo 'return "from LUA_PATH"' >lib/m.lua
    local env=(env LUA_INIT='print("init")' LUA_PATH="$CASE_DIR/lib/?.lua" LUA_CPATH=/nonexistent/?.so)
    local chunk='print(pcall(require, "m")) print(package.cpath:find("nonexistent") == nil)'
    run_capture "${env[@]}" "$MOCKIT_RUN" -E -e "$chunk"
    expect_status 0
    [[ "$OUT" == "false"*$'\ntrue' ]] || fail "-E did not ignore LUA_INIT, LUA_PATH and LUA_CPATH"
    if command -v lua5.4 >/dev/null; then
        local ours=$OUT
        run_capture "${env[@]}" lua5.4 -E -e "$chunk"
        [[ "$OUT" == "$ours" ]] || fail "lua5.4 -E says otherwise: $OUT"
    fi
    run_capture "${env[@]}" "$MOCKIT_RUN" -e "$chunk"
    expect_stdout_equals "$(printf 'init\ntrue\tfrom LUA_PATH\t%s\nfalse' "$CASE_DIR/lib/m.lua")"
    run_capture "$MOCKIT_RUN" -W -e 'warn("careful")' -e 'warn("@off") warn("unseen")'
    expect_status 0
    [[ "$ERR" == "Lua warning: careful" ]] || fail "-W: stderr is '$ERR'"
    run_capture "$MOCKIT_RUN" -e 'warn("unseen")'
    expect_stderr_empty
}

run_case "LUA_INIT (chunk, @file) and LUA_INIT_5_4 first" case_lua_init
run_case "an error in LUA_INIT: exit 1, the script does not run" case_lua_init_error
run_case "-E ignores LUA_INIT, LUA_PATH, LUA_CPATH; -W turns warnings on, as lua5.4" case_ignore_environment_and_warnings
run_case "LUA_PATH and LUA_PATH_5_4 for require" case_lua_path
run_case "a #!/usr/bin/env mockit-run script runs directly" case_shebang_through_env
run_case "-l alone still reads the script from stdin" case_l_alone_reads_stdin
run_case "the garbage collector's mode is lua5.4's" case_gc_mode_as_lua54
run_case "41 to 50,000 script arguments all reach the script" case_many_script_arguments
run_case "'-- -' runs the file named '-', as lua5.4" case_dash_after_double_dash_is_a_file
run_case "--virtual-time[=START]: simulated clocks, a day of timers at once" case_virtual_time
run_case "--virtual-time with a bad START: usage error, exit 2" case_virtual_time_bad_start
finish
