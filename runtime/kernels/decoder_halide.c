/* decoder_halide.c - the generated decoder kernels behind the plain C ABI of
 * tern/decoder_kernels.h: builds the halide_buffer_t's, finishes what a kernel leaves to the
 * caller (head rows past the last multiple of 64), and lists each ISA's functions. */
#include "tern/decoder_kernels.h"
#include "tern/generated_kernels.h"
#include "tern/head_q6.h"
#include "tern/head_q8.h"
#include "tern/kernels.h"
#include "tern/thread_pool.h"

#include <HalideRuntime.h>

#include "halide_buffer.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

typedef int (*halide_head_fn)(struct halide_buffer_t *w, struct halide_buffer_t *x,
                              struct halide_buffer_t *out);
typedef int (*halide_head_q8_fn)(struct halide_buffer_t *w, struct halide_buffer_t *ws,
                                 struct halide_buffer_t *xq, struct halide_buffer_t *xd,
                                 struct halide_buffer_t *xs, struct halide_buffer_t *out);
typedef int (*halide_head_q6_fn)(struct halide_buffer_t *w, struct halide_buffer_t *sc,
                                 struct halide_buffer_t *wd, struct halide_buffer_t *xq,
                                 struct halide_buffer_t *xd, struct halide_buffer_t *xs,
                                 struct halide_buffer_t *out);
typedef int (*halide_attention_fn)(struct halide_buffer_t *q, struct halide_buffer_t *k_cache,
                                   struct halide_buffer_t *v_cache,
                                   struct halide_buffer_t *positions, float scale, bool causal,
                                   int32_t last, struct halide_buffer_t *out);
typedef int (*halide_rope_fn)(struct halide_buffer_t *x, struct halide_buffer_t *positions,
                              struct halide_buffer_t *inv_freq, bool interleaved,
                              struct halide_buffer_t *out);
typedef int (*halide_embedding_fn)(struct halide_buffer_t *table, struct halide_buffer_t *tokens,
                                   int32_t dtype, struct halide_buffer_t *out);

int tern_quant_input_halide(tern_halide_quant_input_fn fn, const float *a, const float *b,
                            int64_t t, int64_t k, tern_glu_t glu, const float *norm_weight,
                            float eps, int8_t *q, int64_t q_stride, float *scale) {
  if (t == 0)
    return 0;
  tern_thread_pool_adopt_halide();
  /* Unused inputs still need valid buffers of the right bounds: a stands in for them. */
  halide_dimension_t ad[2] = {{0, (int32_t)k, 1, 0}, {0, (int32_t)t, (int32_t)k, 0}};
  halide_dimension_t gd[1] = {{0, (int32_t)k, 1, 0}};
  halide_dimension_t qd[2] = {{0, (int32_t)tern_round_up(k, 16), 1, 0},
                              {0, (int32_t)t, (int32_t)q_stride, 0}};
  halide_dimension_t sd[1] = {{0, (int32_t)t, 1, 0}};
  halide_buffer_t ab, bb, gb, qb, sb;
  tern_init_halide_buffer(&ab, a, halide_type_float, 32, 2, ad);
  tern_init_halide_buffer(&bb, glu == TERN_GLU_NONE ? a : b, halide_type_float, 32, 2, ad);
  tern_init_halide_buffer(&gb, norm_weight ? norm_weight : a, halide_type_float, 32, 1, gd);
  tern_init_halide_buffer(&qb, q, halide_type_int, 8, 2, qd);
  tern_init_halide_buffer(&sb, scale, halide_type_float, 32, 1, sd);
  return fn(&ab, &bb, &gb, (int32_t)glu, norm_weight != NULL, eps, (int32_t)k, &qb, &sb);
}

/* The float head's kernels take the table as uint16 halves (f32 elements are two of them), N
 * as a multiple of 64 (the last n % 64 rows go through the scalar kernel), and one token or
 * four. Tokens go four at a time through the 4-token kernel, which reads the table once for all
 * four (a batched call's sessions); a last group of two or three is padded to four with zero
 * rows in scratch, a last single token takes the 1-token kernel. */
