# SPDX-License-Identifier: MIT
# Run by cpack once the packages are made (CPACK_POST_BUILD_SCRIPTS, packaging/cpack.cmake), to
# finish what CPack 3.25 leaves undone. Each package concerned is unpacked with dpkg-deb, mended
# and built again:
#
# - CPack writes a postinst and a postrm that call ldconfig into any package holding a shared
#   library under /usr/lib; Debian runs ldconfig from a trigger instead (libmockit0's triggers
#   file). They are taken out of the library's package, which is left with no maintainer script.
# - The -dbgsym packages (.ddeb): CPack lists the debug files in md5sums under their absolute
#   staging paths, installs them executable, and gives the package no doc directory. As
#   dh_strip does, the md5sums name the files as installed, the files are 0644, and
#   /usr/share/doc/<package>-dbgsym is a link to the doc directory of <package>, which the
#   -dbgsym package depends on (= version).
find_program(MOCKIT_DPKG_DEB dpkg-deb)
if(NOT MOCKIT_DPKG_DEB)
    message(FATAL_ERROR "post_build.cmake: dpkg-deb is needed")
endif()

function(mockit_unpack deb tree)
    file(REMOVE_RECURSE "${tree}")
    execute_process(COMMAND "${MOCKIT_DPKG_DEB}" --raw-extract "${deb}" "${tree}"
        RESULT_VARIABLE status ERROR_VARIABLE error)
    if(NOT status EQUAL 0)
        message(FATAL_ERROR "dpkg-deb --raw-extract ${deb} failed: ${error}")
    endif()
endfunction()

function(mockit_repack tree deb)
    execute_process(
        COMMAND "${MOCKIT_DPKG_DEB}" --root-owner-group -Zgzip --build "${tree}" "${deb}"
        RESULT_VARIABLE status OUTPUT_QUIET ERROR_VARIABLE error)
    file(REMOVE_RECURSE "${tree}")
    if(NOT status EQUAL 0)
        message(FATAL_ERROR "dpkg-deb --build ${deb} failed: ${error}")
    endif()
endfunction()

set(mockit_found_library 0)
foreach(deb IN LISTS CPACK_PACKAGE_FILES)
    get_filename_component(name "${deb}" NAME)
    set(tree "${deb}.tree")
    if(CPACK_MOCKIT_LIBRARY_PACKAGE AND name MATCHES "^${CPACK_MOCKIT_LIBRARY_PACKAGE}_.*\\.deb$")
        set(mockit_found_library 1)
        mockit_unpack("${deb}" "${tree}")
        foreach(script IN ITEMS postinst postrm)
            if(NOT EXISTS "${tree}/DEBIAN/${script}")
                continue()
            endif()
            # Only CPack's own script, which does nothing else, is taken out.
            file(READ "${tree}/DEBIAN/${script}" content)
            string(REGEX REPLACE "#[^\n]*\n|set -e\n|if \\[ \"\\$1\" = \"(configure|remove)\" \\]; then\n|\tldconfig\n|fi\n|\n"
                "" rest "${content}")
            if(NOT rest STREQUAL "")
                message(FATAL_ERROR "${name}: ${script} does more than call ldconfig:\n${content}")
            endif()
            file(REMOVE "${tree}/DEBIAN/${script}")
        endforeach()
        mockit_repack("${tree}" "${deb}")
        message(STATUS "post_build.cmake: ${name}: ldconfig from the trigger, no maintainer script")
    elseif(name MATCHES "^(.+)-dbgsym_.*\\.ddeb$")
        set(package "${CMAKE_MATCH_1}")
        mockit_unpack("${deb}" "${tree}")
        file(GLOB_RECURSE debug_files LIST_DIRECTORIES false RELATIVE "${tree}" "${tree}/usr/*")
        set(md5sums "")
        foreach(file IN LISTS debug_files)
            if(IS_SYMLINK "${tree}/${file}")  # the doc directory's link, on a second run
                continue()
            endif()
            file(CHMOD "${tree}/${file}"
                FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
            file(MD5 "${tree}/${file}" sum)
            string(APPEND md5sums "${sum}  ${file}\n")
        endforeach()
        file(WRITE "${tree}/DEBIAN/md5sums" "${md5sums}")
        file(MAKE_DIRECTORY "${tree}/usr/share/doc")
        file(REMOVE "${tree}/usr/share/doc/${package}-dbgsym")
        file(CREATE_LINK "${package}" "${tree}/usr/share/doc/${package}-dbgsym" SYMBOLIC)
        mockit_repack("${tree}" "${deb}")
        message(STATUS "post_build.cmake: ${name}: md5sums and doc directory mended")
    endif()
endforeach()
if(CPACK_MOCKIT_LIBRARY_PACKAGE AND NOT mockit_found_library)
    message(FATAL_ERROR
        "post_build.cmake: no ${CPACK_MOCKIT_LIBRARY_PACKAGE} package among ${CPACK_PACKAGE_FILES}")
endif()
