# The layers of src/: one folder, one static library ftpsd_<folder>. This table is the one source of
# truth for the dependency rules (docs/ARCHITECTURE.md): src/CMakeLists.txt links each library to the
# folders its layer uses, the configure step refuses a library that links anything else, and
# CheckLayers.cmake (a ctest test, also run at configure time) refuses an #include "folder/..." of a
# folder the layer does not use.
#
# ftpsd_layer(<folder> [USES <lower folders>...] [NO_HEADERS <header prefixes>...])
# Layers are declared lowest first, and a layer may use only layers declared before it, so the graph
# has no cycles. NO_HEADERS: headers the folder must not include (#include <prefix...> or
# #include "prefix..."), such as a library that only a lower layer may use directly.
# Headers of external libraries a layer needs are the business of its target's link line.

set(FTPSD_LAYERS "")

macro(ftpsd_layer name)
  cmake_parse_arguments(_layer "" "" "USES;NO_HEADERS" ${ARGN})
  if("${name}" IN_LIST FTPSD_LAYERS)
    message(FATAL_ERROR "cmake/Layers.cmake: layer ${name} is declared twice")
  endif()
  foreach(_used IN LISTS _layer_USES)
    if(NOT _used IN_LIST FTPSD_LAYERS)
      message(FATAL_ERROR "cmake/Layers.cmake: layer ${name} uses ${_used}, which is not a lower layer "
                          "(only layers declared before ${name} may be used)")
    endif()
  endforeach()
  list(APPEND FTPSD_LAYERS ${name})
  set(FTPSD_LAYER_USES_${name} ${_layer_USES})
  set(FTPSD_LAYER_NO_HEADERS_${name} ${_layer_NO_HEADERS})
endmacro()

# --- the table ------------------------------------------------------------------------------------
ftpsd_layer(util NO_HEADERS asio openssl)  # result, limits, durations, text: the standard library only
ftpsd_layer(inet NO_HEADERS openssl)       # IP networks and address classes: Asio's address values only
ftpsd_layer(sys USES util)                 # the only place for raw system calls
ftpsd_layer(protocol USES util NO_HEADERS asio openssl)  # pure parsing and formatting
ftpsd_layer(runtime USES util)             # Asio event loops, blocking pool, timeouts
ftpsd_layer(config USES util inet protocol sys)  # sys: the durable write of edited files
ftpsd_layer(vfs USES util sys protocol)
ftpsd_layer(auth USES util config sys)
ftpsd_layer(obs USES util config)
ftpsd_layer(net USES util inet sys protocol runtime config)
ftpsd_layer(cluster USES util inet sys config auth net)  # [cluster]: the PostgreSQL database (libpq); net: the shared bans
ftpsd_layer(tls USES util protocol runtime config)
# session: OpenSSL is the TLS layer's business; the session talks to tls::SessionBinding.
ftpsd_layer(session USES util inet sys protocol runtime config vfs auth obs net tls
            NO_HEADERS openssl asio/ssl tls/openssl_ptr.hpp)
ftpsd_layer(tools USES util inet sys protocol runtime config auth net tls)  # operator tools: doctor, firewall, NAT lint, the config check
ftpsd_layer(admin USES util inet sys config auth obs cluster net tls session tools)  # the Manager's REST API (cpp-httplib)
ftpsd_layer(app USES util inet sys protocol runtime config vfs auth obs cluster net tls session tools admin)  # the daemon
# --------------------------------------------------------------------------------------------------

