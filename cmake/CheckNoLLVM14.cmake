# cmake -DCOMPILE_COMMANDS=<build>/compile_commands.json -P CheckNoLLVM14.cmake
# Fails when any compile command of the build uses LLVM 14 headers: Halide 14's package config
# must not leak its LLVM into the MLIR/LLVM 22 targets (cmake/TernFindHalide.cmake).
file(STRINGS "${COMPILE_COMMANDS}" leaks REGEX "llvm-14|llvm/14")
if(leaks)
  list(GET leaks 0 first)
  message(FATAL_ERROR "a compile command uses LLVM 14 paths:\n${first}")
endif()
file(STRINGS "${COMPILE_COMMANDS}" uses22 REGEX "/usr/lib/llvm-22/include")
if(NOT uses22)
  message(FATAL_ERROR "no compile command uses the LLVM 22 headers: is ${COMPILE_COMMANDS} stale?")
endif()
message(STATUS "no compile command sees LLVM 14")
