#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs the soak test: tests/soak/soak.lua under mockit-run for SECONDS while this shell sends it a
# storm of SIGUSR1 and SIGHUP, then checks the script's verdict and that each signal was handled
# at least once and no more often than it was sent (the kernel merges a signal sent while one
# of its kind is still pending, so fewer is normal). Meanwhile tests/soak/soak_virtual.lua runs a
# simulated month under mockit-run --virtual-time, with the same seed, and then
# tests/soak/soak_tasks.lua two simulated days of a thousand tasks, then tests/soak/soak_options.lua
# a simulated week of timers with options through stalls, then tests/soak/soak_cron.lua two
# simulated weeks of cron timers across daylight saving changes, wall clock steps and suspends:
# they need a few seconds of one CPU, so they run beside the real-time soak, within its SECONDS,
# rather than after it. Prints the figures of all five.
#
#   tests/soak/run.sh path/to/mockit-run [SECONDS [SEED]]     (default 30 s, a random seed)
set -u

if (($# < 1)) || [[ ! -x "$1" ]]; then
    echo "usage: $0 path/to/mockit-run [SECONDS [SEED]]" >&2
    exit 2
fi
mockit_run=$1
seconds=${2:-30}
seed=${3:-$((RANDOM * 32768 + RANDOM))}
here=$(cd "$(dirname "$0")" && pwd)

work=$(mktemp -d "${TMPDIR:-/tmp}/mockit-soak.XXXXXX")
pid=""
virtual_pid=""
# shellcheck disable=SC2317  # called by the trap
cleanup() {
    [[ -n "$pid" ]] && kill -KILL "$pid" 2>/dev/null
    [[ -n "$virtual_pid" ]] && kill -KILL "$virtual_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

# run_virtual NAME ARGS...: runs mockit-run --virtual-time ARGS, its output, errors and exit
# status to $work/NAME.out, .err and .status.
run_virtual() {
    local name=$1
    shift
    "$mockit_run" --virtual-time "$@" >"$work/$name.out" 2>"$work/$name.err"
    echo $? >"$work/$name.status"
}

# report_virtual NAME LABEL COMMAND: prints what the soak run as NAME printed, its errors
# prefixed "LABEL: stderr: ", and a failure naming COMMAND unless it exited with 0 (no status:
# it was killed); fails then.
report_virtual() {
    local name=$1 label=$2 command=$3 exited
    exited=$(cat "$work/$name.status" 2>/dev/null || echo killed)
    cat "$work/$name.out"
    sed "s/^/$label: stderr: /" "$work/$name.err"
    [[ "$exited" == 0 ]] || {
        echo "$label: FAIL: $command exited with $exited"
        return 1
    }
}

# wait_or_kill PID TENTHS LABEL WHAT: waits up to TENTHS tenths of a second for PID to end;
# if it has not, prints "LABEL: FAIL: still running WHAT (killed)", kills it and fails.
wait_or_kill() {
    local pid=$1 tenths=$2 label=$3 what=$4 i
    for ((i = 0; i < tenths; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null || return 0
    echo "$label: FAIL: still running $what (killed)"
    kill -KILL "$pid"
    return 1
}

(
    run_virtual virtual "$here/soak_virtual.lua" 30 "$seed"
    run_virtual tasks "$here/soak_tasks.lua" 1000 48 "$seed"
    run_virtual options --seed "$seed" "$here/soak_options.lua" 200 7 "$seed"
    run_virtual cron --seed "$seed" "$here/soak_cron.lua" 40 7 "$seed"
) &
virtual_pid=$!

"$mockit_run" "$here/soak.lua" "$seconds" "$seed" "$work/ready" >"$work/out" 2>"$work/err" &
pid=$!

# The storm starts once the handlers are in place (a SIGUSR1 before that would kill it), and
# ends a second before the run does, so that none arrives after the script is done.
for ((i = 0; i < 200; i++)); do
    [[ -e "$work/ready" ]] && break
    sleep 0.05
done
sent_usr1=0
sent_hup=0
if [[ -e "$work/ready" ]]; then
    stop_at=$(($(date +%s%N) + (seconds - 1) * 1000000000))
    while (($(date +%s%N) < stop_at)); do
        for _ in 1 2 3 4 5; do
            kill -USR1 "$pid" 2>/dev/null && sent_usr1=$((sent_usr1 + 1))
            kill -HUP "$pid" 2>/dev/null && sent_hup=$((sent_hup + 1))
        done
        sleep 0.01
    done
fi

# The run takes SECONDS plus a second to let its last one-offs fire.
status=0
wait_or_kill "$pid" $(((seconds + 30) * 10)) soak "$((seconds + 30)) s after it started" ||
    status=1
wait "$pid"
exit_status=$?
pid=""
# The virtual soaks started with the real one: they have had SECONDS already, and need a few.
wait_or_kill "$virtual_pid" 600 "soak virtual" "60 s after the real-time soak ended" || status=1
wait "$virtual_pid"
virtual_pid=""

cat "$work/out"
sed 's/^/soak: stderr: /' "$work/err"
echo "soak: signals sent SIGUSR1 $sent_usr1 SIGHUP $sent_hup"
((exit_status == 0)) || {
    echo "soak: FAIL: mockit-run exited with $exit_status"
    status=1
}
report_virtual virtual "soak virtual" "mockit-run --virtual-time" || status=1
report_virtual tasks "soak tasks" "mockit-run --virtual-time soak_tasks.lua" || status=1
report_virtual options "soak options" "mockit-run --virtual-time soak_options.lua" || status=1
report_virtual cron "soak cron" "mockit-run --virtual-time soak_cron.lua" || status=1
# handled NAME: the count soak.lua reported for signal NAME.
handled() {
    sed -n "s/^soak: signals handled .*$1 \([0-9]*\).*/\1/p" "$work/out"
}
for sig in SIGUSR1 SIGHUP; do
    got=$(handled "$sig")
    sent=$sent_usr1
    [[ "$sig" == SIGHUP ]] && sent=$sent_hup
    if [[ -z "$got" ]] || ((got == 0 || got > sent)); then
        echo "soak: FAIL: $sig handled ${got:-?} times, sent $sent"
        status=1
    fi
done
((status == 0)) && echo "soak: run.sh PASS"
exit "$status"
