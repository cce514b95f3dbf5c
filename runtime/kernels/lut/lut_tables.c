/* lut_tables.c - the per-token lookup tables of the tl1 and tl2 kernels (tern/lut_kernels.h). */
#include "tern/lut_kernels.h"

#include <string.h>

int64_t tern_tl1_groups(int64_t k) { return tern_round_up(k, TERN_TL1_PAIR_COLUMNS) / 2; }

int64_t tern_tl2_groups(int64_t k) {
  return tern_round_up(k, TERN_TL2_OCTET_COLUMNS) / TERN_TL2_OCTET_COLUMNS * 8;
}

/* Writes the 16 int16 entries of one group as a low-byte plane and a high-byte plane. */
static void store_planes(const int16_t entries[16], uint8_t *table) {
  for (int e = 0; e < 16; ++e) {
    uint16_t bits = (uint16_t)entries[e];
    table[e] = (uint8_t)(bits & 0xFF);
    table[16 + e] = (uint8_t)(bits >> 8);
  }
}

static int activation(const int8_t *x, int64_t k, int64_t col) { return col < k ? x[col] : 0; }

void tern_tl1_tables(const int8_t *x, int64_t k, uint8_t *tables) {
  int64_t groups = tern_tl1_groups(k);
  for (int64_t g = 0; g < groups; ++g) {
    int x0 = activation(x, k, 2 * g), x1 = activation(x, k, 2 * g + 1);
    int16_t entries[16] = {0};
    for (int e = 0; e < 9; ++e)
      entries[e] = (int16_t)((e / 3 - 1) * x0 + (e % 3 - 1) * x1);
    store_planes(entries, tables + g * TERN_LUT_TABLE_BYTES);
  }
}

void tern_tl2_tables(const int8_t *x, int64_t k, uint8_t *tables) {
  int64_t groups = tern_tl2_groups(k);
  for (int64_t g = 0; g < groups; ++g) {
    int x0 = activation(x, k, 3 * g), x1 = activation(x, k, 3 * g + 1),
        x2 = activation(x, k, 3 * g + 2);
    int16_t entries[16] = {0};
    for (int m = 0; m < 14; ++m) {
      int code = 13 + m;
      entries[m] = (int16_t)((code / 9 - 1) * x0 + ((code / 3) % 3 - 1) * x1 + (code % 3 - 1) * x2);
    }
    store_planes(entries, tables + g * TERN_LUT_TABLE_BYTES);
  }
}
