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
