/* tern/decoder_kernels.h - the decoder's kernels besides the ternary linear layers.
 *
 * Scalar `_generic` versions: the fallback and the oracle of the SIMD versions to come. Activations
 * are float32 rows ([t][width], row-major). */
#ifndef TERN_DECODER_KERNELS_H
#define TERN_DECODER_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "tern/cpu.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Element types of stored tables (embeddings, heads, norm weights). Q8_0 and Q6_K are the output
 * head in 8 and ~6.5 bits (tern/head_q8.h, tern/head_q6.h), which the head's matmul reads and,
 * when the embedding is tied to the head, the embedding lookup. */
typedef enum {
  TERN_DTYPE_F32 = 0,
  TERN_DTYPE_F16 = 1,
  TERN_DTYPE_BF16 = 2,
  TERN_DTYPE_Q8_0 = 3,
  TERN_DTYPE_Q6_K = 4
} tern_dtype_t;

/* Element i of a table of type `dtype` (F32, F16 or BF16), as float (exact). */
float tern_load_float(const void *table, tern_dtype_t dtype, int64_t i);

/* out[t][i] = x[t][i] / sqrt(mean_i x[t][i]^2 + eps) * weight[i]; out may alias x. */
void tern_rms_norm_generic(const float *x, int64_t t, int64_t n, const float *weight, float eps,
                           float *out);

/* The largest head tern_op_rope rotates (its frequency table is on the stack). */
#define TERN_ROPE_MAX_HEAD_DIM 1024

/* theta^(-2 pair / head_dim) in float32, as the HF modules compute RoPE's inverse frequencies. */
float tern_rope_inv_freq(float theta, int64_t pair, int64_t head_dim);
/* inv_freq[p] = tern_rope_inv_freq(theta, p, head_dim) / factors[p] for p < head_dim / 2
 * (factors NULL: 1), the frequencies of a scaled RoPE (tern.rope's freq_factors). */
void tern_rope_frequencies(float theta, const float *factors, int64_t head_dim, float *inv_freq);

/* Rotary embedding, in place on x[t][heads * head_dim], angle positions[t] * inv_freq[i] for
 * i < head_dim / 2 (tern_rope_frequencies).
 * interleaved = 0: rotate-half (pairs i, i + d/2; HF Llama/BitNet); 1: pairs 2i, 2i + 1. */
void tern_rope_generic(float *x, int64_t t, int64_t heads, int64_t head_dim,
                       const int32_t *positions, const float *inv_freq, int interleaved);

/* One layer's KV cache holds, per KV head, P = tern_kv_cache_positions(context) positions
 * (context rounded up to a block of TERN_KV_BLOCK):
 *   keys    k_cache [kv_heads][P / 64][head_dim][64]: blocks of 64 positions, a position's key a
 *           column of its block, so a kernel computes 64 positions' scores against a query with
 *           contiguous vector loads and no sum across vector lanes;
 *   values  v_cache [kv_heads][P][head_dim]: a row per position (the weighted sum of rows is
 *           vectorized over head_dim).
 * Each is tern_kv_cache_floats(kv_heads, context, head_dim) floats; positions past the context
 * are never read. */
#define TERN_KV_BLOCK 64
int64_t tern_kv_cache_positions(int64_t context);
size_t tern_kv_cache_floats(int64_t kv_heads, int64_t context, int64_t head_dim);
/* Where the key of (KV head g, position p, element d) is in k_cache. */
size_t tern_kv_key_index(int64_t g, int64_t p, int64_t d, int64_t context, int64_t head_dim);

/* Grouped-query attention of t new tokens over one layer's KV cache, which it first appends
 * to. Token i attends to cached positions p <= positions[i] (causal) or p <= max(positions)
 * (not causal). Returns -1 (writing nothing) if a position is outside [0, context). */
/* The cache half of attention: checks every position against [0, context) (returns -1 and
 * writes nothing otherwise), copies the new keys and values to their positions and sets *last
 * to the largest position. */
int tern_kv_cache_append(const float *k, const float *v, int64_t t, int64_t kv_heads,
                         int64_t head_dim, const int32_t *positions, float *k_cache,
                         float *v_cache, int64_t context, int32_t *last);

int tern_attention_generic(const float *q, const float *k, const float *v, int64_t t,
                           int64_t heads, int64_t kv_heads, int64_t head_dim,
                           const int32_t *positions, float *k_cache, float *v_cache,
                           int64_t context, float scale, int causal, float *out);

/* Row-wise softmax of x[t][n] (out may alias x): max-subtracted, so no exp overflows; the
 * attention kernels do the same inline, the sampler over logits. */
void tern_softmax_generic(const float *x, int64_t t, int64_t n, float *out);

/* Elementwise: out = relu(x)^2, x * sigmoid(x), a * b, a + b over n values (out may alias). */
void tern_relu2_generic(const float *x, int64_t n, float *out);
void tern_silu_generic(const float *x, int64_t n, float *out);
void tern_mul_generic(const float *a, const float *b, int64_t n, float *out);
void tern_add_generic(const float *a, const float *b, int64_t n, float *out);

/* out[i] = table[tokens[i]] as float (a quantized table's row dequantized). Returns -1 - i for
 * the first token i outside [0, vocab). */
