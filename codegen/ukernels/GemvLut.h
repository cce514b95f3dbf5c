//===- GemvLut.h - the lookup-table (tl1 / tl2) micro-kernels, written in MLIR -------*- C++ -*-===//
//
// Halide 14 never emits pshufb / vpshufb / tbl (a small dynamic table becomes a gather), so the
// LUT family's inner loop is stated in MLIR: vector loads, the byte-lookup intrinsic through
// llvm.call_intrinsic, vector.shuffle interleaves (vpunpck{l,h}bw / zip) that join the low- and
// high-byte planes into exact int16 values, int16 accumulation over 64 groups, then int32.
// The layouts and tables are documented in runtime/include/tern/lut_kernels.h.
//
//   void <name>(memref<?xi8> w, memref<?xi8> tables, memref<?xi32> acc,
//               index units, index block_begin, index block_end)
//
// adds to acc[r] (r in rows of the 64-row blocks [begin, end)) the dot products of those rows
// with one token, `units` being the number of tl1 group pairs or tl2 octets per row.
//
//===------------------------------------------------------------------------------------------===//
#ifndef TERN_CODEGEN_UKERNELS_GEMVLUT_H
#define TERN_CODEGEN_UKERNELS_GEMVLUT_H

#include <string>

namespace tern::codegen {

enum class LutLayout { TL1, TL2 };
enum class LutIsa { AVX2, AVX512, NEON };

struct LutKernelSpec {
  LutLayout layout = LutLayout::TL1;
  LutIsa isa = LutIsa::AVX2;
  /// Row blocks processed per iteration: they share each table load.
  int rowBlocks = 2;
};

/// The micro-kernel as MLIR text (func, scf, arith, vector, memref, llvm.call_intrinsic).
std::string gemvLutMlir(const std::string &name, const LutKernelSpec &spec);

} // namespace tern::codegen

#endif