static int run_head_rows(halide_head_fn fn, const float *x, int64_t rows, int64_t k,
                         const void *w, int64_t halves, int64_t n64, int64_t out_stride,
                         float *out) {
  halide_dimension_t wd[2] = {{0, (int32_t)(k * halves), 1, 0},
                              {0, (int32_t)n64, (int32_t)(k * halves), 0}};
  halide_dimension_t xd[2] = {{0, (int32_t)k, 1, 0}, {0, (int32_t)rows, (int32_t)k, 0}};
  halide_dimension_t od[2] = {{0, (int32_t)n64, 1, 0},
                              {0, (int32_t)rows, (int32_t)out_stride, 0}};
  halide_buffer_t wb, xb, ob;
  tern_init_halide_buffer(&wb, w, halide_type_uint, 16, 2, wd);
  tern_init_halide_buffer(&xb, x, halide_type_float, 32, 2, xd);
  tern_init_halide_buffer(&ob, out, halide_type_float, 32, 2, od);
  return fn(&wb, &xb, &ob);
}

static int run_head(halide_head_fn one, halide_head_fn four, const float *x, int64_t t,
                    int64_t k, const void *w, tern_dtype_t dtype, int64_t n, float *out) {
  int64_t halves = dtype == TERN_DTYPE_F32 ? 2 : 1, n64 = n / 64 * 64;
  size_t element = (size_t)(2 * halves);
  tern_thread_pool_adopt_halide();
  int status = 0;
  for (int64_t i = 0; i < t && status == 0;) {
    int64_t group = t - i < 4 ? t - i : 4;
    const float *xi = x + i * k;
    float *oi = out + i * n;
    if (n64 > 0 && group == 1) {
      status = run_head_rows(one, xi, 1, k, w, halves, n64, n, oi);
    } else if (n64 > 0 && group == 4) {
      status = run_head_rows(four, xi, 4, k, w, halves, n64, n, oi);
    } else if (n64 > 0) {
      size_t x_bytes = (size_t)(4 * k) * sizeof(float);
      float *padded = (float *)halide_malloc(NULL, x_bytes + (size_t)(4 * n64) * sizeof(float));
      if (!padded)
        return -1;
      float *padded_out = padded + 4 * k;
      memset(padded, 0, x_bytes);
      memcpy(padded, xi, (size_t)(group * k) * sizeof(float));
      status = run_head_rows(four, padded, 4, k, w, halves, n64, n64, padded_out);
      for (int64_t r = 0; r < group && status == 0; ++r)
        memcpy(oi + r * n, padded_out + r * n64, (size_t)n64 * sizeof(float));
      halide_free(NULL, padded);
    }
    for (int64_t r = 0; r < group && status == 0 && n > n64; ++r)
      tern_matmul_generic(xi + r * k, 1, k, (const uint8_t *)w + (size_t)(n64 * k) * element,
                          dtype, n - n64, oi + r * n + n64);
    i += group;
  }
  return status;
}

/* The 8-bit head (tern/head_q8.h): each token's activations quantized here (the same C as the
 * scalar kernel's, so every variant sees the same integers), the first multiple of 64 rows by
 * the generated kernel, the rest by the scalar one. */
