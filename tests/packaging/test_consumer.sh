#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `cmake --install` into a scratch prefix, then libmockit used from there as its users use it,
# through its C ABI (the only headers installed): tests/packaging/consumer through
# find_package(mockit), from C and from C++, and a C program through pkg-config. Also checks that
# the files whose paths are filled in at install time (mockit.pc, the systemd unit) name the
# scratch prefix, not the configured one.
#
#   tests/packaging/test_consumer.sh BUILD_DIR LIBDIR LUA_CMOD_DIR VERSION CONSUMER_DIR \
#       SCRATCH_PARENT CMAKE GENERATOR C_COMPILER CXX_COMPILER
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

expect_args 10 $# BUILD_DIR LIBDIR LUA_CMOD_DIR VERSION CONSUMER_DIR SCRATCH_PARENT CMAKE GENERATOR C_COMPILER CXX_COMPILER
build_dir=$(realpath "$1") libdir=$2 cmod_dir=$3 version=$4 consumer_dir=$(realpath "$5")
cmake=$7 generator=$8 c_compiler=$9 cxx_compiler=${10}
need_tool pkg-config
make_scratch "$6"

prefix="$SCRATCH/prefix"
run_logged "cmake --install" "$cmake" --install "$build_dir" --prefix "$prefix"
for file in "include/mockit/mockit.h" "include/mockit/export.h" \
    "$libdir/libmockit.so.0" "$libdir/libmockit.so" \
    "$libdir/cmake/mockit/mockitConfig.cmake" "$libdir/cmake/mockit/mockitConfigVersion.cmake" \
    "$libdir/cmake/mockit/mockitTargets.cmake" "$libdir/pkgconfig/mockit.pc" \
    "$cmod_dir/mockit.so" "$cmod_dir/luamockit.so" "bin/mockit-run" \
    "share/man/man1/mockit-run.1.gz" "share/doc/mockit-run/reference.md" \
    "share/doc/mockit-run/examples/hello.lua" \
    "lib/systemd/system/mockit-run@.service"; do
    expect_file "$prefix/$file"
done
[[ -L "$prefix/$cmod_dir/luamockit.so" ]] || die "luamockit.so is not a symlink to mockit.so"
# The C++ API (engine, queue, clocks) and the binding's headers describe what libmockit.so does
# not export: a header installed beside mockit.h would promise what no user can link.
headers=$(cd "$prefix/include" && find . -type f -o -type l | sort | tr '\n' ' ')
expect_equals "$headers" "./mockit/export.h ./mockit/mockit.h " "the installed headers"
[[ -x "$prefix/share/doc/mockit-run/examples/shebang.lua" ]] ||
    die "the shebang example lost its executable bit"
ok "cmake --install: library, C headers, CMake package, pkg-config, Lua module, host, docs, unit"

unit=$(<"$prefix/lib/systemd/system/mockit-run@.service")
expect_contains "$unit" $'\n'"ExecStart=$prefix/bin/mockit-run /etc/mockit-run/%i.lua"$'\n' \
    "the installed unit"
expect_contains "$(<"$prefix/$libdir/pkgconfig/mockit.pc")" "prefix=$prefix"$'\n' \
    "the installed mockit.pc"
ok "the unit and mockit.pc name the prefix they were installed under"

# mockit::mockit carries Threads::Threads in its interface, so the config must find it.
grep -q "Threads::Threads" "$prefix/$libdir/cmake/mockit/mockitTargets.cmake" ||
    die "mockitTargets.cmake no longer names Threads::Threads: is find_dependency still needed?"
grep -qx "find_dependency(Threads)" "$prefix/$libdir/cmake/mockit/mockitConfig.cmake" ||
    die "mockitConfig.cmake does not find_dependency(Threads)"
# consumer_cpp builds as C++11 to show that mockit.h needs no newer C++; a standard in the
# interface would silently override that.
! grep -q "cxx_std_" "$prefix/$libdir/cmake/mockit/mockitTargets.cmake" ||
    die "mockit::mockit asks its users for a C++ standard, but its interface is C"
ok "mockitConfig.cmake finds Threads for mockit::mockit, and asks for no C++ standard"

# The package registry could hand the consumer the build tree instead of the install.
run_logged "configure the consumer" "$cmake" -S "$consumer_dir" -B "$SCRATCH/build" \
    -G "$generator" -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix" \
    -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF \
    -DCMAKE_C_COMPILER="$c_compiler" -DCMAKE_CXX_COMPILER="$cxx_compiler"
found=$(sed -n 's/^mockit_DIR:PATH=//p' "$SCRATCH/build/CMakeCache.txt")
expect_equals "$found" "$prefix/$libdir/cmake/mockit" "the consumer's mockit_DIR"
run_logged "build the consumer" "$cmake" --build "$SCRATCH/build"
ok "find_package(mockit) found the scratch install; the consumer builds with -Werror"

# run_consumer EXECUTABLE EXPECTED: runs it against the installed library (never another one).
run_consumer() {
    local exe=$1 expected=$2 out libs
    libs=$(LD_LIBRARY_PATH="$prefix/$libdir" ldd "$exe")
    expect_contains "$libs" "libmockit.so.0 => $prefix/$libdir/libmockit.so.0" "ldd $exe"
    out=$(LD_LIBRARY_PATH="$prefix/$libdir" timeout 20 "$exe" 2>&1) ||
        die "$exe failed:"$'\n'"$out"
    expect_equals "$out" "$expected" "the output of $(basename "$exe")"
}
c_expected="mockit $version"$'\n'"fired 1"$'\n'"destroyed 1"
run_consumer "$SCRATCH/build/consumer_c" "$c_expected"
ok "consumer_c (C ABI) runs against the installed libmockit.so"
run_consumer "$SCRATCH/build/consumer_cpp" "mockit $version"$'\n'"fired 1, destroyed 1"
ok "consumer_cpp (C ABI from C++11) runs against the installed libmockit.so"

export PKG_CONFIG_PATH="$prefix/$libdir/pkgconfig"
expect_equals "$(pkg-config --modversion mockit)" "$version" "pkg-config --modversion mockit"
flags=$(pkg-config --cflags --libs mockit)
expect_contains "$flags" "-I$prefix/include" "pkg-config --cflags --libs mockit"
expect_contains "$flags" "-L$prefix/$libdir" "pkg-config --cflags --libs mockit"
expect_contains "$flags" "-lmockit" "pkg-config --cflags --libs mockit"
# shellcheck disable=SC2086 # the flags are words
run_logged "cc with pkg-config" "$c_compiler" -std=c11 -Wall -Wextra -Werror \
    -o "$SCRATCH/pc_consumer" "$consumer_dir/main.c" $flags
run_consumer "$SCRATCH/pc_consumer" "$c_expected"
ok "pkg-config mockit: $flags"
