#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The .debs, built by `cpack -G DEB` from the build tree into a scratch directory: one package
# per part, as Debian splits them (mockit-run, libmockit0, libmockit-dev, lua-mockit, and a
# -dbgsym package beside each one holding ELF files); each one's control fields and files; the
# symbols file against what libmockit.so.0 exports; a Depends line that covers every library the
# binaries need; lintian's verdict; and, every package installed with dpkg into a root of its
# own, a mockit-run and a Lua module (for the stock lua5.4) that work from there.
#
#   tests/packaging/test_deb.sh BUILD_DIR LIBDIR LUA_CMOD_DIR VERSION CPACK SCRATCH_PARENT \
#       PREFIX DEB_BUILDFLAGS SOURCE_DIR
#
# LIBDIR and LUA_CMOD_DIR are relative to the prefix, as configured: lib/<multiarch> when the
# tree was configured with -DCMAKE_INSTALL_PREFIX=/usr, lib otherwise. lintian must find no
# error and no warning. A tree configured as scripts/package configures it (PREFIX /usr,
# DEB_BUILDFLAGS ON) must also give no info tag but the one listed below; any other tree may
# give the tags its configuration explains, and no other.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

expect_args 9 $# BUILD_DIR LIBDIR LUA_CMOD_DIR VERSION CPACK SCRATCH_PARENT PREFIX \
    DEB_BUILDFLAGS SOURCE_DIR
build_dir=$(realpath "$1") libdir=$2 cmod_dir=$3 version=$4 cpack=$5 prefix=$7 buildflags=$8
src=$9
need_tool dpkg-deb dpkg-shlibdeps dpkg-query dpkg-parsechangelog file readelf nm lua5.4 lintian
make_scratch "$6"
arch=$(dpkg --print-architecture)

# cpack writes its staging tree and the packages under -B, so nothing lands in the source or
# build tree.
(cd "$SCRATCH" && run_logged "cpack -G DEB" "$cpack" -G DEB \
    --config "$build_dir/CPackConfig.cmake" -B "$SCRATCH/out")
made=$(cd "$SCRATCH/out" && shopt -s nullglob && printf '%s\n' *.deb *.ddeb | sort | tr '\n' ' ')
expected=""
for name in libmockit-dev_ libmockit0-dbgsym_ libmockit0_ lua-mockit-dbgsym_ lua-mockit_ \
    mockit-run-dbgsym_ mockit-run_; do
    ext=deb
    [[ "$name" == *-dbgsym_ ]] && ext=ddeb
    expected+="$name${version}_$arch.$ext "
done
expect_equals "$made" "$expected" "the packages cpack made"
ok "cpack -G DEB made $made"

deb_of() { echo "$SCRATCH/out/$1_${version}_$arch.deb"; }
ddeb_of() { echo "$SCRATCH/out/$1-dbgsym_${version}_$arch.ddeb"; }
field() { dpkg-deb -f "$1" "$2"; }
files_of() { dpkg-deb -c "$1" | awk '{ print $6 }' | sed 's|^\./||; /\/$/d; /^$/d' | sort; }

# The control fields every package has, and each one's own.
for package in mockit-run libmockit0 libmockit-dev lua-mockit; do
    deb=$(deb_of "$package")
    expect_equals "$(field "$deb" Package)" "$package" "Package of $package"
    expect_equals "$(field "$deb" Version)" "$version" "Version of $package"
    expect_equals "$(field "$deb" Architecture)" "$arch" "Architecture of $package"
    [[ -n "$(field "$deb" Maintainer)" ]] || die "$package has no Maintainer"
    description=$(field "$deb" Description)
    awk 'length > 80 { exit 1 }' <<<"$description" ||
        die "a line of $package's Description is longer than 80 columns"
    summary=${description%%$'\n'*}
    [[ "$summary" != *"built using CMake"* && "$summary" != *"Run timer-driven Lua programs:"* ]] ||
        die "$package's summary is CPack's or the project's, not its own: $summary"
done
expect_equals "$(field "$(deb_of mockit-run)" Section)" "interpreters" "Section of mockit-run"
expect_equals "$(field "$(deb_of libmockit0)" Section)" "libs" "Section of libmockit0"
expect_equals "$(field "$(deb_of libmockit-dev)" Section)" "libdevel" "Section of libmockit-dev"
expect_equals "$(field "$(deb_of lua-mockit)" Section)" "interpreters" "Section of lua-mockit"
expect_equals "$(field "$(deb_of lua-mockit)" Provides)" "lua5.4-mockit" "Provides of lua-mockit"
expect_contains "$(field "$(deb_of libmockit-dev)" Depends)" "libmockit0 (= $version)" \
    "Depends of libmockit-dev"
