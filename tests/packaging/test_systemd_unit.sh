#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The systemd template unit: systemd-analyze verify accepts it without a single complaint,
# and its sandbox rates "OK" or better in systemd-analyze security (exposure below 5.0).
#
#   tests/packaging/test_systemd_unit.sh UNIT MOCKIT_RUN MAN_PAGE SCRATCH_PARENT
#
# verify insists that ExecStart's binary exists, and /usr/bin/mockit-run need not be
# installed here: it checks a copy of the unit that runs the built binary instead. It also
# runs `man` for Documentation=man:mockit-run(1), so the copy's MANPATH holds our man page.
# Neither command needs systemd running as PID 1.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

expect_args 4 $# UNIT MOCKIT_RUN MAN_PAGE SCRATCH_PARENT
unit=$1 mockit_run=$(realpath "$2") man_page=$3
need_tool systemd-analyze
make_scratch "$4"

name=$(basename "$unit")
expect_equals "$name" "mockit-run@.service" "the unit's file name"
# has_line START: some line of the unit starts with START.
has_line() {
    local line
    while IFS= read -r line; do
        [[ "$line" == "$1"* ]] && return 0
    done <"$unit"
    return 1
}
# The settings the host is written for: it sends READY/STOPPING/WATCHDOG, and exits 0 on SIGTERM.
for setting in "Type=notify" "WatchdogSec=" "Restart=on-failure" "DynamicUser=yes" \
    "StateDirectory=mockit-run/%i" "SystemCallFilter=@system-service" \
    "ExecStart=/usr/bin/mockit-run /etc/mockit-run/%i.lua"; do
    has_line "$setting" || die "$name has no line starting '$setting'"
done
ok "$name has the settings mockit-run is written for"

# A script that fails at once must not be restarted for ever: the start limit has to be reachable,
# that is, StartLimitBurst starts RestartSec apart must fit in StartLimitIntervalSec (systemd's
# default, five in ten seconds, does not with RestartSec=2s).
seconds_of() {  # "2s", "1min", "30" -> seconds
    local v=$1
    case "$v" in
    *min) echo $((${v%min} * 60)) ;;
    *s) echo "${v%s}" ;;
    *) echo "$v" ;;
    esac
}
setting() { sed -n "s/^$1=//p" "$unit" | tail -n 1; }
burst=$(setting StartLimitBurst)
interval=$(setting StartLimitIntervalSec)
restart_sec=$(setting RestartSec)
[[ -n "$burst" && -n "$interval" && -n "$restart_sec" ]] ||
    die "$name lacks StartLimitBurst, StartLimitIntervalSec or RestartSec"
((burst * $(seconds_of "$restart_sec") < $(seconds_of "$interval"))) ||
    die "$burst starts $restart_sec apart never reach the limit of $interval: restarts for ever"
ok "a script that keeps failing reaches the start limit ($burst starts in $interval)"

# The copy runs the built binary; exactly one ExecStart is rewritten, or the check is void.
mkdir -p "$SCRATCH/units" "$SCRATCH/man/man1"
sed "s|^ExecStart=/usr/bin/mockit-run |ExecStart=$mockit_run |" "$unit" >"$SCRATCH/units/$name"
expect_equals "$(grep -c "^ExecStart=$mockit_run " "$SCRATCH/units/$name")" 1 \
    "the number of rewritten ExecStart lines"
cp "$man_page" "$SCRATCH/man/man1/mockit-run.1"

man_option=()
command -v man >/dev/null || man_option=(--man=no)
set +e
verify_out=$(cd "$SCRATCH/units" && MANPATH="$SCRATCH/man" \
    systemd-analyze verify "${man_option[@]}" "./$name" 2>&1)
verify_status=$?
set -e
if ((verify_status != 0)) || [[ -n "$verify_out" ]]; then
    printf '%s\n' "$verify_out" | sed 's/^/    | /' >&2
    die "systemd-analyze verify $name: status $verify_status, or it printed something"
fi
ok "systemd-analyze verify: no complaint"

# The threshold is in tenths: above 4.9 is "MEDIUM" or worse.
set +e
security_out=$(cd "$SCRATCH/units" &&
    systemd-analyze security --offline=true --threshold=49 "./$name" 2>&1)
security_status=$?
set -e
overall=$(grep -E "Overall exposure level for" <<<"$security_out" | tail -n 1 || true)
[[ -n "$overall" ]] || {
    printf '%s\n' "$security_out" | tail -n 20 | sed 's/^/    | /' >&2
    die "systemd-analyze security printed no overall exposure level"
}
echo "      $overall"
# "... for mockit-run@i.service: 1.2 OK 🙂"
if [[ ! "$overall" =~ :\ ([0-9]+)\.([0-9])\ ([A-Z]+) ]]; then
    die "cannot read the exposure score from: $overall"
fi
tenths=$((10#${BASH_REMATCH[1]} * 10 + 10#${BASH_REMATCH[2]}))
rating=${BASH_REMATCH[3]}
case "$rating" in
PERFECT | SAFE | OK) ;;
*) die "exposure rating $rating: the sandbox must rate OK or better" ;;
esac
((tenths < 50)) || die "exposure ${BASH_REMATCH[1]}.${BASH_REMATCH[2]} is not below 5.0"
((security_status == 0)) || die "systemd-analyze security --threshold=49 exited $security_status"
ok "systemd-analyze security: exposure ${BASH_REMATCH[1]}.${BASH_REMATCH[2]} $rating"
