#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# What the shipped shared objects export, read from their dynamic symbol tables as ld.so and
# dlsym see them (`nm -D --defined-only`): libmockit.so exactly the functions mockit.h declares,
# mockit.so only its luaopen_ entry points. Anything more is interface nobody meant to promise:
# C++ classes whose layout would then be ABI, or the standard library's instantiations, which
# another library's copies could replace at load time.
#
#   tests/packaging/test_exports.sh LIBMOCKIT_SO MOCKIT_H LUA_MODULE_SO
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

expect_args 3 $# LIBMOCKIT_SO MOCKIT_H LUA_MODULE_SO
libmockit=$1 header=$2 module=$3
need_tool nm c++filt
expect_file "$libmockit"
expect_file "$header"
expect_file "$module"

# The linker may add these to any shared object; they are not an interface.
linker_own="_init _fini"

# exports FILE: the names of FILE's defined dynamic symbols, one a line, sorted, without any
# symbol version (name@@VERSION).
exports() {
    local out
    out=$(nm -D --defined-only "$1") || die "nm -D could not read $1"
    awk 'NF >= 3 { sub(/@.*/, "", $3); print $3 }' <<<"$out" | sort -u
}

# expect_only FILE ALLOWED_REGEX WHAT: fails, listing them demangled, when FILE exports a name
# that neither matches ALLOWED_REGEX nor is the linker's own.
expect_only() {
    local extra
    extra=$(exports "$1" | grep -vE "$2" | grep -vxF -f <(tr ' ' '\n' <<<"$linker_own") || true)
    if [[ -n "$extra" ]]; then
        c++filt <<<"$extra" | head -n 40 | sed 's/^/    | /' >&2
        die "$(basename "$1") exports $(wc -l <<<"$extra") symbols besides $3"
    fi
}

# expect_exported FILE NAME...: fails when FILE does not export every NAME.
expect_exported() {
    local file=$1 names name
    shift
    names=$(exports "$file")
    for name in "$@"; do
        grep -qxF "$name" <<<"$names" || die "$(basename "$file") does not export $name"
    done
}

# Every function mockit.h declares starts its line with MOCKIT_API and names itself on it.
mapfile -t declared < <(sed -n 's/^MOCKIT_API[^(]*[ *]\(mockit_[a-z0-9_]*\)(.*/\1/p' "$header")
((${#declared[@]} >= 10)) || die "found only ${#declared[@]} declarations in $header"
expect_only "$libmockit" "^($(IFS='|'; echo "${declared[*]}"))\$" "the C ABI of mockit.h"
expect_exported "$libmockit" "${declared[@]}"
ok "$(basename "$libmockit") exports exactly the ${#declared[@]} functions of mockit.h"

expect_only "$module" '^luaopen_' "luaopen_*"
expect_exported "$module" luaopen_mockit luaopen_luamockit
ok "$(basename "$module") exports luaopen_mockit and luaopen_luamockit, nothing else"