# Calendar schedules read /usr/share/zoneinfo, which no library dependency brings in.
for package in mockit-run lua-mockit; do
    expect_contains "$(field "$(deb_of "$package")" Depends)" "tzdata" "Depends of $package"
done
for package in mockit-run libmockit0 lua-mockit; do
    ddeb=$(ddeb_of "$package")
    expect_equals "$(field "$ddeb" Depends)" "$package (= $version)" "Depends of $package-dbgsym"
    expect_equals "$(field "$ddeb" Section)" "debug" "Section of $package-dbgsym"
done
ok "control fields: names, version $version, sections, summaries, Provides: lua5.4-mockit," \
    "each -dev and -dbgsym package depends on its library or binary package (= $version)"

# Each package's files, exactly: a file in the wrong package, or in none, fails.
doc() { printf 'usr/share/doc/%s/changelog.gz\nusr/share/doc/%s/copyright\n' "$1" "$1"; }
expect_files() {
    local package=$1 actual wanted
    actual=$(files_of "$(deb_of "$package")")
    wanted=$( (doc "$package" && printf '%s\n' "${@:2}") | sort)
    [[ "$actual" == "$wanted" ]] || {
        diff <(echo "$wanted") <(echo "$actual") | sed "s/^/    | /" >&2 || true
        die "$package does not hold the files it should (< wanted, > held)"
    }
}
examples=$(cd "$src/scripts/examples" && find . -name '*.lua' |
    sed 's|^\./|usr/share/doc/mockit-run/examples/|')
# shellcheck disable=SC2086 # one example a word
expect_files mockit-run usr/bin/mockit-run usr/share/man/man1/mockit-run.1.gz \
    usr/lib/systemd/system/mockit-run@.service usr/share/doc/mockit-run/reference.md $examples
expect_files libmockit0 "usr/$libdir/libmockit.so.0" "usr/$libdir/libmockit.so.$version"
expect_files libmockit-dev usr/include/mockit/mockit.h usr/include/mockit/export.h \
    "usr/$libdir/libmockit.so" "usr/$libdir/pkgconfig/mockit.pc" \
    "usr/$libdir/cmake/mockit/mockitConfig.cmake" \
    "usr/$libdir/cmake/mockit/mockitConfigVersion.cmake" \
    "usr/$libdir/cmake/mockit/mockitTargets.cmake" \
    "usr/$libdir/cmake/mockit/mockitTargets-relwithdebinfo.cmake"
expect_files lua-mockit "usr/$cmod_dir/mockit.so" "usr/$cmod_dir/luamockit.so"
ok "each package holds its own files and its doc directory, no other"

