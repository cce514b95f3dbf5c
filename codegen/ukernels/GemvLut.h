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

/// The micro-kernel specialized for one rows x cols weight, wrapped as a Halide extern stage
/// (the tile body of the gemm_lut generator, codegen/kernels/gemm_lut_generator.cpp):
///
///   int32_t <name>(halide_buffer_t *w, halide_buffer_t *tables, halide_buffer_t *acc)
///
/// w is the whole packed blob (1-D bytes), tables (16 entries, 2 planes, groups, tokens) and acc
/// (padded rows, tokens) the region Halide asks for: whole 64-row blocks, any tokens. Called with
/// the tables' host null it answers Halide's bounds query (all of w, the tables of acc's tokens).
/// Otherwise it starts the region's accumulators (0, or tl2's negative-group counts) and adds
/// every token's dot products. The inner function is `<name>_body`.
std::string lutTileMlir(const std::string &name, const LutKernelSpec &spec, int64_t rows,
                        int64_t cols);

} // namespace tern::codegen

#endif
