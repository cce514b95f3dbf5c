/* tern/model_abi.h - the contract between a compiled model and the runtime.
 *
 * ternc lowers a model's forward function to one C function, tern_model_forward, that calls the
 * runtime's graph ops (tern_op_*) in program order with constant arguments: byte offsets into
 * the activation arena and the weights blob, shapes, and the kernel each op was given by
 * tern-select-kernels (a function of the runtime, passed by address). It also emits
 * tern_compiled_model, the constants the runtime needs to allocate and check a session.
 * docs/design.md ("The compiled model") describes the lowering; passes/LowerToRuntime.cpp is
 * the compiler's side of this header.
 *
 * Every tern_op_* returns 0, or non-zero after writing a message that names the op into
 * exec->error. The generated forward returns the first non-zero status. */
#ifndef TERN_MODEL_ABI_H
#define TERN_MODEL_ABI_H

#include <stddef.h>
#include <stdint.h>

#include "tern/decoder_kernels.h"
#include "tern/generated_kernels.h"
#include "tern/kernels.h"
#include "tern/model.h"

#ifdef __cplusplus
extern "C" {
#endif


/* One session's share of a forward call: rows [first, first + count) of every activation are
 * its tokens, at its positions, and attention reads and appends to its own KV cache. A call
 * over several sessions (continuous batching: one call carries the next token of every busy
 * session) has one segment per session; every op but attention is per row and ignores them. */
typedef struct {
  int64_t first, count;
  float *k_cache, *v_cache; /* per layer, tern/decoder_kernels.h's KV cache layout */
  int64_t context;          /* positions the cache holds */
} tern_exec_segment;

/* The state one forward call runs on. */
typedef struct {
  uint8_t *arena;           /* tern_compiled_model.arena_bytes, 64-byte aligned */
  const uint8_t *weights;   /* the weights blob (tern.offset is from its start) */
  const int32_t *tokens;    /* [n_tokens] */
  const int32_t *positions; /* [n_tokens], each in its segment's [0, context) */
  int64_t n_tokens;         /* 1 .. max_tokens */
  const tern_exec_segment *segments; /* [n_segments], in row order, covering [0, n_tokens) */
  int64_t n_segments;
  int32_t last_logits_only; /* the head computes only each segment's last token's logits, into
                               the last n_segments rows of the logits, in segment order (a
                               prompt needs no other row; the head is most of a prefill) */
  char error[256];          /* the first failure's message */
} tern_exec;

/* Emitted by ternc. */
extern const tern_model_desc tern_compiled_model;
int32_t tern_model_forward(tern_exec *exec);

/* The graph ops. Offsets are bytes from exec->arena (activations: [n_tokens][width] rows, int8
 * rows padded to a multiple of 16, f32 per-token scales) or from exec->weights (w_*). A `_off`
 * of -1 means the operand is absent. */
int32_t tern_op_embedding(tern_exec *exec, tern_embedding_fn kernel, int64_t w_table,
                          int32_t dtype, int64_t vocab, int64_t hidden, int64_t out);
/* rms_norm: each of the `groups` consecutive `width`-element groups of a token's row alone. */
int32_t tern_op_rms_norm(tern_exec *exec, int64_t in, int64_t width, int64_t groups,
                         int64_t w_gamma, float eps, int64_t out);
int32_t tern_op_act_quant(tern_exec *exec, int64_t in, int64_t width, int32_t bits, int64_t q,
                          int64_t scale);
int32_t tern_op_quant_input(tern_exec *exec, tern_quant_input_fn kernel, int64_t a, int64_t b,
                            int64_t width, int32_t glu, int64_t w_gamma, float eps, int64_t q,
                            int64_t scale);
int32_t tern_op_bitlinear(tern_exec *exec, tern_gemm_fn kernel, int64_t w_packed, int64_t rows,
                          int64_t cols, int64_t q, int64_t scale, int64_t w_scale,
                          int32_t per_row, int64_t scratch, int64_t out);
/* The generated forms (tern/generated_kernels.h): a bitlinear through the bucket table ternc
 * emitted for it, a quant_input through the pipeline ternc generated for its bits. */
int32_t tern_op_bitlinear_generated(tern_exec *exec, const tern_gemm_bucket *buckets,
                                    int64_t count, int64_t w_packed, int64_t rows, int64_t cols,
                                    int64_t q, int64_t scale, int64_t w_scale, int32_t per_row,
                                    int64_t scratch, int64_t out);
/* A bitlinear through generated lookup-table pipelines (layout 1: tl1, 2: tl2). */
int32_t tern_op_bitlinear_lut_generated(tern_exec *exec, const tern_gemm_bucket *buckets,
                                        int64_t count, int32_t layout, int64_t w_packed,
                                        int64_t rows, int64_t cols, int64_t q, int64_t scale,
                                        int64_t w_scale, int32_t per_row, int64_t scratch,
                                        int64_t out);
/* A bitlinear with group-wise scales [rows, cols / group] (multiply convention, f32): the weight
 * packed as cols / group i2 matrices of rows x group, one per group. */
int32_t tern_op_bitlinear_grouped(tern_exec *exec, tern_gemm_fn kernel, int64_t w_packed,
                                  int64_t rows, int64_t cols, int64_t group, int64_t q,
                                  int64_t scale, int64_t w_scale, int64_t scratch, int64_t out);
int32_t tern_op_bitlinear_generated_grouped(tern_exec *exec, const tern_gemm_bucket *buckets,
                                            int64_t count, int64_t w_packed, int64_t rows,
                                            int64_t cols, int64_t group, int64_t q,
                                            int64_t scale, int64_t w_scale, int64_t scratch,
                                            int64_t out);
int32_t tern_op_quant_input_generated(tern_exec *exec, tern_halide_quant_input_fn kernel,
                                      int64_t a, int64_t b, int64_t width, int32_t glu,
                                      int64_t w_gamma, float eps, int64_t q, int64_t scale);
int32_t tern_op_split_cols(tern_exec *exec, int64_t in, int64_t width, int64_t from,
                           int64_t part_width, int64_t out);
/* freq_factors: head_dim / 2 divisors of the inverse frequencies (tern.rope's freq_factors), or
 * NULL. */
int32_t tern_op_rope(tern_exec *exec, tern_rope_fn kernel, int64_t in, int64_t width,
                     int64_t head_dim, float theta, int32_t interleaved,
                     const float *freq_factors, int64_t out);
int32_t tern_op_attention(tern_exec *exec, tern_attention_fn kernel, int64_t q, int64_t k,
                          int64_t v, int64_t heads, int64_t kv_heads, int64_t head_dim,
                          int64_t layer, float scale, int32_t causal, int64_t out);
/* is_logits: its result is the forward's logits, so with exec->last_logits_only only each
 * segment's last token's row is computed (tern_exec says where it goes). */
int32_t tern_op_matmul(tern_exec *exec, tern_head_matmul_fn kernel, int64_t in, int64_t k,
                       int64_t w_table, int32_t dtype, int64_t n, int32_t is_logits,
                       int64_t out);
/* The elementwise ops; relu2 and silu are unary (b = -1). */
typedef enum {
  TERN_ELEMENTWISE_RELU2 = 0,
  TERN_ELEMENTWISE_SILU = 1,
  TERN_ELEMENTWISE_MUL = 2,
  TERN_ELEMENTWISE_ADD = 3
} tern_elementwise_t;
int32_t tern_op_elementwise(tern_exec *exec, int32_t kind, int64_t a, int64_t b, int64_t width,
                            int64_t out);

/* Run-time dispatch, for x86-64-multi: each picks the best variant for this CPU once. */
int tern_gemm_i2_dispatch(const uint8_t *w, int64_t n, int64_t k, const int8_t *x,
                          int64_t x_stride, int64_t t, int32_t *acc, int64_t acc_stride);
int tern_gemm_tl1_dispatch(const uint8_t *w, int64_t n, int64_t k, const int8_t *x,
                           int64_t x_stride, int64_t t, int32_t *acc, int64_t acc_stride);
int tern_gemm_tl2_dispatch(const uint8_t *w, int64_t n, int64_t k, const int8_t *x,
                           int64_t x_stride, int64_t t, int32_t *acc, int64_t acc_stride);
int tern_quant_input_dispatch(const float *a, const float *b, int64_t t, int64_t k,
                              tern_glu_t glu, const float *norm_weight, float eps, int8_t *q,
                              int64_t q_stride, float *scale);
int tern_head_matmul_dispatch(const float *x, int64_t t, int64_t k, const void *w,
                              tern_dtype_t dtype, int64_t n, float *out);
int tern_attention_dispatch(const float *q, const float *k, const float *v, int64_t t,
                            int64_t heads, int64_t kv_heads, int64_t head_dim,
                            const int32_t *positions, float *k_cache, float *v_cache,
                            int64_t context, float scale, int causal, float *out);
int tern_rope_dispatch(float *x, int64_t t, int64_t heads, int64_t head_dim,
                       const int32_t *positions, const float *inv_freq, int interleaved);
int64_t tern_embedding_dispatch(const void *table, tern_dtype_t dtype, int64_t vocab,
                                int64_t hidden, const int32_t *tokens, int64_t t, float *out);

#ifdef __cplusplus
}
#endif

#endif /* TERN_MODEL_ABI_H */
