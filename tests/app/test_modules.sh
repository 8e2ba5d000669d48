#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# shellcheck source-path=SCRIPTDIR disable=SC2317
# Modules: mockit is preloaded (and luamockit is the same table), C modules built for the
# stock lua5.4 load into mockit-run (Debian's lua-luv), LUA_CPATH(_5_4) is honoured, and an
# error raised in a luv callback is reported the way lua5.4 reports it, never a crash.
#
#   tests/app/test_modules.sh path/to/mockit-run
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh" "$@"

LUA54=$(command -v lua5.4 || true)
# Where the stock interpreter finds luv (empty when lua-luv is not installed).
LUV_SO=""
if [[ -n "$LUA54" ]]; then
    LUV_SO=$("$LUA54" -e 'print(package.searchpath("luv", package.cpath) or "")' 2>/dev/null)
fi

# need_luv: skips the case when lua-luv is not installed (scripts/setup installs it).
need_luv() {
    [[ -n "$LUV_SO" ]] && return 0
    skip "lua-luv not installed for lua5.4"
    return 1
}

case_mockit_preloaded() {
    run_capture "$MOCKIT_RUN" -e 'local m = require("mockit")
        print(m == mockit, require("luamockit") == m, type(m.oneoff))'
    expect_status 0
    expect_stdout_equals "$(printf 'true\ttrue\tfunction')"
}

case_require_luv() {
    need_luv || return
    cat >uv.lua <<'EOF'
local uv = require("luv")
local timer = uv.new_timer()
timer:start(30, 0, function()
    print("uv timer fired")
    timer:close()
end)
mockit.oneoff(10, function() print("mockit timer fired") end)
mockit.run()        -- mockit's loop first, then luv's
uv.run()
print("luv", uv.version_string())
EOF
    run_capture "$MOCKIT_RUN" uv.lua
    expect_status 0
    expect_stdout_contains "$(printf 'mockit timer fired\nuv timer fired\nluv\t')"
}

# Both loops in turn: a mockit interval drives luv without blocking.
case_luv_inside_mockit_callbacks() {
    need_luv || return
    cat >both.lua <<'EOF'
local uv = require("luv")
local fired = 0
local timer = uv.new_timer()
timer:start(20, 20, function() fired = fired + 1 end)
local poll
poll = mockit.getit(5, function()
    uv.run("nowait")
    if fired >= 3 then
        timer:close()
        uv.run("nowait")
        poll:destroy()
        print("luv fired 3 times from mockit callbacks")
    end
end)
EOF
    run_capture "$MOCKIT_RUN" both.lua
    expect_status 0
    expect_stdout_equals "luv fired 3 times from mockit callbacks"
}

case_lua_cpath() {
    need_luv || return
    local dir
    dir=$(dirname "$LUV_SO")
    mkdir -p empty
    run_capture env LUA_CPATH="$dir/?.so" "$MOCKIT_RUN" -e 'print(type(require("luv").run))'
    expect_status 0
    expect_stdout_equals "function"
    run_capture env LUA_CPATH="$CASE_DIR/empty/?.so" "$MOCKIT_RUN" -e 'require("luv")'
    expect_status 1
    expect_stderr_contains "module 'luv' not found"
    expect_stderr_contains "$CASE_DIR/empty/luv.so"
    run_capture env LUA_CPATH="$dir/?.so" LUA_CPATH_5_4="$CASE_DIR/empty/?.so" \
        "$MOCKIT_RUN" -e 'require("luv")'
    expect_status 1
    expect_stderr_contains "$CASE_DIR/empty/luv.so"
}

# luv reports an error in its callbacks itself ("Uncaught Error", then exits): mockit-run
# must behave as lua5.4 does, not crash. ASan's leak check is off for this case: luv
# exits from inside the callback, with the Lua state still open.
case_error_in_luv_callback() {
    need_luv || return
    cat >uverr.lua <<'EOF'
local uv = require("luv")
mockit.getit(5, function() end)  -- the engine thread is running too
local timer = uv.new_timer()
timer:start(20, 0, function() error("boom in a luv callback") end)
uv.run()
print("not reached")
EOF
    local asan=${ASAN_OPTIONS:-}
    export ASAN_OPTIONS="${asan:+$asan:}detect_leaks=0"
    run_capture "$LUA54" -e 'mockit = {getit = function() end}' uverr.lua
    local lua_status=$STATUS
    run_capture "$MOCKIT_RUN" uverr.lua
    if [[ -n "$asan" ]]; then export ASAN_OPTIONS="$asan"; else unset ASAN_OPTIONS; fi
    expect_status_not 0
    expect_status "$lua_status"
    expect_stderr_contains "boom in a luv callback"
    expect_stdout_not_contains "not reached"
    # 128+N is death by signal N (a crash, an abort): never acceptable here.
    if ((STATUS > 128 && STATUS < 160)); then
        fail "exit status $STATUS: killed by signal $((STATUS - 128))"
    fi
}

# mockit-run links Lua built as C (a Lua error is a longjmp, as in lua5.4), so a C module built
# without unwind tables that raises an error is reported as any error is. Linked to Lua built as
# C++, the error was an exception that found no unwind table to cross: "terminate called".
case_c_module_without_unwind_tables() {
    if ! command -v cc >/dev/null; then
        skip "no C compiler"
        return
    fi
    mkdir -p cmod
    cat >cmod/raiser.c <<'EOF'
#include <lauxlib.h>
static int raise_it(lua_State *L) { return luaL_error(L, "raised from C"); }
int luaopen_raiser(lua_State *L) { lua_pushcfunction(L, raise_it); return 1; }
EOF
    cc -shared -fPIC -fno-asynchronous-unwind-tables -fno-exceptions -I/usr/include/lua5.4 \
        -o cmod/raiser.so cmod/raiser.c || {
        fail "cannot build the C module"
        return
    }
    run_capture env LUA_CPATH="$CASE_DIR/cmod/?.so" "$MOCKIT_RUN" \
        -e 'print(pcall(require("raiser")))' -e 'require("raiser")()'
    expect_status 1
    expect_stdout_contains $'false\traised from C'
    expect_stderr_matches "^mockit-run: .*raised from C$"
    expect_stderr_contains "stack traceback:"
    expect_stderr_not_contains "terminate called"
}

run_case "mockit is preloaded; require('luamockit') is the same table" case_mockit_preloaded
run_case "require('luv') works, beside mockit's timers" case_require_luv
run_case "luv driven from mockit callbacks" case_luv_inside_mockit_callbacks
run_case "LUA_CPATH and LUA_CPATH_5_4 find C modules" case_lua_cpath
run_case "an error in a luv callback is reported as lua5.4 does, no crash" case_error_in_luv_callback
run_case "a C module without unwind tables raises as under lua5.4" case_c_module_without_unwind_tables
finish
