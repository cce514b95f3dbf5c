/* tern/lut_kernels.h - the lookup-table family (T-MAC / bitnet.cpp TL1 / TL2 style).
 *
 * Instead of multiplying, a LUT kernel precomputes, per group of g activations, the dot product
 * of the group with every ternary pattern, and then only looks values up (pshufb on x86, tbl on
 * ARM) by the pattern index stored in the weights. Lookups are 8-bit, the values 16-bit, so every
 * table is stored as two 16-byte planes (low byte, high byte); a kernel looks both up with the
 * same indices and interleaves the two results into exact int16 values. Results are exact, like
 * the multiply-add family's: acc[t][n] = sum_k W[n, k] x[t, k].
 *
 * Both layouts are ISA-independent (one packed blob serves AVX2, AVX-512 and NEON kernels): rows
 * come in blocks of 64 (N is padded to a multiple of 64 with zero rows), and within a block the
 * byte for row r of a 64-byte vector is byte r, so a kernel loads 16, 32 or 64 rows at once.
 *
 * tl1 (g = 2, 2 bits per weight): a column group j is columns 2j, 2j+1 with the index
 *   3 (W[2j] + 1) + (W[2j+1] + 1) in 0..8. Per row block and per group pair u (columns 4u..4u+3),
 *   64 bytes: byte r holds group 2u in its low nibble and group 2u+1 in its high nibble. Row
 *   block b, pair u sits at byte (b * P + u) * 64 with P = round_up(K, 4) / 4.
 *
 * tl2 (g = 3 with a sign plane, 5/3 bits per weight): a group j is columns 3j..3j+2 with the code
 *   c = 9 (W[3j] + 1) + 3 (W[3j+1] + 1) + (W[3j+2] + 1) in 0..26. The pattern of 26 - c is the
 *   negation of c's, so a group stores a magnitude index m = |c - 13| in 0..13 and a sign bit
 *   (set when c < 13). Per row block and per octet s (8 groups, columns 24s..24s+23), 320 bytes:
 *   four 64-byte index vectors (vector q: groups 8s+2q in the low nibble, 8s+2q+1 in the high
 *   nibble) and a 64-byte sign vector whose byte r has bit i set when group 8s+i of row r is
 *   negative. Row block b, octet s sits at byte (b * S + s) * 320 with S = ceil(K / 24). A kernel
 *   negates a looked-up value v by flipping its bits (~v = -v - 1), so the packed blob ends with
 *   one int32 per padded row: the number of its negative groups, the correction a kernel starts
 *   from.
 *
 * Tables (built per token from the int8 activations; columns past K count as 0): per group 32
 * bytes, the low-byte plane then the high-byte plane of 16 int16 entries. tl1 entry e < 9 is
 * (e / 3 - 1) x0 + (e % 3 - 1) x1; tl2 entry m < 14 is the dot product with the pattern of code
 * 13 + m. Unused entries are 0.
 */
#ifndef TERN_LUT_KERNELS_H
#define TERN_LUT_KERNELS_H

#include "tern/kernels.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TERN_LUT_ROW_BLOCK 64
#define TERN_TL1_PAIR_COLUMNS 4
#define TERN_TL1_PAIR_BYTES 64
#define TERN_TL2_OCTET_COLUMNS 24
#define TERN_TL2_OCTET_BYTES 320
#define TERN_LUT_TABLE_BYTES 32 /* per group: 16 low bytes, 16 high bytes */

/* Packed sizes, pack (returns -1 at the first value outside {-1, 0, 1}, else 0) and the exact
 * inverse, for each layout. */
size_t tern_tl1_packed_size(int64_t n, int64_t k);
int tern_tl1_pack(const int8_t *w, int64_t n, int64_t k, uint8_t *out);
void tern_tl1_unpack(const uint8_t *packed, int64_t n, int64_t k, int8_t *out);
size_t tern_tl2_packed_size(int64_t n, int64_t k);
int tern_tl2_pack(const int8_t *w, int64_t n, int64_t k, uint8_t *out);
void tern_tl2_unpack(const uint8_t *packed, int64_t n, int64_t k, int8_t *out);

/* Number of groups (and so of 32-byte tables) per token, and the tables of one token. */
int64_t tern_tl1_groups(int64_t k);
int64_t tern_tl2_groups(int64_t k);
void tern_tl1_tables(const int8_t *x, int64_t k, uint8_t *tables);
void tern_tl2_tables(const int8_t *x, int64_t k, uint8_t *tables);

/* Scalar kernels (the fallback): same contract as tern_gemm_fn; x rows need k bytes. */
int tern_gemm_tl1_generic(const uint8_t *w, int64_t n, int64_t k, const int8_t *x,
                          int64_t x_stride, int64_t t, int32_t *acc, int64_t acc_stride);
int tern_gemm_tl2_generic(const uint8_t *w, int64_t n, int64_t k, const int8_t *x,
                          int64_t x_stride, int64_t t, int32_t *acc, int64_t acc_stride);

/* The variants compiled into this binary, best first, generic last, and the selection. */
const tern_gemm_variant *tern_gemm_tl1_variants(size_t *count);
const tern_gemm_variant *tern_gemm_tl2_variants(size_t *count);
const tern_gemm_variant *tern_gemm_tl1_select(tern_cpu_features_t have);
const tern_gemm_variant *tern_gemm_tl2_select(tern_cpu_features_t have);

#ifdef __cplusplus
}
#endif

#endif /* TERN_LUT_KERNELS_H */
