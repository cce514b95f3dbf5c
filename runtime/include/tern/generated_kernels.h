/* tern/generated_kernels.h - running the kernels ternc generates per model.
 *
 * For a single-ISA target ternc generates each bitlinear's multiply-add kernel for the op's shape
 * and for each batch bucket of its #tern.kernel (decode, and prefill calls of up to 8, 32, 128,
 * 512 tokens), with the schedule parameters written there (docs/tuning.md). They are Halide
 * pipelines with the buffer ABI of the library's multiply-add kernels (gemm_i2 generator:
 * w (64, k_tiles, n_tiles) u8, x (k, t) i8, acc (16, n_tiles, t) i32); the runtime builds the
 * buffers. A bitlinear whose family is a lookup table (tl1, tl2) runs gemm_lut pipelines, whose
 * tile is an MLIR micro-kernel generated for the shape. A quant_input whose activations are not
 * 8-bit is generated the same way.
 *
 * ternc emits one constant table of buckets per bitlinear and passes its address. */
#ifndef TERN_GENERATED_KERNELS_H
#define TERN_GENERATED_KERNELS_H

#include <stdbool.h>
#include <stdint.h>

#include "tern/decoder_kernels.h"

#ifdef __cplusplus
extern "C" {
#endif

struct halide_buffer_t;
typedef int (*tern_halide_gemm_fn)(struct halide_buffer_t *w, struct halide_buffer_t *x,
                                   struct halide_buffer_t *acc);
typedef int (*tern_halide_quant_input_fn)(struct halide_buffer_t *a, struct halide_buffer_t *b,
                                          struct halide_buffer_t *g, int32_t glu, bool has_norm,
                                          float eps, int32_t k, struct halide_buffer_t *q,
                                          struct halide_buffer_t *scale);

/* One batch bucket of a generated GEMM: calls of up to max_tokens tokens (the last bucket takes
 * any number) run fn on the largest multiple of token_group tokens, and the rest through the
 * first bucket, which is the decode kernel (token_group 1). */
typedef struct {
  int64_t max_tokens;
  int64_t token_group;
  tern_halide_gemm_fn fn;
} tern_gemm_bucket;

/* acc[t][0..n) = W . x[t] (tern_gemm_fn's contract) through a bucket table. Returns non-zero if a
 * kernel rejected its buffers or the table is malformed (no buckets, or a first bucket whose
 * token_group is not 1). */
int tern_gemm_i2_buckets(const tern_gemm_bucket *buckets, int64_t count, const uint8_t *w,
                         int64_t n, int64_t k, const int8_t *x, int64_t x_stride, int64_t t,
                         int32_t *acc, int64_t acc_stride);

/* The same through generated lookup-table pipelines (gemm_lut generator: w the whole packed
 * blob (bytes), x (k, t) i8, acc (n padded to 64, t) i32), `tl2` choosing the layout of
 * tern/lut_kernels.h. A pipeline takes any number of tokens; its token_group is 1 in the table. */
int tern_gemm_lut_buckets(const tern_gemm_bucket *buckets, int64_t count, int tl2,
                          const uint8_t *w, int64_t n, int64_t k, const int8_t *x,
                          int64_t x_stride, int64_t t, int32_t *acc, int64_t acc_stride);

/* tern_quant_input_fn's contract through a generated quant_input pipeline (which quantizes to
 * the bits it was generated for). */
int tern_quant_input_halide(tern_halide_quant_input_fn fn, const float *a, const float *b,
                            int64_t t, int64_t k, tern_glu_t glu, const float *norm_weight,
                            float eps, int8_t *q, int64_t q_stride, float *scale);

#ifdef __cplusplus
}
#endif

#endif /* TERN_GENERATED_KERNELS_H */
