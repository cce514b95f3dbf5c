/* decoder_generic.c - scalar kernels of the decoder besides the ternary linear layers. */
#include "tern/decoder_kernels.h"
#include "tern/head_q6.h"
#include "tern/head_q8.h"

#include <math.h>
#include <string.h>

static float half_to_float(uint16_t h) {
  uint32_t sign = (uint32_t)(h >> 15) << 31, exp = (h >> 10) & 0x1f, mant = h & 0x3ff, bits;
  if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else if (exp != 0) {
    bits = sign | ((exp + 112) << 23) | (mant << 13);
  } else {
    float f = ldexpf((float)mant, -24);
    return sign ? -f : f;
  }
  float f;
  memcpy(&f, &bits, sizeof f);
  return f;
}

float tern_load_float(const void *table, tern_dtype_t dtype, int64_t i) {
  switch (dtype) {
  case TERN_DTYPE_F16: {
    uint16_t h;
    memcpy(&h, (const uint8_t *)table + 2 * i, 2);
    return half_to_float(h);
  }
  case TERN_DTYPE_BF16: {
    uint16_t b;
    memcpy(&b, (const uint8_t *)table + 2 * i, 2);
    uint32_t bits = (uint32_t)b << 16;
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
  }
  default:
    return ((const float *)table)[i];
  }
}

void tern_rms_norm_generic(const float *x, int64_t t, int64_t n, const float *weight, float eps,
                           float *out) {
  for (int64_t i = 0; i < t; ++i) {
    const float *xi = x + i * n;
    float sum = 0.0f;
    for (int64_t j = 0; j < n; ++j)
      sum += xi[j] * xi[j];
    float inv = 1.0f / sqrtf(sum / (float)n + eps);
    for (int64_t j = 0; j < n; ++j)
      out[i * n + j] = xi[j] * inv * weight[j];
  }
}

void tern_rope_generic(float *x, int64_t t, int64_t heads, int64_t head_dim,
                       const int32_t *positions, const float *inv_freq, int interleaved) {
  int64_t half = head_dim / 2;
  for (int64_t i = 0; i < t; ++i)
    for (int64_t p = 0; p < half; ++p) {
      float angle = (float)positions[i] * inv_freq[p];
      float c = cosf(angle), s = sinf(angle);
      for (int64_t h = 0; h < heads; ++h) {
        float *head = x + (i * heads + h) * head_dim;
        int64_t a = interleaved ? 2 * p : p, b = interleaved ? 2 * p + 1 : p + half;
        float x0 = head[a], x1 = head[b];
        head[a] = x0 * c - x1 * s;
        head[b] = x1 * c + x0 * s;
      }
    }
}

int64_t tern_kv_cache_positions(int64_t context) {
  return (context + TERN_KV_BLOCK - 1) / TERN_KV_BLOCK * TERN_KV_BLOCK;
}

size_t tern_kv_cache_floats(int64_t kv_heads, int64_t context, int64_t head_dim) {
  return (size_t)(kv_heads * tern_kv_cache_positions(context) * head_dim);
}

size_t tern_kv_key_index(int64_t g, int64_t p, int64_t d, int64_t context, int64_t head_dim) {
  return (size_t)((g * tern_kv_cache_positions(context) + p / TERN_KV_BLOCK * TERN_KV_BLOCK) *
                      head_dim +
                  d * TERN_KV_BLOCK + p % TERN_KV_BLOCK);
}

int tern_kv_cache_append(const float *k, const float *v, int64_t t, int64_t kv_heads,
                         int64_t head_dim, const int32_t *positions, float *k_cache,
                         float *v_cache, int64_t context, int32_t *last) {
  *last = 0;
  for (int64_t i = 0; i < t; ++i) {
    if (positions[i] < 0 || positions[i] >= context)
      return -1;
    if (positions[i] > *last)
      *last = positions[i];
  }
  int64_t stride = tern_kv_cache_positions(context);
  for (int64_t i = 0; i < t; ++i)
    for (int64_t g = 0; g < kv_heads; ++g) {
      const float *key = k + (i * kv_heads + g) * head_dim;
      for (int64_t d = 0; d < head_dim; ++d)
        k_cache[tern_kv_key_index(g, positions[i], d, context, head_dim)] = key[d];
      memcpy(v_cache + (size_t)((g * stride + positions[i]) * head_dim),
             v + (i * kv_heads + g) * head_dim, sizeof(float) * (size_t)head_dim);
    }
  return 0;
}

int tern_attention_generic(const float *q, const float *k, const float *v, int64_t t,
                           int64_t heads, int64_t kv_heads, int64_t head_dim,
                           const int32_t *positions, float *k_cache, float *v_cache,
                           int64_t context, float scale, int causal, float *out) {
  int32_t last;
  if (tern_kv_cache_append(k, v, t, kv_heads, head_dim, positions, k_cache, v_cache, context,
                           &last) != 0)
    return -1;
  int64_t group = heads / kv_heads;
  for (int64_t i = 0; i < t; ++i) {
    int64_t visible = (causal ? positions[i] : last) + 1;
    for (int64_t h = 0; h < heads; ++h) {
      const float *qh = q + (i * heads + h) * head_dim;
      const float *vc = v_cache + (h / group) * tern_kv_cache_positions(context) * head_dim;
      float *o = out + (i * heads + h) * head_dim;
      /* One pass with a running maximum (online softmax): when a larger score arrives, the
       * sums so far are rescaled, so each score is computed once and exp never overflows. */
      float maxScore = -INFINITY, total = 0.0f;
      memset(o, 0, sizeof(float) * (size_t)head_dim);
      for (int64_t p = 0; p < visible; ++p) {
        float s = 0.0f;
        for (int64_t d = 0; d < head_dim; ++d)
          s += qh[d] * k_cache[tern_kv_key_index(h / group, p, d, context, head_dim)];
        s *= scale;
        if (s > maxScore) {
          float rescale = expf(maxScore - s); /* 0 for the first score */
          total *= rescale;
          for (int64_t d = 0; d < head_dim; ++d)
            o[d] *= rescale;
          maxScore = s;
        }
        float w = expf(s - maxScore);
        total += w;
        for (int64_t d = 0; d < head_dim; ++d)
          o[d] += w * vc[p * head_dim + d];
      }
      for (int64_t d = 0; d < head_dim; ++d)
        o[d] /= total;
    }
  }
  return 0;
}

