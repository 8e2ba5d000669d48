#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The .deb, built by `cpack -G DEB` from the build tree into a scratch directory: its control
# fields, a Depends line that covers every library its binaries need, the files it holds,
# and, unpacked with dpkg-deb -x, a mockit-run and a Lua module (for the stock lua5.4) that
# work from there.
#
#   tests/packaging/test_deb.sh BUILD_DIR LIBDIR LUA_CMOD_DIR VERSION CPACK SCRATCH_PARENT
#
# LIBDIR and LUA_CMOD_DIR are relative to the prefix, as configured: lib/<multiarch> when the
# tree was configured with -DCMAKE_INSTALL_PREFIX=/usr, lib otherwise (both are searched by
# ld.so and by Debian's lua5.4).
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

expect_args 6 $# BUILD_DIR LIBDIR LUA_CMOD_DIR VERSION CPACK SCRATCH_PARENT
build_dir=$(realpath "$1") libdir=$2 cmod_dir=$3 version=$4 cpack=$5
need_tool dpkg-deb dpkg-shlibdeps dpkg-query file readelf lua5.4
make_scratch "$6"

# cpack writes its staging tree and the package under -B, so nothing lands in the source or
# build tree.
(cd "$SCRATCH" && run_logged "cpack -G DEB" "$cpack" -G DEB \
    --config "$build_dir/CPackConfig.cmake" -B "$SCRATCH/out")
