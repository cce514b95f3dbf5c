/* graph_ops.c - the ops a compiled model's forward function calls (tern/model_abi.h).
 * Each turns the compiler's constant offsets into pointers, runs the kernel the compiler chose
 * and turns a kernel's failure into a message naming the op. */
#include "tern/model_abi.h"
#include "format_error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int32_t fail(tern_exec *exec, const char *format, ...) {
  va_list args;
  va_start(args, format);
  int32_t status = tern_vformat_error(exec->error, sizeof exec->error, format, args);
  va_end(args);
  return status;
}

static float *f32(tern_exec *exec, int64_t offset) {
  return offset < 0 ? NULL : (float *)(exec->arena + offset);
}

static const void *weight(tern_exec *exec, int64_t offset) {
  return offset < 0 ? NULL : exec->weights + offset;
}

int32_t tern_op_embedding(tern_exec *exec, tern_embedding_fn kernel, int64_t w_table,
                          int32_t dtype, int64_t vocab, int64_t hidden, int64_t out) {
  int64_t status = kernel(weight(exec, w_table), (tern_dtype_t)dtype, vocab, hidden,
                          exec->tokens, exec->n_tokens, f32(exec, out));
  if (status == 0)
    return 0;
  int64_t i = -1 - status;
  if (i >= 0 && i < exec->n_tokens)
    return fail(exec, "tern.embedding: token %d (input position %lld) is outside the "
                      "vocabulary [0, %lld)",
                (int)exec->tokens[i], (long long)i, (long long)vocab);
  return fail(exec, "tern.embedding: the kernel rejected its buffers");
}

int32_t tern_op_rms_norm(tern_exec *exec, int64_t in, int64_t width, int64_t groups,
                         int64_t w_gamma, float eps, int64_t out) {
  /* A token's row of groups * width elements is `groups` rows of `width`. */
  tern_rms_norm_generic(f32(exec, in), exec->n_tokens * groups, width,
                        (const float *)weight(exec, w_gamma), eps, f32(exec, out));
  return 0;
}

int32_t tern_op_act_quant(tern_exec *exec, int64_t in, int64_t width, int32_t bits, int64_t q,
                          int64_t scale) {
  tern_act_quant_generic(f32(exec, in), width, exec->n_tokens, width, bits,
                         (int8_t *)(exec->arena + q), tern_round_up(width, 16),
                         f32(exec, scale));
  return 0;
}

int32_t tern_op_quant_input(tern_exec *exec, tern_quant_input_fn kernel, int64_t a, int64_t b,
                            int64_t width, int32_t glu, int64_t w_gamma, float eps, int64_t q,
                            int64_t scale) {
  if (kernel(f32(exec, a), f32(exec, b), exec->n_tokens, width, (tern_glu_t)glu,
             (const float *)weight(exec, w_gamma), eps, (int8_t *)(exec->arena + q),
             tern_round_up(width, 16), f32(exec, scale)) != 0)
    return fail(exec, "tern.quant_input (width %lld): the kernel failed", (long long)width);
  return 0;
}

int32_t tern_op_quant_input_generated(tern_exec *exec, tern_halide_quant_input_fn kernel,
                                      int64_t a, int64_t b, int64_t width, int32_t glu,
                                      int64_t w_gamma, float eps, int64_t q, int64_t scale) {
  if (tern_quant_input_halide(kernel, f32(exec, a), f32(exec, b), exec->n_tokens, width,
                              (tern_glu_t)glu, (const float *)weight(exec, w_gamma), eps,
                              (int8_t *)(exec->arena + q), tern_round_up(width, 16),
                              f32(exec, scale)) != 0)
    return fail(exec, "tern.quant_input (width %lld): the generated kernel failed",
                (long long)width);
  return 0;
}

/* A bitlinear's kernel: a library function, or the bucket table of its generated kernels (lut:
 * 0 for multiply-add pipelines, 1 / 2 for tl1 / tl2 lookup-table pipelines). */
