#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The licence: packaging/LICENSE is the MIT licence, and every source file of ours says so in an
# SPDX-License-Identifier line among its first two (after a #! line). Lua's own test suite and
# the fuzz corpus are not ours to label, nor is what npm installs for the benchmark.
#
#   tests/packaging/test_licence.sh SOURCE_DIR
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

expect_args 1 $# SOURCE_DIR
src=$1

grep -q '^MIT License$' "$src/packaging/LICENSE" || die "packaging/LICENSE is not the MIT licence"
grep -q 'SPDX-License-Identifier\|packaging/LICENSE' "$src/README.md" ||
    die "the README does not say what the licence is"
ok "packaging/LICENSE holds the MIT licence, and the README points at it"

missing=()
checked=0
while IFS= read -r -d '' file; do
    checked=$((checked + 1))
    head -n 2 "$file" | grep -q 'SPDX-License-Identifier: MIT' || missing+=("${file#"$src"/}")
done < <(find "$src/CMakeLists.txt" "$src/app" "$src/libmockit" "$src/scripts" "$src/tests" \
    "$src/packaging" "$src/.ci" \
    \( -path "$src/tests/fuzz/corpus" -o -name node_modules \) -prune -o -type f \
    \( -name '*.cpp' -o -name '*.hpp' -o -name '*.h' -o -name '*.c' -o -name '*.lua' \
    -o -name '*.sh' -o -name '*.py' -o -name '*.js' -o -name '*.cjs' -o -name '*.cmake' \
    -o -name '*.in' \
    -o -name 'CMakeLists.txt' -o -name '*.service' -o -name '*.1' -o -name '*.supp' \
    -o -path "$src/scripts/*" -o -path "$src/.ci/*" \) -print0)
((checked > 100)) || die "only $checked files found: is $src the source tree?"
((${#missing[@]} == 0)) || die "no SPDX-License-Identifier line in: ${missing[*]}"
ok "all $checked source files carry SPDX-License-Identifier: MIT"
