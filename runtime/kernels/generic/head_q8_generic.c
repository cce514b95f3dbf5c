/* head_q8_generic.c - the 8-bit output head, scalar (tern/head_q8.h): the fallback on any CPU
 * and the oracle of the generated kernels. */
#include "tern/head_q8.h"

#include <stdlib.h>

void tern_head_q8_0_rows_generic(const int8_t *q, const float *d, const int32_t *sum, int64_t k,
                                 const uint8_t *w, int64_t n, int64_t row_begin,
                                 int64_t row_end, float *out) {
  int64_t kb_count = (k + TERN_Q8_0_BLOCK - 1) / TERN_Q8_0_BLOCK;
  const uint16_t *scales = (const uint16_t *)(const void *)(w + tern_q8_0_codes_size(n, k));
  for (int64_t row = row_begin; row < row_end; ++row) {
    int64_t nt = row / TERN_Q8_0_TILE_ROWS, r = row % TERN_Q8_0_TILE_ROWS;
    float acc = 0;
    for (int64_t kb = 0; kb < kb_count; ++kb) {
      const uint8_t *tile = w + (size_t)(nt * kb_count + kb) * TERN_Q8_0_TILE_BYTES;
      int32_t dot = 0;
      for (int i = 0; i < TERN_Q8_0_BLOCK; ++i)
        dot += (int32_t)tile[i % 4 + 4 * r + 64 * (i / 4)] * (int32_t)q[kb * TERN_Q8_0_BLOCK + i];
      float scale = tern_f16_to_float(scales[(nt * kb_count + kb) * TERN_Q8_0_TILE_ROWS + r]) *
                    d[kb];
      /* The generated kernels compute the same two roundings: the scale product, then one
       * multiply-add into the row's sum, in block order. */
      acc = __builtin_fmaf((float)(dot - 128 * sum[kb]), scale, acc);
    }
    out[row] = acc;
  }
}

int tern_head_q8_0_generic(const float *x, int64_t t, int64_t k, const uint8_t *w, int64_t n,
                           float *out) {
  int64_t kb_count = (k + TERN_Q8_0_BLOCK - 1) / TERN_Q8_0_BLOCK;
  int8_t *q = malloc((size_t)(kb_count * TERN_Q8_0_BLOCK));
  float *d = malloc(sizeof(float) * (size_t)kb_count);
  int32_t *sum = malloc(sizeof(int32_t) * (size_t)kb_count);
  int status = q && d && sum ? 0 : -1;
  for (int64_t i = 0; status == 0 && i < t; ++i) {
    tern_q8_0_quantize_x(x + i * k, k, q, d, sum);
    tern_head_q8_0_rows_generic(q, d, sum, k, w, n, 0, n, out + i * n);
  }
  free(q);
  free(d);
  free(sum);
  return status;
}
