/* Declarations of the lookup-table family's SIMD variants (gemm_lut_variants.inl) and of the
 * driver that runs a micro-kernel over tokens and row blocks (gemm_lut_mlir.c). */
#ifndef TERN_RUNTIME_KERNELS_GEMM_LUT_VARIANTS_H
#define TERN_RUNTIME_KERNELS_GEMM_LUT_VARIANTS_H

#include "tern/lut_kernels.h"

#define TERN_GEMM_LUT_VARIANT(NAME, REQUIRES)                                                      \
  int tern_gemm_tl1_##NAME(const uint8_t *w, int64_t n, int64_t k, const int8_t *x,                \
                           int64_t x_stride, int64_t t, int32_t *acc, int64_t acc_stride);         \
  int tern_gemm_tl2_##NAME(const uint8_t *w, int64_t n, int64_t k, const int8_t *x,                \
                           int64_t x_stride, int64_t t, int32_t *acc, int64_t acc_stride);
#include "gemm_lut_variants.inl"
#undef TERN_GEMM_LUT_VARIANT

#endif
