/* q6_layout.c - the ~6.5-bit output head's numbers and layout (tern/head_q6.h). Linked into the
 * compiler (which packs) and the runtime (which reads), one implementation for both.
 *
 * The quantizer is written so that test/reference/bitnet_reference.py reproduces it bit for bit
 * in numpy: every float step is one IEEE operation in a fixed order, the sums that choose a scale
 * are in double in element order, and nothing here is contracted into a multiply-add (the
 * pragma; x86-64 without FMA has none to contract into anyway). */
#include "tern/head_q6.h"
#include "tern/head_q8.h" /* IEEE half conversions */

#include <math.h>
#include <string.h>

#pragma STDC FP_CONTRACT OFF

static int64_t tiles(int64_t n) { return (n + TERN_Q6_K_TILE_ROWS - 1) / TERN_Q6_K_TILE_ROWS; }
static int64_t blocks(int64_t k) { return (k + TERN_Q6_K_BLOCK - 1) / TERN_Q6_K_BLOCK; }

size_t tern_q6_k_codes_size(int64_t n, int64_t k) {
  return (size_t)(tiles(n) * blocks(k)) * TERN_Q6_K_TILE_BYTES;
}

size_t tern_q6_k_scales_offset(int64_t n, int64_t k) {
  return tern_q6_k_codes_size(n, k) +
         (size_t)(tiles(n) * blocks(k)) * TERN_Q6_K_TILE_ROWS * (TERN_Q6_K_BLOCK / TERN_Q6_K_SUB);
}

size_t tern_q6_k_size(int64_t n, int64_t k) {
  return tern_q6_k_scales_offset(n, k) +
         (size_t)(tiles(n) * blocks(k) * TERN_Q6_K_TILE_ROWS) * sizeof(uint16_t);
}

/* roundf's halves away from zero, clamped to the 6-bit range. */
static int clamp_q6(float v) {
  float r = roundf(v);
  return r < -32.0f ? -32 : r > 31.0f ? 31 : (int)r;
}

/* The scale s (sign included) of 16 weights minimizing sum (w - s q)^2 with q = clamp(round(w /
 * s)): the weight of largest magnitude m is mapped to -31..-33 steps in eighths (17 candidate
 * grids; -32 uses the whole negative range, the others trade m's error for the rest's), each
 * grid's q refit by least squares, the smallest error kept (the first on a tie). */
static float sub_block_scale(const float *w) {
  float m = 0;
  for (int i = 0; i < TERN_Q6_K_SUB; ++i)
    if (fabsf(w[i]) > fabsf(m))
      m = w[i];
  if (m == 0)
    return 0;
  double best_error = INFINITY;
  float best = 0;
  for (int c = 0; c <= 16; ++c) {
    float inverse = -(31.0f + 0.125f * (float)c) / m;
    double wq = 0, qq = 0;
    int q[TERN_Q6_K_SUB];
    for (int i = 0; i < TERN_Q6_K_SUB; ++i) {
      q[i] = clamp_q6(w[i] * inverse);
      wq += (double)w[i] * q[i];
      qq += (double)(q[i] * q[i]);
    }
    if (qq == 0)
      continue;
    double s = wq / qq, error = 0;
    for (int i = 0; i < TERN_Q6_K_SUB; ++i) {
      double e = (double)w[i] - s * q[i];
      error += e * e;
    }
    if (error < best_error)
      best_error = error, best = (float)s;
  }
  return best;
}

/* Q6_K numbers of one super-block of `count` (<= 256) weights: q [256] (0 past count),
 * sc [16], d (returned as the IEEE half). */
static uint16_t quantize_block(const float *x, int64_t count, int8_t *q, int8_t *sc) {
  float w[TERN_Q6_K_BLOCK] = {0}, s[TERN_Q6_K_BLOCK / TERN_Q6_K_SUB];
  memcpy(w, x, sizeof(float) * (size_t)count);
  float smax = 0;
  for (int j = 0; j < TERN_Q6_K_BLOCK / TERN_Q6_K_SUB; ++j) {
    s[j] = sub_block_scale(w + TERN_Q6_K_SUB * j);
    smax = fmaxf(smax, fabsf(s[j]));
  }
  uint16_t d_half = tern_f16_from_float(smax / 127.0f);
  float d = tern_f16_to_float(d_half);
  for (int j = 0; j < TERN_Q6_K_BLOCK / TERN_Q6_K_SUB; ++j) {
    float v = d != 0 ? roundf(s[j] / d) : 0;
    sc[j] = (int8_t)(v < -127.0f ? -127 : v > 127.0f ? 127 : v);
    float step = d * (float)sc[j];
    for (int i = 0; i < TERN_Q6_K_SUB; ++i)
      q[TERN_Q6_K_SUB * j + i] = (int8_t)(step != 0 ? clamp_q6(w[TERN_Q6_K_SUB * j + i] / step) : 0);
  }
  return d_half;
}

