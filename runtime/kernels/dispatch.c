/* dispatch.c - the kernels of a model compiled for x86-64-multi: each call runs the best variant
 * of its table for this CPU (tern_cpu_features(), so TERN_CPU_DISABLE applies), chosen on the
 * first call and cached. Models compiled for one target call their variant directly instead. */
#include "tern/lut_kernels.h"
#include "tern/model_abi.h"

/* The selection is idempotent, so racing first calls store the same pointer. */
#define TERN_CACHED(TYPE, SELECT)                                                                  \
  static TYPE cached;                                                                              \
  TYPE chosen = __atomic_load_n(&cached, __ATOMIC_ACQUIRE);                                        \
  if (!chosen) {                                                                                   \
    chosen = SELECT;                                                                               \
    __atomic_store_n(&cached, chosen, __ATOMIC_RELEASE);                                           \
  }

int tern_gemm_i2_dispatch(const uint8_t *w, int64_t n, int64_t k, const int8_t *x,
                          int64_t x_stride, int64_t t, int32_t *acc, int64_t acc_stride) {
  TERN_CACHED(tern_gemm_fn, tern_gemm_i2_select(tern_cpu_features())->fn)
  return chosen(w, n, k, x, x_stride, t, acc, acc_stride);
}

int tern_gemm_tl1_dispatch(const uint8_t *w, int64_t n, int64_t k, const int8_t *x,
                           int64_t x_stride, int64_t t, int32_t *acc, int64_t acc_stride) {
  TERN_CACHED(tern_gemm_fn, tern_gemm_tl1_select(tern_cpu_features())->fn)
  return chosen(w, n, k, x, x_stride, t, acc, acc_stride);
}

int tern_gemm_tl2_dispatch(const uint8_t *w, int64_t n, int64_t k, const int8_t *x,
                           int64_t x_stride, int64_t t, int32_t *acc, int64_t acc_stride) {
  TERN_CACHED(tern_gemm_fn, tern_gemm_tl2_select(tern_cpu_features())->fn)
  return chosen(w, n, k, x, x_stride, t, acc, acc_stride);
}

static const tern_decoder_variant *decoder(void) {
  TERN_CACHED(const tern_decoder_variant *, tern_decoder_select(tern_cpu_features()))
  return chosen;
}

int tern_quant_input_dispatch(const float *a, const float *b, int64_t t, int64_t k,
                              tern_glu_t glu, const float *norm_weight, float eps, int8_t *q,
                              int64_t q_stride, float *scale) {
  return decoder()->quant_input(a, b, t, k, glu, norm_weight, eps, q, q_stride, scale);
}

int tern_head_matmul_dispatch(const float *x, int64_t t, int64_t k, const void *w,
                              tern_dtype_t dtype, int64_t n, float *out) {
  return decoder()->head_matmul(x, t, k, w, dtype, n, out);
}

int tern_attention_dispatch(const float *q, const float *k, const float *v, int64_t t,
                            int64_t heads, int64_t kv_heads, int64_t head_dim,
                            const int32_t *positions, float *k_cache, float *v_cache,
                            int64_t context, float scale, int causal, float *out) {
  return decoder()->attention(q, k, v, t, heads, kv_heads, head_dim, positions, k_cache, v_cache,
                              context, scale, causal, out);
}

int tern_rope_dispatch(float *x, int64_t t, int64_t heads, int64_t head_dim,
                       const int32_t *positions, const float *inv_freq, int interleaved) {
  return decoder()->rope(x, t, heads, head_dim, positions, inv_freq, interleaved);
}

int64_t tern_embedding_dispatch(const void *table, tern_dtype_t dtype, int64_t vocab,
                                int64_t hidden, const int32_t *tokens, int64_t t, float *out) {
  return decoder()->embedding(table, dtype, vocab, hidden, tokens, t, out);
}