debs=("$SCRATCH"/out/*.deb)
if ((${#debs[@]} != 1)) || [[ ! -f "${debs[0]}" ]]; then
    die "cpack made ${#debs[@]} .deb files: ${debs[*]}"
fi
deb=${debs[0]}
ok "cpack -G DEB made $(basename "$deb")"

field() { dpkg-deb -f "$deb" "$1"; }
expect_equals "$(field Package)" "mockit-run" "Package"
expect_equals "$(field Version)" "$version" "Version"
expect_equals "$(field Architecture)" "$(dpkg --print-architecture)" "Architecture"
expect_equals "$(field Section)" "interpreters" "Section"
[[ -n "$(field Maintainer)" ]] || die "no Maintainer"
[[ -n "$(field Description)" ]] || die "no Description"
awk 'length > 80 { exit 1 }' <<<"$(field Description)" ||
    die "a Description line is longer than 80 columns"
expect_contains "$(field Suggests)" "lua5.4" "Suggests"
depends=$(field Depends)
echo "      Depends: $depends"
expect_contains "$depends" "libc6" "Depends"
expect_contains "$depends" "tzdata" "Depends (calendar schedules read /usr/share/zoneinfo)"
ok "control fields: mockit-run $version, Section interpreters, Suggests lua5.4, Depends tzdata"

contents=$(dpkg-deb -c "$deb" | awk '{ print $6 }')
for path in usr/bin/mockit-run "usr/$libdir/libmockit.so.0" "usr/$cmod_dir/mockit.so" \
    "usr/$cmod_dir/luamockit.so" usr/include/mockit/mockit.h \
    "usr/$libdir/cmake/mockit/mockitConfig.cmake" "usr/$libdir/pkgconfig/mockit.pc" \
    usr/share/man/man1/mockit-run.1 usr/lib/systemd/system/mockit-run@.service \
    usr/share/doc/mockit-run/reference.md usr/share/doc/mockit-run/examples/heartbeat.lua; do
    grep -qx "\./$path" <<<"$contents" || die "the package has no /$path"
done
! grep -vE '^\./usr(/|$)|^\./$' <<<"$contents" || die "the package has files outside /usr"
! grep -E '_CPack_Packages|/usr/local' <<<"$contents" || die "the package leaks a build path"
ok "holds the host, libmockit, the Lua module, headers, CMake and pkg-config files, man page," \
    "reference, unit"

root="$SCRATCH/root"
run_logged "dpkg-deb -x" dpkg-deb -x "$deb" "$root"

# Each library a packaged ELF file needs, unless the package holds it, must come from a
# package the Depends line names: that is what dpkg-shlibdeps is there for.
multiarch=$(gcc -print-multiarch 2>/dev/null || dpkg-architecture -qDEB_HOST_MULTIARCH)
# owner_of SONAME: the installed package holding SONAME in the multiarch library directory.
owner_of() {
    local line
    while IFS= read -r line; do
        case "${line#*: }" in
        "/lib/$multiarch/$1" | "/usr/lib/$multiarch/$1")
            echo "${line%%:*}"
            return 0
            ;;
        esac
    done < <(dpkg-query -S "*/$1" 2>/dev/null)
}
# depends_on PACKAGE: the Depends line names PACKAGE (as a whole name, version aside).
depends_on() {
    local entry entries
    IFS=',' read -ra entries <<<"$depends"
    for entry in "${entries[@]}"; do
        entry=${entry# }
        [[ "${entry%% *}" == "$1" ]] && return 0
    done
    return 1
}
checked=0
while IFS= read -r elf; do
    while IFS= read -r needed; do
        [[ -n "$(find "$root" -name "$needed" -print -quit)" ]] && continue
        owner=$(owner_of "$needed")
        [[ -n "$owner" ]] || die "no installed package holds $needed, needed by ${elf#"$root"}"
        depends_on "$owner" ||
            die "${elf#"$root"} needs $needed from $owner, which Depends does not name"
        checked=$((checked + 1))
    done < <(readelf -d "$elf" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
done < <(find "$root" -type f -exec sh -c 'file -b "$1" | grep -q "^ELF"' _ {} \; -print)
((checked > 0)) || die "no library dependency was checked"
ok "Depends covers every library the packaged binaries need ($checked NEEDED entries)"

unit=$(<"$root/usr/lib/systemd/system/mockit-run@.service")
expect_contains "$unit" $'\n'"ExecStart=/usr/bin/mockit-run /etc/mockit-run/%i.lua"$'\n' \
    "the packaged unit"
expect_contains "$(<"$root/usr/$libdir/pkgconfig/mockit.pc")" "prefix=/usr"$'\n' \
    "the packaged mockit.pc"
rendered=$(MANWIDTH=80 man -l "$root/usr/share/man/man1/mockit-run.1" 2>&1) ||
    die "the packaged man page does not render"
expect_contains "$rendered" "MOCKIT-RUN(1)" "the packaged man page"
ok "the unit runs /usr/bin/mockit-run, mockit.pc says /usr, the man page renders"

# Where the files will be once installed is where ld.so and lua5.4 look by default.
case "$libdir" in
lib | "lib/$multiarch") ;;
*) die "libmockit goes to /usr/$libdir, which ld.so does not search by default" ;;
esac
default_cpath=$(lua5.4 -e 'io.write(package.cpath)')
expect_contains ";$default_cpath;" ";/usr/$cmod_dir/?.so;" "lua5.4's default package.cpath"
ok "/usr/$libdir and /usr/$cmod_dir are searched by default"

out=$(LD_LIBRARY_PATH="$root/usr/$libdir" timeout 20 "$root/usr/bin/mockit-run" \
    -e 'print(mockit.mstimestamp() > 0)' 2>&1) || die "the packaged mockit-run failed: $out"
expect_equals "$out" "true" "the packaged mockit-run's output"
ok "the packaged mockit-run runs"

cpath="$root/usr/$cmod_dir/?.so"
out=$(LUA_CPATH="$cpath" timeout 20 lua5.4 -e '
    local m = require"mockit"
    local t = m.oneoff(5, function() print("fired") end)
    print(m.wait())
    print(m.process_events())' 2>&1) || die "lua5.4 with the packaged module failed: $out"
expect_equals "$out" $'1\nfired\n1' "lua5.4 with the packaged mockit.so"
out=$(LUA_CPATH="$cpath" timeout 20 lua5.4 -e '
    local m = require"luamockit"
    print(package.searchpath("luamockit", package.cpath) ~= nil, m == require"mockit")
    m.oneoff(0, print, "fired")
    m.run()' 2>&1) || die "lua5.4 with the packaged luamockit.so failed: $out"
expect_equals "$out" $'true\ttrue\nfired' "lua5.4 with the packaged luamockit.so"
ok "the stock lua5.4 loads the packaged module as mockit and as luamockit"
