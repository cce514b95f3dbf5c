/* bench.c - --bench: decode speed against the memory bandwidth measured in the same run. */
#include "cli.h"

#include "tern/bandwidth.h"
#include "tern/thread_pool.h"

#include <stdio.h>
#include <stdlib.h>

/* --bench: the prompt, then `steps` greedy decode steps, against the read bandwidth measured
 * in this process (the physical limit of decoding: every weight is streamed once per token). */
int tern_cli_bench(const char *program, tern_model *model, const tern_cli *c, double t0) {
  const tern_model_desc *d = tern_model_describe(model);
  const char *token_list = c->tokens;
  long long steps = c->bench;
  tern_session_options session_options = tern_cli_session_options(c);
  double loaded = tern_cli_now();
  int32_t *prompt = NULL;
  int64_t n = 1;
  if (token_list) {
    if (tern_cli_parse_tokens(token_list, &prompt, &n) != 0 || n == 0) {
      free(prompt);
      return tern_cli_usage_error(program, "--tokens expects comma-separated non-negative integers",
                         token_list);
    }
  } else {
    prompt = malloc(sizeof(int32_t));
    if (!prompt)
      return 1;
    prompt[0] = d->bos_token >= 0 ? (int32_t)d->bos_token : 0;
  }
  char error[512];
  tern_session *session = NULL;
  float *logits = malloc(sizeof(float) * (size_t)d->vocab);
  int status = 1;
  if (!logits || tern_session_create(model, &session_options, &session, error, sizeof error) != 0) {
    fprintf(stderr, "%s: error: %s\n", program, logits ? error : "out of memory");
  } else {
    double start = tern_cli_now();
    if (tern_session_eval_last(session, prompt, n, 0, logits, error, sizeof error) != 0) {
      fprintf(stderr, "%s: error: %s\n", program, error);
    } else {
      double prefilled = tern_cli_now();
      int32_t next = (int32_t)tern_cli_argmax(logits, d->vocab);
      long long done = 0;
      for (; done < steps; ++done) {
        if (tern_session_eval(session, &next, 1, 1, logits, error, sizeof error) != 0) {
          fprintf(stderr, "%s: stopped after %lld tokens: %s\n", program, done, error);
          break;
        }
        next = (int32_t)tern_cli_argmax(logits, d->vocab);
      }
      double decoded = tern_cli_now();
      double gbs = tern_measure_read_bandwidth((size_t)1 << 30, 3);
      double tps = (double)done / (decoded - prefilled);
      double need = (double)d->weights_bytes_per_token / 1e9;
      printf("model:     %s for %s, %d threads, load %.1f ms\n", d->family, d->target,
             tern_get_num_threads(), 1e3 * (loaded - t0));
      printf("prompt:    %lld tokens in %.1f ms (%.1f tokens/s)\n", (long long)n,
             1e3 * (prefilled - start), (double)n / (prefilled - start));
      printf("decode:    %lld tokens in %.1f ms (%.2f tokens/s, %.2f ms/token)\n", done,
             1e3 * (decoded - prefilled), tps, 1e3 * (decoded - prefilled) / (double)done);
      printf("limit:     %.1f MB of weights per token; read bandwidth %.1f GB/s measured now "
             "-> at most %.2f tokens/s\n",
             need * 1e3, gbs, gbs / need);
      printf("achieved:  %.1f GB/s of weights, %.0f%% of the bandwidth limit\n", need * tps,
             100.0 * need * tps / gbs);
      status = done == steps ? 0 : 1;
    }
  }
  tern_session_destroy(session);
  free(logits);
  free(prompt);
  return status;
}