# Installed with dpkg into a root of their own (--instdir), against a copy of this system's
# package database (--admindir): dpkg checks each package's dependencies, ours on each other and
# on the system's, and that no file belongs to two packages. --no-triggers: the ldconfig trigger
# would run the system's ldconfig inside that root. Under fakeroot when not run as root.
root="$SCRATCH/root"
# dpkg_into ROOT ADMINDIR: sets DPKG to the dpkg command that installs into ROOT, with a fresh
# ADMINDIR that knows this system's packages.
dpkg_into() {
    mkdir -p "$1" "$2/updates" "$2/info"
    cp /var/lib/dpkg/status "$2/status"
    : >"$2/available"
    DPKG=(dpkg --instdir="$1" --admindir="$2" --no-triggers --force-unsafe-io --install)
    ((EUID == 0)) || DPKG=(fakeroot "${DPKG[@]}")
}
((EUID == 0)) || need_tool fakeroot
dpkg_into "$root" "$SCRATCH/admin"
run_logged "dpkg --install" "${DPKG[@]}" "$SCRATCH"/out/*.deb "$SCRATCH"/out/*.ddeb
for package in mockit-run libmockit0 libmockit-dev lua-mockit mockit-run-dbgsym \
    libmockit0-dbgsym lua-mockit-dbgsym; do
    status=$(dpkg-query --admindir="$SCRATCH/admin" -W -f='${Status} ${Version}' "$package")
    expect_equals "$status" "install ok installed $version" "dpkg's status of $package"
done
# The development package alone is refused: it needs the library.
dpkg_into "$SCRATCH/root-dev" "$SCRATCH/admin-dev"
if timeout 60 "${DPKG[@]}" "$(deb_of libmockit-dev)" >"$SCRATCH/dev-alone.log" 2>&1; then
    die "dpkg installed libmockit-dev without libmockit0"
fi
expect_contains "$(<"$SCRATCH/dev-alone.log")" "depends on libmockit0 (= $version)" \
    "dpkg's refusal of libmockit-dev alone"
ok "dpkg installs the 7 packages together (dependencies met, no file in two of them)," \
    "and refuses libmockit-dev without libmockit0"

# libmockit0's control files: the symbols file lists exactly what the library exports, the
# shlibs file names the package, ldconfig runs from a trigger, and no maintainer script does.
control="$SCRATCH/control"
run_logged "dpkg-deb -e libmockit0" dpkg-deb -e "$(deb_of libmockit0)" "$control"
for script in preinst postinst prerm postrm; do
    [[ ! -e "$control/$script" ]] || die "libmockit0 has a $script"
done
expect_equals "$(<"$control/triggers")" "activate-noawait ldconfig" "libmockit0's triggers"
expect_equals "$(<"$control/shlibs")" "libmockit 0 libmockit0 (>= $version)" "libmockit0's shlibs"
symbols=$(<"$control/symbols")
expect_equals "$(head -n 1 <<<"$symbols")" "libmockit.so.0 libmockit0 #MINVER#" \
    "the symbols file's first line"
listed=$(sed -n 's/^ \([^@ ]*\)@Base .*/\1/p' <<<"$symbols" | sort)
exported=$(nm -D --defined-only "$root/usr/$libdir/libmockit.so.0" | awk '{ print $3 }' | sort)
[[ "$listed" == "$exported" ]] || {
    diff <(echo "$listed") <(echo "$exported") | sed "s/^/    | /" >&2 || true
    die "packaging/deb/libmockit0.symbols does not list what libmockit.so.0 exports" \
        "(< listed, > exported): a new function gets a line with the version it came in"
}
ok "libmockit0: symbols file lists the $(wc -l <<<"$exported") exported functions; shlibs;" \
    "ldconfig trigger; no maintainer script"

# Debian's changelog, in every package, is at the version packaged.
changelog=$(gzip -dc "$root/usr/share/doc/mockit-run/changelog.gz")
expect_equals "$(dpkg-parsechangelog -l- -S Version <<<"$changelog")" "$version" \
    "the version at the top of packaging/deb/changelog"
expect_contains "$(<"$root/usr/share/doc/libmockit0/copyright")" "License: Expat" \
    "libmockit0's copyright file"
ok "the changelog's latest entry is $version; the copyright file says Expat"

# The binaries: stripped, no .comment, their debug info in the -dbgsym package under their
# build ID.
elfs=()
while IFS= read -r elf; do elfs+=("$elf"); done < <(find "$root" -path "$root/usr/lib/debug" \
    -prune -o -type f -exec sh -c 'file -b "$1" | grep -q "^ELF"' _ {} \; -print)
