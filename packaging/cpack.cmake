# SPDX-License-Identifier: MIT
# CPack settings for the .debs (`cpack -G DEB` in the build tree; scripts/package configures,
# builds and packages in one command). The packages are split as Debian splits a library with
# a program and a Lua binding, one per install component:
#
#   component    package          holds
#   host         mockit-run       /usr/bin/mockit-run, its man page, the systemd unit, the
#                                 reference and the examples
#   library      libmockit0       libmockit.so.0 (its soname names the package), with a symbols
#                                 file, a shlibs file and the ldconfig trigger
#   development  libmockit-dev    the C headers, the libmockit.so link, the CMake package and
#                                 mockit.pc
#   lua          lua-mockit       mockit.so (and luamockit.so) for the stock lua5.4, in
#                                 Debian's Lua module directory; Provides: lua5.4-mockit
#
# and a -dbgsym package (.ddeb) beside each one that holds ELF files, with their debug info.
# Dependencies on other packages come from dpkg-shlibdeps, so they follow what the binaries
# link. Every package has its copyright file (the MIT licence, machine-readable) and the
# changelog (packaging/deb/changelog) in /usr/share/doc/<package>; both only go into the
# packages, not into a `cmake --install`.
#
# The layout is Debian's multiarch one (/usr/lib/<multiarch>) when the tree was configured with
# -DCMAKE_INSTALL_PREFIX=/usr, and the binaries carry Debian's hardening flags when it was
# configured with -DMOCKIT_DEB_BUILDFLAGS=ON: scripts/package does both.

set(CPACK_PACKAGE_NAME "mockit-run")
set(CPACK_PACKAGE_VENDOR "mockit-run")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
# Each package's description starts with its own summary. CPack would put the project's
# DESCRIPTION on top of every one as well, unless this summary is CPack's default.
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${CMAKE_PROJECT_NAME} built using CMake")
set(CPACK_PACKAGE_CONTACT "mockit-run maintainers <maintainers@users.noreply.r-seed-f01fff3e.example>")
set(CPACK_GENERATOR "DEB")
set(CPACK_SOURCE_GENERATOR "")

set(CPACK_DEB_COMPONENT_INSTALL ON)
set(mockit_library_package "libmockit${PROJECT_VERSION_MAJOR}")  # as the soname says
set(CPACK_DEBIAN_HOST_PACKAGE_NAME "mockit-run")
set(CPACK_DEBIAN_LIBRARY_PACKAGE_NAME "${mockit_library_package}")
set(CPACK_DEBIAN_DEVELOPMENT_PACKAGE_NAME "libmockit-dev")
set(CPACK_DEBIAN_LUA_PACKAGE_NAME "lua-mockit")
set(CPACK_COMPONENTS_ALL host development lua)
if(MOCKIT_BUILD_SHARED)
    list(APPEND CPACK_COMPONENTS_ALL library)
    # The headers and the libmockit.so link are for this very library, so the same version.
    set(CPACK_DEBIAN_DEVELOPMENT_PACKAGE_DEPENDS "${mockit_library_package} (= ${PROJECT_VERSION})")
endif()

set(CPACK_DEBIAN_FILE_NAME "DEB-DEFAULT")  # <package>_<version>_<architecture>.deb
set(CPACK_DEBIAN_PACKAGE_PRIORITY "optional")
set(CPACK_DEBIAN_HOST_PACKAGE_SECTION "interpreters")
set(CPACK_DEBIAN_LIBRARY_PACKAGE_SECTION "libs")
set(CPACK_DEBIAN_DEVELOPMENT_PACKAGE_SECTION "libdevel")
set(CPACK_DEBIAN_LUA_PACKAGE_SECTION "interpreters")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# Debian's Lua policy: a module for Lua 5.4 provides lua5.4-<name>; lua5.4 is what loads it.
set(CPACK_DEBIAN_LUA_PACKAGE_PROVIDES "lua5.4-mockit")
set(CPACK_DEBIAN_LUA_PACKAGE_SUGGESTS "lua5.4")
# Calendar schedules read the tz database's files (/usr/share/zoneinfo), which no library
# dependency brings in; dpkg-shlibdeps' findings are added to these.
set(CPACK_DEBIAN_HOST_PACKAGE_DEPENDS "tzdata")
set(CPACK_DEBIAN_LUA_PACKAGE_DEPENDS "tzdata")

