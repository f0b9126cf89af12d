# doctest's main, compiled once for every test executable.
add_library(dbr_doctest_main STATIC ${PROJECT_SOURCE_DIR}/tests/support/doctest_main.cpp)
target_link_libraries(dbr_doctest_main PUBLIC doctest::doctest)
# Test helpers shared across parts live in tests/support/ ("support/...").
target_include_directories(dbr_doctest_main PUBLIC ${PROJECT_SOURCE_DIR}/tests)

# dbr_unit_test(name SOURCES ... LIBS ...): a doctest executable registered
# with CTest under the label "unit".
function(dbr_unit_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE dbr_doctest_main ${ARG_LIBS})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/tests)
  dbr_target_defaults(${name})
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES LABELS "unit;${ARG_LABELS}" TIMEOUT 120)
endfunction()

# dbr_integration_test(name COMMAND ... [TIMEOUT s] [LABELS ...]): a test
# that starts real peers (servers on loopback, namespaces).
function(dbr_integration_test name)
  cmake_parse_arguments(ARG "" "TIMEOUT" "COMMAND;LABELS" ${ARGN})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  add_test(NAME ${name} COMMAND ${ARG_COMMAND})
  set_tests_properties(${name} PROPERTIES LABELS "integration;${ARG_LABELS}" TIMEOUT ${ARG_TIMEOUT})
endfunction()