static int run_head_q8(halide_head_q8_fn fn, const float *x, int64_t t, int64_t k,
                       const void *w, int64_t n, float *out) {
  int64_t blocks = (k + TERN_Q8_0_BLOCK - 1) / TERN_Q8_0_BLOCK;
  int64_t n64 = n / 64 * 64;
  const uint8_t *codes = (const uint8_t *)w;
  const uint16_t *scales = (const uint16_t *)(const void *)(codes + tern_q8_0_codes_size(n, k));
  size_t bytes = (size_t)(blocks * TERN_Q8_0_BLOCK) + (size_t)blocks * (sizeof(float) + 4);
  uint8_t *scratch = (uint8_t *)halide_malloc(NULL, bytes);
  if (!scratch)
    return -1;
  float *xd = (float *)(void *)scratch;
  int32_t *xs = (int32_t *)(void *)(scratch + (size_t)blocks * sizeof(float));
  int8_t *xq = (int8_t *)(scratch + (size_t)blocks * (sizeof(float) + 4));
  tern_thread_pool_adopt_halide();
  int status = 0;
  for (int64_t i = 0; i < t && status == 0; ++i) {
    tern_q8_0_quantize_x(x + i * k, k, xq, xd, xs);
    float *oi = out + i * n;
    if (n64 > 0) {
      int32_t b = (int32_t)blocks, nt = (int32_t)(n64 / 16);
      halide_dimension_t wd[3] = {{0, 512, 1, 0}, {0, b, 512, 0}, {0, nt, 512 * b, 0}};
      halide_dimension_t sd[3] = {{0, 16, 1, 0}, {0, b, 16, 0}, {0, nt, 16 * b, 0}};
      halide_dimension_t qd[1] = {{0, b * TERN_Q8_0_BLOCK, 1, 0}};
      halide_dimension_t bd[1] = {{0, b, 1, 0}};
      halide_dimension_t od[2] = {{0, 16, 1, 0}, {0, nt, 16, 0}};
      halide_buffer_t wb, sb, qb, db, xsb, ob;
      tern_init_halide_buffer(&wb, codes, halide_type_uint, 8, 3, wd);
      tern_init_halide_buffer(&sb, scales, halide_type_uint, 16, 3, sd);
      tern_init_halide_buffer(&qb, xq, halide_type_int, 8, 1, qd);
      tern_init_halide_buffer(&db, xd, halide_type_float, 32, 1, bd);
      tern_init_halide_buffer(&xsb, xs, halide_type_int, 32, 1, bd);
      tern_init_halide_buffer(&ob, oi, halide_type_float, 32, 2, od);
      status = fn(&wb, &sb, &qb, &db, &xsb, &ob);
    }
    if (status == 0 && n > n64)
      tern_head_q8_0_rows_generic(xq, xd, xs, k, codes, n, n64, n, oi);
  }
  halide_free(NULL, scratch);
  return status;
}

/* The ~6.5-bit head (tern/head_q6.h), as the 8-bit one: activations quantized here per token,
 * the first multiple of 64 rows by the generated kernel, the rest by the scalar one. */
static int run_head_q6(halide_head_q6_fn fn, const float *x, int64_t t, int64_t k,
                       const void *w, int64_t n, float *out) {
  int64_t blocks = (k + TERN_Q6_K_BLOCK - 1) / TERN_Q6_K_BLOCK, subs = blocks * 16;
  int64_t n64 = n / 64 * 64;
  const uint8_t *codes = (const uint8_t *)w;
  const int8_t *sub_scales = (const int8_t *)(codes + tern_q6_k_codes_size(n, k));
  const uint16_t *scales =
      (const uint16_t *)(const void *)(codes + tern_q6_k_scales_offset(n, k));
  size_t bytes = (size_t)blocks * sizeof(float) + (size_t)subs * sizeof(int32_t) +
                 (size_t)(blocks * TERN_Q6_K_BLOCK);
  uint8_t *scratch = (uint8_t *)halide_malloc(NULL, bytes);
  if (!scratch)
    return -1;
  float *xd = (float *)(void *)scratch;
  int32_t *xs = (int32_t *)(void *)(scratch + (size_t)blocks * sizeof(float));
  int8_t *xq = (int8_t *)(scratch + (size_t)blocks * sizeof(float) + (size_t)subs * 4);
  tern_thread_pool_adopt_halide();
  int status = 0;
  for (int64_t i = 0; i < t && status == 0; ++i) {
    tern_q6_k_quantize_x(x + i * k, k, xq, xd, xs);
    float *oi = out + i * n;
    if (n64 > 0) {
      int32_t b = (int32_t)blocks, nt = (int32_t)(n64 / 16);
      halide_dimension_t wd[3] = {{0, 3072, 1, 0}, {0, b, 3072, 0}, {0, nt, 3072 * b, 0}};
      halide_dimension_t cd[3] = {{0, 256, 1, 0}, {0, b, 256, 0}, {0, nt, 256 * b, 0}};
      halide_dimension_t sd[3] = {{0, 16, 1, 0}, {0, b, 16, 0}, {0, nt, 16 * b, 0}};
      halide_dimension_t qd[1] = {{0, b * TERN_Q6_K_BLOCK, 1, 0}};
      halide_dimension_t bd[1] = {{0, b, 1, 0}};
      halide_dimension_t ud[1] = {{0, b * 16, 1, 0}};
      halide_dimension_t od[2] = {{0, 16, 1, 0}, {0, nt, 16, 0}};
      halide_buffer_t wb, cb, sb, qb, db, xsb, ob;
      tern_init_halide_buffer(&wb, codes, halide_type_uint, 8, 3, wd);
      tern_init_halide_buffer(&cb, sub_scales, halide_type_int, 8, 3, cd);
      tern_init_halide_buffer(&sb, scales, halide_type_uint, 16, 3, sd);
      tern_init_halide_buffer(&qb, xq, halide_type_int, 8, 1, qd);
      tern_init_halide_buffer(&db, xd, halide_type_float, 32, 1, bd);
      tern_init_halide_buffer(&xsb, xs, halide_type_int, 32, 1, ud);
      tern_init_halide_buffer(&ob, oi, halide_type_float, 32, 2, od);
      status = fn(&wb, &cb, &sb, &qb, &db, &xsb, &ob);
    }
    if (status == 0 && n > n64)
      tern_head_q6_k_rows_generic(xq, xd, xs, k, codes, n, n64, n, oi);
  }
  halide_free(NULL, scratch);
  return status;
}

