# User-facing build options of tern.
option(TERN_BUILD_TESTS "Build the lit and unit test suites" ON)
option(TERN_ENABLE_AARCH64_TESTS
  "Cross-build the aarch64 tests with aarch64-linux-gnu-g++ and run them under qemu-aarch64" OFF)
option(TERN_BUILD_FUZZERS "Build the libFuzzer targets and their ctest runs (use with TERN_SANITIZER)" OFF)
set(TERN_SANITIZER "" CACHE STRING
  "Sanitizers for everything tern compiles: empty, address, undefined or address;undefined")
set_property(CACHE TERN_SANITIZER PROPERTY STRINGS "" "address" "undefined" "address;undefined")

# Adds -fsanitize=... for the sanitizers named in TERN_SANITIZER to every target tern builds.
# Prebuilt LLVM/MLIR libraries stay uninstrumented, which AddressSanitizer and UBSan both allow.
function(tern_apply_sanitizers)
  if(NOT TERN_SANITIZER)
    return()
  endif()
  set(known address undefined)
  foreach(s IN LISTS TERN_SANITIZER)
    if(NOT s IN_LIST known)
      message(FATAL_ERROR "TERN_SANITIZER: unknown sanitizer '${s}'; expected address and/or undefined")
    endif()
  endforeach()
  string(REPLACE ";" "," list "${TERN_SANITIZER}")
  set(flags -fsanitize=${list} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  if("address" IN_LIST TERN_SANITIZER)
    list(APPEND flags "SHELL:-include ${PROJECT_SOURCE_DIR}/cmake/LLVMAsanCompat.h")
  endif()
  if("undefined" IN_LIST TERN_SANITIZER)
    # libMLIR is built without -fsanitize=vptr-compatible type info for every class.
    list(APPEND flags -fno-sanitize=vptr)
  endif()
  if(TERN_BUILD_FUZZERS)
    # Coverage instrumentation for libFuzzer in every tern library, so fuzzers see tern's code.
    list(APPEND flags -fsanitize=fuzzer-no-link)
  endif()
  add_compile_options(${flags})
  add_link_options(-fsanitize=${list})
  message(STATUS "tern: sanitizers ${list}")
endfunction()

if(TERN_ENABLE_AARCH64_TESTS)
  find_program(TERN_AARCH64_CXX aarch64-linux-gnu-g++ REQUIRED)
  find_program(TERN_QEMU_AARCH64 qemu-aarch64 REQUIRED)
  set(TERN_AARCH64_SYSROOT /usr/aarch64-linux-gnu CACHE PATH "Sysroot passed to qemu-aarch64 -L")
  string(REGEX REPLACE "g\\+\\+$" "gcc" TERN_AARCH64_CC "${TERN_AARCH64_CXX}")
  # PCRE2 for the aarch64 runtime, unpacked from Debian's libpcre2-dev:arm64 by
  # scripts/setup.sh (installing the package would bring an arm64 libc that qemu picks up).
  set(TERN_AARCH64_PCRE2 /usr/local/lib/aarch64-linux-gnu/libpcre2-8.a CACHE FILEPATH
    "PCRE2's static library for aarch64")
endif()

# cpp-httplib (the compiled executable's --server) in its header-only form, from Debian's
# source package: scripts/setup.sh fetches it (the binary package is a shared library built with
# OpenSSL, which a standalone executable cannot link statically).
set(TERN_HTTPLIB_DIR /usr/local/src/cpp-httplib CACHE PATH
  "the directory of cpp-httplib's header-only httplib.h")
if(NOT EXISTS "${TERN_HTTPLIB_DIR}/httplib.h")
  message(FATAL_ERROR "no ${TERN_HTTPLIB_DIR}/httplib.h: run scripts/setup.sh, or set "
    "TERN_HTTPLIB_DIR to cpp-httplib's header-only source")
endif()