/* Byte offset in a tile of the low-nibble byte of column c (0..255) of row r, and the shifts of
 * its low 4 and high 2 bits. */
static size_t low_byte(int64_t r, int64_t c) {
  int64_t g = c / 4, j = g / 4, i = g % 4;
  return (size_t)(192 * j + 64 * (i / 2) + c % 4 + 4 * r);
}
static size_t high_byte(int64_t r, int64_t c) {
  return (size_t)(192 * (c / 16) + 128 + c % 4 + 4 * r);
}
static int low_shift(int64_t c) { return 4 * (int)((c / 4) % 2); }
static int high_shift(int64_t c) { return 2 * (int)((c / 4) % 4); }

/* One super-block's numbers (q [256], sc [16], d) into tile (row / 16, kb) of the layout. */
static void store_block(uint8_t *out, int64_t n, int64_t k, int64_t row, int64_t kb,
                        const int8_t *q, const int8_t *sc, uint16_t d) {
  int64_t kb_count = blocks(k), nt = row / TERN_Q6_K_TILE_ROWS, r = row % TERN_Q6_K_TILE_ROWS;
  int8_t *sub_scales = (int8_t *)(out + tern_q6_k_codes_size(n, k));
  uint16_t *scales = (uint16_t *)(void *)(out + tern_q6_k_scales_offset(n, k));
  size_t tile = (size_t)(nt * kb_count + kb);
  uint8_t *codes = out + tile * TERN_Q6_K_TILE_BYTES;
  for (int64_t c = 0; c < TERN_Q6_K_BLOCK; ++c) {
    unsigned code = (unsigned)(q[c] + 32);
    uint8_t *lo = codes + low_byte(r, c), *hi = codes + high_byte(r, c);
    *lo = (uint8_t)((*lo & ~(0xfu << low_shift(c))) | ((code & 0xfu) << low_shift(c)));
    *hi = (uint8_t)((*hi & ~(0x3u << high_shift(c))) | ((code >> 4) << high_shift(c)));
  }
  for (int j = 0; j < TERN_Q6_K_BLOCK / TERN_Q6_K_SUB; ++j)
    sub_scales[tile * 256 + (size_t)(16 * j + r)] = sc[j];
  scales[tile * TERN_Q6_K_TILE_ROWS + (size_t)r] = d;
}

void tern_q6_k_pack_rows(const float *rows, int64_t first_row, int64_t row_count, int64_t n,
                         int64_t k, uint8_t *out) {
  int64_t kb_count = blocks(k);
  int8_t q[TERN_Q6_K_BLOCK], sc[TERN_Q6_K_BLOCK / TERN_Q6_K_SUB];
  /* Rows past n in the last tile are padding: q = 0 (code 32), sc = 0, d = 0. */
  int64_t last = first_row + row_count;
  if (last == n)
    last = tiles(n) * TERN_Q6_K_TILE_ROWS;
  static const float zeros[TERN_Q6_K_BLOCK];
  for (int64_t row = first_row; row < last; ++row) {
    for (int64_t kb = 0; kb < kb_count; ++kb) {
      int64_t first = kb * TERN_Q6_K_BLOCK;
      int64_t count = k - first < TERN_Q6_K_BLOCK ? k - first : TERN_Q6_K_BLOCK;
      const float *w = row < n ? rows + (row - first_row) * k + first : zeros;
      uint16_t d = quantize_block(w, count, q, sc);
      store_block(out, n, k, row, kb, q, sc, d);
    }
  }
}

/* Element e (0..255) of a GGUF block_q6_K: the ql byte and shift of its low 4 bits, the qh byte
 * and shift of its high 2 (ggml's dequantize_row_q6_K: halves of 128, quarters of 32). */
static void ggml_q6_k_position(int e, int *ql, int *ql_shift, int *qh, int *qh_shift) {
  int h = e / 128, quarter = (e % 128) / 32, l = e % 32;
  *ql = 64 * h + l + 32 * (quarter & 1);
  *ql_shift = 4 * (quarter >> 1);
  *qh = 128 + 32 * h + l;
  *qh_shift = 2 * quarter;
}

void tern_q6_k_pack_ggml_rows(const uint8_t *blocks_in, int64_t first_row, int64_t row_count,
                              int64_t n, int64_t k, uint8_t *out) {
  int64_t kb_count = blocks(k);
  int8_t q[TERN_Q6_K_BLOCK], sc[TERN_Q6_K_BLOCK / TERN_Q6_K_SUB];
  int64_t last = first_row + row_count;
  if (last == n)
    last = tiles(n) * TERN_Q6_K_TILE_ROWS;
  for (int64_t row = first_row; row < last; ++row)
    for (int64_t kb = 0; kb < kb_count; ++kb) {
      uint16_t d = 0;
      memset(q, 0, sizeof q);
      memset(sc, 0, sizeof sc);
      if (row < n) {
        const uint8_t *b = blocks_in + (size_t)((row - first_row) * kb_count + kb) *
                                           TERN_Q6_K_GGML_BLOCK_BYTES;
        for (int e = 0; e < TERN_Q6_K_BLOCK; ++e) {
          int ql, ql_shift, qh, qh_shift;
          ggml_q6_k_position(e, &ql, &ql_shift, &qh, &qh_shift);
          q[e] = (int8_t)((((b[ql] >> ql_shift) & 0xf) | (((b[qh] >> qh_shift) & 3) << 4)) - 32);
        }
        memcpy(sc, b + 192, sizeof sc);
        d = (uint16_t)(b[208] | (b[209] << 8));
      }
      store_block(out, n, k, row, kb, q, sc, d);
    }
}

