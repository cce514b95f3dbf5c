/* q8_layout.c - the 8-bit output head's numbers and layout (tern/head_q8.h). Linked into the
 * compiler (which packs) and the runtime (which reads), one implementation for both. */
#include "tern/head_q8.h"

#include <math.h>
#include <string.h>

static int64_t tiles(int64_t n) { return (n + TERN_Q8_0_TILE_ROWS - 1) / TERN_Q8_0_TILE_ROWS; }
static int64_t blocks(int64_t k) { return (k + TERN_Q8_0_BLOCK - 1) / TERN_Q8_0_BLOCK; }

size_t tern_q8_0_codes_size(int64_t n, int64_t k) {
  return (size_t)(tiles(n) * blocks(k)) * TERN_Q8_0_TILE_BYTES;
}

size_t tern_q8_0_size(int64_t n, int64_t k) {
  return tern_q8_0_codes_size(n, k) +
         (size_t)(tiles(n) * blocks(k) * TERN_Q8_0_TILE_ROWS) * sizeof(uint16_t);
}

uint16_t tern_f16_from_float(float f) {
  uint32_t x;
  memcpy(&x, &f, sizeof x);
  uint32_t sign = (x >> 16) & 0x8000u;
  uint32_t exponent = (x >> 23) & 0xffu, mantissa = x & 0x7fffffu;
  if (exponent == 0xff) /* inf, NaN (kept quiet) */
    return (uint16_t)(sign | 0x7c00u | (mantissa ? 0x200u : 0));
  int e = (int)exponent - 127 + 15;
  if (e >= 31)
    return (uint16_t)(sign | 0x7c00u);
  if (e <= 0) { /* subnormal half, or zero */
    if (e < -10)
      return (uint16_t)sign;
    mantissa |= 0x800000u;
    int shift = 14 - e;
    uint32_t half = mantissa >> shift, rest = mantissa & ((1u << shift) - 1);
    uint32_t halfway = 1u << (shift - 1);
    if (rest > halfway || (rest == halfway && (half & 1)))
      ++half;
    return (uint16_t)(sign | half);
  }
  uint32_t half = ((uint32_t)e << 10) | (mantissa >> 13), rest = mantissa & 0x1fffu;
  if (rest > 0x1000u || (rest == 0x1000u && (half & 1)))
    ++half; /* may carry into the exponent, which is the right rounding */
  return (uint16_t)(sign | half);
}

float tern_f16_to_float(uint16_t h) {
  uint32_t sign = (uint32_t)(h & 0x8000u) << 16, exponent = (h >> 10) & 0x1fu,
           mantissa = h & 0x3ffu, x;
  if (exponent == 0) {
    if (mantissa == 0) {
      x = sign;
    } else { /* subnormal: normalize */
      int e = -1;
      do {
        ++e;
        mantissa <<= 1;
      } while (!(mantissa & 0x400u));
      x = sign | ((uint32_t)(127 - 15 - e) << 23) | ((mantissa & 0x3ffu) << 13);
    }
  } else if (exponent == 0x1f) {
    x = sign | 0x7f800000u | (mantissa << 13);
  } else {
    x = sign | ((exponent + 127 - 15) << 23) | (mantissa << 13);
  }
  float f;
  memcpy(&f, &x, sizeof f);
  return f;
}

float tern_absmax_quantize(const float *x, int64_t count, int64_t size, int8_t *q) {
  float amax = 0;
  for (int64_t i = 0; i < count; ++i)
    amax = fmaxf(amax, fabsf(x[i]));
  float d = amax / 127.0f, id = d != 0 ? 1.0f / d : 0.0f;
  for (int64_t i = 0; i < size; ++i)
    q[i] = i < count ? (int8_t)roundf(x[i] * id) : 0;
  return d;
}

void tern_q8_0_pack_rows(const float *rows, int64_t first_row, int64_t row_count, int64_t n,
                         int64_t k, uint8_t *out) {
  int64_t kb_count = blocks(k);
  uint16_t *scales = (uint16_t *)(void *)(out + tern_q8_0_codes_size(n, k));
  int8_t q[TERN_Q8_0_BLOCK];
  /* Rows past n in the last tile are padding: q = 0 (code 128), d = 0 (an all-zero block). */
  int64_t last = first_row + row_count;
  if (last == n)
    last = tiles(n) * TERN_Q8_0_TILE_ROWS;
  static const float zeros[TERN_Q8_0_BLOCK];
  for (int64_t row = first_row; row < last; ++row) {
    int64_t nt = row / TERN_Q8_0_TILE_ROWS, r = row % TERN_Q8_0_TILE_ROWS;
    for (int64_t kb = 0; kb < kb_count; ++kb) {
      int64_t first = kb * TERN_Q8_0_BLOCK;
      int64_t count = k - first < TERN_Q8_0_BLOCK ? k - first : TERN_Q8_0_BLOCK;
      const float *w = row < n ? rows + (row - first_row) * k + first : zeros;
      float d = tern_absmax_quantize(w, count, TERN_Q8_0_BLOCK, q);
      uint8_t *tile = out + (size_t)(nt * kb_count + kb) * TERN_Q8_0_TILE_BYTES;
      for (int64_t i = 0; i < TERN_Q8_0_BLOCK; ++i)
        tile[i % 4 + 4 * r + 64 * (i / 4)] = (uint8_t)(q[i] + 128);
      scales[(nt * kb_count + kb) * TERN_Q8_0_TILE_ROWS + r] = tern_f16_from_float(d);
    }
  }
}

