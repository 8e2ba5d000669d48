#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# run_suite.sh INTERPRETER SUITE_DIR WORK_DIR SECONDS [--expect LINE] [-- OPTION...]
# Runs Lua 5.4.4's test suite as its README says, `INTERPRETER -e"_port=true" all.lua`, in a
# fresh copy of SUITE_DIR at WORK_DIR (the tests write files beside themselves), and passes
# when the run exits 0 having printed "final OK !!!" (and LINE, when given). The OPTIONs go to
# the interpreter before the suite's own. Exits 77 (a ctest skip) when the suite is not there.
# The run is killed after SECONDS, before ctest's own timeout, so that a hang still shows how
# far the suite got.
set -u

if (($# < 4)); then
    echo "usage: $0 INTERPRETER SUITE_DIR WORK_DIR SECONDS [--expect LINE] [-- OPTION...]" >&2
    exit 2
fi
interpreter=$1 suite=$2 work=$3 seconds=$4
shift 4
expect=""
if [[ "${1:-}" == "--expect" ]]; then
    expect=$2
    shift 2
fi
[[ "${1:-}" == "--" ]] && shift
options=("$@")

if [[ ! -f "$suite/all.lua" ]]; then
    echo "skipped: no Lua 5.4.4 test suite at $suite (it sits in ../shared beside the"
    echo "repository in CI; configure with -DMOCKIT_LUA_TESTS_DIR=... to point elsewhere)"
    exit 77
fi

# As in tests/app/lib.sh: the user's environment must not change what the interpreter does.
unset LUA_INIT LUA_INIT_5_4 LUA_PATH LUA_PATH_5_4 LUA_CPATH LUA_CPATH_5_4 MOCKIT_LOG_LEVEL

rm -rf "$work"
mkdir -p "$work"
cp -R "$suite/." "$work/"
cd "$work" || exit 1

started=$SECONDS
timeout -k 5 "$seconds" "$interpreter" "${options[@]}" -e"_port=true" all.lua </dev/null >output.txt 2>&1
status=$?
elapsed=$((SECONDS - started))

if ((status == 0)) && grep -qxF 'final OK !!!' output.txt; then
    if [[ -z "$expect" ]] || grep -qxF -- "$expect" output.txt; then
        echo "ok: $interpreter ${options[*]} passed all.lua in ${elapsed} s (output in $work/output.txt)"
        exit 0
    fi
    echo "FAIL: $interpreter ${options[*]} passed all.lua but never printed '$expect'"
elif ((status == 124 || status == 137)); then
    echo "FAIL: $interpreter still running all.lua after ${seconds} s (killed)"
elif ((status == 0)); then
    echo "FAIL: $interpreter exited 0 but never printed 'final OK !!!'"
else
    echo "FAIL: $interpreter exited $status on all.lua"
fi
echo "last lines of $work/output.txt:"
tail -n 30 output.txt | sed 's/^/    | /'
exit 1
