# SPDX-License-Identifier: MIT
# Run by cpack once every component is installed into its staging directory, before the packages
# are made (CPACK_PRE_BUILD_SCRIPTS, packaging/cpack.cmake): removes the .comment section, which
# holds only the compilers' version strings, from every ELF file, as dh_strip does. CPack then
# splits the debug info out of them into the -dbgsym packages.
find_program(MOCKIT_OBJCOPY objcopy)
if(NOT MOCKIT_OBJCOPY)
    message(FATAL_ERROR "pre_build.cmake: objcopy (binutils) is needed")
endif()
file(GLOB_RECURSE mockit_files LIST_DIRECTORIES false "${CPACK_TEMPORARY_DIRECTORY}/*")
set(mockit_count 0)
foreach(file IN LISTS mockit_files)
    if(IS_SYMLINK "${file}")
        continue()
    endif()
    file(READ "${file}" magic LIMIT 4 HEX)
    if(NOT magic STREQUAL "7f454c46")  # \x7fELF
        continue()
    endif()
    execute_process(COMMAND "${MOCKIT_OBJCOPY}" --remove-section=.comment "${file}"
        RESULT_VARIABLE status ERROR_VARIABLE error)
    if(NOT status EQUAL 0)
        message(FATAL_ERROR "objcopy --remove-section=.comment ${file} failed: ${error}")
    endif()
    math(EXPR mockit_count "${mockit_count} + 1")
endforeach()
message(STATUS "pre_build.cmake: removed .comment from ${mockit_count} ELF files")
