/* decoder_variant_generic.c - the generic row of the decoder kernel table: the fused bitlinear
 * input as the composition of the scalar kernels (the oracle of the generated version), and the
 * scalar kernels with the table's status-returning signatures. */
#include "tern/decoder_kernels.h"
#include "tern/head_q6.h"
#include "tern/head_q8.h"
#include "tern/kernels.h"

#include <stdlib.h>
#include <string.h>

int tern_quant_input_generic(const float *a, const float *b, int64_t t, int64_t k, tern_glu_t glu,
                             const float *norm_weight, float eps, int8_t *q, int64_t q_stride,
                             float *scale) {
  size_t count = (size_t)(t * k);
  float *x = (float *)malloc((count ? count : 1) * sizeof(float));
  if (!x)
    return -1;
  switch (glu) {
  case TERN_GLU_RELU2:
    tern_relu2_generic(a, (int64_t)count, x);
    tern_mul_generic(x, b, (int64_t)count, x);
    break;
  case TERN_GLU_SILU:
    tern_silu_generic(a, (int64_t)count, x);
    tern_mul_generic(x, b, (int64_t)count, x);
    break;
  default:
    memcpy(x, a, count * sizeof(float));
    break;
  }
  if (norm_weight)
    tern_rms_norm_generic(x, t, k, norm_weight, eps, x);
  tern_act_quant_generic(x, k, t, k, 8, q, q_stride, scale);
  free(x);
  return 0;
}

int tern_head_matmul_generic(const float *x, int64_t t, int64_t k, const void *w,
                             tern_dtype_t dtype, int64_t n, float *out) {
  if (dtype == TERN_DTYPE_Q8_0)
    return tern_head_q8_0_generic(x, t, k, (const uint8_t *)w, n, out);
  if (dtype == TERN_DTYPE_Q6_K)
    return tern_head_q6_k_generic(x, t, k, (const uint8_t *)w, n, out);
  tern_matmul_generic(x, t, k, w, dtype, n, out);
  return 0;
}

int tern_rope_variant_generic(float *x, int64_t t, int64_t heads, int64_t head_dim,
                              const int32_t *positions, const float *inv_freq, int interleaved) {
  tern_rope_generic(x, t, heads, head_dim, positions, inv_freq, interleaved);
  return 0;
}