static int run_attention(halide_attention_fn fn, const float *q, const float *k, const float *v,
                         int64_t t, int64_t heads, int64_t kv_heads, int64_t head_dim,
                         const int32_t *positions, float *k_cache, float *v_cache,
                         int64_t context, float scale, int causal, float *out) {
  int32_t last;
  if (tern_kv_cache_append(k, v, t, kv_heads, head_dim, positions, k_cache, v_cache, context,
                           &last) != 0)
    return -1;
  if (t == 0)
    return 0;
  tern_thread_pool_adopt_halide();
  int32_t d = (int32_t)head_dim, held = (int32_t)tern_kv_cache_positions(context);
  int32_t block = TERN_KV_BLOCK;
  halide_dimension_t qd[3] = {{0, d, 1, 0}, {0, (int32_t)heads, d, 0},
                              {0, (int32_t)t, (int32_t)(heads * head_dim), 0}};
  /* Keys (position in block, element, block, KV head); values (element, position, KV head). */
  halide_dimension_t kd[4] = {{0, block, 1, 0},
                              {0, d, block, 0},
                              {0, held / block, block * d, 0},
                              {0, (int32_t)kv_heads, held * d, 0}};
  halide_dimension_t vd[3] = {{0, d, 1, 0}, {0, held, d, 0},
                              {0, (int32_t)kv_heads, held * d, 0}};
  halide_dimension_t pd[1] = {{0, (int32_t)t, 1, 0}};
  halide_buffer_t qb, kb, vb, pb, ob;
  tern_init_halide_buffer(&qb, q, halide_type_float, 32, 3, qd);
  tern_init_halide_buffer(&kb, k_cache, halide_type_float, 32, 4, kd);
  tern_init_halide_buffer(&vb, v_cache, halide_type_float, 32, 3, vd);
  tern_init_halide_buffer(&pb, positions, halide_type_int, 32, 1, pd);
  tern_init_halide_buffer(&ob, out, halide_type_float, 32, 3, qd);
  return fn(&qb, &kb, &vb, &pb, scale, causal != 0, last, &ob);
}

