# Compiler flags that apply to our own targets only (never to system headers).

set(DBR_WARNING_FLAGS -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
    -Wold-style-cast -Wcast-align -Woverloaded-virtual -Wconversion
    -Wsign-conversion -Wnull-dereference -Wformat=2 -Wimplicit-fallthrough)
if(DBR_WERROR)
  list(APPEND DBR_WARNING_FLAGS -Werror)
endif()
# 32-bit Arm (armhf): GCC notes every std::map<std::string, ...> iterator
# passed by value that "parameter passing ... changed in GCC 7.1", an ABI
# note for code mixing objects from GCC < 7, which a Debian build never does.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_SYSTEM_PROCESSOR MATCHES "^arm")
  list(APPEND DBR_WARNING_FLAGS -Wno-psabi)
endif()

if(DBR_SANITIZE)
  # -fno-sanitize-recover makes any UBSan report fail the test that caused it.
  # -O1: the usual level for ASan (tests run faster than at -O0); -g1: line
  # tables for the reports' stack traces without full debug info to build.
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=undefined
                      -fno-omit-frame-pointer -O1 -g1)
  # The instrumentation makes GCC 12's -Wmaybe-uninitialized fire inside
  # libstdc++ (std::regex, std::function); the release build keeps it.
  list(APPEND DBR_WARNING_FLAGS -Wno-maybe-uninitialized)
  add_link_options(-fsanitize=address,undefined)
endif()

# dbr_target_defaults(target): warnings, include root and C++20 for our code.
function(dbr_target_defaults target)
  target_compile_options(${target} PRIVATE ${DBR_WARNING_FLAGS})
  target_compile_features(${target} PUBLIC cxx_std_20)
  if(DBR_PCH)
    target_link_libraries(${target} PRIVATE nlohmann_json::nlohmann_json spdlog::spdlog)
    target_precompile_headers(${target} REUSE_FROM dbr_pch)
  endif()
endfunction()

# One precompiled header for every target of ours: the standard library and
# the two template-heavy libraries almost every file includes. It cuts the
# build of the whole tree, which the test command does several times. Off for
# the libFuzzer build: clang refuses a PCH built without its fuzzer flags.
option(DBR_PCH "Precompile the common headers" ON)
if(DBR_PCH)
  add_library(dbr_pch STATIC ${PROJECT_SOURCE_DIR}/cmake/pch.cpp)
  target_link_libraries(dbr_pch PUBLIC nlohmann_json::nlohmann_json spdlog::spdlog)
  target_compile_options(dbr_pch PRIVATE ${DBR_WARNING_FLAGS})
  target_compile_features(dbr_pch PUBLIC cxx_std_20)
  target_precompile_headers(dbr_pch PRIVATE
    <algorithm> <chrono> <cstdint> <functional> <map> <memory> <optional> <string> <string_view>
    <unordered_map> <variant> <vector> <nlohmann/json.hpp> <spdlog/spdlog.h>)
endif()

# dbr_library(name SOURCES ... LIBS ...): one static library per part of src/.
function(dbr_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR}/src ${PROJECT_BINARY_DIR}/src)
  target_link_libraries(${name} PUBLIC ${ARG_LIBS})
  dbr_target_defaults(${name})
endfunction()
