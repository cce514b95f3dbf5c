/* sampler.c - the next token from logits, llama.cpp's chain (tern/sampler.h). */
#include "tern/sampler.h"
#include "allocator.h"
#include "format_error.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  float logit;
  int32_t id;
} candidate;

struct tern_sampler {
  tern_allocator allocator;
  tern_sampler_params params;
  int64_t vocab;
  uint64_t state;
  candidate *cand;
  int32_t *counts; /* per token, for the penalties; all zero between calls */
};

tern_sampler_params tern_sampler_default_params(uint64_t seed) {
  tern_sampler_params p;
  p.temperature = 0.8f;
  p.top_k = 40;
  p.top_p = 0.95f;
  p.min_p = 0.05f;
  p.repeat_penalty = 1.0f;
  p.repeat_last_n = 64;
  p.frequency_penalty = 0.0f;
  p.presence_penalty = 0.0f;
  p.seed = seed;
  return p;
}

int tern_sampler_check_params(const tern_sampler_params *p, char *error, size_t size) {
  if (!isfinite(p->temperature))
    return tern_format_error(error, size, "temperature must be a number, found %g", p->temperature);
  if (!(p->top_p >= 0.0f && p->top_p <= 1.0f))
    return tern_format_error(error, size, "top-p must be in [0, 1], found %g", p->top_p);
  if (!(p->min_p >= 0.0f && p->min_p <= 1.0f))
    return tern_format_error(error, size, "min-p must be in [0, 1], found %g", p->min_p);
  if (!(p->repeat_penalty > 0.0f) || !isfinite(p->repeat_penalty))
    return tern_format_error(error, size, "the repeat penalty must be positive, found %g", p->repeat_penalty);
  if (p->repeat_last_n < -1)
    return tern_format_error(error, size, "repeat-last-n must be -1 (all), 0 (off) or positive, found %d",
               (int)p->repeat_last_n);
  if (!isfinite(p->frequency_penalty) || !isfinite(p->presence_penalty))
    return tern_format_error(error, size, "the frequency and presence penalties must be numbers");
  return 0;
}

tern_sampler *tern_sampler_create(const tern_sampler_params *params, int64_t vocab,
                                  const tern_allocator *allocator) {
  allocator = tern_allocator_or_default(allocator);
  tern_sampler *s = vocab > 0 ? tern_allocate_zeroed(allocator, sizeof *s, 0) : NULL;
  if (!s)
    return NULL;
  s->allocator = *allocator;
  s->params = *params;
  s->vocab = vocab;
  s->state = params->seed;
  s->cand = tern_allocate(allocator, sizeof(candidate) * (size_t)vocab, 0);
  s->counts = tern_allocate_zeroed(allocator, sizeof(int32_t) * (size_t)vocab, 0);
  if (!s->cand || !s->counts) {
    tern_sampler_free(s);
    return NULL;
  }
  return s;
}

void tern_sampler_free(tern_sampler *s) {
  if (!s)
    return;
  tern_release(&s->allocator, s->cand);
  tern_release(&s->allocator, s->counts);
  tern_release(&s->allocator, s);
}

double tern_sampler_uniform(uint64_t *state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z ^= z >> 31;
  return (double)(z >> 11) * (1.0 / 9007199254740992.0);
}

/* Larger logit first; the lower id first among equals (a total order, so results never depend
 * on the sort's stability). */
static int by_logit_desc(const void *a, const void *b) {
  const candidate *x = a, *y = b;
  if (x->logit != y->logit)
    return x->logit > y->logit ? -1 : 1;
  return x->id < y->id ? -1 : x->id > y->id;
}

/* Restores the heap c[0, k) below j: the root is the worst kept (by by_logit_desc). */
static void sift_down(candidate *c, int64_t j, int64_t k) {
  for (;;) {
    int64_t w = j, l = 2 * j + 1, r = l + 1;
    if (l < k && by_logit_desc(&c[l], &c[w]) > 0)
      w = l;
    if (r < k && by_logit_desc(&c[r], &c[w]) > 0)
      w = r;
    if (w == j)
      return;
    candidate t = c[j];
    c[j] = c[w], c[w] = t, j = w;
  }
}