((${#elfs[@]} == 3)) || die "expected 3 ELF files (host, library, module), found ${#elfs[@]}"
debug_files=$(for package in mockit-run libmockit0 lua-mockit; do
    files_of "$(ddeb_of "$package")"; done)
for elf in "${elfs[@]}"; do
    sections=$(readelf -S -W "$elf")
    [[ "$sections" != *" .comment "* ]] || die "${elf#"$root"} has a .comment section"
    [[ "$sections" != *" .debug_info "* && "$sections" != *" .symtab "* ]] ||
        die "${elf#"$root"} is not stripped"
    id=$(readelf -n "$elf" | sed -n 's/.*Build ID: \([0-9a-f]*\)/\1/p')
    debug="usr/lib/debug/.build-id/${id:0:2}/${id:2}.debug"
    grep -qx "$debug" <<<"$debug_files" ||
        die "no -dbgsym package holds the debug info of ${elf#"$root"} (build ID $id)"
    [[ "$(readelf -S -W "$root/$debug" 2>/dev/null)" == *" .debug_info "* ]] ||
        die "/$debug has no .debug_info"
done
ok "the 3 binaries are stripped, have no .comment, and their debug info is in -dbgsym packages"

# Each library a packaged ELF file needs must come from a package its Depends line names:
# one of ours (libmockit0), or the installed package that holds it.
multiarch=$(gcc -print-multiarch 2>/dev/null || dpkg-architecture -qDEB_HOST_MULTIARCH)
owner_of() {
    local line
    if [[ -e "$root/usr/$libdir/$1" ]]; then
        echo libmockit0
        return 0
    fi
    while IFS= read -r line; do
        case "${line#*: }" in
        "/lib/$multiarch/$1" | "/usr/lib/$multiarch/$1")
            echo "${line%%:*}"
            return 0
            ;;
        esac
    done < <(dpkg-query -S "*/$1" 2>/dev/null)
}
depends_on() {
    local entry entries
    IFS=',' read -ra entries <<<"$1"
    for entry in "${entries[@]}"; do
        entry=${entry# }
        [[ "${entry%% *}" == "$2" ]] && return 0
    done
    return 1
}
checked=0
for package in mockit-run libmockit0 lua-mockit; do
    depends=$(field "$(deb_of "$package")" Depends)
    echo "      $package Depends: $depends"
    while IFS= read -r path; do
        elf="$root/$path"
        if [[ ! -f "$elf" || -L "$elf" ]] || ! file -b "$elf" | grep -q '^ELF'; then
            continue
        fi
        while IFS= read -r needed; do
            owner=$(owner_of "$needed")
            [[ -n "$owner" ]] || die "no package holds $needed, needed by /$path"
            depends_on "$depends" "$owner" ||
                die "/$path needs $needed from $owner, which $package's Depends does not name"
            checked=$((checked + 1))
        done < <(readelf -d "$elf" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
    done < <(files_of "$(deb_of "$package")")
done
((checked > 0)) || die "no library dependency was checked"
ok "Depends covers every library the packaged binaries need ($checked NEEDED entries)"

# lintian. An error fails in any tree. Warnings and info tags fail unless allowed: one info tag
# in any tree, and in a tree not configured as scripts/package configures it, those that its
# configuration explains.
allowed=(
    # The -dbgsym packages link their doc directory to their package's, as dh_strip does;
    # lintian can tell that the two come from one source only when given the .changes file.
    cannot-check-whether-usr-share-doc-symlink-points-to-foreign-package
)
explained=()
if [[ "$prefix" != /usr || "$libdir" != "lib/$multiarch" ]]; then
    # mockit.pc in /usr/lib/pkgconfig, not in the multiarch directory: a warning.
    explained+=(pkg-config-unavailable-for-cross-compilation)
fi
if [[ "$buildflags" != ON ]]; then
    explained+=(hardening-no-bindnow hardening-no-fortify-functions hardening-no-relro)
fi
# --fail-on none: the exit status says whether lintian ran; the tags are judged here.
run_logged lintian lintian --display-info --no-tag-display-limit --fail-on none \
    "$SCRATCH"/out/*.deb "$SCRATCH"/out/*.ddeb
unexpected="" seen_explained=""
while IFS= read -r line; do
    tag=$(awk '{ print $3 }' <<<"$line")
    if [[ "$line" != E:* && " ${allowed[*]} " == *" $tag "* ]]; then
        continue
    elif [[ "$line" != E:* && " ${explained[*]-} " == *" $tag "* ]]; then
        seen_explained+=" $tag"
    else
        unexpected+="$line"$'\n'
    fi
done < <(grep -E '^[EWI]: ' "$SCRATCH/lintian.log" || true)
[[ -z "$unexpected" ]] || {
    printf '%s' "$unexpected" | sed "s/^/    | /" >&2 || true
    die "lintian reports the tags above"
}
if [[ -z "$seen_explained" ]]; then
    ok "lintian: no error, no warning, no info tag but: ${allowed[*]}"
else
    ok "lintian: no error; this tree's configuration gives:$(tr ' ' '\n' <<<"$seen_explained" |
        sort -u | tr '\n' ' ')(none with -DCMAKE_INSTALL_PREFIX=/usr" \
        "-DMOCKIT_DEB_BUILDFLAGS=ON, as scripts/package builds)"
fi

unit=$(<"$root/usr/lib/systemd/system/mockit-run@.service")
expect_contains "$unit" $'\n'"ExecStart=/usr/bin/mockit-run /etc/mockit-run/%i.lua"$'\n' \
    "the packaged unit"
expect_contains "$(<"$root/usr/$libdir/pkgconfig/mockit.pc")" "prefix=/usr"$'\n' \
    "the packaged mockit.pc"
rendered=$(MANWIDTH=80 man -l "$root/usr/share/man/man1/mockit-run.1.gz" 2>&1) ||
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

out=$(timeout 20 "$root/usr/bin/mockit-run" -e 'print(mockit.mstimestamp() > 0)' 2>&1) ||
    die "the packaged mockit-run failed: $out"
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
ok "the stock lua5.4 loads lua-mockit's module as mockit and as luamockit"
