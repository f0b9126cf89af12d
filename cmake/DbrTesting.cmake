# What the tests (tests/) and the benchmarks (bench/) share: the pieces of
# tests/support/ ("support/..." from tests/) that are built, and the Python
# that runs the Python ones. Included at the top when either is built.

# Debian's /usr/bin/python3 owns the python3-* packages the peers need.
set(DBR_PYTHON /usr/bin/python3)

if(DBR_TESTS)
  # doctest's main, compiled once for every test executable.
  add_library(dbr_doctest_main STATIC ${PROJECT_SOURCE_DIR}/tests/support/doctest_main.cpp)
  target_link_libraries(dbr_doctest_main PUBLIC doctest::doctest)
  target_include_directories(dbr_doctest_main PUBLIC ${PROJECT_SOURCE_DIR}/tests)
endif()

# dbr_peer_process(target script): `target` starts `script` (a peer that
# prints its ports as one JSON line, tests/support/*_peer.py) under
# DBR_PYTHON at its first call of test::peer() (support/peer_process.hpp).
function(dbr_peer_process target script)
  target_sources(${target} PRIVATE ${PROJECT_SOURCE_DIR}/tests/support/peer_process.cpp)
  target_include_directories(${target} PRIVATE ${PROJECT_SOURCE_DIR}/tests)
  target_link_libraries(${target} PRIVATE nlohmann_json::nlohmann_json)
  target_compile_definitions(${target} PRIVATE DBR_PYTHON="${DBR_PYTHON}" DBR_PEER_SCRIPT="${script}")
endfunction()

# dbr_monitor_driver(): the executable `monitor_driver`
# (tests/support/monitor_driver.cpp: a real Monitor posting into a real
# loop, printing what the loop receives), which the monitor's integration
# test and benchmark run through tests/support/monitor_driver.py. Made by
# whichever asks first, so either builds without the other.
function(dbr_monitor_driver)
  if(NOT TARGET monitor_driver)
    add_executable(monitor_driver ${PROJECT_SOURCE_DIR}/tests/support/monitor_driver.cpp)
    target_link_libraries(monitor_driver PRIVATE dbr_monitor dbr_config dbr_loop dbr_log nlohmann_json::nlohmann_json)
    dbr_target_defaults(monitor_driver)
  endif()
endfunction()

# dbr_unit_test(name SOURCES ... LIBS ...): a doctest executable registered
# with CTest under the label "unit".
function(dbr_unit_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS;LABELS;ARGS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE dbr_doctest_main ${ARG_LIBS})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/tests)
  dbr_target_defaults(${name})
  add_test(NAME ${name} COMMAND ${name} ${ARG_ARGS})
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
