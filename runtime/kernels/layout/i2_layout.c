/* i2_layout.c - pack and unpack the multiply-add family's ternary layout (tern/kernels.h). */
#include "tern/kernels.h"

#include <string.h>

size_t tern_i2_packed_size(int64_t n, int64_t k) {
  return (size_t)(tern_round_up(n, TERN_I2_ROW_ALIGN) / 4 * tern_round_up(k, TERN_I2_TILE_K));
}

/* Byte offset and bit shift of weight (row, col) in the i2 layout. */
static inline void i2_position(int64_t k_tiles, int64_t row, int64_t col, size_t *byte,
                               int *shift) {
  int64_t nt = row / 16, r = row % 16, kt = col / 16, c = col % 16;
  *byte = (size_t)((nt * k_tiles + kt) * TERN_I2_TILE_BYTES + r * 4 + c % 4);
  *shift = (int)(2 * (c / 4));
}

int tern_i2_pack(const int8_t *w, int64_t n, int64_t k, uint8_t *out) {
  int64_t k_tiles = tern_round_up(k, 16) / 16;
  /* 0x55: code 1 (W = 0) in all four positions, the padding value. */
  memset(out, 0x55, tern_i2_packed_size(n, k));
  for (int64_t row = 0; row < n; ++row)
    for (int64_t col = 0; col < k; ++col) {
      int8_t v = w[row * k + col];
      if (v < -1 || v > 1)
        return -1;
      size_t byte;
      int shift;
      i2_position(k_tiles, row, col, &byte, &shift);
      out[byte] = (uint8_t)((out[byte] & ~(3u << shift)) | ((unsigned)(v + 1) << shift));
    }
  return 0;
}

void tern_i2_unpack(const uint8_t *packed, int64_t n, int64_t k, int8_t *out) {
  int64_t k_tiles = tern_round_up(k, 16) / 16;
  for (int64_t row = 0; row < n; ++row)
    for (int64_t col = 0; col < k; ++col) {
      size_t byte;
      int shift;
      i2_position(k_tiles, row, col, &byte, &shift);
      out[row * k + col] = (int8_t)(((packed[byte] >> shift) & 3) - 1);
    }
}
