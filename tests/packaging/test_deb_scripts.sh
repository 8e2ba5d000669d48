#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# What the .debs' build relies on besides CPack, each on inputs of its own, and each way it
# fails: packaging/deb/pre_build.cmake (the .comment sections), packaging/deb/post_build.cmake
# (libmockit0's maintainer scripts, the -dbgsym packages), and MOCKIT_DEB_BUILDFLAGS (the flags
# of dpkg-buildflags, in a tree that is only configured).
#
#   tests/packaging/test_deb_scripts.sh SOURCE_DIR CMAKE GENERATOR SCRATCH_PARENT
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

expect_args 4 $# SOURCE_DIR CMAKE GENERATOR SCRATCH_PARENT
unset DEB_BUILD_MAINT_OPTIONS  # the flags checked below are hardening=+all's
src=$(realpath "$1") cmake=$2 generator=$3
need_tool cc objcopy readelf dpkg-deb dpkg-buildflags
make_scratch "$4"
pre_build="$src/packaging/deb/pre_build.cmake"
post_build="$src/packaging/deb/post_build.cmake"

# expect_failure WHAT NEEDLE CMD...: CMD fails, and says NEEDLE.
expect_failure() {
    local what=$1 needle=$2 out
    shift 2
    if out=$(timeout 120 "$@" 2>&1); then
        printf '%s\n' "$out" | tail -n 20 | sed 's/^/    | /' >&2
        die "$what succeeded"
    fi
    expect_contains "$out" "$needle" "the output of $what"
}

# pre_build.cmake: .comment goes from each ELF file, symlinks and other files are left alone.
stage="$SCRATCH/stage/host/usr/bin"
mkdir -p "$stage"
echo 'int main(void) { return 0; }' >"$SCRATCH/main.c"
cc -o "$stage/prog" "$SCRATCH/main.c"
[[ "$(readelf -S -W "$stage/prog")" == *" .comment "* ]] || die "cc gave no .comment to remove"
ln -s prog "$stage/link"
echo "not ELF" >"$stage/text"
run_logged "pre_build.cmake" "$cmake" -DCPACK_TEMPORARY_DIRECTORY="$SCRATCH/stage" -P "$pre_build"
[[ "$(readelf -S -W "$stage/prog")" != *" .comment "* ]] || die "prog still has a .comment"
"$stage/prog" || die "prog no longer runs"
expect_equals "$(readlink "$stage/link")" "prog" "the symlink"
expect_equals "$(<"$stage/text")" "not ELF" "the text file"
expect_contains "$(<"$SCRATCH/pre_build_cmake.log")" "removed .comment from 1 ELF files" \
    "pre_build.cmake's report"
printf '\177ELF and nothing else' >"$stage/broken"
expect_failure "pre_build.cmake on a broken ELF file" "objcopy --remove-section=.comment" \
    "$cmake" -DCPACK_TEMPORARY_DIRECTORY="$SCRATCH/stage" -P "$pre_build"
ok "pre_build.cmake removes .comment from ELF files, leaves the rest, fails on a broken one"

# make_deb NAME DIR POSTINST: a package NAME from DIR, with POSTINST as its postinst (none if
# empty) and CPack's postrm.
make_deb() {
    local name=$1 tree=$2
    mkdir -p "$tree/DEBIAN" "$tree/usr/lib"
    echo data >"$tree/usr/lib/libfake.so.0"
    printf 'Package: %s\nVersion: 1.0\nArchitecture: all\nMaintainer: a <a@b.example>\nDescription: test\n' \
        "${name%%-dbgsym}" >"$tree/DEBIAN/control"
    if [[ -n "$3" ]]; then
        printf '%s' "$3" >"$tree/DEBIAN/postinst"
        # shellcheck disable=SC2016 # the script's own $1
        printf '#!/bin/sh\n\nset -e\nif [ "$1" = "remove" ]; then\n\tldconfig\nfi\n' \
            >"$tree/DEBIAN/postrm"
        chmod 0755 "$tree/DEBIAN/postinst" "$tree/DEBIAN/postrm"
    fi
}
# CPack's own postinst, as CPack 3.25 writes it.
cpack_postinst=$'#!/bin/sh\n\nset -e\nif [ "$1" = "configure" ]; then\n\tldconfig\nfi\n'
make_deb libmockit0 "$SCRATCH/lib" "$cpack_postinst"
run_logged "dpkg-deb -b libmockit0" dpkg-deb --root-owner-group -b "$SCRATCH/lib" \
    "$SCRATCH/libmockit0_1.0_all.deb"
# A -dbgsym package as CPack makes it: md5sums naming the staging directory, files executable.
dbg="$SCRATCH/dbg"
mkdir -p "$dbg/DEBIAN" "$dbg/usr/lib/debug/.build-id/ab"
echo debug >"$dbg/usr/lib/debug/.build-id/ab/cdef.debug"
chmod 0755 "$dbg/usr/lib/debug/.build-id/ab/cdef.debug"
printf 'Package: fake-dbgsym\nVersion: 1.0\nArchitecture: all\nMaintainer: a <a@b.example>\nDescription: test\n' \
    >"$dbg/DEBIAN/control"
echo "00000000000000000000000000000000  /staging/usr/lib/debug/.build-id/ab/cdef.debug" \
    >"$dbg/DEBIAN/md5sums"
