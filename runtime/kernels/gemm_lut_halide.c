/* gemm_lut_halide.c - the generated lookup-table pipelines behind the plain C kernel ABI.
 *
 * ternc generates one gemm_lut pipeline per shape and batch bucket (its tables stage, parallel
 * split and token groups scheduled by Halide, its tile an MLIR micro-kernel generated for the
 * shape); this wraps the caller's arrays in halide_buffer_t and picks the bucket. */
#include "tern/generated_kernels.h"
#include "tern/lut_kernels.h"

#include "tern/thread_pool.h"

#include "halide_buffer.h"

static int run_lut(tern_halide_gemm_fn fn, int tl2, const uint8_t *w, int64_t n, int64_t k,
                   const int8_t *x, int64_t x_stride, int64_t t, int32_t *acc,
                   int64_t acc_stride) {
  size_t bytes = tl2 ? tern_tl2_packed_size(n, k) : tern_tl1_packed_size(n, k);
  halide_dimension_t wd[1] = {{0, (int32_t)bytes, 1, 0}};
  halide_dimension_t xd[2] = {{0, (int32_t)k, 1, 0}, {0, (int32_t)t, (int32_t)x_stride, 0}};
  halide_dimension_t ad[2] = {{0, (int32_t)tern_round_up(n, TERN_LUT_ROW_BLOCK), 1, 0},
                              {0, (int32_t)t, (int32_t)acc_stride, 0}};
  tern_thread_pool_adopt_halide();
  halide_buffer_t wb, xb, ab;
  tern_init_halide_buffer(&wb, w, halide_type_uint, 8, 1, wd);
  tern_init_halide_buffer(&xb, x, halide_type_int, 8, 2, xd);
  tern_init_halide_buffer(&ab, acc, halide_type_int, 32, 2, ad);
  return fn(&wb, &xb, &ab);
}

int tern_gemm_lut_buckets(const tern_gemm_bucket *buckets, int64_t count, int tl2,
                          const uint8_t *w, int64_t n, int64_t k, const int8_t *x,
                          int64_t x_stride, int64_t t, int32_t *acc, int64_t acc_stride) {
  if (count < 1)
    return -1;
  if (t == 0)
    return 0;
  const tern_gemm_bucket *b = &buckets[count - 1];
  for (int64_t i = 0; i < count; ++i)
    if (t <= buckets[i].max_tokens) {
      b = &buckets[i];
      break;
    }
  return run_lut(b->fn, tl2, w, n, k, x, x_stride, t, acc, acc_stride);
}
