/* gemm_i2_mlir.c - tokens through the MLIR AVX2 / AVX-512 multiply-add micro-kernels
 * (vpmaddubsw + vpmaddwd, see codegen/ukernels/MadI2Avx2.cpp) on the runtime's thread pool: one 64-row group
 * per task. A GEMM task runs every group of four tokens over its rows, so the group's weights
 * (64 rows x K / 4 bytes) come from memory once and then from cache. */
#include "tern/kernels.h"

#if defined(__x86_64__)

#include "gemm_i2_variants.h"

#include "tern/thread_pool.h"

#include <stdlib.h>

/* A micro-kernel, with its memref arguments expanded (allocated, aligned, offset, size, stride). */
typedef void (*mad_ukernel)(const uint8_t *, const uint8_t *, int64_t, int64_t, int64_t,
                            const int8_t *, const int8_t *, int64_t, int64_t, int64_t, int32_t *,
                            int32_t *, int64_t, int64_t, int64_t, int64_t k_tiles,
                            int64_t row_tile_begin, int64_t row_tile_end, int64_t x_stride,
                            int64_t acc_stride);
void tern_gemv_i2_x86_64_avx2_mlir(void);
void tern_gemm_i2_x86_64_avx2_mlir(void);
void tern_gemm_i2_x86_64_avx512_mlir(void);

typedef struct {
  mad_ukernel kernel;
  int tokens_per_call; /* 1 (GEMV) or 4 (GEMM) */
  const uint8_t *w;
  const int8_t *x;
  int32_t *acc;
  int64_t x_stride, acc_stride, t, k_tiles, n_tiles;
  const int32_t *x_sums; /* per token */
} mad_closure;

static int mad_task(void *user_context, int group, uint8_t *closure) {
  (void)user_context;
  const mad_closure *c = (const mad_closure *)closure;
  int64_t begin = 4 * (int64_t)group, end = begin + 4;
  int64_t w_bytes = c->n_tiles * c->k_tiles * TERN_I2_TILE_BYTES;
  int64_t x_bytes = (c->t - 1) * c->x_stride + c->k_tiles * 16;
  int64_t acc_words = (c->t - 1) * c->acc_stride + c->n_tiles * 16;
  for (int64_t i = 0; i < c->t; i += c->tokens_per_call) {
    const int8_t *x = c->x + i * c->x_stride;
    int32_t *acc = c->acc + i * c->acc_stride;
    c->kernel(c->w, c->w, 0, w_bytes, 1, x, x, 0, x_bytes - i * c->x_stride, 1, acc, acc, 0,
              acc_words - i * c->acc_stride, 1, c->k_tiles, begin, end, c->x_stride,
              c->acc_stride);
  }
  /* The kernels multiplied codes W + 1: subtract each token's sum(x) once per row. */
  for (int64_t i = 0; i < c->t; ++i)
    for (int64_t r = begin * 16; r < end * 16; ++r)
      c->acc[i * c->acc_stride + r] -= c->x_sums[i];
  return 0;
}

static int run_mad(mad_ukernel kernel, int tokens_per_call, const uint8_t *w, int64_t n,
                   int64_t k, const int8_t *x, int64_t x_stride, int64_t t, int32_t *acc,
                   int64_t acc_stride) {
  if (t == 0)
    return 0;
  mad_closure c;
  c.kernel = kernel, c.tokens_per_call = tokens_per_call;
  c.w = w, c.x = x, c.acc = acc, c.x_stride = x_stride, c.acc_stride = acc_stride, c.t = t;
  c.k_tiles = tern_round_up(k, 16) / 16;
  c.n_tiles = tern_round_up(n, TERN_I2_ROW_ALIGN) / 16;
  int32_t one_sum, *sums = t == 1 ? &one_sum : (int32_t *)malloc((size_t)t * sizeof(int32_t));
  if (!sums)
    return -1;
  for (int64_t i = 0; i < t; ++i) {
    int32_t s = 0;
    for (int64_t j = 0; j < c.k_tiles * 16; ++j)
      s += x[i * x_stride + j];
    sums[i] = s;
  }
  c.x_sums = sums;
  int status = tern_parallel_for(NULL, mad_task, 0, (int)(c.n_tiles / 4), (uint8_t *)&c);
  if (sums != &one_sum)
    free(sums);
  return status;
}

int tern_gemv_i2_avx2_mlir_tokens(const uint8_t *w, int64_t n, int64_t k, const int8_t *x,
                                  int64_t x_stride, int64_t t, int32_t *acc, int64_t acc_stride) {
  /* One token per parallel loop: decode calls have one, and their rows are what is split. */
  for (int64_t i = 0; i < t; ++i) {
    int status = run_mad((mad_ukernel)tern_gemv_i2_x86_64_avx2_mlir, 1, w, n, k,
                         x + i * x_stride, x_stride, 1, acc + i * acc_stride, acc_stride);
    if (status != 0)
      return status;
  }
  return 0;
}

int tern_gemm_i2_avx2_mlir_tokens(const uint8_t *w, int64_t n, int64_t k, const int8_t *x,
                                  int64_t x_stride, int64_t t, int32_t *acc, int64_t acc_stride) {
  return run_mad((mad_ukernel)tern_gemm_i2_x86_64_avx2_mlir, 4, w, n, k, x, x_stride, t, acc,
                 acc_stride);
}

int tern_gemm_i2_avx512_mlir_tokens(const uint8_t *w, int64_t n, int64_t k, const int8_t *x,
                                    int64_t x_stride, int64_t t, int32_t *acc,
                                    int64_t acc_stride) {
  return run_mad((mad_ukernel)tern_gemm_i2_x86_64_avx512_mlir, 4, w, n, k, x, x_stride, t, acc,
                 acc_stride);
}

#endif /* __x86_64__ */
