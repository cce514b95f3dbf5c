/* chat.c - -cnv: a conversation on stdin in the model's chat format.
 *
 * The format is compiled in from tokenizer_config.json's chat_template (tern_model_chat_format).
 * Llama 3's header format renders, as its Jinja template does:
 *   <|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n{system}<|eot_id|>
 *   <|start_header_id|>user<|end_header_id|>\n\n{message, trimmed}<|eot_id|>
 *   <|start_header_id|>assistant<|end_header_id|>\n\n
 * Each turn sends only what is new: the KV cache keeps the conversation. The reply ends at
 * <|eot_id|>; the next turn starts with that <|eot_id|>, which was sampled but not yet run. */
/* getline under -std=c11. */
#define _GNU_SOURCE

#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* This turn's text: on the first, the system message (-p) and the user's line, then the
 * assistant's header; later, the previous reply's <|eot_id|> (sampled but not run yet) first. */
static int64_t render_turn(tern_model *model, const tern_cli *c, int first, const char *line,
                           char **text, size_t *capacity, char *error, size_t error_size) {
  tern_chat_message messages[2] = {{"system", c->prompt}, {"user", line}};
  int with_system = first && c->prompt;
  size_t skip = first ? 0 : 10;
  for (;;) {
    int64_t n = tern_model_apply_chat_template(model, messages + !with_system, 1 + with_system, 1,
                                               *text + skip, *capacity - skip, error, error_size);
    if (n < 0 || (size_t)n + skip < *capacity) {
      if (n >= 0 && !first)
        memcpy(*text, "<|eot_id|>", 10);
      return n < 0 ? n : n + (int64_t)skip;
    }
    char *grown = realloc(*text, (size_t)n + skip + 1);
    if (!grown)
      return snprintf(error, error_size, "out of memory"), -1;
    *text = grown, *capacity = (size_t)n + skip + 1;
  }
}

int tern_cli_chat(const char *program, tern_model *model, const tern_cli *c, double t0) {
  (void)t0;
  char error[512];
  /* No messages: whether the model has a chat format tern implements. */
  if (tern_model_apply_chat_template(model, NULL, 0, 0, NULL, 0, error, sizeof error) < 0) {
    fprintf(stderr, "%s: error: -cnv: %s\n", program, error);
    return 1;
  }
  const tern_model_desc *d = tern_model_describe(model);
  tern_sampler_params p;
  if (tern_cli_sampler_params(c, &p, error, sizeof error) != 0)
    return tern_cli_usage_error(program, error, NULL);
  int32_t eot = tern_model_token_id(model, "<|eot_id|>");
  tern_sampler *sampler = tern_sampler_create(&p, d->vocab, NULL);
  float *logits = malloc(sizeof(float) * (size_t)d->vocab);
  tern_session *session = NULL;
  tern_session_options session_options = tern_cli_session_options(c);
  int32_t *history = NULL, *turn = NULL;
  int64_t history_n = 0, history_cap = 0;
  size_t text_cap = 64, line_cap = 0;
  char *text = malloc(text_cap), *line = NULL;
  int status = 0;
  if (!sampler || !logits || !text ||
      tern_session_create(model, &session_options, &session, error, sizeof error) != 0) {
    fprintf(stderr, "%s: error: %s\n", program,
            sampler && logits && text ? error : "out of memory");
    status = 1;
  }
  for (int first = 1; status == 0; first = 0) {
    if (!c->quiet) {
      printf("\n> ");
      fflush(stdout);
    }
    ssize_t got = getline(&line, &line_cap, stdin);
    if (got < 0)
      break; /* end of the conversation */
    int64_t rendered = render_turn(model, c, first, line, &text, &text_cap, error, sizeof error);
    if (rendered < 0) {
      fprintf(stderr, "%s: error: %s\n", program, error);
      status = 1;
      break;
    }
    size_t text_n = (size_t)rendered;
    int64_t n = tern_cli_tokenize(model, text, text_n, first, &turn, error, sizeof error);
    if (n <= 0) {
      fprintf(stderr, "%s: error: %s\n", program, n == 0 ? "the turn has no tokens" : error);
      status = 1;
      break;
    }
    if (c->verbose_prompt) {
      fprintf(stderr, "%s: chat turn: %s\n", program, text);
      fprintf(stderr, "%s: turn of %lld tokens:", program, (long long)n);
      for (int64_t i = 0; i < n; ++i)
        fprintf(stderr, " %d", (int)turn[i]);
      fprintf(stderr, "\n");
    }
    if (tern_session_eval_last(session, turn, n, c->chunk, logits, error, sizeof error) != 0) {
      fprintf(stderr, "%s: error: %s\n", program, error);
      status = 1;
      break;
    }
    int64_t limit = c->n_predict > 0 ? c->n_predict : d->context;
    tern_cli_text out = {{0}, 0};
    for (int64_t made = 0; made < limit; ++made) {
      if (history_n + n + 1 > history_cap) {
        history_cap = (history_n + n + 1) * 2;
        int32_t *h = realloc(history, sizeof(int32_t) * (size_t)history_cap);
        if (!h) {
          status = 1;
          break;
        }
        history = h;
      }
      if (made == 0) {
        memcpy(history + history_n, turn, sizeof(int32_t) * (size_t)n);
        history_n += n;
      }
      int32_t next = tern_sampler_sample(sampler, logits, history, history_n);
      history[history_n++] = next;
      if (next == eot || next == d->eos_token)
        break;
      if (tern_cli_print_text(model, &next, 1, &out) != 0) {
        status = 1;
        break;
      }
      fflush(stdout);
      if (tern_session_eval(session, &next, 1, 1, logits, error, sizeof error) != 0) {
        fprintf(stderr, "\n%s: the conversation ends: %s\n", program, error);
        status = 1;
        break;
      }
    }
    printf("\n");
    fflush(stdout);
  }
  tern_session_destroy(session);
  tern_sampler_free(sampler);
  free(logits);
  free(history);
  free(turn);
  free(text);
  free(line);
  return status;
}
