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

(
    "$mockit_run" --virtual-time "$here/soak_virtual.lua" 30 "$seed" >"$work/virtual.out" \
        2>"$work/virtual.err"
    echo $? >"$work/virtual.status"
    "$mockit_run" --virtual-time "$here/soak_tasks.lua" 1000 48 "$seed" >"$work/tasks.out" \
        2>"$work/tasks.err"
    echo $? >"$work/tasks.status"
    "$mockit_run" --virtual-time --seed "$seed" "$here/soak_options.lua" 200 7 "$seed" \
        >"$work/options.out" 2>"$work/options.err"
    echo $? >"$work/options.status"
    "$mockit_run" --virtual-time --seed "$seed" "$here/soak_cron.lua" 40 7 "$seed" \
        >"$work/cron.out" 2>"$work/cron.err"
    echo $? >"$work/cron.status"
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
for ((i = 0; i < (seconds + 30) * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
done
if kill -0 "$pid" 2>/dev/null; then
    echo "soak: FAIL: still running $((seconds + 30)) s after it started (killed)"
    kill -KILL "$pid"
    status=1
fi
wait "$pid"
exit_status=$?
pid=""
# The virtual soaks started with the real one: they have had SECONDS already, and need a few.
for ((i = 0; i < 600; i++)); do
    kill -0 "$virtual_pid" 2>/dev/null || break
    sleep 0.1
done
if kill -0 "$virtual_pid" 2>/dev/null; then
    echo "soak virtual: FAIL: still running 60 s after the real-time soak ended (killed)"
    kill -KILL "$virtual_pid"
    status=1
fi
wait "$virtual_pid"
virtual_pid=""
virtual_status=$(cat "$work/virtual.status" 2>/dev/null || echo killed)
tasks_status=$(cat "$work/tasks.status" 2>/dev/null || echo killed)
options_status=$(cat "$work/options.status" 2>/dev/null || echo killed)
cron_status=$(cat "$work/cron.status" 2>/dev/null || echo killed)

cat "$work/out"
sed 's/^/soak: stderr: /' "$work/err"
echo "soak: signals sent SIGUSR1 $sent_usr1 SIGHUP $sent_hup"
((exit_status == 0)) || {
    echo "soak: FAIL: mockit-run exited with $exit_status"
    status=1
}
cat "$work/virtual.out"
sed 's/^/soak virtual: stderr: /' "$work/virtual.err"
[[ "$virtual_status" == 0 ]] || {
    echo "soak virtual: FAIL: mockit-run --virtual-time exited with $virtual_status"
    status=1
}
cat "$work/tasks.out"
sed 's/^/soak tasks: stderr: /' "$work/tasks.err"
[[ "$tasks_status" == 0 ]] || {
    echo "soak tasks: FAIL: mockit-run --virtual-time soak_tasks.lua exited with $tasks_status"
    status=1
}
cat "$work/options.out"
sed 's/^/soak options: stderr: /' "$work/options.err"
[[ "$options_status" == 0 ]] || {
    echo "soak options: FAIL: mockit-run --virtual-time soak_options.lua exited with $options_status"
    status=1
}
cat "$work/cron.out"
sed 's/^/soak cron: stderr: /' "$work/cron.err"
[[ "$cron_status" == 0 ]] || {
    echo "soak cron: FAIL: mockit-run --virtual-time soak_cron.lua exited with $cron_status"
    status=1
}
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
