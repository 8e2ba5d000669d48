# Install rules: the library, its public headers, a CMake package (find_package(mockit) gives
# mockit::mockit) and a pkg-config file for C programs.
include(CMakePackageConfigHelpers)

set(MOCKIT_CMAKE_DIR "${CMAKE_INSTALL_LIBDIR}/cmake/mockit")

install(TARGETS mockit
    EXPORT mockitTargets
    LIBRARY DESTINATION "${CMAKE_INSTALL_LIBDIR}"
    ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}"
    RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}")
install(DIRECTORY "${PROJECT_SOURCE_DIR}/libmockit/include/mockit"
    DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}"
    FILES_MATCHING PATTERN "*.h" PATTERN "*.hpp")
install(FILES "${PROJECT_BINARY_DIR}/libmockit/include/mockit/version.hpp"
    DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}/mockit")

install(EXPORT mockitTargets
    NAMESPACE mockit::
    DESTINATION "${MOCKIT_CMAKE_DIR}")
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
    DESTINATION "${MOCKIT_CMAKE_DIR}")

configure_file("${CMAKE_CURRENT_LIST_DIR}/mockit.pc.in" "${PROJECT_BINARY_DIR}/mockit.pc" @ONLY)
install(FILES "${PROJECT_BINARY_DIR}/mockit.pc"
    DESTINATION "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
