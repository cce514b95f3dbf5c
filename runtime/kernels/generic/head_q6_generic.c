/* head_q6_generic.c - the ~6.5-bit output head, scalar (tern/head_q6.h): the fallback on any CPU
 * and the oracle of the generated kernels. */
#include "tern/head_q6.h"
#include "tern/head_q8.h" /* IEEE half conversions */

#include <stdlib.h>

#define SUBS (TERN_Q6_K_BLOCK / TERN_Q6_K_SUB)

void tern_head_q6_k_rows_generic(const int8_t *q, const float *d, const int32_t *sum, int64_t k,
                                 const uint8_t *w, int64_t n, int64_t row_begin,
                                 int64_t row_end, float *out) {
  int64_t kb_count = (k + TERN_Q6_K_BLOCK - 1) / TERN_Q6_K_BLOCK;
  const int8_t *sub_scales = (const int8_t *)(w + tern_q6_k_codes_size(n, k));
  const uint16_t *scales = (const uint16_t *)(const void *)(w + tern_q6_k_scales_offset(n, k));
  for (int64_t row = row_begin; row < row_end; ++row) {
    int64_t nt = row / TERN_Q6_K_TILE_ROWS, r = row % TERN_Q6_K_TILE_ROWS;
    float acc = 0;
    for (int64_t kb = 0; kb < kb_count; ++kb) {
      size_t tile = (size_t)(nt * kb_count + kb);
      const uint8_t *codes = w + tile * TERN_Q6_K_TILE_BYTES;
      const int8_t *qx = q + kb * TERN_Q6_K_BLOCK;
      int32_t block = 0;
      for (int j = 0; j < SUBS; ++j) {
        const uint8_t *sub = codes + 192 * j;
        int32_t dot = 0;
        for (int i = 0; i < 4; ++i)     /* the sub-block's 4 groups of 4 columns */
          for (int kk = 0; kk < 4; ++kk) {
            int lo = (sub[64 * (i / 2) + kk + 4 * r] >> (4 * (i % 2))) & 0xf;
            int hi = (sub[128 + kk + 4 * r] >> (2 * i)) & 0x3;
            dot += (lo | hi << 4) * qx[TERN_Q6_K_SUB * j + 4 * i + kk];
          }
        block += sub_scales[tile * 256 + (size_t)(16 * j + r)] * (dot - 32 * sum[kb * SUBS + j]);
      }
      float scale = tern_f16_to_float(scales[tile * TERN_Q6_K_TILE_ROWS + (size_t)r]) * d[kb];
      /* The generated kernels compute the same two roundings: the scale product, then one
       * multiply-add into the row's sum, in block order. */
      acc = __builtin_fmaf((float)block, scale, acc);
    }
    out[row] = acc;
  }
}

int tern_head_q6_k_generic(const float *x, int64_t t, int64_t k, const uint8_t *w, int64_t n,
                           float *out) {
  int64_t kb_count = (k + TERN_Q6_K_BLOCK - 1) / TERN_Q6_K_BLOCK;
  int8_t *q = malloc((size_t)(kb_count * TERN_Q6_K_BLOCK));
  float *d = malloc(sizeof(float) * (size_t)kb_count);
  int32_t *sum = malloc(sizeof(int32_t) * (size_t)(kb_count * SUBS));
  int status = q && d && sum ? 0 : -1;
  for (int64_t i = 0; status == 0 && i < t; ++i) {
    tern_q6_k_quantize_x(x + i * k, k, q, d, sum);
    tern_head_q6_k_rows_generic(q, d, sum, k, w, n, 0, n, out + i * n);
  }
  free(q);
  free(d);
  free(sum);
  return status;
}