run_logged "dpkg-deb -b fake-dbgsym" dpkg-deb --root-owner-group -b "$dbg" \
    "$SCRATCH/fake-dbgsym_1.0_all.ddeb"
run_logged "post_build.cmake" "$cmake" -DCPACK_MOCKIT_LIBRARY_PACKAGE=libmockit0 \
    "-DCPACK_PACKAGE_FILES=$SCRATCH/libmockit0_1.0_all.deb;$SCRATCH/fake-dbgsym_1.0_all.ddeb" \
    -P "$post_build"
control=$(dpkg-deb -I "$SCRATCH/libmockit0_1.0_all.deb")
[[ "$control" != *postinst* && "$control" != *postrm* ]] ||
    die "libmockit0 still has a maintainer script: $control"
expect_equals "$(dpkg-deb --fsys-tarfile "$SCRATCH/libmockit0_1.0_all.deb" | tar -xO ./usr/lib/libfake.so.0)" \
    "data" "libmockit0's file"
mkdir "$SCRATCH/dbg-out"
dpkg-deb -R "$SCRATCH/fake-dbgsym_1.0_all.ddeb" "$SCRATCH/dbg-out"
expect_equals "$(<"$SCRATCH/dbg-out/DEBIAN/md5sums")" \
    "$(cd "$dbg" && md5sum usr/lib/debug/.build-id/ab/cdef.debug)" "the mended md5sums"
expect_equals "$(stat -c %a "$SCRATCH/dbg-out/usr/lib/debug/.build-id/ab/cdef.debug")" "644" \
    "the debug file's mode"
expect_equals "$(readlink "$SCRATCH/dbg-out/usr/share/doc/fake-dbgsym")" "fake" \
    "the -dbgsym package's doc directory"
ok "post_build.cmake takes CPack's ldconfig scripts out of libmockit0 and mends a -dbgsym package"

make_deb libmockit0 "$SCRATCH/lib2" $'#!/bin/sh\nset -e\nldconfig\nrm -rf /etc/foo\n'
mkdir -p "$SCRATCH/out2"
run_logged "dpkg-deb -b libmockit0 (2)" dpkg-deb --root-owner-group -b "$SCRATCH/lib2" \
    "$SCRATCH/out2/libmockit0_1.0_all.deb"
expect_failure "post_build.cmake on a postinst of another kind" "postinst does more than call ldconfig" \
    "$cmake" -DCPACK_MOCKIT_LIBRARY_PACKAGE=libmockit0 \
    "-DCPACK_PACKAGE_FILES=$SCRATCH/out2/libmockit0_1.0_all.deb" -P "$post_build"
expect_failure "post_build.cmake with no libmockit0 package" "no libmockit0 package among" \
    "$cmake" -DCPACK_MOCKIT_LIBRARY_PACKAGE=libmockit0 \
    "-DCPACK_PACKAGE_FILES=$SCRATCH/fake-dbgsym_1.0_all.ddeb" -P "$post_build"
echo "not a package" >"$SCRATCH/libmockit0_9_all.deb"
expect_failure "post_build.cmake on a file that is no package" "dpkg-deb --raw-extract" \
    "$cmake" -DCPACK_MOCKIT_LIBRARY_PACKAGE=libmockit0 \
    "-DCPACK_PACKAGE_FILES=$SCRATCH/libmockit0_9_all.deb" -P "$post_build"
ok "post_build.cmake fails on a postinst it did not expect, a missing package, a broken one"

# MOCKIT_DEB_BUILDFLAGS, configured only: the flags reach the compile and link lines.
configure=("$cmake" -S "$src" -G "$generator" -DCMAKE_BUILD_TYPE=RelWithDebInfo
    -DMOCKIT_BUILD_TESTS=OFF -DMOCKIT_BUILD_BENCH=OFF -DMOCKIT_DEB_BUILDFLAGS=ON)
run_logged "configure with MOCKIT_DEB_BUILDFLAGS" "${configure[@]}" -B "$SCRATCH/flags"
flags=$(cat "$SCRATCH/flags/compile_commands.json" "$SCRATCH/flags"/*.ninja \
    "$SCRATCH/flags"/CMakeFiles/*.ninja 2>/dev/null || true)
for flag in $(dpkg-buildflags --get CPPFLAGS) -fstack-protector-strong -Wl,-z,relro -Wl,-z,now \
    "-ffile-prefix-map=$src=."; do
    expect_contains "$flags" " $flag" "the configured build's commands"
done
ok "MOCKIT_DEB_BUILDFLAGS=ON compiles and links with dpkg-buildflags' flags (hardening=+all)"
expect_failure "MOCKIT_DEB_BUILDFLAGS with a sanitizer" "not with MOCKIT_SANITIZE" \
    "${configure[@]}" -B "$SCRATCH/flags-asan" -DMOCKIT_SANITIZE=address
expect_failure "MOCKIT_DEB_BUILDFLAGS with a failing dpkg-buildflags" \
    "dpkg-buildflags --get CPPFLAGS failed" \
    "${configure[@]}" -B "$SCRATCH/flags-false" -DMOCKIT_DPKG_BUILDFLAGS=/bin/false
ok "MOCKIT_DEB_BUILDFLAGS fails with a sanitizer, and when dpkg-buildflags fails"
