/* lut_generic.c - scalar kernels over the tl1 and tl2 layouts: decode each group's pattern and
 * multiply-add it. No tables: the SIMD variants' tables are checked against this arithmetic. */
#include "tern/lut_kernels.h"

int tern_gemm_tl1_generic(const uint8_t *w, int64_t n, int64_t k, const int8_t *x,
                          int64_t x_stride, int64_t t, int32_t *acc, int64_t acc_stride) {
  int64_t pairs = tern_round_up(k, TERN_TL1_PAIR_COLUMNS) / 4;
  for (int64_t i = 0; i < t; ++i) {
    const int8_t *xi = x + i * x_stride;
    for (int64_t row = 0; row < n; ++row) {
      const uint8_t *block = w + (row / TERN_LUT_ROW_BLOCK) * pairs * TERN_TL1_PAIR_BYTES;
      int32_t sum = 0;
      for (int64_t col = 0; col < k; col += 2) {
        int64_t g = col / 2;
        int index = (block[(g / 2) * TERN_TL1_PAIR_BYTES + row % TERN_LUT_ROW_BLOCK] >>
                     (4 * (g % 2))) & 0xF;
        sum += (index / 3 - 1) * xi[col];
        if (col + 1 < k)
          sum += (index % 3 - 1) * xi[col + 1];
      }
      acc[i * acc_stride + row] = sum;
    }
  }
  return 0;
}

int tern_gemm_tl2_generic(const uint8_t *w, int64_t n, int64_t k, const int8_t *x,
                          int64_t x_stride, int64_t t, int32_t *acc, int64_t acc_stride) {
  int64_t octets = tern_round_up(k, TERN_TL2_OCTET_COLUMNS) / TERN_TL2_OCTET_COLUMNS;
  for (int64_t i = 0; i < t; ++i) {
    const int8_t *xi = x + i * x_stride;
    for (int64_t row = 0; row < n; ++row) {
      int64_t r = row % TERN_LUT_ROW_BLOCK;
      int32_t sum = 0;
      for (int64_t col = 0; col < k; col += 3) {
        int64_t g = col / 3;
        const uint8_t *octet =
            w + ((row / TERN_LUT_ROW_BLOCK) * octets + g / 8) * TERN_TL2_OCTET_BYTES;
        int magnitude = (octet[((g % 8) / 2) * TERN_LUT_ROW_BLOCK + r] >> (4 * (g % 2))) & 0xF;
        int negative = (octet[4 * TERN_LUT_ROW_BLOCK + r] >> (g % 8)) & 1;
        int code = negative ? 13 - magnitude : 13 + magnitude;
        int digits[3] = {code / 9 - 1, (code / 3) % 3 - 1, code % 3 - 1};
        for (int j = 0; j < 3 && col + j < k; ++j)
          sum += digits[j] * xi[col + j];
      }
      acc[i * acc_stride + row] = sum;
    }
  }
  return 0;
}