static int run_rope(halide_rope_fn fn, float *x, int64_t t, int64_t heads, int64_t head_dim,
                    const int32_t *positions, const float *inv_freq, int interleaved) {
  if (t == 0)
    return 0;
  tern_thread_pool_adopt_halide();
  /* The kernel writes a separate buffer (a rotation reads two elements of the row it writes),
   * copied back: RoPE is in place in the ABI. */
  size_t count = (size_t)(t * heads * head_dim);
  float *rotated = (float *)malloc(count * sizeof(float));
  int status = -1;
  if (rotated) {
    int32_t d = (int32_t)head_dim;
    halide_dimension_t xd[3] = {{0, d, 1, 0}, {0, (int32_t)heads, d, 0},
                                {0, (int32_t)t, (int32_t)(heads * head_dim), 0}};
    halide_dimension_t pd[1] = {{0, (int32_t)t, 1, 0}};
    halide_dimension_t fd[1] = {{0, d / 2, 1, 0}};
    halide_buffer_t xb, pb, fb, ob;
    tern_init_halide_buffer(&xb, x, halide_type_float, 32, 3, xd);
    tern_init_halide_buffer(&pb, positions, halide_type_int, 32, 1, pd);
    tern_init_halide_buffer(&fb, inv_freq, halide_type_float, 32, 1, fd);
    tern_init_halide_buffer(&ob, rotated, halide_type_float, 32, 3, xd);
    status = fn(&xb, &pb, &fb, interleaved != 0, &ob);
    if (status == 0)
      memcpy(x, rotated, count * sizeof(float));
  }
  free(rotated);
  return status;
}

static int64_t run_embedding(halide_embedding_fn fn, const void *table, tern_dtype_t dtype,
                             int64_t vocab, int64_t hidden, const int32_t *tokens, int64_t t,
                             float *out) {
  for (int64_t i = 0; i < t; ++i)
    if (tokens[i] < 0 || tokens[i] >= vocab)
      return -1 - i;
  if (t == 0)
    return 0;
  /* A quantized table (a tied embedding read from the quantized head): rows dequantized in C,
   * a few thousand values a token. */
  if (dtype == TERN_DTYPE_Q8_0 || dtype == TERN_DTYPE_Q6_K)
    return tern_embedding_generic(table, dtype, vocab, hidden, tokens, t, out);
  tern_thread_pool_adopt_halide();
  int64_t halves = dtype == TERN_DTYPE_F32 ? 2 : 1;
  halide_dimension_t td[2] = {{0, (int32_t)(hidden * halves), 1, 0},
                              {0, (int32_t)vocab, (int32_t)(hidden * halves), 0}};
  halide_dimension_t id[1] = {{0, (int32_t)t, 1, 0}};
  halide_dimension_t od[2] = {{0, (int32_t)hidden, 1, 0}, {0, (int32_t)t, (int32_t)hidden, 0}};
  halide_buffer_t tb, ib, ob;
  tern_init_halide_buffer(&tb, table, halide_type_uint, 16, 2, td);
  tern_init_halide_buffer(&ib, tokens, halide_type_int, 32, 1, id);
  tern_init_halide_buffer(&ob, out, halide_type_float, 32, 2, od);
  /* A kernel error (a caller bug) is -1 - t: no bad token has that index. */
  return fn(&tb, &ib, (int32_t)dtype, &ob) == 0 ? 0 : -1 - t;
}

#if defined(__x86_64__)
/* The AVX-512 row also runs on CPUs with VNNI, whose vpdpbusd the 8-bit head uses. */
int tern_head_q8_0_x86_64_avx512vnni_halide(struct halide_buffer_t *, struct halide_buffer_t *,
                                            struct halide_buffer_t *, struct halide_buffer_t *,
                                            struct halide_buffer_t *, struct halide_buffer_t *);
int tern_head_q8_0_x86_64_avx512_halide(struct halide_buffer_t *, struct halide_buffer_t *,
                                        struct halide_buffer_t *, struct halide_buffer_t *,
                                        struct halide_buffer_t *, struct halide_buffer_t *);
int tern_head_q6_k_x86_64_avx512vnni_halide(struct halide_buffer_t *, struct halide_buffer_t *,
                                            struct halide_buffer_t *, struct halide_buffer_t *,
                                            struct halide_buffer_t *, struct halide_buffer_t *,
                                            struct halide_buffer_t *);
