/* tern/head_q8.h - the output head in 8 bits: GGUF's Q8_0 numbers in a layout for SIMD dot
 * products, and its kernels' shared parts.
 *
 * Quantization is Q8_0's (ggml): for each row and each block of 32 columns,
 * d = max |w| / 127 stored as IEEE half, q = roundf(w / d) computed with the float d (0 for an
 * all-zero block), so w ~= q * d. A GGUF Q8_0 tensor maps onto it bit for bit.
 *
 * Layout of an N x K head (`tern_q8_0_size` bytes): rows in tiles of 16, columns in blocks of 32
 * (both zero-padded), NT = ceil(N / 16), KB = ceil(K / 32):
 *   codes   NT x KB tiles of 512 bytes, tile (nt, kb) at (nt * KB + kb) * 512; its byte
 *           j = kk + 4 r + 64 s holds q[16 nt + r][32 kb + 4 s + kk] + 128 (so 64 bytes are
 *           16 rows x 4 columns, one VNNI vpdpbusd against 4 broadcast activation bytes);
 *   scales  after the codes, NT x KB x 16 IEEE halves, d of (row 16 nt + r, block kb) at
 *           (nt * KB + kb) * 16 + r.
 *
 * The activations are quantized the same way per token and block (tern_q8_0_quantize_x), so a
 * block's dot product is exact in int32:
 *   out[t][n] = sum_kb d_w[n][kb] * d_x[t][kb] * (sum_i (q_w + 128) q_x - 128 sum_i q_x)
 * accumulated in float in block order. */
#ifndef TERN_HEAD_Q8_H
#define TERN_HEAD_Q8_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TERN_Q8_0_BLOCK 32
#define TERN_Q8_0_TILE_ROWS 16
#define TERN_Q8_0_TILE_BYTES 512
/* GGUF's block_q8_0: half d, int8 qs[32]. */
#define TERN_Q8_0_GGML_BLOCK_BYTES 34

/* Bytes of an N x K head in the layout; the scales start at tern_q8_0_codes_size. */
size_t tern_q8_0_size(int64_t n, int64_t k);
size_t tern_q8_0_codes_size(int64_t n, int64_t k);
/* Quantizes a float table w [n][k] into the layout (out: tern_q8_0_size bytes). */
void tern_q8_0_pack(const float *w, int64_t n, int64_t k, uint8_t *out);
/* The same for rows [first, first + count) of the table, given as rows [count][k], so a caller
 * converting a stored table to float needs only a few rows at a time. Packing every row once,
 * in any order, gives tern_q8_0_pack's bytes (the call ending at row n also fills the padding
 * rows of the last tile). */
void tern_q8_0_pack_rows(const float *rows, int64_t first, int64_t count, int64_t n, int64_t k,
                         uint8_t *out);
/* Rows [first, first + count) of a table stored as GGUF Q8_0 (each row K / 32 block_q8_0, rows
 * given from `first`; K a multiple of 32) into the layout, bit for bit. */
void tern_q8_0_pack_ggml_rows(const uint8_t *blocks, int64_t first, int64_t count, int64_t n,
                              int64_t k, uint8_t *out);
/* The inverse: row `row` of a packed head as K / 32 block_q8_0 (tools that write GGUF). */
void tern_q8_0_row_ggml(const uint8_t *packed, int64_t n, int64_t k, int64_t row, uint8_t *blocks);
/* Element (row, col) of a packed head, dequantized (q * d). */
float tern_q8_0_load(const uint8_t *packed, int64_t n, int64_t k, int64_t row, int64_t col);
/* Row `row` of a packed head, dequantized, into out [k] (the tied embedding's lookup). */
void tern_q8_0_row(const uint8_t *packed, int64_t n, int64_t k, int64_t row, float *out);

/* IEEE half <-> float (round to nearest even; exact the other way). */
uint16_t tern_f16_from_float(float f);
float tern_f16_to_float(uint16_t h);

/* Absmax int8 quantization of `count` values into q [size] (zero past count): d = max |x| / 127
 * in float, q = roundf(x * (1 / d)) (0 for an all-zero block). Returns d. Q8_0's blocks of 32 and
 * the q6_k head's activation blocks of 256 (tern/head_q6.h) both use it. */
float tern_absmax_quantize(const float *x, int64_t count, int64_t size, int8_t *q);

/* One token's activations x [k] quantized per block of 32: q [KB * 32] (zero-padded), d [KB],
 * sum [KB] = sum of the block's q. */
void tern_q8_0_quantize_x(const float *x, int64_t k, int8_t *q, float *d, int32_t *sum);

/* out[i][j] = the head's row j against token i (x [t][k], out [t][n]); the oracle of the SIMD
 * versions (tern_head_matmul's TERN_DTYPE_Q8_0). Returns -1 when out of memory. */
int tern_head_q8_0_generic(const float *x, int64_t t, int64_t k, const uint8_t *w, int64_t n,
                           float *out);
/* Rows [row_begin, row_end) of the same, for one token already quantized. */
void tern_head_q8_0_rows_generic(const int8_t *q, const float *d, const int32_t *sum, int64_t k,
                                 const uint8_t *w, int64_t n, int64_t row_begin,
                                 int64_t row_end, float *out);

#ifdef __cplusplus
}
#endif

#endif /* TERN_HEAD_Q8_H */
