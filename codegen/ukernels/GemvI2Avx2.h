//===- GemvI2Avx2.h - the AVX2 multiply-add GEMV micro-kernel, written in MLIR ------*- C++ -*-===//
//
// Halide 14 lowers the u8 x i8 dot products of the i2 layout on AVX2 to vpmovzxbw + vpmaddwd plus
// lane shuffles, which leaves the decode GEMV at about a third of the memory bandwidth
// (docs/kernels.md). This kernel states the instructions itself through llvm.call_intrinsic:
// per 32 bytes of codes one vpmaddubsw (u8 codes x i8 activations, pairs to i16; at most
// 2 * 128 * 2 = 512, so it never saturates) and one vpmaddwd against ones (pairs to i32).
//
//   void <name>(memref<?xi8> w, memref<?xi8> x, memref<?xi32> acc,
//               index k_tiles, index row_tile_begin, index row_tile_end)
//
// computes acc[16 nt + r] = sum_k code(W[16 nt + r][k]) * x[k] (without the sum(x) correction,
// which the caller subtracts) for row tiles [begin, end), four tiles at a time.
//
//===------------------------------------------------------------------------------------------===//
#ifndef TERN_CODEGEN_UKERNELS_GEMVI2AVX2_H
#define TERN_CODEGEN_UKERNELS_GEMVI2AVX2_H

#include <string>

namespace tern::codegen {

/// The micro-kernel as MLIR text (func, scf, arith, vector, memref, llvm.call_intrinsic).
std::string gemvI2Avx2Mlir(const std::string &name);

} // namespace tern::codegen

#endif
