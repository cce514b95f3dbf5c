/* tern/head_q6.h - the output head in ~6.5 bits: GGUF's Q6_K numbers in a layout for SIMD dot
 * products, and its kernels' shared parts.
 *
 * Numbers (Q6_K's): per row, a super-block of 256 columns has one IEEE half d and 16 int8
 * sub-scales sc[j] (one per 16 columns), each weight a 6-bit q in [-32, 31]:
 *   w ~= d * sc[j] * q.
 * Any d, any int8 sc (-128 included) and any q in range are valid, so a GGUF Q6_K tensor maps
 * onto the layout bit for bit; tern's own quantizer (tern_q6_k_pack_rows) picks a least-squares
 * scale per 16 weights and sc in [-127, 127].
 *
 * Layout of an N x K head (`tern_q6_k_size` bytes): rows in tiles of 16, columns in super-blocks
 * of 256 (both zero-padded), NT = ceil(N / 16), KB = ceil(K / 256). A "group" g (0..63) of a tile
 * is its 16 rows x 4 columns 4g..4g+3 as 64 bytes, byte b = kk + 4 r for row r, column 4 g + kk
 * (one VNNI vpdpbusd against 4 broadcast activation bytes). Codes are q + 32 (0..63).
 *   codes      NT x KB tiles of 3072 bytes, tile (nt, kb) at (nt * KB + kb) * 3072; sub-block j
 *              (groups 4j..4j+3, columns 16j..16j+15) at 192 j within it:
 *                bytes   0.. 63: low 4 bits of group 4j (low nibble) and 4j+1 (high nibble),
 *                bytes  64..127: low 4 bits of group 4j+2 (low nibble) and 4j+3 (high nibble),
 *                bytes 128..191: bits 4..5 of group 4j+i at bits 2i..2i+1 of the byte;
 *   sub-scales after the codes, NT x KB x 256 int8, sc of (row 16 nt + r, block kb, sub-block j)
 *              at (nt * KB + kb) * 256 + 16 j + r;
 *   scales     after the sub-scales, NT x KB x 16 IEEE halves, d of (row 16 nt + r, block kb) at
 *              (nt * KB + kb) * 16 + r.
 *
 * The activations are quantized per token and block of 256 (d_x = max |x| / 127, Q8_K's range)
 * with the sums of each 16 (tern_q6_k_quantize_x), so a super-block's dot product is exact in
 * int32 (|sum| <= 16 * 128 * 16 * 32 * 127 < 2^31):
 *   out[t][n] = sum_kb float(sum_j sc[n][kb][j] * (sum_i code * q_x - 32 * sum_j q_x))
 *                      * (d_w[n][kb] * d_x[t][kb])
 * accumulated with one multiply-add per super-block, in block order. */
#ifndef TERN_HEAD_Q6_H
#define TERN_HEAD_Q6_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TERN_Q6_K_BLOCK 256
#define TERN_Q6_K_SUB 16
#define TERN_Q6_K_TILE_ROWS 16
#define TERN_Q6_K_TILE_BYTES 3072
/* GGUF's block_q6_K: ql[128], qh[64], int8 scales[16], half d. */
#define TERN_Q6_K_GGML_BLOCK_BYTES 210

/* Bytes of an N x K head in the layout, and the offsets of its sub-scales and scales. */
size_t tern_q6_k_size(int64_t n, int64_t k);
size_t tern_q6_k_codes_size(int64_t n, int64_t k);
size_t tern_q6_k_scales_offset(int64_t n, int64_t k);
/* Quantizes rows [first, first + count) of a float table, given as rows [count][k], into the
 * layout (out: tern_q6_k_size bytes). Packing every row once, in any order, packs the table
 * (the call ending at row n also fills the padding rows of the last tile). */
void tern_q6_k_pack_rows(const float *rows, int64_t first, int64_t count, int64_t n, int64_t k,
                         uint8_t *out);
void tern_q6_k_pack(const float *w, int64_t n, int64_t k, uint8_t *out);
/* Rows [first, first + count) of a table stored as GGUF Q6_K (each row K / 256 block_q6_K, rows
 * given from `first`; K a multiple of 256) into the layout, bit for bit: the compiler keeps a
 * GGUF head's numbers instead of quantizing again. */
void tern_q6_k_pack_ggml_rows(const uint8_t *blocks, int64_t first, int64_t count, int64_t n,
                              int64_t k, uint8_t *out);
/* The inverse: row `row` of a packed head as K / 256 block_q6_K (tools that write GGUF). */
void tern_q6_k_row_ggml(const uint8_t *packed, int64_t n, int64_t k, int64_t row, uint8_t *blocks);
/* Row `row` of a packed head, dequantized ((d * sc) * q in float), into out [k]. */
void tern_q6_k_row(const uint8_t *packed, int64_t n, int64_t k, int64_t row, float *out);

/* One token's activations x [k] quantized per block of 256: q [KB * 256] (zero-padded),
 * d [KB], sum [KB * 16] = the sums of each 16 q. */
void tern_q6_k_quantize_x(const float *x, int64_t k, int8_t *q, float *d, int32_t *sum);

/* out[i][j] = the head's row j against token i (x [t][k], out [t][n]); the oracle of the SIMD
 * versions (tern_head_matmul's TERN_DTYPE_Q6_K). Returns -1 when out of memory. */
int tern_head_q6_k_generic(const float *x, int64_t t, int64_t k, const uint8_t *w, int64_t n,
                           float *out);
/* Rows [row_begin, row_end) of the same, for one token already quantized. */
void tern_head_q6_k_rows_generic(const int8_t *q, const float *d, const int32_t *sum, int64_t k,
                                 const uint8_t *w, int64_t n, int64_t row_begin,
                                 int64_t row_end, float *out);

#ifdef __cplusplus
}
#endif

#endif /* TERN_HEAD_Q6_H */
