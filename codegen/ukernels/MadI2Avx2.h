//===- MadI2Avx2.h - the AVX2 / AVX-512 multiply-add GEMV/GEMM micro-kernels in MLIR -*- C++ -*-===//
//
// Halide 14 lowers the u8 x i8 dot products of the i2 layout on AVX2 to vpmovzxbw + vpmaddwd plus
// lane shuffles, which leaves the decode GEMV at about a third of the memory bandwidth and the
// prefill GEMM at a tenth of the int8 peak (docs/kernels.md). These kernels state the
// instructions themselves through llvm.call_intrinsic: per 32 bytes of codes and token one
// vpmaddubsw (u8 codes x i8 activations, pairs to i16: at most 2 * 2 * 128 = 512 in magnitude),
// the four shifts of a column tile summed in int16 (at most 2048), then one vpmaddwd against ones
// (pairs to i32) per tile, half and token.
//
//   void <name>(memref<?xi8> w, memref<?xi8> x, memref<?xi32> acc, index k_tiles,
//               index row_tile_begin, index row_tile_end, index x_stride, index acc_stride)
//
// computes acc[t * acc_stride + 16 nt + r] = sum_k code(W[16 nt + r][k]) * x[t * x_stride + k]
// (without the sum(x) correction, which the caller subtracts) for `tokens` tokens t and row
// tiles [begin, end), `tiles` tiles at a time: the GEMV keeps 4 tiles x 1 token in registers,
// the GEMM 1 tile x 4 tokens, so each unpacked code serves four tokens.
//
//===------------------------------------------------------------------------------------------===//
#ifndef TERN_CODEGEN_UKERNELS_MADI2AVX2_H
#define TERN_CODEGEN_UKERNELS_MADI2AVX2_H

#include <cstdint>
#include <string>

namespace tern::codegen {

/// The micro-kernel as MLIR text (func, scf, arith, vector, memref, llvm.call_intrinsic).
/// `tiles` row tiles and `tokens` tokens per step; the row-tile range must be a multiple of
/// `tiles`. `avx512` widens the same instructions to zmm (AVX-512BW, no VNNI needed): a whole
/// 64-byte tile per register.
std::string madI2Avx2Mlir(const std::string &name, int tiles, int tokens, bool avx512 = false,
                          int prefetch = 0, int unroll = 1);

/// The micro-kernel specialized for one rows x cols weight, wrapped as a Halide extern stage
/// (the tile of the gemm_mad generator, codegen/kernels/gemm_mad_generator.cpp):
///
///   int32_t <name>(halide_buffer_t *w, halide_buffer_t *x, halide_buffer_t *acc)
///
/// w is the whole i2 blob (64, k_tiles, n_tiles), x the activations (k, tokens: a Halide stage),
/// acc the region Halide asks for (16, row tiles, tokens; the row tiles a multiple of `tiles`,
/// the tokens of `tokens`, else it returns -1). It stores sum(code * x) without the sum(x)
/// correction, which the pipeline subtracts. Called with x's host null it answers Halide's
/// bounds query. `prefetch` (16-column tiles ahead) and `unroll` (of the loop over them) are
/// schedule knobs of the inner loop.
std::string madTileMlir(const std::string &name, int tiles, int tokens, bool avx512, int prefetch,
                        int unroll, int64_t rows, int64_t cols);

} // namespace tern::codegen

#endif