typedef struct {
  tern_gemm_fn fn;
  const tern_gemm_bucket *buckets;
  int64_t count;
  int lut;
} bitlinear_kernel;

static int run_kernel(bitlinear_kernel kernel, const uint8_t *w, int64_t rows, int64_t cols,
                      const int8_t *x, int64_t x_stride, int64_t t, int32_t *acc,
                      int64_t acc_stride) {
  if (kernel.fn)
    return kernel.fn(w, rows, cols, x, x_stride, t, acc, acc_stride);
  if (kernel.lut)
    return tern_gemm_lut_buckets(kernel.buckets, kernel.count, kernel.lut == 2, w, rows, cols, x,
                                 x_stride, t, acc, acc_stride);
  return tern_gemm_i2_buckets(kernel.buckets, kernel.count, w, rows, cols, x, x_stride, t, acc,
                              acc_stride);
}

static int32_t bitlinear(tern_exec *exec, bitlinear_kernel kernel, int64_t w_packed, int64_t rows,
                         int64_t cols, int64_t q, int64_t scale, int64_t w_scale, int32_t per_row,
                         int64_t scratch, int64_t out) {
  int64_t acc_stride = tern_round_up(rows, TERN_I2_ROW_ALIGN);
  int32_t *acc = (int32_t *)(exec->arena + scratch);
  const uint8_t *w = (const uint8_t *)weight(exec, w_packed);
  const int8_t *x = (const int8_t *)(exec->arena + q);
  int64_t x_stride = tern_round_up(cols, 16);
  int status = run_kernel(kernel, w, rows, cols, x, x_stride, exec->n_tokens, acc, acc_stride);
  if (status != 0)
    return fail(exec, "tern.bitlinear (%lldx%lld): the kernel failed", (long long)rows,
                (long long)cols);
  tern_bitlinear_epilogue(acc, acc_stride, exec->n_tokens, rows, f32(exec, scale),
                          (const float *)weight(exec, w_scale), per_row, f32(exec, out), rows);
  return 0;
}

/* Group-wise scales: K / group consecutive i2 matrices of rows x group (tern-pack-weights), each
 * through the kernel into the scratch accumulators, summed into y as float with its group's
 * scales, then divided by the token's activation scale. */
static int32_t bitlinear_grouped(tern_exec *exec, bitlinear_kernel kernel, int64_t w_packed,
                                 int64_t rows, int64_t cols, int64_t group, int64_t q,
                                 int64_t scale, int64_t w_scale, int64_t scratch, int64_t out) {
  int64_t groups = cols / group, acc_stride = tern_round_up(rows, TERN_I2_ROW_ALIGN);
  int64_t t = exec->n_tokens, x_stride = tern_round_up(cols, 16);
  size_t chunk = tern_i2_packed_size(rows, group);
  int32_t *acc = (int32_t *)(exec->arena + scratch);
  const uint8_t *w = (const uint8_t *)weight(exec, w_packed);
  const int8_t *x = (const int8_t *)(exec->arena + q);
  const float *ws = (const float *)weight(exec, w_scale), *xs = f32(exec, scale);
  float *y = f32(exec, out);
  memset(y, 0, (size_t)(t * rows) * sizeof(float));
  for (int64_t g = 0; g < groups; ++g) {
    const uint8_t *wg = w + (size_t)g * chunk;
    const int8_t *xg = x + g * group;
    int status = run_kernel(kernel, wg, rows, group, xg, x_stride, t, acc, acc_stride);
    if (status != 0)
      return fail(exec, "tern.bitlinear (%lldx%lld, scale groups of %lld): the kernel failed",
                  (long long)rows, (long long)cols, (long long)group);
    for (int64_t i = 0; i < t; ++i)
      for (int64_t n = 0; n < rows; ++n)
        y[i * rows + n] += (float)acc[i * acc_stride + n] * ws[n * groups + g];
  }
  for (int64_t i = 0; i < t; ++i) {
    float inv = 1.0f / xs[i];
    for (int64_t n = 0; n < rows; ++n)
      y[i * rows + n] *= inv;
  }
  return 0;
}