/* The k best of n candidates into c[0, k), sorted: a min-heap of k, then a sort of k. */
static void keep_top_k(candidate *c, int64_t n, int64_t k) {
  for (int64_t i = k / 2 - 1; i >= 0; --i)
    sift_down(c, i, k);
  for (int64_t i = k; i < n; ++i) {
    if (by_logit_desc(&c[i], &c[0]) >= 0)
      continue;
    c[0] = c[i];
    sift_down(c, 0, k);
  }
  qsort(c, (size_t)k, sizeof *c, by_logit_desc);
}

static void apply_penalties(tern_sampler *s, candidate *c, const int32_t *history,
                            int64_t history_n) {
  const tern_sampler_params *p = &s->params;
  if (p->repeat_last_n == 0 || !history || history_n <= 0)
    return;
  if (p->repeat_penalty == 1.0f && p->frequency_penalty == 0.0f && p->presence_penalty == 0.0f)
    return;
  int64_t from = p->repeat_last_n < 0 || p->repeat_last_n >= history_n
                     ? 0
                     : history_n - p->repeat_last_n;
  for (int64_t i = from; i < history_n; ++i)
    if (history[i] >= 0 && history[i] < s->vocab)
      s->counts[history[i]]++;
  /* c is still indexed by token id here. */
  for (int64_t i = from; i < history_n; ++i) {
    int32_t t = history[i];
    if (t < 0 || t >= s->vocab || s->counts[t] == 0)
      continue;
    float *l = &c[t].logit;
    *l = *l > 0.0f ? *l / p->repeat_penalty : *l * p->repeat_penalty;
    *l -= (float)s->counts[t] * p->frequency_penalty + p->presence_penalty;
    s->counts[t] = 0; /* once per distinct token, and the array is clean again */
  }
}

int32_t tern_sampler_sample_with(tern_sampler *s, const float *logits, const int32_t *history,
                                 int64_t history_n, double u, int32_t *kept, int64_t *kept_n) {
  const tern_sampler_params *p = &s->params;
  candidate *c = s->cand;
  int64_t n = s->vocab;
  for (int64_t i = 0; i < n; ++i)
    c[i].logit = logits[i], c[i].id = (int32_t)i;
  apply_penalties(s, c, history, history_n);

  if (p->temperature <= 0.0f) {
    /* Greedy: every filter keeps the best token, and the temperature keeps only it. */
    int64_t best = 0;
    for (int64_t i = 1; i < n; ++i)
      if (by_logit_desc(&c[i], &c[best]) < 0)
        best = i;
    c[0] = c[best];
    n = 1;
  } else {
    if (p->top_k > 0 && p->top_k < n) {
      keep_top_k(c, n, p->top_k);
      n = p->top_k;
    } else {
      qsort(c, (size_t)n, sizeof *c, by_logit_desc);
    }
    if (p->top_p < 1.0f) {
      double sum = 0, cum = 0;
      for (int64_t i = 0; i < n; ++i)
        sum += exp((double)(c[i].logit - c[0].logit));
      int64_t keep = n;
      for (int64_t i = 0; i < n; ++i) {
        cum += exp((double)(c[i].logit - c[0].logit));
        if (cum >= (double)p->top_p * sum) {
          keep = i + 1;
          break;
        }
      }
      n = keep;
    }
    if (p->min_p > 0.0f) {
      float floor = c[0].logit + logf(p->min_p);
      int64_t keep = 1;
      while (keep < n && c[keep].logit >= floor)
        ++keep;
      n = keep;
    }
    for (int64_t i = 0; i < n; ++i)
      c[i].logit /= p->temperature;
  }

  if (kept) {
    for (int64_t i = 0; i < n; ++i)
      kept[i] = c[i].id;
    *kept_n = n;
  }
  if (n == 1)
    return c[0].id;
  double sum = 0;
  for (int64_t i = 0; i < n; ++i)
    sum += exp((double)(c[i].logit - c[0].logit));
  double target = u * sum, cum = 0;
  for (int64_t i = 0; i < n; ++i) {
    cum += exp((double)(c[i].logit - c[0].logit));
    if (target < cum)
      return c[i].id;
  }
  return c[n - 1].id;
}

int32_t tern_sampler_sample(tern_sampler *s, const float *logits, const int32_t *history,
                            int64_t history_n) {
  double u = s->params.temperature <= 0.0f ? 0.0 : tern_sampler_uniform(&s->state);
  return tern_sampler_sample_with(s, logits, history, history_n, u, NULL, NULL);
}
