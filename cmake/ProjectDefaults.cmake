# Compiler flags that apply to our own targets only (never to system headers).

set(DBR_WARNING_FLAGS -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
    -Wold-style-cast -Wcast-align -Woverloaded-virtual -Wconversion
    -Wsign-conversion -Wnull-dereference -Wformat=2 -Wimplicit-fallthrough)
if(DBR_WERROR)
  list(APPEND DBR_WARNING_FLAGS -Werror)
endif()

if(DBR_SANITIZE)
  # -fno-sanitize-recover makes any UBSan report fail the test that caused it.
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=undefined
                      -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()

# dbr_target_defaults(target): warnings, include root and C++20 for our code.
function(dbr_target_defaults target)
  target_compile_options(${target} PRIVATE ${DBR_WARNING_FLAGS})
  target_compile_features(${target} PUBLIC cxx_std_20)
endfunction()

# dbr_library(name SOURCES ... LIBS ...): one static library per part of src/.
function(dbr_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR}/src ${PROJECT_BINARY_DIR}/src)
  target_link_libraries(${name} PUBLIC ${ARG_LIBS})
  dbr_target_defaults(${name})
endfunction()
