/* tern/sampler.h - choosing the next token from logits, with llama.cpp's semantics.
 *
 * The chain, in llama.cpp's default order:
 *   penalties -> top-k -> top-p -> min-p -> temperature -> draw
 * - penalties over the last `repeat_last_n` tokens (0: none, -1: all given): every distinct
 *   token's logit is divided by `repeat_penalty` when positive and multiplied by it otherwise,
 *   then lowered by count * frequency_penalty + presence_penalty;
 * - top-k keeps the k largest (k <= 0: all);
 * - top-p keeps the most likely tokens until their probability (softmax of what is left) sums
 *   to at least p (p >= 1: all); at least one token stays;
 * - min-p keeps tokens whose probability is at least min_p times the largest (min_p <= 0: all);
 * - temperature divides the logits; temperature <= 0 is greedy: the most likely token (the
 *   lowest id among equal logits), with no draw;
 * - the draw picks a token by the softmax of what is left with a seeded generator, so a seed
 *   gives the same tokens on every machine.
 * Everything is computed in float, as llama.cpp does, except the softmax sums (double). */
#ifndef TERN_SAMPLER_H
#define TERN_SAMPLER_H

#include <stddef.h>
#include <stdint.h>

#include "tern/model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  float temperature;   /* llama.cpp's default 0.8; <= 0 greedy */
  int32_t top_k;       /* 40; <= 0 off */
  float top_p;         /* 0.95; >= 1 off */
  float min_p;         /* 0.05; <= 0 off */
  float repeat_penalty; /* 1.0 (off) */
  int32_t repeat_last_n; /* 64; 0 off, -1 every token given */
  float frequency_penalty; /* 0 */
  float presence_penalty;  /* 0 */
  uint64_t seed;       /* the draw's generator */
} tern_sampler_params;

/* llama.cpp's defaults, with `seed`. */
tern_sampler_params tern_sampler_default_params(uint64_t seed);

/* Checks the parameters; returns 0, or -1 with a message naming the bad one. */
int tern_sampler_check_params(const tern_sampler_params *params, char *error, size_t error_size);

typedef struct tern_sampler tern_sampler;

/* A sampler for logits of `vocab` entries, allocating through `allocator` (NULL: the C
 * library's; copied). NULL when out of memory or vocab < 1. */
tern_sampler *tern_sampler_create(const tern_sampler_params *params, int64_t vocab,
                                  const tern_allocator *allocator);
void tern_sampler_free(tern_sampler *sampler);

/* The next token for `logits` [vocab] after `history` (the tokens so far, for the penalties),
 * drawing from the sampler's generator. */
int32_t tern_sampler_sample(tern_sampler *sampler, const float *logits, const int32_t *history,
                            int64_t history_n);

/* The same chain with the draw's uniform number u in [0, 1) given (for tests), and the
 * candidates left before the draw: their ids in `kept` (room for vocab) and the count. */
int32_t tern_sampler_sample_with(tern_sampler *sampler, const float *logits,
                                 const int32_t *history, int64_t history_n, double u,
                                 int32_t *kept, int64_t *kept_n);

/* The generator: a 64-bit state advanced by splitmix64; uniform in [0, 1) with 53 bits. */
double tern_sampler_uniform(uint64_t *state);

#ifdef __cplusplus
}
#endif

#endif /* TERN_SAMPLER_H */
