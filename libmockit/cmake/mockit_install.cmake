# SPDX-License-Identifier: MIT
# Install rules: the library, its public headers, a CMake package (find_package(mockit) gives
# mockit::mockit) and a pkg-config file for C programs. The Lua module's rules are the binding's
# (libmockit/lua/CMakeLists.txt).
include(CMakePackageConfigHelpers)

set(MOCKIT_CMAKE_DIR "${CMAKE_INSTALL_LIBDIR}/cmake/mockit")

# Every rule names the component, and so the Debian package, its files go to
# (packaging/cpack.cmake): host (mockit-run), library (libmockit0), development (libmockit-dev)
# and lua (lua-mockit).

# mockit_install_for_prefix(FILE DESTINATION FROM SUFFIX COMPONENT): installs FILE into
# DESTINATION, as part of COMPONENT, with every FROM replaced by "<prefix>SUFFIX", <prefix> being
# the one the file is installed under.
# That prefix is only known when installing: `cmake --install --prefix DIR` and the .deb
# (prefix /usr) each need paths that match where the files land, not the prefix configured.
# The result goes straight to its destination (DESTDIR honoured, listed in the install
# manifest): installs to different prefixes may run at once, so nothing is staged in the
# build tree.
function(mockit_install_for_prefix file destination from suffix component)
    get_filename_component(name "${file}" NAME)
    install(CODE "
        file(READ \"${file}\" mockit_content)
        string(REPLACE \"${from}\" \"\${CMAKE_INSTALL_PREFIX}${suffix}\" mockit_content
               \"\${mockit_content}\")
        set(mockit_dest \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${destination}/${name}\")
        message(STATUS \"Installing: \${mockit_dest}\")
        file(WRITE \"\${mockit_dest}\" \"\${mockit_content}\")
        list(APPEND CMAKE_INSTALL_MANIFEST_FILES \"\${mockit_dest}\")
    " COMPONENT "${component}")
endfunction()

install(TARGETS mockit
    EXPORT mockitTargets
    LIBRARY DESTINATION "${CMAKE_INSTALL_LIBDIR}" COMPONENT library
        NAMELINK_COMPONENT development  # libmockit.so, which only the linker reads
    ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}" COMPONENT development
    RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}" COMPONENT library)
# The C ABI is all libmockit.so exports, so its headers are all that is installed. The C++ API
# beside them in include/mockit (engine, queue, clocks, version.hpp) is linked statically into
# the host, the Lua module and the tests; installed, it would declare what no user can link.
install(FILES
    "${PROJECT_SOURCE_DIR}/libmockit/include/mockit/mockit.h"
    "${PROJECT_SOURCE_DIR}/libmockit/include/mockit/export.h"
    DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}/mockit"
    COMPONENT development)

install(EXPORT mockitTargets
    NAMESPACE mockit::
    DESTINATION "${MOCKIT_CMAKE_DIR}"
    COMPONENT development)
export(EXPORT mockitTargets
    NAMESPACE mockit::
    FILE "${PROJECT_BINARY_DIR}/mockitTargets.cmake")

configure_package_config_file(
    "${CMAKE_CURRENT_LIST_DIR}/mockitConfig.cmake.in"
    "${PROJECT_BINARY_DIR}/mockitConfig.cmake"
    INSTALL_DESTINATION "${MOCKIT_CMAKE_DIR}")
write_basic_package_version_file(
    "${PROJECT_BINARY_DIR}/mockitConfigVersion.cmake"
    COMPATIBILITY SameMajorVersion)
install(FILES
    "${PROJECT_BINARY_DIR}/mockitConfig.cmake"
    "${PROJECT_BINARY_DIR}/mockitConfigVersion.cmake"
    DESTINATION "${MOCKIT_CMAKE_DIR}"
    COMPONENT development)

# mockit.pc.in's prefix is left as a placeholder, filled in at install time; the function
# scope keeps the placeholder away from every other use of CMAKE_INSTALL_PREFIX.
function(mockit_configure_pc output)
    set(CMAKE_INSTALL_PREFIX "@MOCKIT_INSTALL_PREFIX@")
    configure_file("${CMAKE_CURRENT_FUNCTION_LIST_DIR}/mockit.pc.in" "${output}" @ONLY)
endfunction()
mockit_configure_pc("${CMAKE_CURRENT_BINARY_DIR}/install/mockit.pc")
mockit_install_for_prefix("${CMAKE_CURRENT_BINARY_DIR}/install/mockit.pc"
                          "${CMAKE_INSTALL_LIBDIR}/pkgconfig" "@MOCKIT_INSTALL_PREFIX@" ""
                          development)
