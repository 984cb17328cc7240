# clang-tidy (.clang-tidy at the top) over the sources of src/: the target `tidy` (make tidy, part of
# make lint). It runs with the compile commands of this build (compile_commands.json), one file per
# job, and checks a file again only when its object file was rebuilt (the file, a header it includes
# or the flags changed) or .clang-tidy changed. Every warning is an error (WarningsAsErrors).
find_program(FTPSD_CLANG_TIDY NAMES clang-tidy-14 clang-tidy)
set_property(GLOBAL PROPERTY FTPSD_TIDY_STAMPS "")

# ftpsd_tidy(<target> <sources relative to the current source dir>...)
function(ftpsd_tidy target)
  foreach(source IN LISTS ARGN)
    set(object ${CMAKE_CURRENT_BINARY_DIR}/CMakeFiles/${target}.dir/${source}${CMAKE_CXX_OUTPUT_EXTENSION})
    set(stamp ${CMAKE_BINARY_DIR}/tidy/${source}.stamp)
    add_custom_command(OUTPUT ${stamp}
      COMMAND ${FTPSD_CLANG_TIDY} -p ${CMAKE_BINARY_DIR} --quiet ${CMAKE_CURRENT_SOURCE_DIR}/${source}
      COMMAND ${CMAKE_COMMAND} -E touch ${stamp}
      DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/${source} ${object} ${PROJECT_SOURCE_DIR}/.clang-tidy
      COMMENT "clang-tidy src/${source}"
      VERBATIM)
    set_property(GLOBAL APPEND PROPERTY FTPSD_TIDY_STAMPS ${stamp})
  endforeach()
endfunction()

function(ftpsd_add_tidy_target)
  get_property(stamps GLOBAL PROPERTY FTPSD_TIDY_STAMPS)
  if(FTPSD_CLANG_TIDY)
    add_custom_target(tidy DEPENDS ${stamps})
  else()
    add_custom_target(tidy COMMAND ${CMAKE_COMMAND} -E echo "clang-tidy not found (make deps installs it)"
                      COMMAND ${CMAKE_COMMAND} -E false)
  endif()
endfunction()
