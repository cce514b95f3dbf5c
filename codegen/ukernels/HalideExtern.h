//===- HalideExtern.h - MLIR pieces of a Halide extern-stage wrapper ---------------*- C++ -*-===//
//
// A tile a generated Halide pipeline calls as an extern stage receives halide_buffer_t pointers
// (HalideRuntime.h). The tile writers (GemvLut.cpp, MadI2Avx2.cpp) read and, for bounds
// queries, write their fields with LLVM-dialect ops, and view the memory as memrefs for the
// micro-kernels; these are the shared types and helpers.
//
//===------------------------------------------------------------------------------------------===//
#ifndef TERN_CODEGEN_UKERNELS_HALIDEEXTERN_H
#define TERN_CODEGEN_UKERNELS_HALIDEEXTERN_H

#include <string>

namespace tern::codegen {

/// halide_buffer_t as an LLVM struct: device, interface, host (field 2), flags, type (4 bytes),
/// dimensions, dim (field 6), padding.
inline constexpr const char *kHalideBufferType =
    "!llvm.struct<(i64, ptr, ptr, i64, i32, i32, ptr, ptr)>";
/// halide_dimension_t: min (field 0), extent (1), stride (2), flags.
inline constexpr const char *kHalideDimType = "!llvm.struct<(i32, i32, i32, i32)>";

/// Two functions, `<prefix>_memref_i8` and `<prefix>_memref_i32` (!llvm.ptr base, i64 size) ->
/// memref<?xi8 / i32>: the descriptor the LLVM lowering expects, built from a raw pointer
/// (internal linkage).
std::string memrefFromPointerHelpers(const std::string &prefix);

} // namespace tern::codegen

#endif
