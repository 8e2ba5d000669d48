#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# shellcheck source-path=SCRIPTDIR disable=SC2317
# Memory: memory a script freed serves objects of other sizes (the peak RSS of
# tests/bench/workloads/strings.lua is within 1.5x of lua5.4's), and running out of memory is
# Lua's "not enough memory" error, not a crash. Not run under the sanitizers, whose runtimes
# reserve address space and keep freed memory of their own.
#
#   tests/app/test_memory.sh path/to/mockit-run
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh" "$@"

STRINGS_LUA="$SOURCE_DIR/tests/bench/workloads/strings.lua"

# peak_rss_kb: the peak_rss_kb figure of the JSON line in $OUT.
peak_rss_kb() {
    grep -oE '"peak_rss_kb":[0-9]+' <<<"$OUT" | cut -d: -f2
}

# compare_peak_rss ARGS...: runs the strings workload with ARGS under lua5.4 (in the
# environment given by LUA54_ENV) and under mockit-run; fails if mockit-run's peak RSS is over
# 1.5x lua5.4's.
compare_peak_rss() {
    run_capture env "${LUA54_ENV[@]}" lua5.4 "$STRINGS_LUA" "$@"
    expect_status 0 || return
    expect_stdout_contains '"ok":true' || return
    local lua_kb mockit_kb
    lua_kb=$(peak_rss_kb)
    run_capture "$MOCKIT_RUN" "$STRINGS_LUA" "$@"
    expect_status 0 || return
    expect_stdout_contains '"ok":true' || return
    mockit_kb=$(peak_rss_kb)
    echo "  peak RSS: mockit-run $mockit_kb kB, lua5.4 $lua_kb kB"
    ((mockit_kb * 2 <= lua_kb * 3)) ||
        fail "peak RSS $mockit_kb kB is over 1.5x lua5.4's $lua_kb kB"
}

# 12 batches of 100,000 closures, each holding a string of its batch's size, each batch
# collected before the next: about 40 MB at the peak under lua5.4. An allocator that keeps
# freed blocks for their own size needs every batch at once: four times that and more.
case_closures_peak_rss() {
    command -v lua5.4 >/dev/null || {
        skip "lua5.4 is not installed (scripts/setup)"
        return
    }
    LUA54_ENV=()
    compare_peak_rss 100000 12 closures
}

# The same with a one-off timer per closure, against lua5.4 with the mockit module.
case_timers_peak_rss() {
    command -v lua5.4 >/dev/null || {
        skip "lua5.4 is not installed (scripts/setup)"
        return
    }
    local module_dir=${MOCKIT_LUA_MODULE_DIR:-$MOCKIT_BIN_DIR/../lua}
    [[ -e "$module_dir/mockit.so" ]] || {
        skip "no mockit.so in $module_dir"
        return
    }
    LUA54_ENV=("LUA_CPATH=$module_dir/?.so")
    compare_peak_rss 50000 12 timers
}

# An allocation that fails is a Lua error like any other: the message, exit status 1.
case_out_of_memory() {
    # shellcheck disable=SC2016 # expanded by the inner bash
    run_capture bash -c 'ulimit -v 200000 && exec "$0" -e "$1"' "$MOCKIT_RUN" \
        'local t = {} for i = 1, 1e9 do t[i] = ("x"):rep(100) .. i end'
    expect_status 1
    expect_stderr_contains "mockit-run: not enough memory"
}

run_case "closures of 12 string sizes: peak RSS within 1.5x of lua5.4's" case_closures_peak_rss
run_case "timers of 12 string sizes: peak RSS within 1.5x of lua5.4 + mockit.so's" \
    case_timers_peak_rss
run_case "out of memory is Lua's 'not enough memory' error, exit 1" case_out_of_memory
finish
