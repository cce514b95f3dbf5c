/* gemm_lut_mlir.c - runs the MLIR lookup-table micro-kernels (codegen/ukernels/GemvLut.cpp):
 * builds each token's tables, starts the accumulators (0 for tl1, the packed negative-group
 * counts for tl2), and hands row-block ranges to the kernel as tasks on the runtime's thread
 * pool. A task runs every token over its rows, so a GEMM reads each
 * weight block from memory once and then from cache. */
#define _POSIX_C_SOURCE 200112L
#include "tern/lut_kernels.h"

#include "gemm_lut_variants.h"

#include "tern/thread_pool.h"

#include <stdlib.h>
#include <string.h>

/* A micro-kernel, with its memref arguments expanded (allocated, aligned, offset, size, stride). */
typedef void (*lut_ukernel)(const uint8_t *, const uint8_t *, int64_t, int64_t, int64_t,
                            const uint8_t *, const uint8_t *, int64_t, int64_t, int64_t, int32_t *,
                            int32_t *, int64_t, int64_t, int64_t, int64_t units,
                            int64_t block_begin, int64_t block_end);

typedef struct {
  lut_ukernel kernel;
  const uint8_t *w;
  int64_t w_bytes;
  const int8_t *x;
  int64_t x_stride, k;
  uint8_t *tables;
  int64_t table_bytes;
  int tl2;
  int32_t *acc;
  int64_t acc_stride, t, units, blocks, blocks_per_task;
} lut_closure;

/* Row blocks per task: a multiple of the kernels' two blocks per iteration. */
#define LUT_BLOCKS_PER_TASK 2

static int table_task(void *user_context, int token, uint8_t *closure) {
  (void)user_context;
  const lut_closure *c = (const lut_closure *)closure;
  const int8_t *x = c->x + token * c->x_stride;
  uint8_t *tables = c->tables + token * c->table_bytes;
  if (c->tl2)
    tern_tl2_tables(x, c->k, tables);
  else
    tern_tl1_tables(x, c->k, tables);
  return 0;
}

static int rows_task(void *user_context, int task, uint8_t *closure) {
  (void)user_context;
  const lut_closure *c = (const lut_closure *)closure;
  int64_t begin = task * c->blocks_per_task, end = begin + c->blocks_per_task;
  if (end > c->blocks)
    end = c->blocks;
  for (int64_t i = 0; i < c->t; ++i) {
    const uint8_t *tables = c->tables + i * c->table_bytes;
    int32_t *acc = c->acc + i * c->acc_stride;
    c->kernel(c->w, c->w, 0, c->w_bytes, 1, tables, tables, 0, c->table_bytes, 1, acc, acc, 0,
              c->blocks * TERN_LUT_ROW_BLOCK, 1, c->units, begin, end);
  }
  return 0;
}

static int run_lut(lut_ukernel kernel, int tl2, const uint8_t *w, int64_t n, int64_t k,
                   const int8_t *x, int64_t x_stride, int64_t t, int32_t *acc,
                   int64_t acc_stride) {
  lut_closure c;
  memset(&c, 0, sizeof c);
  c.kernel = kernel, c.w = w, c.x = x, c.x_stride = x_stride, c.k = k, c.tl2 = tl2;
  c.acc = acc, c.acc_stride = acc_stride, c.t = t;
  int64_t np = tern_round_up(n, TERN_LUT_ROW_BLOCK);
  c.blocks = np / TERN_LUT_ROW_BLOCK;
  c.blocks_per_task = LUT_BLOCKS_PER_TASK;
  int64_t groups = tl2 ? tern_tl2_groups(k) : tern_tl1_groups(k);
  c.units = tl2 ? groups / 8 : groups / 2;
  c.table_bytes = groups * TERN_LUT_TABLE_BYTES;
  c.w_bytes = (int64_t)(tl2 ? tern_tl2_packed_size(n, k) : tern_tl1_packed_size(n, k));
  c.tables = (uint8_t *)aligned_alloc(64, (size_t)tern_round_up(t * c.table_bytes, 64));
  if (!c.tables)
    return -1;
  int status = t == 1 ? table_task(NULL, 0, (uint8_t *)&c)
                      : tern_parallel_for(NULL, table_task, 0, (int)t, (uint8_t *)&c);
  if (status == 0) {
    /* tl2 kernels add flipped values (-v - 1) for negative groups: start from their count. */
    const int32_t *negatives =
        tl2 ? (const int32_t *)(w + c.w_bytes - np * (int64_t)sizeof(int32_t)) : NULL;
    for (int64_t i = 0; i < t; ++i) {
      if (negatives)
        memcpy(acc + i * acc_stride, negatives, (size_t)np * sizeof(int32_t));
      else
        memset(acc + i * acc_stride, 0, (size_t)np * sizeof(int32_t));
    }
    int tasks = (int)((c.blocks + c.blocks_per_task - 1) / c.blocks_per_task);
    status = tern_parallel_for(NULL, rows_task, 0, tasks, (uint8_t *)&c);
  }
  free(c.tables);
  return status;
}

#define TERN_GEMM_LUT_VARIANT(NAME, REQUIRES)                                                      \
  void tern_gemv_tl1_##NAME##_mlir();                                                             \
  void tern_gemv_tl2_##NAME##_mlir();                                                             \
  int tern_gemm_tl1_##NAME(const uint8_t *w, int64_t n, int64_t k, const int8_t *x,                \
                           int64_t x_stride, int64_t t, int32_t *acc, int64_t acc_stride) {        \
    return run_lut((lut_ukernel)tern_gemv_tl1_##NAME##_mlir, 0, w, n, k, x, x_stride, t, acc,      \
                   acc_stride);                                                                    \
  }                                                                                                \
  int tern_gemm_tl2_##NAME(const uint8_t *w, int64_t n, int64_t k, const int8_t *x,                \
                           int64_t x_stride, int64_t t, int32_t *acc, int64_t acc_stride) {        \
    return run_lut((lut_ukernel)tern_gemv_tl2_##NAME##_mlir, 1, w, n, k, x, x_stride, t, acc,      \
                   acc_stride);                                                                    \
  }
#include "gemm_lut_variants.inl"
#undef TERN_GEMM_LUT_VARIANT
