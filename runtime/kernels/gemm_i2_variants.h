/* Declarations of the SIMD variants listed in gemm_i2_variants.inl. */
#ifndef TERN_RUNTIME_KERNELS_GEMM_I2_VARIANTS_H
#define TERN_RUNTIME_KERNELS_GEMM_I2_VARIANTS_H

#include "tern/kernels.h"

#define TERN_GEMM_I2_VARIANT(NAME, REQUIRES)                                                       \
  int tern_gemm_i2_##NAME(const uint8_t *w, int64_t n, int64_t k, const int8_t *x,                 \
                          int64_t x_stride, int64_t t, int32_t *acc, int64_t acc_stride);
#include "gemm_i2_variants.inl"
#undef TERN_GEMM_I2_VARIANT

#endif
