# Helpers for tern's test suites.
if(NOT TERN_BUILD_TESTS)
  return()
endif()
find_package(GTest REQUIRED)

# tern_add_gtest(<name> SOURCES <files...> LIBS <libs...>)
# A GoogleTest executable registered with ctest under the label "unit"; each TEST is its own ctest.
function(tern_add_gtest name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE GTest::gtest GTest::gtest_main ${ARG_LIBS})
  set_property(GLOBAL APPEND PROPERTY TERN_UNIT_TESTS ${name})
  include(GoogleTest)
  gtest_discover_tests(${name} PROPERTIES LABELS unit DISCOVERY_TIMEOUT 60)
endfunction()
