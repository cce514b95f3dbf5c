/* Declarations of the SIMD variants listed in gemm_i2_variants.inl. */
#ifndef TERN_RUNTIME_KERNELS_GEMM_I2_VARIANTS_H
#define TERN_RUNTIME_KERNELS_GEMM_I2_VARIANTS_H

#include "tern/kernels.h"

#define TERN_GEMM_I2_VARIANT(NAME, REQUIRES)                                                       \
  int tern_gemm_i2_##NAME(const uint8_t *w, int64_t n, int64_t k, const int8_t *x,                 \
                          int64_t x_stride, int64_t t, int32_t *acc, int64_t acc_stride);
#include "gemm_i2_variants.inl"
#undef TERN_GEMM_I2_VARIANT

struct halide_buffer_t;
typedef int (*halide_gemm_fn)(struct halide_buffer_t *w, struct halide_buffer_t *x,
                              struct halide_buffer_t *acc);
/* Runs a generated Halide multiply-add kernel on the kernel ABI's raw pointers. */
int tern_run_halide_gemm_i2(halide_gemm_fn fn, const uint8_t *w, int64_t n, int64_t k,
                            const int8_t *x, int64_t x_stride, int64_t t, int32_t *acc,
                            int64_t acc_stride);
/* Tokens through the MLIR micro-kernels (gemm_i2_mlir.c): one at a time (AVX2 GEMV), or in
 * groups of four (AVX2 or AVX-512 GEMM; t a multiple of 4). */
int tern_gemv_i2_avx2_mlir_tokens(const uint8_t *w, int64_t n, int64_t k, const int8_t *x,
                                  int64_t x_stride, int64_t t, int32_t *acc, int64_t acc_stride);
int tern_gemm_i2_avx2_mlir_tokens(const uint8_t *w, int64_t n, int64_t k, const int8_t *x,
                                  int64_t x_stride, int64_t t, int32_t *acc, int64_t acc_stride);
int tern_gemm_i2_avx512_mlir_tokens(const uint8_t *w, int64_t n, int64_t k, const int8_t *x,
                                    int64_t x_stride, int64_t t, int32_t *acc,
                                    int64_t acc_stride);

#endif
