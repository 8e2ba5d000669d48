# SPDX-License-Identifier: MIT
# Build settings shared by every target of the project.

# Warnings are set per target (not globally) so a parent project that adds us keeps its own.
function(mockit_enable_warnings target)
    target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wconversion
                                             -Wno-sign-conversion)
    if(MOCKIT_WERROR)
        target_compile_options(${target} PRIVATE -Werror)
    endif()
endfunction()

# Sanitizers apply to everything built in this tree, so a sanitized test links a sanitized
# library. 'thread' cannot be combined with 'address'; the caller picks one set per build dir.
if(MOCKIT_SANITIZE)
    if(MOCKIT_SANITIZE MATCHES "thread" AND MOCKIT_SANITIZE MATCHES "address")
        message(FATAL_ERROR "MOCKIT_SANITIZE: 'thread' cannot be combined with 'address'")
    endif()
    add_compile_options(-fsanitize=${MOCKIT_SANITIZE} -fno-omit-frame-pointer
                        -fno-sanitize-recover=all)
    add_link_options(-fsanitize=${MOCKIT_SANITIZE})
endif()

# MOCKIT_DEB_BUILDFLAGS: compile and link everything with Debian's flags, as a Debian package is
# built (dpkg-buildflags, with every hardening feature: hardening=+all unless
# DEB_BUILD_MAINT_OPTIONS says otherwise): _FORTIFY_SOURCE, the stack protector, full RELRO and
# bind-now. scripts/package builds the .debs so, and scripts/test's plain pass tests what they hold.
option(MOCKIT_DEB_BUILDFLAGS "Compile and link with the flags of dpkg-buildflags" OFF)
if(MOCKIT_DEB_BUILDFLAGS)
    if(MOCKIT_SANITIZE)
        message(FATAL_ERROR
            "MOCKIT_DEB_BUILDFLAGS is for what is shipped: not with MOCKIT_SANITIZE")
    endif()
    find_program(MOCKIT_DPKG_BUILDFLAGS dpkg-buildflags)
    if(NOT MOCKIT_DPKG_BUILDFLAGS)
        message(FATAL_ERROR "MOCKIT_DEB_BUILDFLAGS needs dpkg-buildflags (package dpkg-dev)")
    endif()
    if(DEFINED ENV{DEB_BUILD_MAINT_OPTIONS})
        set(mockit_maint_options "$ENV{DEB_BUILD_MAINT_OPTIONS}")
    else()
        set(mockit_maint_options "hardening=+all")
    endif()
    # From the source directory: the -ffile-prefix-map it gives maps that directory to ".".
    foreach(kind IN ITEMS CPPFLAGS CFLAGS CXXFLAGS LDFLAGS)
        execute_process(
            COMMAND "${CMAKE_COMMAND}" -E env "DEB_BUILD_MAINT_OPTIONS=${mockit_maint_options}"
                    "${MOCKIT_DPKG_BUILDFLAGS}" --get ${kind}
            WORKING_DIRECTORY "${PROJECT_SOURCE_DIR}"
            OUTPUT_VARIABLE flags OUTPUT_STRIP_TRAILING_WHITESPACE
            RESULT_VARIABLE status)
        if(NOT status EQUAL 0)
            message(FATAL_ERROR "dpkg-buildflags --get ${kind} failed (${status})")
        endif()
        separate_arguments(mockit_deb_${kind} UNIX_COMMAND "${flags}")
    endforeach()
    message(STATUS "dpkg-buildflags (${mockit_maint_options}): ${mockit_deb_CPPFLAGS} "
                   "${mockit_deb_CXXFLAGS} ${mockit_deb_LDFLAGS}")
    add_compile_options(${mockit_deb_CPPFLAGS}
        "$<$<COMPILE_LANGUAGE:C>:${mockit_deb_CFLAGS}>"
        "$<$<COMPILE_LANGUAGE:CXX>:${mockit_deb_CXXFLAGS}>")
    add_link_options(${mockit_deb_LDFLAGS})
endif()
