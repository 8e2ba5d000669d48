#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# shellcheck source-path=SCRIPTDIR disable=SC2317
# Interactive mode (-i, and no script on a terminal) driven as a user drives it: on a terminal
# that tmux provides (keys typed with send-keys, the screen read with capture-pane), and through
# pipes as lua5.4's own test suite drives it. The loop runs while the prompt waits: a timer's
# output comes while a line is typed, and the line is drawn again under it.
#
#   tests/app/test_repl.sh path/to/mockit-run
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh" "$@"

TMUX_SOCKET="$TEST_ROOT/tmux.sock"
tm() {
    tmux -S "$TMUX_SOCKET" "$@"
}
trap 'tm kill-server >/dev/null 2>&1; cleanup' EXIT

have_tmux() {
    if ! command -v tmux >/dev/null; then
        skip "tmux not installed (scripts/setup installs it)"
        return 1
    fi
}

# on_terminal ARGS...: starts mockit-run ARGS on a fresh 100x40 terminal, in the case's
# directory; its exit status goes to ./status, the terminal's settings before and after it to
# ./stty.before and ./stty.after. The pane stays for capture-pane once it has exited.
on_terminal() {
    tm kill-server >/dev/null 2>&1
    rm -f status stty.before stty.after
    # A shell that outlives ^C (a handler, not an ignore: mockit-run gets the default action).
    local command
    command="trap : INT; stty -g >stty.before; $(quote "$MOCKIT_RUN" "$@"); echo \$? >status;"
    command+=" stty -g >stty.after"
    LAST_CMD="(terminal) $(quote "$MOCKIT_RUN" "$@")"
    tm -f /dev/null new-session -d -x 100 -y 40 -c "$CASE_DIR" || {
        fail "tmux cannot start a session"
        return 1
    }
    tm set-option -g remain-on-exit on
    tm set-option -g history-limit 5000
    tm respawn-pane -k -c "$CASE_DIR" "bash -c $(quote "$command")"
}

# screen: everything the terminal showed, scrolled-off lines included, wrapped lines joined.
screen() {
    tm capture-pane -p -J -S - 2>/dev/null
}

# type KEYS...: tmux key names or text, as send-keys takes them.
type_keys() {
    tm send-keys "$@"
}

# wait_screen TEXT [SECONDS]: until the screen shows TEXT (default 30 s: a loaded CI machine once
# took over 10 s to draw the first prompt).
wait_screen() {
    local text=$1 limit=${2:-30} waited=0
    while [[ "$(screen)" != *"$text"* ]] && ((waited < limit * 10)); do
        sleep 0.1
        waited=$((waited + 1))
    done
    [[ "$(screen)" == *"$text"* ]] || {
        OUT=$(screen)
        fail "the terminal did not show '$text' within ${limit}s"
    }
}

# count_screen TEXT: how many lines of the screen hold TEXT.
count_screen() {
    screen | grep -cF -- "$1"
}

# wait_exit [SECONDS]: until mockit-run has exited; STATUS its status, OUT the screen.
wait_exit() {
    local limit=${1:-10} waited=0
    while [[ ! -s status ]] && ((waited < limit * 10)); do
        sleep 0.1
        waited=$((waited + 1))
    done
    OUT=$(screen)
    if [[ ! -s status ]]; then
        STATUS=running
        fail "still running after ${limit}s"
        return 1
    fi
    STATUS=$(<status)
    wait_for_file stty.after 5
}

# The terminal's settings after mockit-run are those it found (raw mode undone).
expect_terminal_restored() {
    [[ -s stty.before && -s stty.after ]] || {
        fail "no terminal settings recorded"
        return 1
    }
    [[ "$(<stty.before)" == "$(<stty.after)" ]] ||
        fail "terminal settings changed: $(<stty.before) -> $(<stty.after)"
}