int32_t tern_op_bitlinear_grouped(tern_exec *exec, tern_gemm_fn kernel, int64_t w_packed,
                                  int64_t rows, int64_t cols, int64_t group, int64_t q,
                                  int64_t scale, int64_t w_scale, int64_t scratch, int64_t out) {
  bitlinear_kernel k = {kernel, NULL, 0, 0};
  return bitlinear_grouped(exec, k, w_packed, rows, cols, group, q, scale, w_scale, scratch, out);
}

int32_t tern_op_bitlinear_generated_grouped(tern_exec *exec, const tern_gemm_bucket *buckets,
                                            int64_t count, int64_t w_packed, int64_t rows,
                                            int64_t cols, int64_t group, int64_t q,
                                            int64_t scale, int64_t w_scale, int64_t scratch,
                                            int64_t out) {
  bitlinear_kernel k = {NULL, buckets, count, 0};
  return bitlinear_grouped(exec, k, w_packed, rows, cols, group, q, scale, w_scale, scratch, out);
}

int32_t tern_op_bitlinear(tern_exec *exec, tern_gemm_fn kernel, int64_t w_packed, int64_t rows,
                          int64_t cols, int64_t q, int64_t scale, int64_t w_scale,
                          int32_t per_row, int64_t scratch, int64_t out) {
  bitlinear_kernel k = {kernel, NULL, 0, 0};
  return bitlinear(exec, k, w_packed, rows, cols, q, scale, w_scale, per_row, scratch, out);
}

int32_t tern_op_bitlinear_generated(tern_exec *exec, const tern_gemm_bucket *buckets,
                                    int64_t count, int64_t w_packed, int64_t rows, int64_t cols,
                                    int64_t q, int64_t scale, int64_t w_scale, int32_t per_row,
                                    int64_t scratch, int64_t out) {
  bitlinear_kernel k = {NULL, buckets, count, 0};
  return bitlinear(exec, k, w_packed, rows, cols, q, scale, w_scale, per_row, scratch, out);
}

int32_t tern_op_bitlinear_lut_generated(tern_exec *exec, const tern_gemm_bucket *buckets,
                                        int64_t count, int32_t layout, int64_t w_packed,
                                        int64_t rows, int64_t cols, int64_t q, int64_t scale,
                                        int64_t w_scale, int32_t per_row, int64_t scratch,
                                        int64_t out) {
  if (layout != 1 && layout != 2)
    return fail(exec, "tern.bitlinear (%lldx%lld): unknown lookup-table layout %d",
                (long long)rows, (long long)cols, (int)layout);
  bitlinear_kernel k = {NULL, buckets, count, layout};
  return bitlinear(exec, k, w_packed, rows, cols, q, scale, w_scale, per_row, scratch, out);
}

int32_t tern_op_split_cols(tern_exec *exec, int64_t in, int64_t width, int64_t from,
                           int64_t part_width, int64_t out) {
  const float *x = f32(exec, in);
  float *y = f32(exec, out);
  for (int64_t t = 0; t < exec->n_tokens; ++t)
    memcpy(y + t * part_width, x + t * width + from, (size_t)part_width * sizeof(float));
  return 0;
}

int32_t tern_op_rope(tern_exec *exec, tern_rope_fn kernel, int64_t in, int64_t width,
                     int64_t head_dim, float theta, int32_t interleaved,
                     const float *freq_factors, int64_t out) {
  /* The frequencies once per call: head_dim / 2 powers, against a whole layer's work. */
  float inv_freq[TERN_ROPE_MAX_HEAD_DIM / 2];
  if (head_dim > TERN_ROPE_MAX_HEAD_DIM)
    return fail(exec, "tern.rope: head_dim %lld is above the runtime's limit of %d",
                (long long)head_dim, TERN_ROPE_MAX_HEAD_DIM);
  tern_rope_frequencies(theta, freq_factors, head_dim, inv_freq);
  float *y = f32(exec, out);
  if (in != out)
    memmove(y, f32(exec, in), (size_t)(exec->n_tokens * width) * sizeof(float));
  if (kernel(y, exec->n_tokens, width / head_dim, head_dim, exec->positions, inv_freq,
             interleaved) != 0)
    return fail(exec, "tern.rope (width %lld): the kernel failed", (long long)width);
  return 0;
}