void tern_softmax_generic(const float *x, int64_t t, int64_t n, float *out) {
  for (int64_t i = 0; i < t; ++i) {
    const float *xi = x + i * n;
    float *oi = out + i * n;
    float top = -INFINITY, total = 0.0f;
    for (int64_t j = 0; j < n; ++j)
      top = fmaxf(top, xi[j]);
    for (int64_t j = 0; j < n; ++j) {
      oi[j] = expf(xi[j] - top);
      total += oi[j];
    }
    for (int64_t j = 0; j < n; ++j)
      oi[j] /= total;
  }
}

void tern_relu2_generic(const float *x, int64_t n, float *out) {
  for (int64_t i = 0; i < n; ++i) {
    float r = x[i] > 0.0f ? x[i] : 0.0f;
    out[i] = r * r;
  }
}

void tern_silu_generic(const float *x, int64_t n, float *out) {
  for (int64_t i = 0; i < n; ++i)
    out[i] = x[i] / (1.0f + expf(-x[i]));
}

void tern_mul_generic(const float *a, const float *b, int64_t n, float *out) {
  for (int64_t i = 0; i < n; ++i)
    out[i] = a[i] * b[i];
}

void tern_add_generic(const float *a, const float *b, int64_t n, float *out) {
  for (int64_t i = 0; i < n; ++i)
    out[i] = a[i] + b[i];
}

int64_t tern_embedding_generic(const void *table, tern_dtype_t dtype, int64_t vocab,
                               int64_t hidden, const int32_t *tokens, int64_t t, float *out) {
  for (int64_t i = 0; i < t; ++i)
    if (tokens[i] < 0 || tokens[i] >= vocab)
      return -1 - i;
  for (int64_t i = 0; i < t; ++i) {
    if (dtype == TERN_DTYPE_Q8_0)
      tern_q8_0_row(table, vocab, hidden, tokens[i], out + i * hidden);
    else if (dtype == TERN_DTYPE_Q6_K)
      tern_q6_k_row(table, vocab, hidden, tokens[i], out + i * hidden);
    else
      for (int64_t j = 0; j < hidden; ++j)
        out[i * hidden + j] = tern_load_float(table, dtype, (int64_t)tokens[i] * hidden + j);
  }
  return 0;
}

float tern_rope_inv_freq(float theta, int64_t pair, int64_t head_dim) {
  /* In float32, as the HF modules compute it. */
  return 1.0f / powf(theta, (float)(2 * pair) / (float)head_dim);
}

void tern_rope_frequencies(float theta, const float *factors, int64_t head_dim, float *inv_freq) {
  for (int64_t p = 0; p < head_dim / 2; ++p)
    inv_freq[p] = factors ? tern_rope_inv_freq(theta, p, head_dim) / factors[p]
                          : tern_rope_inv_freq(theta, p, head_dim);
}

void tern_matmul_generic(const float *x, int64_t t, int64_t k, const void *w, tern_dtype_t dtype,
                         int64_t n, float *out) {
  for (int64_t i = 0; i < t; ++i)
    for (int64_t j = 0; j < n; ++j) {
      float sum = 0.0f;
      for (int64_t c = 0; c < k; ++c)
        sum += x[i * k + c] * tern_load_float(w, dtype, j * k + c);
      out[i * n + j] = sum;
    }
}

void tern_quantize_rows_q8(const void *w, tern_dtype_t dtype, int64_t n, int64_t k, int8_t *q,
                           float *scale) {
  for (int64_t j = 0; j < n; ++j) {
    float amax = 0.0f;
    for (int64_t c = 0; c < k; ++c)
      amax = fmaxf(amax, fabsf(tern_load_float(w, dtype, j * k + c)));
    float s = amax > 0.0f ? amax / 127.0f : 1.0f;
    scale[j] = s;
    for (int64_t c = 0; c < k; ++c) {
      float v = rintf(tern_load_float(w, dtype, j * k + c) / s);
      q[j * k + c] = (int8_t)fminf(fmaxf(v, -127.0f), 127.0f);
    }
  }
}

void tern_matmul_q8_generic(const int8_t *xq, int64_t x_stride, const float *x_scale, int64_t t,
                            int64_t k, const int8_t *wq, const float *w_scale, int64_t n,
                            float *out) {
  for (int64_t i = 0; i < t; ++i)
    for (int64_t j = 0; j < n; ++j) {
      int32_t acc = 0;
      for (int64_t c = 0; c < k; ++c)
        acc += (int32_t)xq[i * x_stride + c] * (int32_t)wq[j * k + c];
      out[i * n + j] = (float)acc / x_scale[i] * w_scale[j];
    }
}
