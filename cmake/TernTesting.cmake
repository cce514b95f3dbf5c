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
  gtest_discover_tests(${name} NO_PRETTY_VALUES PROPERTIES LABELS unit DISCOVERY_TIMEOUT 60)
endfunction()

# tern_add_fuzzer(<name> SOURCES <files...> LIBS <libs...> CORPUS <dir> RUNS <n>)
# A libFuzzer executable, and a ctest (label "fuzz") that runs <n> inputs with a fixed seed from
# a scratch copy of <dir>, so new corpus entries never land in the source tree.
function(tern_add_fuzzer name)
  cmake_parse_arguments(ARG "" "CORPUS;RUNS" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_compile_options(${name} PRIVATE -fsanitize=fuzzer)
  target_link_options(${name} PRIVATE -fsanitize=fuzzer)
  target_link_libraries(${name} PRIVATE ${ARG_LIBS})
  set(scratch "${CMAKE_CURRENT_BINARY_DIR}/${name}-corpus")
  add_test(NAME fuzz.${name}
    COMMAND sh -c "rm -rf '${scratch}' && mkdir -p '${scratch}' && \
exec '$<TARGET_FILE:${name}>' -seed=1 -runs=${ARG_RUNS} -max_len=4096 -timeout=10 \
-rss_limit_mb=4096 '${scratch}' '${ARG_CORPUS}'")
  set_tests_properties(fuzz.${name} PROPERTIES LABELS fuzz TIMEOUT 600)
endfunction()
