#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Applies .clang-format to every C and C++ file of the project (--check: report, change nothing).
set -euo pipefail
cd "$(dirname "$0")/.."
mode=(-i)
[[ "${1:-}" == "--check" ]] && mode=(--dry-run -Werror)
git ls-files -co --exclude-standard '*.c' '*.h' '*.cpp' '*.hpp' | xargs -r clang-format "${mode[@]}"
