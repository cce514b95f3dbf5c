/* lut_tables.c - the per-token lookup tables of the tl1 and tl2 kernels (tern/lut_kernels.h). */
#include "tern/lut_kernels.h"

#include <string.h>

int64_t tern_tl1_groups(int64_t k) { return tern_round_up(k, TERN_TL1_PAIR_COLUMNS) / 2; }

int64_t tern_tl2_groups(int64_t k) {
  return tern_round_up(k, TERN_TL2_OCTET_COLUMNS) / TERN_TL2_OCTET_COLUMNS * 8;
}

/* The weights of each entry's pattern, column by column (0 for unused entries). Written as
 * constant rows so the per-group loops below are 16-lane multiply-adds the compiler
 * vectorizes: the tables are rebuilt for every token and sit on the decode path. */
static const int16_t kTl1[2][16] = {
    {-1, -1, -1, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0},
    {-1, 0, 1, -1, 0, 1, -1, 0, 1, 0, 0, 0, 0, 0, 0, 0},
};
/* Entry m is code 13 + m = 9 (w0 + 1) + 3 (w1 + 1) + (w2 + 1). */
static const int16_t kTl2[3][16] = {
    {0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0},
    {0, 0, 1, 1, 1, -1, -1, -1, 0, 0, 0, 1, 1, 1, 0, 0},
    {0, 1, -1, 0, 1, -1, 0, 1, -1, 0, 1, -1, 0, 1, 0, 0},
};

/* Writes the 16 int16 entries of one group as a low-byte plane and a high-byte plane. */
static void store_planes(const int16_t entries[16], uint8_t *table) {
  for (int e = 0; e < 16; ++e) {
    table[e] = (uint8_t)((uint16_t)entries[e] & 0xFF);
    table[16 + e] = (uint8_t)((uint16_t)entries[e] >> 8);
  }
}

static void tl1_group(int16_t x0, int16_t x1, uint8_t *table) {
  int16_t entries[16];
  for (int e = 0; e < 16; ++e)
    entries[e] = (int16_t)(kTl1[0][e] * x0 + kTl1[1][e] * x1);
  store_planes(entries, table);
}

static void tl2_group(int16_t x0, int16_t x1, int16_t x2, uint8_t *table) {
  int16_t entries[16];
  for (int m = 0; m < 16; ++m)
    entries[m] = (int16_t)(kTl2[0][m] * x0 + kTl2[1][m] * x1 + kTl2[2][m] * x2);
  store_planes(entries, table);
}

/* Groups whose columns all lie below k read x directly; the rest read zeros past k. */
void tern_tl1_tables(const int8_t *x, int64_t k, uint8_t *tables) {
  int64_t groups = tern_tl1_groups(k), full = k / 2, g = 0;
  for (; g < full; ++g)
    tl1_group(x[2 * g], x[2 * g + 1], tables + g * TERN_LUT_TABLE_BYTES);
  for (; g < groups; ++g) {
    int8_t pad[2] = {0, 0};
    for (int j = 0; j < 2 && 2 * g + j < k; ++j)
      pad[j] = x[2 * g + j];
    tl1_group(pad[0], pad[1], tables + g * TERN_LUT_TABLE_BYTES);
  }
}

void tern_tl2_tables(const int8_t *x, int64_t k, uint8_t *tables) {
  int64_t groups = tern_tl2_groups(k), full = k / 3, g = 0;
  for (; g < full; ++g)
    tl2_group(x[3 * g], x[3 * g + 1], x[3 * g + 2], tables + g * TERN_LUT_TABLE_BYTES);
  for (; g < groups; ++g) {
    int8_t pad[3] = {0, 0, 0};
    for (int j = 0; j < 3 && 3 * g + j < k; ++j)
      pad[j] = x[3 * g + j];
    tl2_group(pad[0], pad[1], pad[2], tables + g * TERN_LUT_TABLE_BYTES);
  }
}
