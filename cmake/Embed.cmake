# Files compiled into the binary (the Manager's OpenAPI document and web pages): no file is read at run
# time, so the daemon serves them the same from any folder, chroot or container.
#
# ftpsd_embed(<target> <function> <name>=<file>...) adds to <target> a generated source defining
# `std::span<const ftpsd::EmbeddedFile> ftpsd::embedded::<function>()` (util/embedded.hpp): one entry
# per <name>=<file> pair, in the order given. A file that changes is embedded again by the next build.
function(ftpsd_embed target function)
  set(output ${CMAKE_CURRENT_BINARY_DIR}/embedded_${function}.cpp)
  set(pairs "")
  set(files "")
  foreach(pair IN LISTS ARGN)
    string(FIND "${pair}" "=" eq)
    math(EXPR after "${eq} + 1")
    string(SUBSTRING "${pair}" ${after} -1 file)
    if(NOT IS_ABSOLUTE "${file}")
      set(file ${PROJECT_SOURCE_DIR}/${file})
    endif()
    string(SUBSTRING "${pair}" 0 ${eq} name)
    list(APPEND pairs "${name}=${file}")
    list(APPEND files ${file})
  endforeach()
  add_custom_command(
    OUTPUT ${output}
    COMMAND ${CMAKE_COMMAND} -DOUTPUT=${output} -DFUNCTION=${function} "-DPAIRS=${pairs}"
            -P ${PROJECT_SOURCE_DIR}/cmake/EmbedScript.cmake
    DEPENDS ${files} ${PROJECT_SOURCE_DIR}/cmake/EmbedScript.cmake
    COMMENT "Embedding ${function}"
    VERBATIM)
  target_sources(${target} PRIVATE ${output})
endfunction()