# Configure time: every library ftpsd_<layer> links (directly, PUBLIC or PRIVATE) only libraries of
# the layers its layer uses.
function(ftpsd_check_layer_links)
  foreach(layer IN LISTS FTPSD_LAYERS)
    if(NOT TARGET ftpsd_${layer})
      message(FATAL_ERROR "cmake/Layers.cmake: layer ${layer} has no library ftpsd_${layer}")
    endif()
    get_target_property(direct ftpsd_${layer} LINK_LIBRARIES)
    get_target_property(interface ftpsd_${layer} INTERFACE_LINK_LIBRARIES)
    string(REGEX MATCHALL "ftpsd_[a-z_]+" linked "${direct};${interface}")
    list(REMOVE_DUPLICATES linked)
    foreach(lib IN LISTS linked)
      string(REGEX REPLACE "^ftpsd_" "" other "${lib}")
      if(NOT other IN_LIST FTPSD_LAYERS OR other IN_LIST FTPSD_LAYER_USES_${layer})
        continue()
      endif()
      ftpsd_layer_why(${layer} ${other} why)
      ftpsd_layer_uses_text(${layer} uses)
      message(FATAL_ERROR "Layer rule broken: ftpsd_${layer} links ftpsd_${other}: ${why} "
                          "(${layer} may use: ${uses}; cmake/Layers.cmake)")
    endforeach()
  endforeach()
endfunction()

# Every #include "folder/..." in src/<layer>/ names the layer's own folder or a folder it uses, and
# no #include <prefix...> or "prefix..." names a header the layer forbids. Returns the violations in
# `out`, one "file: message" per entry.
function(ftpsd_layer_why layer other out)
  list(FIND FTPSD_LAYERS ${layer} mine)
  list(FIND FTPSD_LAYERS ${other} theirs)
  if(theirs GREATER mine)
    set(${out} "${other} is a higher layer than ${layer}" PARENT_SCOPE)
  else()
    set(${out} "${layer} does not use ${other}" PARENT_SCOPE)
  endif()
endfunction()

function(ftpsd_layer_uses_text layer out)
  list(JOIN FTPSD_LAYER_USES_${layer} " " text)
  if(text STREQUAL "")
    set(text "no other layer")
  endif()
  set(${out} "${text}" PARENT_SCOPE)
endfunction()

function(ftpsd_check_layer_includes src_dir out)
  set(problems "")
  file(GLOB folders LIST_DIRECTORIES true RELATIVE ${src_dir} ${src_dir}/*)
  foreach(folder IN LISTS folders)
    if(IS_DIRECTORY ${src_dir}/${folder} AND NOT folder IN_LIST FTPSD_LAYERS)
      list(APPEND problems "src/${folder}/: a folder that is no layer of cmake/Layers.cmake")
    endif()
  endforeach()
  foreach(layer IN LISTS FTPSD_LAYERS)
    ftpsd_layer_uses_text(${layer} uses)
    file(GLOB_RECURSE files RELATIVE ${src_dir} ${src_dir}/${layer}/*.cpp ${src_dir}/${layer}/*.hpp)
    foreach(file IN LISTS files)
      file(STRINGS ${src_dir}/${file} lines REGEX "^[ \t]*#[ \t]*include")
      foreach(line IN LISTS lines)
        if(line MATCHES "^[ \t]*#[ \t]*include[ \t]*([<\"])([^>\"]+)[>\"]")
          set(header ${CMAKE_MATCH_2})
          string(STRIP "${CMAKE_MATCH_0}" directive)
          foreach(prefix IN LISTS FTPSD_LAYER_NO_HEADERS_${layer})
            string(FIND "${header}" "${prefix}" at)
            if(at EQUAL 0)
              list(APPEND problems "src/${file}: ${directive}: ${layer} must not use ${prefix}")
            endif()
          endforeach()
        endif()
        if(line MATCHES "^[ \t]*#[ \t]*include[ \t]*\"([^\"/]+)/[^\"]*\"")
          set(other ${CMAKE_MATCH_1})
          if(other STREQUAL layer OR other IN_LIST FTPSD_LAYER_USES_${layer})
            continue()
          endif()
          if(other IN_LIST FTPSD_LAYERS)
            ftpsd_layer_why(${layer} ${other} why)
          else()
            set(why "${other} is no layer")
          endif()
          list(APPEND problems "src/${file}: ${CMAKE_MATCH_0}: ${why} (${layer} may use: ${uses})")
        endif()
      endforeach()
    endforeach()
  endforeach()
  set(${out} "${problems}" PARENT_SCOPE)
endfunction()
