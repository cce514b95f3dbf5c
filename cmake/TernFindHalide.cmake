# Finds Halide 14 without letting its LLVM 14 leak into the MLIR/LLVM 22 build.
#
# Halide's package config calls find_dependency(LLVM 14.0.6), which overwrites LLVM_INCLUDE_DIRS and
# the cached LLVM_DIR; every MLIR file compiled afterwards would then see LLVM 14 headers. Finding it
# inside a function keeps the normal variables local; the cache entry is restored by hand. Imported
# targets (Halide::Halide, Halide::Generator, ...) are directory-scoped and stay visible.
#
# Only link Halide::Halide (libHalide.so.14), and only into the kernel generator executable: never
# Halide::LLVM, which resolves to LLVM 22's libLLVM.
function(tern_find_halide)
  set(saved_llvm_dir "${LLVM_DIR}")
  set(saved_llvm_include_dirs "${LLVM_INCLUDE_DIRS}")
  find_package(Halide 14 REQUIRED CONFIG)
  set(LLVM_DIR "${saved_llvm_dir}" CACHE PATH "LLVM 22 package directory" FORCE)
  if(NOT TARGET Halide::Halide)
    message(FATAL_ERROR "Halide 14 was found but defines no Halide::Halide target")
  endif()
  message(STATUS "tern: Halide ${Halide_VERSION} from ${Halide_DIR}")
endfunction()

# A guard run after tern_find_halide(): fails the configure if LLVM 14 leaked anyway.
function(tern_check_no_llvm14_leak)
  foreach(var LLVM_DIR LLVM_INCLUDE_DIRS MLIR_INCLUDE_DIRS)
    if("${${var}}" MATCHES "llvm-14")
      message(FATAL_ERROR "${var} points at LLVM 14 (${${var}}) after finding Halide; "
        "find Halide only through tern_find_halide()")
    endif()
  endforeach()
endfunction()
