# SPDX-License-Identifier: MIT
# CPack settings for the .deb (`cpack -G DEB` in the build tree): one package, mockit-run,
# holding the host, libmockit (with its headers, CMake package and pkg-config file), the Lua
# module, the systemd unit, the man page, the reference and the examples. Dependencies come
# from dpkg-shlibdeps, so they follow whatever the binaries link.

set(CPACK_PACKAGE_NAME "mockit-run")
set(CPACK_PACKAGE_VENDOR "mockit-run")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "run timer-driven Lua programs")
# Debian wants description lines under 80 columns; "." stands for an empty line.
set(CPACK_PACKAGE_DESCRIPTION
    "mockit-run runs Lua 5.4 scripts with the mockit timer library preloaded, and
runs their event loop: the script arms one-off and interval timers, one engine
thread keeps the deadlines, and callbacks run from the loop, never
asynchronously. It runs from the command line, as a shebang interpreter, or as
a systemd service (Type=notify, with a watchdog: the mockit-run@.service
template).
.
The package also holds libmockit, a timer library for C (with its headers, a
CMake package and a pkg-config file), and the mockit Lua module for the stock
lua5.4 interpreter.")
set(CPACK_PACKAGE_CONTACT "mockit-run maintainers <maintainers@users.noreply.r-seed-f01fff3e.example>")
set(CPACK_STRIP_FILES ON)
set(CPACK_GENERATOR "DEB")
set(CPACK_SOURCE_GENERATOR "")

set(CPACK_DEBIAN_PACKAGE_NAME "mockit-run")
set(CPACK_DEBIAN_FILE_NAME "DEB-DEFAULT")
set(CPACK_DEBIAN_PACKAGE_SECTION "interpreters")
set(CPACK_DEBIAN_PACKAGE_PRIORITY "optional")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# The shlibs file tells dpkg-shlibdeps of packages built against libmockit.so.0 what to
# depend on. Written here rather than by CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS, which also
# looks at mockit.so and warns that a Lua module has no soname (it needs none: lua5.4 loads
# it by path). CPack adds the ldconfig calls for libmockit.so.0 either way.
file(CONFIGURE OUTPUT "${PROJECT_BINARY_DIR}/packaging/deb/shlibs"
    CONTENT "libmockit ${PROJECT_VERSION_MAJOR} mockit-run (>= ${PROJECT_VERSION})\n")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA "${PROJECT_BINARY_DIR}/packaging/deb/shlibs")
# Calendar schedules read the tz database's files (/usr/share/zoneinfo), which no library
# dependency brings in; dpkg-shlibdeps' findings are added to this.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "tzdata")
# mockit-run needs no interpreter of its own; lua5.4 is what loads the module.
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "lua5.4")

# Install with DESTDIR, so the install rules see the package's prefix (/usr) rather than the
# staging directory: files whose paths are filled in at install time (the unit's ExecStart,
# mockit.pc) must name where dpkg puts them.
set(CPACK_SET_DESTDIR ON)
set(CPACK_PACKAGING_INSTALL_PREFIX "/usr")
set(CPACK_INSTALL_PREFIX "/usr")

include(CPack)