int tern_head_q6_k_x86_64_avx512_halide(struct halide_buffer_t *, struct halide_buffer_t *,
                                        struct halide_buffer_t *, struct halide_buffer_t *,
                                        struct halide_buffer_t *, struct halide_buffer_t *,
                                        struct halide_buffer_t *);
static bool vnni_for(bool avx512_row) {
  return avx512_row && (tern_cpu_features() & TERN_CPU_AVX512VNNI);
}
static halide_head_q8_fn q8_kernel(halide_head_q8_fn row_kernel) {
  return vnni_for(row_kernel == tern_head_q8_0_x86_64_avx512_halide)
             ? tern_head_q8_0_x86_64_avx512vnni_halide
             : row_kernel;
}
static halide_head_q6_fn q6_kernel(halide_head_q6_fn row_kernel) {
  return vnni_for(row_kernel == tern_head_q6_k_x86_64_avx512_halide)
             ? tern_head_q6_k_x86_64_avx512vnni_halide
             : row_kernel;
}
#elif defined(__aarch64__)
/* The NEON row also runs on CPUs with dotprod, whose sdot the quantized heads use. */
int tern_head_q8_0_aarch64_dotprod_halide(struct halide_buffer_t *, struct halide_buffer_t *,
                                          struct halide_buffer_t *, struct halide_buffer_t *,
                                          struct halide_buffer_t *, struct halide_buffer_t *);
int tern_head_q6_k_aarch64_dotprod_halide(struct halide_buffer_t *, struct halide_buffer_t *,
                                          struct halide_buffer_t *, struct halide_buffer_t *,
                                          struct halide_buffer_t *, struct halide_buffer_t *,
                                          struct halide_buffer_t *);
static bool dotprod(void) { return (tern_cpu_features() & TERN_CPU_DOTPROD) != 0; }
static halide_head_q8_fn q8_kernel(halide_head_q8_fn row_kernel) {
  return dotprod() ? tern_head_q8_0_aarch64_dotprod_halide : row_kernel;
}
static halide_head_q6_fn q6_kernel(halide_head_q6_fn row_kernel) {
  return dotprod() ? tern_head_q6_k_aarch64_dotprod_halide : row_kernel;
}
#else
static halide_head_q8_fn q8_kernel(halide_head_q8_fn row_kernel) { return row_kernel; }
static halide_head_q6_fn q6_kernel(halide_head_q6_fn row_kernel) { return row_kernel; }
#endif