int32_t tern_op_attention(tern_exec *exec, tern_attention_fn kernel, int64_t q, int64_t k,
                          int64_t v, int64_t heads, int64_t kv_heads, int64_t head_dim,
                          int64_t layer, float scale, int32_t causal, int64_t out) {
  int64_t q_width = heads * head_dim, kv_width = kv_heads * head_dim;
  for (int64_t s = 0; s < exec->n_segments; ++s) {
    const tern_exec_segment *g = &exec->segments[s];
    const int32_t *positions = exec->positions + g->first;
    for (int64_t i = 0; i < g->count; ++i)
      if (positions[i] < 0 || positions[i] >= g->context)
        return fail(exec, "tern.attention (layer %lld): position %d is outside the context [0, "
                          "%lld)",
                    (long long)layer, (int)positions[i], (long long)g->context);
    size_t layer_size = tern_kv_cache_floats(kv_heads, g->context, head_dim);
    if (kernel(f32(exec, q) + g->first * q_width, f32(exec, k) + g->first * kv_width,
               f32(exec, v) + g->first * kv_width, g->count, heads, kv_heads, head_dim,
               positions, g->k_cache + layer * layer_size, g->v_cache + layer * layer_size,
               g->context, scale, causal, f32(exec, out) + g->first * q_width) != 0)
      return fail(exec, "tern.attention (layer %lld): the kernel failed", (long long)layer);
  }
  return 0;
}

int32_t tern_op_matmul(tern_exec *exec, tern_head_matmul_fn kernel, int64_t in, int64_t k,
                       int64_t w_table, int32_t dtype, int64_t n, int32_t is_logits,
                       int64_t out) {
  int64_t first = 0;
  float *x = f32(exec, in);
  if (is_logits && exec->last_logits_only) {
    /* Each segment's last row moves to row n_tokens - n_segments + s, so the head reads the
     * weights once for all of them. Backwards, a move never overwrites a row still to move:
     * segment s's last row is at most its destination, and earlier ones lie before. */
    first = exec->n_tokens - exec->n_segments;
    for (int64_t s = exec->n_segments - 1; s >= 0; --s) {
      int64_t from = exec->segments[s].first + exec->segments[s].count - 1;
      if (from != first + s)
        memmove(x + (first + s) * k, x + from * k, (size_t)k * sizeof(float));
    }
  }
  if (kernel(x + first * k, exec->n_tokens - first, k, weight(exec, w_table),
             (tern_dtype_t)dtype, n, f32(exec, out) + first * n) != 0)
    return fail(exec, "tern.matmul (%lldx%lld): the kernel rejected its buffers", (long long)n,
                (long long)k);
  return 0;
}

int32_t tern_op_elementwise(tern_exec *exec, int32_t kind, int64_t a, int64_t b, int64_t width,
                            int64_t out) {
  int64_t n = exec->n_tokens * width;
  switch (kind) {
  case TERN_ELEMENTWISE_RELU2:
    tern_relu2_generic(f32(exec, a), n, f32(exec, out));
    return 0;
  case TERN_ELEMENTWISE_SILU:
    tern_silu_generic(f32(exec, a), n, f32(exec, out));
    return 0;
  case TERN_ELEMENTWISE_MUL:
    tern_mul_generic(f32(exec, a), f32(exec, b), n, f32(exec, out));
    return 0;
  case TERN_ELEMENTWISE_ADD:
    tern_add_generic(f32(exec, a), f32(exec, b), n, f32(exec, out));
    return 0;
  default:
    return fail(exec, "unknown elementwise op %d (a model compiled for another runtime?)",
                (int)kind);
  }
}