case_ticks_while_typing() {
    have_tmux || return
    on_terminal
    wait_screen "> " || return
    type_keys 'mockit.getit(200, function() print("tick") end)' Enter
    wait_screen "tick" || return
    type_keys 'x = 6 *'
    # Ticks come while the line waits, and the line is drawn again under each.
    local before
    before=$(count_screen "tick")
    sleep 1
    (($(count_screen "tick") >= before + 2)) || fail "no ticks while a line was typed"
    # A capture can fall between a tick's line and the redraw that follows it: look again.
    local tries=0
    until [[ "$(screen | grep -v '^$' | tail -n 1)" == "> x = 6 *" ]] || ((++tries > 20)); do
        sleep 0.1
    done
    ((tries <= 20)) || fail "the line typed is not the last line after the ticks"
    type_keys ' 7' Enter '=x' Enter
    wait_screen $'\n42' || return
    type_keys C-d
    wait_exit || return
    expect_status 0
    expect_terminal_restored
    # Never a prompt drawn twice on a line, or the line lost.
    [[ "$OUT" != *"> > "* ]] || fail "a prompt drawn over another"
}

case_prompts_and_results() {
    have_tmux || return
    on_terminal
    wait_screen "Lua 5.4" || return  # the banner, as lua5.4's
    type_keys 'for i = 1, 2 do' Enter
    wait_screen ">> " || return
    type_keys 'print("row " .. i) end' Enter '1, "two", nil' Enter '=2^10' Enter
    type_keys '_PROMPT = "lua$ "' Enter 'nosuch()' Enter
    wait_screen "attempt to call" || return
    type_keys C-d
    wait_exit || return
    expect_status 0
    expect_stdout_contains "row 2"
    grep -qE '^1 +two +nil$' <<<"$OUT" || fail "no line '1<tab>two<tab>nil'"  # tabs, as spaces
    expect_stdout_contains "1024.0"
    # As lua.c's REPL: no "mockit-run:" before an error at the prompt.
    expect_stdout_contains $'\nstdin:1: attempt to call a nil value (global \'nosuch\')'
}

case_sigint_drops_the_line() {
    have_tmux || return
    on_terminal
    wait_screen "> " || return
    type_keys 'for i = 1, 3 do' Enter 'print("never")'
    wait_screen 'print("never")' || return
    type_keys C-c
    wait_screen "^C" || return
    type_keys 'print("after " .. "ctrl-c")' Enter
    wait_screen "after ctrl-c" || return
    # Lua code that runs is interrupted, as under lua5.4, and the session goes on.
    # Only once the loop runs: a ^C that came while the line was still read would drop the line.
    type_keys 'print("spin" .. "ning") while true do end' Enter
    wait_screen $'\nspinning' || return
    type_keys C-c
    wait_screen "interrupted!" || return
    type_keys 'print("still " .. "here")' Enter
    wait_screen "still here" || return
    type_keys C-d
    wait_exit || return
    expect_status 0  # an interrupted line does not make the session's status 130
    expect_stdout_not_contains $'never\n'
    expect_terminal_restored
}

case_callback_error_and_stop() {
    have_tmux || return
    on_terminal
    wait_screen "> " || return
    type_keys 'mockit.oneoff(50, function() error("boom") end)' Enter
    wait_screen "boom" || return
    type_keys 'print("goes " .. "on")' Enter
    wait_screen "goes on" || return
    # A stop ends the session with its code, as it ends the loop.
    type_keys 'mockit.oneoff(50, function() mockit.stop(7) end)' Enter
    wait_exit || return
    expect_status 7
    expect_stdout_contains "stdin:1: boom"
    expect_terminal_restored
}

case_history() {
    have_tmux || return
    on_terminal
    wait_screen "> " || return
    type_keys 'n = (n or 0) + 1; print("run " .. n)' Enter
    wait_screen "run 1" || return
    type_keys Up Enter
    wait_screen "run 2" || return
    type_keys C-d
    wait_exit || return
    expect_status 0
}

