# The build uses clang++: GCC 12 miscompiles some C++20 coroutine code (temporaries in co_await
# expressions destroyed twice), and clang is needed for libFuzzer anyway.
# Warnings are errors in every build; hardening flags as in DESIGN.md.
# -Wconversion and -Wsign-conversion: a conversion that can change a value is written as a cast.
add_compile_options(-Wall -Wextra -Wpedantic -Wshadow -Wformat=2 -Wnon-virtual-dtor -Wcast-align
                    -Wimplicit-fallthrough -Wconversion -Wsign-conversion -Werror)
# Names reserved to the implementation (_Upper, __x, _x at global scope); clang-tidy leaves this to
# the compiler (.clang-tidy).
if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  add_compile_options(-Wreserved-identifier)
endif()
# GCC 12 reports a false mismatched-new-delete on Asio coroutine frames (custom operator new/delete).
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  add_compile_options(-Wno-mismatched-new-delete)
endif()
add_compile_options(-fstack-protector-strong -fstack-clash-protection)
if(NOT FTPSD_SANITIZE AND NOT FTPSD_FUZZ AND NOT CMAKE_BUILD_TYPE STREQUAL "Debug")
  add_compile_definitions(_FORTIFY_SOURCE=2)
endif()
set(CMAKE_POSITION_INDEPENDENT_CODE ON)
add_link_options(-Wl,-z,relro,-z,now)
if(FTPSD_SANITIZE)
  # -fno-sanitize=function: clang 14 cannot emit that check for coroutine frames ("Cannot represent a
  # difference across sections"); every other UBSan check stays on.
  add_compile_options(-fsanitize=address,undefined -fno-sanitize=function -fno-omit-frame-pointer
                      -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()
if(FTPSD_FUZZ)
  # Coverage instrumentation for libFuzzer in every library; the fuzz targets link -fsanitize=fuzzer.
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize=function
                      -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()
# Asio: standalone, C++20 coroutines, no deprecated interfaces.
add_compile_definitions(ASIO_STANDALONE ASIO_NO_DEPRECATED)
# Asio 1.22 detects C++20 coroutines only for libc++ under clang; Debian's clang uses libstdc++.
if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  add_compile_definitions(ASIO_HAS_CO_AWAIT=1 ASIO_HAS_STD_COROUTINE=1)
endif()
