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
  # How the tests run an aarch64 program: qemu-aarch64 on the cross toolchain's sysroot, with the
  # sysroot's lib/ first on the guest's library path. qemu looks a guest path up under -L first
  # and then on the host, and the sysroot's ld.so searches /lib/aarch64-linux-gnu before /lib: on
  # a host with an arm64 libc installed (libc6:arm64) it would load that libc, another glibc
  # build than itself. The two share GLIBC_PRIVATE data (_rtld_global) whose layout differs
  # between Debian's builds, and the first pthread_create then loops forever
  # (docs/reliability.md, "The aarch64 hang"). Append -cpu MODEL and the program.
  set(TERN_AARCH64_RUN ${TERN_QEMU_AARCH64} -L ${TERN_AARCH64_SYSROOT}
    -E LD_LIBRARY_PATH=${TERN_AARCH64_SYSROOT}/lib)
  string(JOIN " " TERN_AARCH64_RUN_STRING ${TERN_AARCH64_RUN})
  # PCRE2 for the aarch64 runtime, unpacked from Debian's libpcre2-dev:arm64 by
  # scripts/setup.sh (unpacked rather than installed: the host keeps no arm64 packages).
  set(TERN_AARCH64_PCRE2 /usr/local/lib/aarch64-linux-gnu/libpcre2-8.a CACHE FILEPATH
    "PCRE2's static library for aarch64")
  # Debian's arm64 libc.so.6 (from libc6:arm64, unpacked by scripts/setup.sh): test/cross puts
  # it where an installed one would be, to check that TERN_AARCH64_RUN still loads the sysroot's.
  set(TERN_AARCH64_DEBIAN_LIBC /usr/local/lib/tern-debian-arm64-libc/libc.so.6 CACHE FILEPATH
    "Debian's libc.so.6 for arm64, a glibc build other than the cross sysroot's")
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
