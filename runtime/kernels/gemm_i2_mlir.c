/* gemm_i2_mlir.c - decode tokens through the MLIR AVX2 GEMV micro-kernel (vpmaddubsw +
 * vpmaddwd, see codegen/ukernels/GemvI2Avx2.cpp), one 64-row group per task on Halide's thread
 * pool until the runtime has its own. */
#include "tern/kernels.h"

#if defined(__x86_64__)

#include "gemm_i2_variants.h"

#include "tern/thread_pool.h"

/* The micro-kernel, with its memref arguments expanded (allocated, aligned, offset, size, stride). */
void tern_gemv_i2_x86_64_avx2_mlir(const uint8_t *, const uint8_t *, int64_t, int64_t, int64_t,
                                   const int8_t *, const int8_t *, int64_t, int64_t, int64_t,
                                   int32_t *, int32_t *, int64_t, int64_t, int64_t, int64_t k_tiles,
                                   int64_t row_tile_begin, int64_t row_tile_end);

typedef struct {
  const uint8_t *w;
  const int8_t *x;
  int32_t *acc;
  int64_t k_tiles, n_tiles, x_sum;
} gemv_closure;

static int gemv_task(void *user_context, int group, uint8_t *closure) {
  (void)user_context;
  const gemv_closure *c = (const gemv_closure *)closure;
  int64_t begin = 4 * (int64_t)group, end = begin + 4;
  size_t w_bytes = (size_t)(c->n_tiles * c->k_tiles * TERN_I2_TILE_BYTES);
  tern_gemv_i2_x86_64_avx2_mlir(c->w, c->w, 0, (int64_t)w_bytes, 1, c->x, c->x, 0,
                                c->k_tiles * 16, 1, c->acc, c->acc, 0, c->n_tiles * 16, 1,
                                c->k_tiles, begin, end);
  /* The kernel multiplied codes W + 1: subtract sum(x) once per row. */
  for (int64_t i = begin * 16; i < end * 16; ++i)
    c->acc[i] -= (int32_t)c->x_sum;
  return 0;
}

int tern_gemv_i2_avx2_mlir_tokens(const uint8_t *w, int64_t n, int64_t k, const int8_t *x,
                                  int64_t x_stride, int64_t t, int32_t *acc, int64_t acc_stride) {
  gemv_closure c;
  c.w = w;
  c.k_tiles = tern_round_up(k, 16) / 16;
  c.n_tiles = tern_round_up(n, TERN_I2_ROW_ALIGN) / 16;
  for (int64_t i = 0; i < t; ++i) {
    c.x = x + i * x_stride;
    c.acc = acc + i * acc_stride;
    c.x_sum = 0;
    for (int64_t j = 0; j < c.k_tiles * 16; ++j)
      c.x_sum += c.x[j];
    int status = tern_parallel_for(NULL, gemv_task, 0, (int)(c.n_tiles / 4), (uint8_t *)&c);
    if (status != 0)
      return status;
  }
  return 0;
}

#endif /* __x86_64__ */