void tern_q8_0_pack_ggml_rows(const uint8_t *blocks_in, int64_t first_row, int64_t row_count,
                              int64_t n, int64_t k, uint8_t *out) {
  int64_t kb_count = blocks(k);
  uint16_t *scales = (uint16_t *)(void *)(out + tern_q8_0_codes_size(n, k));
  int64_t last = first_row + row_count;
  if (last == n)
    last = tiles(n) * TERN_Q8_0_TILE_ROWS;
  for (int64_t row = first_row; row < last; ++row) {
    int64_t nt = row / TERN_Q8_0_TILE_ROWS, r = row % TERN_Q8_0_TILE_ROWS;
    for (int64_t kb = 0; kb < kb_count; ++kb) {
      const uint8_t *b = row < n ? blocks_in + (size_t)((row - first_row) * kb_count + kb) *
                                                   TERN_Q8_0_GGML_BLOCK_BYTES
                                 : NULL;
      uint8_t *tile = out + (size_t)(nt * kb_count + kb) * TERN_Q8_0_TILE_BYTES;
      for (int64_t i = 0; i < TERN_Q8_0_BLOCK; ++i)
        tile[i % 4 + 4 * r + 64 * (i / 4)] = (uint8_t)((b ? (int8_t)b[2 + i] : 0) + 128);
      scales[(nt * kb_count + kb) * TERN_Q8_0_TILE_ROWS + r] =
          b ? (uint16_t)(b[0] | (b[1] << 8)) : 0;
    }
  }
}

void tern_q8_0_row_ggml(const uint8_t *packed, int64_t n, int64_t k, int64_t row,
                        uint8_t *blocks_out) {
  int64_t kb_count = blocks(k), nt = row / TERN_Q8_0_TILE_ROWS, r = row % TERN_Q8_0_TILE_ROWS;
  const uint16_t *scales = (const uint16_t *)(const void *)(packed + tern_q8_0_codes_size(n, k));
  for (int64_t kb = 0; kb < kb_count; ++kb) {
    const uint8_t *tile = packed + (size_t)(nt * kb_count + kb) * TERN_Q8_0_TILE_BYTES;
    uint8_t *b = blocks_out + (size_t)kb * TERN_Q8_0_GGML_BLOCK_BYTES;
    uint16_t d = scales[(nt * kb_count + kb) * TERN_Q8_0_TILE_ROWS + r];
    b[0] = (uint8_t)d;
    b[1] = (uint8_t)(d >> 8);
    for (int64_t i = 0; i < TERN_Q8_0_BLOCK; ++i)
      b[2 + i] = (uint8_t)(tile[i % 4 + 4 * r + 64 * (i / 4)] - 128);
  }
}

void tern_q8_0_pack(const float *w, int64_t n, int64_t k, uint8_t *out) {
  tern_q8_0_pack_rows(w, 0, n, n, k, out);
}

float tern_q8_0_load(const uint8_t *packed, int64_t n, int64_t k, int64_t row, int64_t col) {
  int64_t kb_count = blocks(k), nt = row / TERN_Q8_0_TILE_ROWS, r = row % TERN_Q8_0_TILE_ROWS;
  int64_t kb = col / TERN_Q8_0_BLOCK, i = col % TERN_Q8_0_BLOCK;
  const uint8_t *tile = packed + (size_t)(nt * kb_count + kb) * TERN_Q8_0_TILE_BYTES;
  const uint16_t *scales = (const uint16_t *)(const void *)(packed + tern_q8_0_codes_size(n, k));
  int q = (int)tile[i % 4 + 4 * r + 64 * (i / 4)] - 128;
  return (float)q * tern_f16_to_float(scales[(nt * kb_count + kb) * TERN_Q8_0_TILE_ROWS + r]);
}

void tern_q8_0_row(const uint8_t *packed, int64_t n, int64_t k, int64_t row, float *out) {
  for (int64_t col = 0; col < k; ++col)
    out[col] = tern_q8_0_load(packed, n, k, row, col);
}

void tern_q8_0_quantize_x(const float *x, int64_t k, int8_t *q, float *d, int32_t *sum) {
  for (int64_t kb = 0, kb_count = blocks(k); kb < kb_count; ++kb) {
    int64_t first = kb * TERN_Q8_0_BLOCK;
    int64_t count = k - first < TERN_Q8_0_BLOCK ? k - first : TERN_Q8_0_BLOCK;
    int8_t *block = q + first;
    d[kb] = tern_absmax_quantize(x + first, count, TERN_Q8_0_BLOCK, block);
    int32_t s = 0;
    for (int i = 0; i < TERN_Q8_0_BLOCK; ++i)
      s += block[i];
    sum[kb] = s;
  }
}
