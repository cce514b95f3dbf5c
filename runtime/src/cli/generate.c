/* generate.c - -n: sampled tokens after the prompt, streamed as text or ids. */
/* getpid under -std=c11. */
#define _GNU_SOURCE

#include "cli.h"

#include "tern/tokenizer.h"

#include "tern/sampler.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int tern_cli_sampler_params(const tern_cli *c, tern_sampler_params *p, char *error,
                            size_t error_size) {
  *p = tern_sampler_default_params(0);
  p->temperature = (float)c->temp, p->top_k = (int32_t)c->top_k, p->top_p = (float)c->top_p;
  p->min_p = (float)c->min_p, p->repeat_penalty = (float)c->repeat_penalty;
  p->repeat_last_n = (int32_t)c->repeat_last_n;
  /* A random seed is printed in the range --seed takes, so the run can be repeated. */
  p->seed = c->seed >= 0 ? (uint64_t)c->seed
                         : (uint32_t)((uint64_t)time(NULL) ^ ((uint64_t)getpid() * 2654435761u));
  return tern_sampler_check_params(p, error, error_size);
}

typedef int64_t (*detokenize_fn)(tern_model *, const int32_t *, int64_t, char *, size_t, char *,
                                 size_t);

static int print_text(tern_model *model, const int32_t *ids, int64_t n, tern_cli_text *s,
                      detokenize_fn detokenize) {
  char error[256];
  int64_t size = detokenize(model, ids, n, NULL, 0, error, sizeof error);
  if (size < 0) {
    fprintf(stderr, "error: %s\n", error);
    return -1;
  }
  char *buffer = malloc(s->n + (size_t)size + 1);
  if (!buffer)
    return -1;
  memcpy(buffer, s->pending, s->n);
  detokenize(model, ids, n, buffer + s->n, (size_t)size, error, sizeof error);
  size_t total = s->n + (size_t)size, whole = tern_utf8_whole_prefix(buffer, total);
  if (total - whole >= sizeof s->pending)
    whole = total;
  fwrite(buffer, 1, whole, stdout);
  s->n = total - whole;
  memcpy(s->pending, buffer + whole, s->n);
  free(buffer);
  return 0;
}

int tern_cli_print_text(tern_model *model, const int32_t *ids, int64_t n, tern_cli_text *s) {
  return print_text(model, ids, n, s, tern_model_detokenize);
}

int tern_cli_print_text_start(tern_model *model, const int32_t *ids, int64_t n,
                              tern_cli_text *s) {
  return print_text(model, ids, n, s, tern_model_detokenize_text);
}

/* Grows *ids until `tokenize` fits: one token per byte and the BOS first (a byte-level
 * tokenizer's most), then the count a metaspace tokenizer (or an appended EOS) says it needs. */
typedef enum { TOKENIZE_TEXT, TOKENIZE_EMBEDDING, TOKENIZE_CHAT } tokenize_mode;

static int64_t tokenize_grown(tern_model *model, const char *text, size_t size, int add_bos,
                              tokenize_mode mode, int32_t **ids, char *error,
                              size_t error_size) {
  int64_t capacity = (int64_t)size + 1;
  for (;;) {
    int32_t *grown = realloc(*ids, sizeof(int32_t) * (size_t)capacity);
    if (!grown) {
      snprintf(error, error_size, "out of memory");
      return -1;
    }
    *ids = grown;
    int64_t n =
        mode == TOKENIZE_EMBEDDING
            ? tern_model_tokenize_embedding(model, text, size, *ids, capacity, error, error_size)
        : mode == TOKENIZE_CHAT
            ? tern_model_tokenize_chat(model, text, size, *ids, capacity, error, error_size)
            : tern_model_tokenize(model, text, size, add_bos, 1, *ids, capacity, error,
                                  error_size);
    if (n <= capacity)
      return n;
    capacity = n;
  }
}

int64_t tern_cli_tokenize(tern_model *model, const char *text, size_t size, int add_bos,
                          int32_t **ids, char *error, size_t error_size) {
  return tokenize_grown(model, text, size, add_bos, TOKENIZE_TEXT, ids, error, error_size);
}

int64_t tern_cli_tokenize_chat(tern_model *model, const char *text, size_t size, int32_t **ids,
                               char *error, size_t error_size) {
  return tokenize_grown(model, text, size, 1, TOKENIZE_CHAT, ids, error, error_size);
}

int64_t tern_cli_tokenize_embedding(tern_model *model, const char *text, size_t size,
                                    int32_t **ids, char *error, size_t error_size) {
  return tokenize_grown(model, text, size, 1, TOKENIZE_EMBEDDING, ids, error, error_size);
}

