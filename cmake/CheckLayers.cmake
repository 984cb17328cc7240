# cmake [-DSRC=<src dir>] -P cmake/CheckLayers.cmake: the #include lines of every src/ folder against
# the layer table of Layers.cmake. Run by ctest (test "layers") and at configure time.
cmake_minimum_required(VERSION 3.25)
include(${CMAKE_CURRENT_LIST_DIR}/Layers.cmake)
if(NOT DEFINED SRC)
  get_filename_component(SRC ${CMAKE_CURRENT_LIST_DIR}/../src ABSOLUTE)
endif()
ftpsd_check_layer_includes(${SRC} problems)
if(problems)
  list(JOIN problems "\n  " text)
  message(FATAL_ERROR "Layer rule broken (cmake/Layers.cmake):\n  ${text}")
endif()