# Debian wants description lines under 80 columns; "." stands for an empty line. The first
# line is the summary.
set(mockit_about "mockit-run runs Lua 5.4 scripts with the mockit timer library preloaded:
the script arms one-off, interval and calendar timers, and one loop on the
script's thread runs their callbacks when they fall due, never asynchronously.")
set(CPACK_DEBIAN_HOST_DESCRIPTION "run timer-driven Lua programs
${mockit_about}
.
This package holds the mockit-run host. It runs scripts from the command
line, as a shebang interpreter, or as a systemd service (Type=notify, with
a watchdog: the mockit-run@.service template).")
set(CPACK_DEBIAN_LIBRARY_DESCRIPTION "timer library for C, from mockit-run
${mockit_about}
.
This package holds libmockit, the timer library with a C interface that
runs timer callbacks on a thread of its own.")
set(CPACK_DEBIAN_DEVELOPMENT_DESCRIPTION "timer library for C, from mockit-run - development files
${mockit_about}
.
This package holds what building against libmockit needs: the C headers,
the libmockit.so link, a CMake package (find_package(mockit)) and a
pkg-config file (mockit.pc).")
set(CPACK_DEBIAN_LUA_DESCRIPTION "timer library for Lua 5.4, from mockit-run
${mockit_about}
.
This package holds the mockit module for the stock lua5.4 interpreter:
require(\"mockit\") (or \"luamockit\") and a script runs its own loop.")

# Debug info: not stripped at install, so that CPack splits it out into a -dbgsym package
# (/usr/lib/debug/.build-id/..., named by each binary's build ID) and strips the binaries.
set(CPACK_STRIP_FILES OFF)
set(CPACK_DEBIAN_DEBUGINFO_PACKAGE ON)

# What CPack leaves for these scripts to do (packaging/deb/*.cmake): dropping the compilers'
# .comment sections before packaging, as dh_strip does; replacing the ldconfig calls it writes
# into libmockit0's maintainer scripts by the ldconfig trigger (below); and mending the -dbgsym
# packages (their md5sums, their doc directory).
if(MOCKIT_BUILD_SHARED)
    set(CPACK_MOCKIT_LIBRARY_PACKAGE "${mockit_library_package}")
endif()
set(CPACK_PRE_BUILD_SCRIPTS "${CMAKE_CURRENT_LIST_DIR}/deb/pre_build.cmake")
set(CPACK_POST_BUILD_SCRIPTS "${CMAKE_CURRENT_LIST_DIR}/deb/post_build.cmake")

# libmockit0's control files. The symbols file lists what libmockit.so.0 exports, each with the
# version that brought it (tests/packaging/test_deb.sh checks it against the library); the
# shlibs file serves tools that do not read symbols files. The trigger runs ldconfig once when
# dpkg is done, instead of a call in postinst and postrm.
set(mockit_deb_dir "${PROJECT_BINARY_DIR}/packaging/deb")
file(MAKE_DIRECTORY "${mockit_deb_dir}/library")
configure_file("${CMAKE_CURRENT_LIST_DIR}/deb/${mockit_library_package}.symbols"
    "${mockit_deb_dir}/library/symbols" COPYONLY)
file(CONFIGURE OUTPUT "${mockit_deb_dir}/library/shlibs"
    CONTENT
    "libmockit ${PROJECT_VERSION_MAJOR} ${mockit_library_package} (>= ${PROJECT_VERSION})\n")
file(CONFIGURE OUTPUT "${mockit_deb_dir}/library/triggers"
    CONTENT "activate-noawait ldconfig\n")
set(CPACK_DEBIAN_LIBRARY_PACKAGE_CONTROL_EXTRA
    "${mockit_deb_dir}/library/symbols"
    "${mockit_deb_dir}/library/shlibs"
    "${mockit_deb_dir}/library/triggers")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

# The copyright file, in Debian's machine-readable format, from packaging/LICENSE: the licence
# text goes below "License: Expat" (Debian's name for the MIT licence), indented, with " ." for
# an empty line.
file(READ "${CMAKE_CURRENT_LIST_DIR}/LICENSE" mockit_licence)
string(REGEX MATCH "Copyright \\(c\\) ([^\n]*)" mockit_holder "${mockit_licence}")
set(mockit_holder "${CMAKE_MATCH_1}")
string(REGEX REPLACE "^MIT License\n\n[^\n]*\n\n" "" mockit_licence "${mockit_licence}")
string(REGEX REPLACE "\n+$" "" mockit_licence "${mockit_licence}")
string(REPLACE "\n\n" "\n.\n" mockit_licence "${mockit_licence}")
string(REPLACE "\n" "\n " mockit_licence " ${mockit_licence}")
file(CONFIGURE OUTPUT "${mockit_deb_dir}/copyright" CONTENT
"Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: mockit-run
Upstream-Contact: ${CPACK_PACKAGE_CONTACT}

Files: *
Copyright: ${mockit_holder}
License: Expat

License: Expat
${mockit_licence}
" @ONLY)

# The changelog, gzipped as Debian ships it (a native package's is changelog.gz).
add_custom_command(OUTPUT "${mockit_deb_dir}/changelog.gz"
    COMMAND sh -c "\"$0\" -9nc \"$1\" >\"$2\"" "${MOCKIT_GZIP}"
            "${CMAKE_CURRENT_LIST_DIR}/deb/changelog" "${mockit_deb_dir}/changelog.gz"
    DEPENDS "${CMAKE_CURRENT_LIST_DIR}/deb/changelog"
    COMMENT "Compressing the Debian changelog"
    VERBATIM)
add_custom_target(mockit_deb_changelog ALL DEPENDS "${mockit_deb_dir}/changelog.gz")
foreach(component IN LISTS CPACK_COMPONENTS_ALL)
    string(TOUPPER "${component}" upper)
    install(FILES "${mockit_deb_dir}/copyright" "${mockit_deb_dir}/changelog.gz"
        DESTINATION "${CMAKE_INSTALL_DATAROOTDIR}/doc/${CPACK_DEBIAN_${upper}_PACKAGE_NAME}"
        COMPONENT ${component}
        EXCLUDE_FROM_ALL)
endforeach()

# Install with DESTDIR, so the install rules see the package's prefix (/usr) rather than the
# staging directory: files whose paths are filled in at install time (the unit's ExecStart,
# mockit.pc) must name where dpkg puts them.
set(CPACK_SET_DESTDIR ON)
set(CPACK_PACKAGING_INSTALL_PREFIX "/usr")
set(CPACK_INSTALL_PREFIX "/usr")

include(CPack)
