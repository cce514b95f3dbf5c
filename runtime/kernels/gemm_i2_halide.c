/* gemm_i2_halide.c - the generated multiply-add kernels behind the plain C kernel ABI.
 *
 * Each variant sends full groups of 4 tokens to a GEMM kernel (every unpacked weight used 4
 * times) and the remaining tokens to a decode kernel: the ISA's Halide kernels, or the MLIR AVX2
 * micro-kernels (gemm_i2_mlir.c) where the benchmark found them faster. The generated code never sees a
 * halide_buffer_t from outside: these wrappers build them. */
#include "tern/kernels.h"

#include "gemm_i2_variants.h"

#include "tern/generated_kernels.h"

#include "tern/thread_pool.h"

#include "halide_buffer.h"


int tern_run_halide_gemm_i2(halide_gemm_fn fn, const uint8_t *w, int64_t n, int64_t k,
                            const int8_t *x, int64_t x_stride, int64_t t, int32_t *acc,
                            int64_t acc_stride) {
  int64_t k_tiles = tern_round_up(k, 16) / 16, n_tiles = tern_round_up(n, TERN_I2_ROW_ALIGN) / 16;
  halide_dimension_t wd[3] = {{0, 64, 1, 0},
                              {0, (int32_t)k_tiles, 64, 0},
                              {0, (int32_t)n_tiles, (int32_t)(64 * k_tiles), 0}};
  halide_dimension_t xd[2] = {{0, (int32_t)(k_tiles * 16), 1, 0},
                              {0, (int32_t)t, (int32_t)x_stride, 0}};
  halide_dimension_t ad[3] = {{0, 16, 1, 0},
                              {0, (int32_t)n_tiles, 16, 0},
                              {0, (int32_t)t, (int32_t)acc_stride, 0}};
  tern_thread_pool_adopt_halide();
  halide_buffer_t wb, xb, ab;
  tern_init_halide_buffer(&wb, w, halide_type_uint, 8, 3, wd);
  tern_init_halide_buffer(&xb, x, halide_type_int, 8, 2, xd);
  tern_init_halide_buffer(&ab, acc, halide_type_int, 32, 3, ad);
  return fn(&wb, &xb, &ab);
}

int tern_gemm_i2_buckets(const tern_gemm_bucket *buckets, int64_t count, const uint8_t *w,
                         int64_t n, int64_t k, const int8_t *x, int64_t x_stride, int64_t t,
                         int32_t *acc, int64_t acc_stride) {
  if (count < 1 || buckets[0].token_group != 1)
    return -1;
  if (t == 0)
    return 0;
  const tern_gemm_bucket *b = &buckets[count - 1];
  for (int64_t i = 0; i < count; ++i)
    if (t <= buckets[i].max_tokens) {
      b = &buckets[i];
      break;
    }
  int64_t grouped = b->token_group > 1 ? t / b->token_group * b->token_group : t;
  if (grouped > 0) {
    int status = tern_run_halide_gemm_i2((halide_gemm_fn)b->fn, w, n, k, x, x_stride, grouped,
                                         acc, acc_stride);
    if (status != 0)
      return status;
  }
  if (t > grouped)
    return tern_run_halide_gemm_i2((halide_gemm_fn)buckets[0].fn, w, n, k,
                                   x + grouped * x_stride, x_stride, t - grouped,
                                   acc + grouped * acc_stride, acc_stride);
  return 0;
}

/* A variant runs PREFILL(...) for groups of 4 tokens and DECODE(...) for the rest. */
#define TERN_GEMM_I2_VARIANT_OF(NAME, KERNELS, PREFILL, DECODE)                                    \
  int tern_gemm_i2_##NAME(const uint8_t *w, int64_t n, int64_t k, const int8_t *x,                 \
                          int64_t x_stride, int64_t t, int32_t *acc, int64_t acc_stride) {         \
    int64_t t4 = t / 4 * 4;                                                                        \
    if (t4 > 0) {                                                                                  \
      int status = PREFILL(KERNELS, w, n, k, x, x_stride, t4, acc, acc_stride);                    \
      if (status != 0)                                                                             \
        return status;                                                                             \
    }                                                                                              \
    if (t > t4)                                                                                    \
      return DECODE(KERNELS, w, n, k, x + t4 * x_stride, x_stride, t - t4,                         \
                    acc + t4 * acc_stride, acc_stride);                                            \
    return 0;                                                                                      \
  }

