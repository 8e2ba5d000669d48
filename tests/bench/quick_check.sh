#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# ctest's check of scripts/bench: a --quick run against the build under test exits 0 and writes
# results.md. A stale results.md from an earlier run must not pass for a fresh one.
# Usage: quick_check.sh SOURCE_DIR BUILD_DIR
set -uo pipefail
src=$1 build=$2
rm -f "$build/results/results.md"
"$src/scripts/bench" --quick --no-build --build-dir "$build"
rc=$?
if ((rc != 0)); then exit "$rc"; fi
if [[ ! -s "$build/results/results.md" ]]; then
    echo "quick_check: scripts/bench exited 0 but wrote no $build/results/results.md" >&2
    exit 1
fi
