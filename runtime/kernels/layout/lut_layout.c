/* lut_layout.c - pack and unpack the lookup-table family's layouts tl1 and tl2
 * (tern/lut_kernels.h). */
#include "tern/lut_kernels.h"

#include <string.h>

/* --- tl1: groups of 2 columns, 4-bit indices ------------------------------------------------ */

static int64_t tl1_pairs(int64_t k) { return tern_round_up(k, TERN_TL1_PAIR_COLUMNS) / 4; }

size_t tern_tl1_packed_size(int64_t n, int64_t k) {
  return (size_t)(tern_round_up(n, TERN_LUT_ROW_BLOCK) * tl1_pairs(k));
}

/* The byte holding group `group` of row `row` (its nibble is group % 2). */
static size_t tl1_byte(int64_t pairs, int64_t row, int64_t group) {
  int64_t block = row / TERN_LUT_ROW_BLOCK;
  return (size_t)((block * pairs + group / 2) * TERN_TL1_PAIR_BYTES + row % TERN_LUT_ROW_BLOCK);
}

static int8_t weight_or_zero(const int8_t *row, int64_t k, int64_t col) {
  return col < k ? row[col] : 0;
}

int tern_tl1_pack(const int8_t *w, int64_t n, int64_t k, uint8_t *out) {
  int64_t pairs = tl1_pairs(k);
  /* Index 4 is the pattern (0, 0): the padding of rows and columns. */
  memset(out, 0x44, tern_tl1_packed_size(n, k));
  for (int64_t row = 0; row < n; ++row) {
    const int8_t *wr = w + row * k;
    for (int64_t col = 0; col < k; ++col)
      if (wr[col] < -1 || wr[col] > 1)
        return -1;
    for (int64_t g = 0; g < 2 * pairs; ++g) {
      int index = 3 * (weight_or_zero(wr, k, 2 * g) + 1) + weight_or_zero(wr, k, 2 * g + 1) + 1;
      size_t byte = tl1_byte(pairs, row, g);
      int shift = (int)(4 * (g % 2));
      out[byte] = (uint8_t)((out[byte] & ~(0xFu << shift)) | ((unsigned)index << shift));
    }
  }
  return 0;
}

void tern_tl1_unpack(const uint8_t *packed, int64_t n, int64_t k, int8_t *out) {
  int64_t pairs = tl1_pairs(k);
  for (int64_t row = 0; row < n; ++row)
    for (int64_t col = 0; col < k; ++col) {
      int64_t g = col / 2;
      int index = (packed[tl1_byte(pairs, row, g)] >> (4 * (g % 2))) & 0xF;
      out[row * k + col] = (int8_t)((col % 2 == 0 ? index / 3 : index % 3) - 1);
    }
}

/* --- tl2: groups of 3 columns, 4-bit magnitude + sign bit -------------------------------------- */

static int64_t tl2_octets(int64_t k) {
  return tern_round_up(k, TERN_TL2_OCTET_COLUMNS) / TERN_TL2_OCTET_COLUMNS;
}

static size_t tl2_weight_bytes(int64_t n, int64_t k) {
  return (size_t)(tern_round_up(n, TERN_LUT_ROW_BLOCK) / TERN_LUT_ROW_BLOCK * tl2_octets(k) *
                  TERN_TL2_OCTET_BYTES);
}

size_t tern_tl2_packed_size(int64_t n, int64_t k) {
  return tl2_weight_bytes(n, k) + (size_t)tern_round_up(n, TERN_LUT_ROW_BLOCK) * sizeof(int32_t);
}

/* Offset of the octet holding group `group` of row block `row / 64`. */
static size_t tl2_octet(int64_t octets, int64_t row, int64_t group) {
  return (size_t)(((row / TERN_LUT_ROW_BLOCK) * octets + group / 8) * TERN_TL2_OCTET_BYTES);
}

int tern_tl2_pack(const int8_t *w, int64_t n, int64_t k, uint8_t *out) {
  int64_t octets = tl2_octets(k), np = tern_round_up(n, TERN_LUT_ROW_BLOCK);
  size_t weight_bytes = tl2_weight_bytes(n, k);
  /* Magnitude 0, sign 0 is the pattern (0, 0, 0): the padding. */
  memset(out, 0, weight_bytes);
  int32_t *negatives = (int32_t *)(out + weight_bytes);
  memset(negatives, 0, (size_t)np * sizeof(int32_t));
  for (int64_t row = 0; row < n; ++row) {
    const int8_t *wr = w + row * k;
    for (int64_t col = 0; col < k; ++col)
      if (wr[col] < -1 || wr[col] > 1)
        return -1;
    int64_t r = row % TERN_LUT_ROW_BLOCK;
    for (int64_t g = 0; g < 8 * octets; ++g) {
      int code = 9 * (weight_or_zero(wr, k, 3 * g) + 1) +
                 3 * (weight_or_zero(wr, k, 3 * g + 1) + 1) + weight_or_zero(wr, k, 3 * g + 2) + 1;
      int negative = code < 13, magnitude = negative ? 13 - code : code - 13;
      uint8_t *octet = out + tl2_octet(octets, row, g);
      int64_t q = (g % 8) / 2;
      int shift = (int)(4 * (g % 2));
      uint8_t *index = octet + q * TERN_LUT_ROW_BLOCK + r;
      *index = (uint8_t)((*index & ~(0xFu << shift)) | ((unsigned)magnitude << shift));
      if (negative) {
        octet[4 * TERN_LUT_ROW_BLOCK + r] |= (uint8_t)(1u << (g % 8));
        ++negatives[row];
      }
    }
  }
  return 0;
}

void tern_tl2_unpack(const uint8_t *packed, int64_t n, int64_t k, int8_t *out) {
  int64_t octets = tl2_octets(k);
  for (int64_t row = 0; row < n; ++row)
    for (int64_t col = 0; col < k; ++col) {
      int64_t g = col / 3, r = row % TERN_LUT_ROW_BLOCK;
      const uint8_t *octet = packed + tl2_octet(octets, row, g);
      int magnitude = (octet[((g % 8) / 2) * TERN_LUT_ROW_BLOCK + r] >> (4 * (g % 2))) & 0xF;
      int negative = (octet[4 * TERN_LUT_ROW_BLOCK + r] >> (g % 8)) & 1;
      int code = negative ? 13 - magnitude : 13 + magnitude;
      int digit = col % 3 == 0 ? code / 9 : col % 3 == 1 ? (code / 3) % 3 : code % 3;
      out[row * k + col] = (int8_t)(digit - 1);
    }
}