int64_t tern_embedding_generic(const void *table, tern_dtype_t dtype, int64_t vocab,
                               int64_t hidden, const int32_t *tokens, int64_t t, float *out);

/* out[i][j] = sum_c x[i][c] * w[j][c] for a float table w [n][k] (the output head). */
void tern_matmul_generic(const float *x, int64_t t, int64_t k, const void *w, tern_dtype_t dtype,
                         int64_t n, float *out);

/* Per-row absmax int8 quantization of a float table w [n][k] (an output head):
 * scale[j] = max_c |w[j][c]| / 127 (1 for an all-zero row), q[j][c] = rint(w[j][c] / scale[j]). */
void tern_quantize_rows_q8(const void *w, tern_dtype_t dtype, int64_t n, int64_t k, int8_t *q,
                           float *scale);

/* out[i][j] = (sum_c xq[i][c] * wq[j][c]) / x_scale[i] * w_scale[j]: tern.matmul with i8
 * operands (x_scale from tern_act_quant_generic, w_scale from tern_quantize_rows_q8). */
void tern_matmul_q8_generic(const int8_t *xq, int64_t x_stride, const float *x_scale, int64_t t,
                            int64_t k, const int8_t *wq, const float *w_scale, int64_t n,
                            float *out);

/* The activation of a gated feed-forward before its down projection. */
typedef enum { TERN_GLU_NONE = 0, TERN_GLU_RELU2 = 1, TERN_GLU_SILU = 2 } tern_glu_t;

/* The fused input of a bitlinear, per token (rows of k floats):
 *   x = a (TERN_GLU_NONE), relu(a)^2 * b, or silu(a) * b;
 *   y = tern_rms_norm(x, norm_weight, eps), or x when norm_weight is NULL;
 *   q, scale = 8-bit tern_act_quant(y)  (q rows of q_stride >= round_up(k, 16), zero past k).
 * Returns 0, or non-zero if a generated kernel rejected its buffers. */
int tern_quant_input_generic(const float *a, const float *b, int64_t t, int64_t k, tern_glu_t glu,
                             const float *norm_weight, float eps, int8_t *q, int64_t q_stride,
                             float *scale);

/* The generic kernels with the variant table's signatures (a status result). */
int tern_head_matmul_generic(const float *x, int64_t t, int64_t k, const void *w,
                             tern_dtype_t dtype, int64_t n, float *out);
int tern_rope_variant_generic(float *x, int64_t t, int64_t heads, int64_t head_dim,
                              const int32_t *positions, const float *inv_freq, int interleaved);

/* The signatures of the variant table's kernels (the compiled graph passes them by address). */
typedef int (*tern_quant_input_fn)(const float *a, const float *b, int64_t t, int64_t k,
                                   tern_glu_t glu, const float *norm_weight, float eps, int8_t *q,
                                   int64_t q_stride, float *scale);
typedef int (*tern_head_matmul_fn)(const float *x, int64_t t, int64_t k, const void *w,
                                   tern_dtype_t dtype, int64_t n, float *out);
typedef int (*tern_attention_fn)(const float *q, const float *k, const float *v, int64_t t,
                                 int64_t heads, int64_t kv_heads, int64_t head_dim,
                                 const int32_t *positions, float *k_cache, float *v_cache,
                                 int64_t context, float scale, int causal, float *out);
typedef int (*tern_rope_fn)(float *x, int64_t t, int64_t heads, int64_t head_dim,
                            const int32_t *positions, const float *inv_freq, int interleaved);
typedef int64_t (*tern_embedding_fn)(const void *table, tern_dtype_t dtype, int64_t vocab,
                                     int64_t hidden, const int32_t *tokens, int64_t t,
                                     float *out);

/* The decoder kernels of one ISA. The SIMD variants reorder float sums (vectorized), so they
 * match the generic ones within float rounding, not bit for bit (docs/kernels.md states the
 * tolerances the tests hold them to). */
typedef struct {
  const char *name;
  tern_cpu_features_t requires;
  int (*quant_input)(const float *a, const float *b, int64_t t, int64_t k, tern_glu_t glu,
                     const float *norm_weight, float eps, int8_t *q, int64_t q_stride,
                     float *scale);
  int (*head_matmul)(const float *x, int64_t t, int64_t k, const void *w, tern_dtype_t dtype,
                     int64_t n, float *out);
  int (*attention)(const float *q, const float *k, const float *v, int64_t t, int64_t heads,
                   int64_t kv_heads, int64_t head_dim, const int32_t *positions, float *k_cache,
                   float *v_cache, int64_t context, float scale, int causal, float *out);
  int (*rope)(float *x, int64_t t, int64_t heads, int64_t head_dim, const int32_t *positions,
              const float *inv_freq, int interleaved);
  /* Returns as tern_embedding_generic does, or -1 - t if a generated kernel rejected its
   * buffers. */
  int64_t (*embedding)(const void *table, tern_dtype_t dtype, int64_t vocab, int64_t hidden,
                       const int32_t *tokens, int64_t t, float *out);
} tern_decoder_variant;

/* The variants compiled into this binary, best first, generic last, and the selection. */
const tern_decoder_variant *tern_decoder_variants(size_t *count);
const tern_decoder_variant *tern_decoder_select(tern_cpu_features_t have);

#ifdef __cplusplus
}
#endif

#endif /* TERN_DECODER_KERNELS_H */