int tern_cli_embed(const char *program, tern_model *model, const int32_t *tokens, int64_t n) {
  const tern_model_desc *d = tern_model_describe(model);
  float *vector = malloc(sizeof(float) * (size_t)d->output_width);
  char error[512];
  if (!vector || tern_model_embed(model, tokens, n, vector, error, sizeof error) != 0) {
    fprintf(stderr, "%s: error: --embedding: %s\n", program, vector ? error : "out of memory");
    free(vector);
    return 1;
  }
  for (int64_t j = 0; j < d->output_width; ++j)
    printf(j ? " %.9g" : "%.9g", (double)vector[j]);
  printf("\n");
  free(vector);
  return 0;
}

/* -n: the prompt, then up to n_predict sampled tokens, printed as they come. */
int tern_cli_generate(const char *program, tern_model *model, const tern_cli *c,
                        const int32_t *prompt, int64_t n, double t0) {
  const tern_model_desc *d = tern_model_describe(model);
  tern_sampler_params p;
  char error[512];
  if (tern_cli_sampler_params(c, &p, error, sizeof error) != 0)
    return tern_cli_usage_error(program, error, NULL);
  int64_t total = n + c->n_predict;
  int32_t *history = malloc(sizeof(int32_t) * (size_t)total);
  float *logits = malloc(sizeof(float) * (size_t)d->vocab);
  tern_sampler *sampler = tern_sampler_create(&p, d->vocab, NULL);
  tern_session *session = NULL;
  tern_session_options session_options = tern_cli_session_options(c);
  int status = 1;
  if (!history || !logits || !sampler) {
    fprintf(stderr, "%s: error: out of memory\n", program);
  } else if (tern_session_create(model, &session_options, &session, error, sizeof error) != 0) {
    fprintf(stderr, "%s: error: %s\n", program, error);
  } else {
    memcpy(history, prompt, sizeof(int32_t) * (size_t)n);
    double loaded = tern_cli_now();
    int64_t made = 0;
    status = 0;
    if (tern_session_eval_last(session, prompt, n, c->chunk, logits, error, sizeof error) != 0) {
      fprintf(stderr, "%s: error: %s\n", program, error);
      status = 1;
    }
    double prompted = tern_cli_now();
    int text = c->tokens == NULL; /* a text prompt gets text back */
    tern_cli_text out = {{0}, 0};
    /* The prompt echoed as text, without the BOS the tokenizer put first. */
    int64_t skip = n > 0 && prompt[0] == d->bos_token ? 1 : 0;
    if (status == 0 && text && !c->quiet &&
        tern_cli_print_text_start(model, prompt + skip, n - skip, &out) != 0)
      status = 1;
    if (!c->quiet && status == 0 && !text)
      printf("generated:");
    while (status == 0 && made < c->n_predict) {
      int32_t next = tern_sampler_sample(sampler, logits, history, n + made);
      history[n + made++] = next;
      if (text) {
        if (tern_cli_print_text(model, &next, 1, &out) != 0)
          status = 1;
      } else {
        printf(c->quiet && made == 1 ? "%d" : " %d", (int)next);
      }
      fflush(stdout);
      /* Token ids stop at the EOS only; text at any token that ends a reply. */
      int ends = text ? tern_model_ends_generation(model, next) : next == d->eos_token;
      if (ends && !c->ignore_eos)
        break;
      if (made == c->n_predict)
        break;
      if (tern_session_eval(session, &next, 1, 1, logits, error, sizeof error) != 0) {
        fprintf(stderr, "\n%s: stopped after %lld tokens: %s\n", program, (long long)made,
                error);
        status = 1;
      }
    }
    printf("\n");
    fflush(stdout); /* before the timing on stderr */
    double done = tern_cli_now();
    if (!c->quiet)
      fprintf(stderr,
              "%s: load %.1f ms; prompt %lld tokens in %.1f ms (%.1f tokens/s); generated %lld "
              "tokens in %.1f ms (%.1f tokens/s); seed %llu\n",
              program, 1e3 * (loaded - t0), (long long)n, 1e3 * (prompted - loaded),
              (double)n / (prompted - loaded), (long long)made, 1e3 * (done - prompted),
              made > 1 ? (double)(made - 1) / (done - prompted) : 0.0,
              (unsigned long long)p.seed);
  }
  tern_session_destroy(session);
  tern_sampler_free(sampler);
  free(logits);
  free(history);
  return status;
}