case_after_a_script() {
    have_tmux || return
    cat >ticker.lua <<'EOF'
count = 0
mockit.getit(100, function() count = count + 1 end)
print("script ran")
EOF
    on_terminal -i ticker.lua
    wait_screen "script ran" || return
    wait_screen "> " || return
    sleep 0.5
    type_keys 'print(count >= 3 and "counted" or count)' Enter
    wait_screen "counted" || return
    type_keys C-d
    wait_exit || return
    expect_status 0
    expect_stdout_contains "Lua 5.4"  # -i implies -v, as in lua5.4
}

case_exit_from_a_callback_restores_the_terminal() {
    have_tmux || return
    on_terminal
    wait_screen "> " || return
    type_keys 'mockit.oneoff(300, function() os.exit(5) end)' Enter
    type_keys 'half a line'
    wait_exit || return
    expect_status 5
    expect_terminal_restored
}

case_sigterm_at_the_prompt() {
    have_tmux || return
    on_terminal
    wait_screen "> " || return
    type_keys 'half a line'
    local pid
    pid=$(tm display -p '#{pane_pid}')
    # The shell's child: mockit-run.
    pkill -TERM -P "$pid" -x "$(basename "$MOCKIT_RUN")"
    wait_exit || return
    expect_status 0
    expect_terminal_restored
}

# Through pipes, as lua5.4's main.lua drives it: the prompt on stdout, no editing.
case_through_pipes() {
    printf '%s\n' '(6*2-6) -- ===' 'a =' '10' 'print(a)' 'a' >lines
    run_capture_in lines "$MOCKIT_RUN" -e "_PROMPT='' _PROMPT2=''" -i
    expect_status 0
    # Each line echoed after its prompt, as Debian's lua5.4 (readline) does on a pipe.
    expect_stdout_contains $'(6*2-6) -- ===\n6\na =\n10\nprint(a)\n10\na\n10'
    printf 'x = \n' >incomplete
    run_capture_in incomplete "$MOCKIT_RUN" -i
    expect_status 0
    expect_stderr_contains "stdin:1: unexpected symbol near <eof>"
    # Timers run while the prompt waits on a pipe too.
    mkfifo fifo
    "$MOCKIT_RUN" -e "_PROMPT=''" -i <fifo >"$CASE_DIR/.out" 2>"$CASE_DIR/.err" &
    BG_PID=$!
    exec 3>fifo
    echo 'mockit.oneoff(10, function() print("fired") end)' >&3
    wait_for_output out "fired" 10
    exec 3>&-
    wait_bg
    expect_status 0
}

# As lua5.4: a script that fails ends the run before the prompt.
case_failing_script_no_prompt() {
    printf 'error("early")\n' >fails.lua
    printf 'print("typed")\n' >lines
    run_capture_in lines "$MOCKIT_RUN" -i fails.lua
    expect_status 1
    expect_stderr_contains "mockit-run: fails.lua:1: early"
    expect_stdout_not_contains "typed"
}

run_case "the loop runs while a line is typed, which is drawn again" case_ticks_while_typing
run_case "prompts, continuation, results and errors as lua5.4's REPL" case_prompts_and_results
run_case "^C drops the line at the prompt and interrupts running code" case_sigint_drops_the_line
run_case "a callback's error is reported; a stop ends the session" case_callback_error_and_stop
run_case "history: the up arrow brings the last line back" case_history
run_case "-i after a script: its timers run at the prompt" case_after_a_script
run_case "os.exit from a callback at the prompt restores the terminal" case_exit_from_a_callback_restores_the_terminal
run_case "SIGTERM at the prompt: exit 0, terminal restored" case_sigterm_at_the_prompt
run_case "-i through pipes: lua.c's prompt, results, and timers" case_through_pipes
run_case "-i after a failing script: its error, no prompt, exit 1" case_failing_script_no_prompt
finish