void tern_q6_k_row_ggml(const uint8_t *packed, int64_t n, int64_t k, int64_t row,
                        uint8_t *blocks_out) {
  int64_t kb_count = blocks(k), nt = row / TERN_Q6_K_TILE_ROWS, r = row % TERN_Q6_K_TILE_ROWS;
  const int8_t *sub_scales = (const int8_t *)(packed + tern_q6_k_codes_size(n, k));
  const uint16_t *scales =
      (const uint16_t *)(const void *)(packed + tern_q6_k_scales_offset(n, k));
  for (int64_t kb = 0; kb < kb_count; ++kb) {
    size_t tile = (size_t)(nt * kb_count + kb);
    const uint8_t *codes = packed + tile * TERN_Q6_K_TILE_BYTES;
    uint8_t *b = blocks_out + (size_t)kb * TERN_Q6_K_GGML_BLOCK_BYTES;
    memset(b, 0, 192);
    for (int e = 0; e < TERN_Q6_K_BLOCK; ++e) {
      unsigned code = ((codes[low_byte(r, e)] >> low_shift(e)) & 0xfu) |
                      (((codes[high_byte(r, e)] >> high_shift(e)) & 0x3u) << 4);
      int ql, ql_shift, qh, qh_shift;
      ggml_q6_k_position(e, &ql, &ql_shift, &qh, &qh_shift);
      b[ql] |= (uint8_t)((code & 0xfu) << ql_shift);
      b[qh] |= (uint8_t)((code >> 4) << qh_shift);
    }
    for (int j = 0; j < TERN_Q6_K_BLOCK / TERN_Q6_K_SUB; ++j)
      b[192 + j] = (uint8_t)sub_scales[tile * 256 + (size_t)(16 * j + r)];
    uint16_t d = scales[tile * TERN_Q6_K_TILE_ROWS + (size_t)r];
    b[208] = (uint8_t)d;
    b[209] = (uint8_t)(d >> 8);
  }
}

void tern_q6_k_pack(const float *w, int64_t n, int64_t k, uint8_t *out) {
  tern_q6_k_pack_rows(w, 0, n, n, k, out);
}

void tern_q6_k_row(const uint8_t *packed, int64_t n, int64_t k, int64_t row, float *out) {
  int64_t kb_count = blocks(k), nt = row / TERN_Q6_K_TILE_ROWS, r = row % TERN_Q6_K_TILE_ROWS;
  const int8_t *sub_scales = (const int8_t *)(packed + tern_q6_k_codes_size(n, k));
  const uint16_t *scales =
      (const uint16_t *)(const void *)(packed + tern_q6_k_scales_offset(n, k));
  for (int64_t col = 0; col < k; ++col) {
    int64_t kb = col / TERN_Q6_K_BLOCK, c = col % TERN_Q6_K_BLOCK;
    size_t tile = (size_t)(nt * kb_count + kb);
    const uint8_t *codes = packed + tile * TERN_Q6_K_TILE_BYTES;
    int code = ((codes[low_byte(r, c)] >> low_shift(c)) & 0xf) |
               (((codes[high_byte(r, c)] >> high_shift(c)) & 0x3) << 4);
    float d = tern_f16_to_float(scales[tile * TERN_Q6_K_TILE_ROWS + (size_t)r]);
    int sc = sub_scales[tile * 256 + (size_t)(16 * (c / 16) + r)];
    out[col] = d * (float)sc * (float)(code - 32);
  }
}

void tern_q6_k_quantize_x(const float *x, int64_t k, int8_t *q, float *d, int32_t *sum) {
  for (int64_t kb = 0, kb_count = blocks(k); kb < kb_count; ++kb) {
    int64_t first = kb * TERN_Q6_K_BLOCK;
    int64_t count = k - first < TERN_Q6_K_BLOCK ? k - first : TERN_Q6_K_BLOCK;
    d[kb] = tern_absmax_quantize(x + first, count, TERN_Q6_K_BLOCK, q + first);
    for (int j = 0; j < TERN_Q6_K_BLOCK / TERN_Q6_K_SUB; ++j) {
      int32_t s = 0;
      for (int i = 0; i < TERN_Q6_K_SUB; ++i)
        s += q[first + TERN_Q6_K_SUB * j + i];
      sum[kb * (TERN_Q6_K_BLOCK / TERN_Q6_K_SUB) + j] = s;
    }
  }
}