#define TERN_DECODER_VARIANT(NAME, REQUIRES)                                                       \
  int tern_quant_input_##NAME##_halide(struct halide_buffer_t *, struct halide_buffer_t *,         \
                                       struct halide_buffer_t *, int32_t, bool, float, int32_t,    \
                                       struct halide_buffer_t *, struct halide_buffer_t *);        \
  int tern_head_f16_##NAME##_halide(struct halide_buffer_t *, struct halide_buffer_t *,            \
                                    struct halide_buffer_t *);                                     \
  int tern_head_bf16_##NAME##_halide(struct halide_buffer_t *, struct halide_buffer_t *,           \
                                     struct halide_buffer_t *);                                    \
  int tern_head_f32_##NAME##_halide(struct halide_buffer_t *, struct halide_buffer_t *,            \
                                    struct halide_buffer_t *);                                     \
  int tern_head4_f16_##NAME##_halide(struct halide_buffer_t *, struct halide_buffer_t *,           \
                                     struct halide_buffer_t *);                                    \
  int tern_head4_bf16_##NAME##_halide(struct halide_buffer_t *, struct halide_buffer_t *,          \
                                      struct halide_buffer_t *);                                   \
  int tern_head4_f32_##NAME##_halide(struct halide_buffer_t *, struct halide_buffer_t *,           \
                                     struct halide_buffer_t *);                                    \
  int tern_head_q8_0_##NAME##_halide(struct halide_buffer_t *, struct halide_buffer_t *,           \
                                     struct halide_buffer_t *, struct halide_buffer_t *,           \
                                     struct halide_buffer_t *, struct halide_buffer_t *);          \
  int tern_head_q6_k_##NAME##_halide(struct halide_buffer_t *, struct halide_buffer_t *,           \
                                     struct halide_buffer_t *, struct halide_buffer_t *,           \
                                     struct halide_buffer_t *, struct halide_buffer_t *,           \
                                     struct halide_buffer_t *);                                    \
  int tern_attention_##NAME##_halide(struct halide_buffer_t *, struct halide_buffer_t *,           \
                                     struct halide_buffer_t *, struct halide_buffer_t *, float,    \
                                     bool, int32_t, struct halide_buffer_t *);                     \
  int tern_rope_##NAME##_halide(struct halide_buffer_t *, struct halide_buffer_t *,                \
                                struct halide_buffer_t *, bool, struct halide_buffer_t *);         \
  int tern_embedding_##NAME##_halide(struct halide_buffer_t *, struct halide_buffer_t *, int32_t,  \
                                     struct halide_buffer_t *);                                    \
  int tern_attention_##NAME(const float *q, const float *k, const float *v, int64_t t,             \
                            int64_t heads, int64_t kv_heads, int64_t head_dim,                     \
                            const int32_t *positions, float *k_cache, float *v_cache,              \
                            int64_t context, float scale, int causal, float *out) {                \
    return run_attention(tern_attention_##NAME##_halide, q, k, v, t, heads, kv_heads, head_dim,    \
                         positions, k_cache, v_cache, context, scale, causal, out);                \
  }                                                                                                \
  int tern_rope_##NAME(float *x, int64_t t, int64_t heads, int64_t head_dim,                       \
                       const int32_t *positions, const float *inv_freq, int interleaved) {         \
    return run_rope(tern_rope_##NAME##_halide, x, t, heads, head_dim, positions, inv_freq,         \
                    interleaved);                                                                  \
  }                                                                                                \
  int64_t tern_embedding_##NAME(const void *table, tern_dtype_t dtype, int64_t vocab,              \
                                int64_t hidden, const int32_t *tokens, int64_t t, float *out) {    \
    return run_embedding(tern_embedding_##NAME##_halide, table, dtype, vocab, hidden, tokens, t,   \
                         out);                                                                     \
  }                                                                                                \
  int tern_quant_input_##NAME(const float *a, const float *b, int64_t t, int64_t k,                \
                              tern_glu_t glu, const float *norm_weight, float eps, int8_t *q,      \
                              int64_t q_stride, float *scale) {                                    \
    return tern_quant_input_halide(tern_quant_input_##NAME##_halide, a, b, t, k, glu,            \
                                   norm_weight, eps, q, q_stride, scale);                          \
  }                                                                                                \
  int tern_head_matmul_##NAME(const float *x, int64_t t, int64_t k, const void *w,                 \
                              tern_dtype_t dtype, int64_t n, float *out) {                         \
    if (dtype == TERN_DTYPE_Q8_0)                                                                  \
      return run_head_q8(q8_kernel(tern_head_q8_0_##NAME##_halide), x, t, k, w, n, out);           \
    if (dtype == TERN_DTYPE_Q6_K)                                                                  \
      return run_head_q6(q6_kernel(tern_head_q6_k_##NAME##_halide), x, t, k, w, n, out);           \
    if (dtype == TERN_DTYPE_F16)                                                                   \
      return run_head(tern_head_f16_##NAME##_halide, tern_head4_f16_##NAME##_halide, x, t, k, w,   \
                      dtype, n, out);                                                              \
    if (dtype == TERN_DTYPE_BF16)                                                                  \
      return run_head(tern_head_bf16_##NAME##_halide, tern_head4_bf16_##NAME##_halide, x, t, k, w, \
                      dtype, n, out);                                                              \
    return run_head(tern_head_f32_##NAME##_halide, tern_head4_f32_##NAME##_halide, x, t, k, w,     \
                    dtype, n, out);                                                                \
  }
#include "decoder_variants.inl"
#undef TERN_DECODER_VARIANT
