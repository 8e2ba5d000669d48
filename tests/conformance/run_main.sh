#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# run_main.sh MOCKIT_RUN SUITE_DIR WORK_DIR SECONDS
# Runs Lua 5.4.4's main.lua, the suite's test of the stand-alone interpreter's command line (all.lua
# skips it in portable mode), under mockit-run, in a fresh copy of SUITE_DIR at WORK_DIR. Two of its
# lines assert what mockit-run does differently on purpose (README.md, "Differences from
# lua5.4"), and are changed first; the run fails if either line is no longer there to change.
# Exits 77 (a ctest skip) when the suite is not there.
set -u

if (($# != 4)); then
    echo "usage: $0 MOCKIT_RUN SUITE_DIR WORK_DIR SECONDS" >&2
    exit 2
fi
interpreter=$1 suite=$2 work=$3 seconds=$4
if [[ ! -f "$suite/main.lua" ]]; then
    echo "skipped: no Lua 5.4.4 test suite at $suite"
    exit 77
fi
unset LUA_INIT LUA_INIT_5_4 LUA_PATH LUA_PATH_5_4 LUA_CPATH LUA_CPATH_5_4 MOCKIT_LOG_LEVEL

rm -rf "$work"
mkdir -p "$work"
cp -R "$suite/." "$work/"
cd "$work" || exit 1

# 1. Errors are reported as "mockit-run: ...", not as "<argv[0]>: ...".
# 2. -h is --help (lua5.4 has no -h: "unrecognized option '-h'").
differences=(
    's/^NoRun(progname \.\. ": 6\\n"/NoRun("mockit-run: 6\\n"/'
    "s/^NoRun(\"unrecognized option '-h'\", \"lua -h\")/-- (mockit-run -h is --help)/"
)
# Not a difference: main.lua's Ctrl-C test starts `lua -e "print(12) ..." & echo $!` and reads
# the pid first, but the script may print before the shell's echo runs (seen under load, with
# lua5.4 too). The pid is printed before the interpreter starts instead: `exec` keeps it.
differences+=(
    "s/string.format('%s -e \"%s\" \& echo \$!', progname, luaprg)/string.format([[(sh -c 'echo \$PPID'; exec %s -e \"%s\") \&]], progname, luaprg)/"
)
for change in "${differences[@]}"; do
    before=$(md5sum <main.lua)
    sed -i -e "$change" main.lua
    if [[ "$(md5sum <main.lua)" == "$before" ]]; then
        echo "FAIL: main.lua no longer has the line that '$change' changes"
        exit 1
    fi
done

started=$SECONDS
timeout -k 5 "$seconds" "$interpreter" main.lua </dev/null >output.txt 2>&1
status=$?
if ((status == 0)) && [[ "$(tail -n 1 output.txt)" == "OK" ]]; then
    echo "ok: $interpreter passed main.lua in $((SECONDS - started)) s (output in $work/output.txt)"
    exit 0
fi
echo "FAIL: $interpreter exited $status on main.lua; last lines of $work/output.txt:"
tail -n 30 output.txt | sed 's/^/    | /'
exit 1