/* Halide's GEMM / GEMV for an ISA, or the MLIR AVX2 micro-kernels (gemm_i2_mlir.c). */
#define TERN_HALIDE_GEMM(KERNELS, w, n, k, x, xs, t, acc, as)                                      \
  tern_run_halide_gemm_i2(tern_gemm_i2_##KERNELS##_halide, w, n, k, x, xs, t, acc, as)
#define TERN_HALIDE_GEMV(KERNELS, w, n, k, x, xs, t, acc, as)                                      \
  tern_run_halide_gemm_i2(tern_gemv_i2_##KERNELS##_halide, w, n, k, x, xs, t, acc, as)
#define TERN_DECLARE_HALIDE(KIND, KERNELS)                                                         \
  int tern_##KIND##_i2_##KERNELS##_halide(struct halide_buffer_t *, struct halide_buffer_t *,      \
                                          struct halide_buffer_t *);
#define TERN_MLIR_AVX2_GEMM(KERNELS, w, n, k, x, xs, t, acc, as)                                   \
  tern_gemm_i2_avx2_mlir_tokens(w, n, k, x, xs, t, acc, as)
#define TERN_MLIR_AVX512_GEMM(KERNELS, w, n, k, x, xs, t, acc, as)                                 \
  tern_gemm_i2_avx512_mlir_tokens(w, n, k, x, xs, t, acc, as)
#define TERN_MLIR_AVX2_GEMV(KERNELS, w, n, k, x, xs, t, acc, as)                                   \
  tern_gemv_i2_avx2_mlir_tokens(w, n, k, x, xs, t, acc, as)

#if defined(__x86_64__)
TERN_DECLARE_HALIDE(gemm, x86_64_avx512vnni)
TERN_DECLARE_HALIDE(gemv, x86_64_avx512vnni)
TERN_DECLARE_HALIDE(gemm, x86_64_avx2)
TERN_DECLARE_HALIDE(gemv, x86_64_avx2)
TERN_GEMM_I2_VARIANT_OF(x86_64_avx512vnni, x86_64_avx512vnni, TERN_HALIDE_GEMM, TERN_HALIDE_GEMV)
TERN_GEMM_I2_VARIANT_OF(x86_64_avx512, x86_64_avx512, TERN_MLIR_AVX512_GEMM, TERN_MLIR_AVX2_GEMV)
TERN_GEMM_I2_VARIANT_OF(x86_64_avx2, x86_64_avx2, TERN_MLIR_AVX2_GEMM, TERN_MLIR_AVX2_GEMV)
TERN_GEMM_I2_VARIANT_OF(x86_64_avx2_halide_only, x86_64_avx2, TERN_HALIDE_GEMM, TERN_HALIDE_GEMV)
#elif defined(__aarch64__)
TERN_DECLARE_HALIDE(gemm, aarch64_dotprod)
TERN_DECLARE_HALIDE(gemv, aarch64_dotprod)
TERN_DECLARE_HALIDE(gemm, aarch64_neon)
TERN_DECLARE_HALIDE(gemv, aarch64_neon)
TERN_GEMM_I2_VARIANT_OF(aarch64_dotprod, aarch64_dotprod, TERN_HALIDE_GEMM, TERN_HALIDE_GEMV)
TERN_GEMM_I2_VARIANT_OF(aarch64_neon, aarch64_neon, TERN_HALIDE_GEMM, TERN_HALIDE_GEMV)
#endif
