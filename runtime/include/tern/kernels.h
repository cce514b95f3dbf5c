/* tern/kernels.h - the kernel ABI: plain C functions over raw pointers.
 *
 * Generated code calls these; every op has a scalar `_generic` variant that is the fallback and
 * the oracle of every SIMD variant's tests.
 *
 * The i2 layout (the multiply-add family's packed ternary weights)
 * ------------------------------------------------------------------
 * An N x K ternary matrix W is cut into tiles of 16 rows x 16 columns, stored tile-row-major
 * (all K tiles of rows 0..15, then rows 16..31, ...). A tile is 64 bytes; byte j holds, in bits
 * 2s..2s+1, the code W + 1 (0, 1, 2) of row 16 nt + j / 4 and column 16 kt + 4 s + j % 4. So a
 * 64-byte load shifted right by 2s and masked with 3 gives 16 rows x 4 consecutive columns of u8
 * codes: exactly the operand layout of vpdpbusd (16 lanes of 4 bytes), with the same shift for
 * every lane. Row tiles come in groups of four (N is padded to a multiple of 64, so a kernel
 * can keep four independent accumulators); rows and columns past N and K hold code 1 (W = 0).
 *
 * Activations are int8 rows of round_up(K, 16) bytes with zeros past K; accumulators are int32
 * rows with room for round_up(N, 64) values. Results are exact: sum_k W[n, k] x[t, k].
 */
#ifndef TERN_KERNELS_H
#define TERN_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "tern/cpu.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TERN_I2_TILE_N 16
#define TERN_I2_TILE_K 16
#define TERN_I2_TILE_BYTES 64
#define TERN_I2_ROW_ALIGN 64

static inline int64_t tern_round_up(int64_t v, int64_t m) { return (v + m - 1) / m * m; }

/* Bytes of the i2 packing of an n x k matrix. */
size_t tern_i2_packed_size(int64_t n, int64_t k);
/* Packs row-major values in {-1, 0, 1} (w[n * k]) into the i2 layout. Returns -1 (and writes
 * nothing further) at the first value outside {-1, 0, 1}, else 0. */
int tern_i2_pack(const int8_t *w, int64_t n, int64_t k, uint8_t *out);
/* Exact inverse of tern_i2_pack. */
void tern_i2_unpack(const uint8_t *packed, int64_t n, int64_t k, int8_t *out);

/* acc[t][n] = sum_k w[n][k] * x[t][k] on the logical int8 matrix w[n * k]: the oracle. */
void tern_gemm_ternary_reference(const int8_t *w, int64_t n, int64_t k, const int8_t *x,
                                 int64_t x_stride, int64_t t, int32_t *acc, int64_t acc_stride);

/* Every ternary GEMM family (the multiply-add family here, the lookup-table family in
 * tern/lut_kernels.h) has this signature: acc[t][0..n) = W . x[t] with W in the family's packed
 * layout. Returns 0, or non-zero if a generated kernel rejected its buffers (a caller bug). */
typedef int (*tern_gemm_fn)(const uint8_t *w, int64_t n, int64_t k, const int8_t *x,
                            int64_t x_stride, int64_t t, int32_t *acc, int64_t acc_stride);
int tern_gemm_i2_generic(const uint8_t *w, int64_t n, int64_t k, const int8_t *x,
                         int64_t x_stride, int64_t t, int32_t *acc, int64_t acc_stride);

typedef struct {
  const char *name;               /* e.g. "x86_64_avx512vnni" */
  tern_cpu_features_t requires;   /* every feature the variant's code uses */
  tern_gemm_fn fn;
} tern_gemm_variant;
/* The first variant of a table (best first, generic last) whose requirements `have` covers;
 * the last (generic) one at worst. Every family's select is this over its table. */
const tern_gemm_variant *tern_gemm_select_from(const tern_gemm_variant *table, size_t count,
                                               tern_cpu_features_t have);
/* The variants compiled into this binary, best first, generic last. */
const tern_gemm_variant *tern_gemm_i2_variants(size_t *count);
/* The best variant whose requirements `have` covers (the generic one at worst). */
const tern_gemm_variant *tern_gemm_i2_select(tern_cpu_features_t have);

/* y[t][n] = acc[t][n] / x_scale[t] * w_mul[per_row ? n : 0]  (the bitlinear epilogue; a divide
 * scale convention passes w_mul = 1 / weight_scale). */
void tern_bitlinear_epilogue(const int32_t *acc, int64_t acc_stride, int64_t t, int64_t n,
                             const float *x_scale, const float *w_mul, int per_row, float *y,
                             int64_t y_stride);

/* Per-token absmax quantization to `bits` bits (2..8), rounding half to even:
 *   scale[t] = qmax / max(max_k |x[t][k]|, 1e-5),  q = clamp(rint(x * scale), -qmax - 1, qmax)
 * q rows have room for round_up(k, 16) bytes; the padding is zeroed. */
void tern_act_quant_generic(const float *x, int64_t x_stride, int64_t t, int64_t k, int bits,
                            int8_t *q, int64_t q_stride, float *scale);

#ifdef __cplusplus
}
#endif

#endif /* TERN_KERNELS_H */
