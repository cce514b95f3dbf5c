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

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Appends a string to a growing buffer; -1 when out of memory. */
static int append(char **buffer, size_t *size, size_t *capacity, const char *text, size_t n) {
  if (*size + n + 1 > *capacity) {
    size_t grown = (*size + n + 1) * 2;
    char *b = realloc(*buffer, grown);
    if (!b)
      return -1;
    *buffer = b, *capacity = grown;
  }
  memcpy(*buffer + *size, text, n);
  *size += n;
  (*buffer)[*size] = 0;
  return 0;
}

/* One message as the template renders it: header, the text trimmed, <|eot_id|>. */
static int append_message(char **b, size_t *n, size_t *cap, const char *role, const char *text) {
  size_t begin = 0, end = strlen(text);
  while (begin < end && isspace((unsigned char)text[begin]))
    ++begin;
  while (end > begin && isspace((unsigned char)text[end - 1]))
    --end;
  static const char kStart[] = "<|start_header_id|>", kEnd[] = "<|end_header_id|>\n\n",
                    kEot[] = "<|eot_id|>";
  return append(b, n, cap, kStart, sizeof kStart - 1) | append(b, n, cap, role, strlen(role)) |
         append(b, n, cap, kEnd, sizeof kEnd - 1) | append(b, n, cap, text + begin, end - begin) |
         append(b, n, cap, kEot, sizeof kEot - 1);
}

int tern_cli_chat(const char *program, tern_model *model, const tern_cli *c, double t0) {
  (void)t0;
  const char *format = tern_model_chat_format(model);
  if (!format || strcmp(format, "llama3-header") != 0) {
    fprintf(stderr, "%s: error: -cnv needs a chat template tern implements (Llama 3's header "
                    "format in tokenizer_config.json's chat_template); this model has %s\n",
            program, format ? format : "none");
    return 1;
  }
  const tern_model_desc *d = tern_model_describe(model);
  tern_sampler_params p;
  char error[512];
  if (tern_cli_sampler_params(c, &p, error, sizeof error) != 0)
    return tern_cli_usage_error(program, error, NULL);
  int32_t eot = tern_model_token_id(model, "<|eot_id|>");
  tern_sampler *sampler = tern_sampler_create(&p, d->vocab);
  float *logits = malloc(sizeof(float) * (size_t)d->vocab);
  tern_session *session = NULL;
  int32_t *history = NULL, *turn = NULL;
  int64_t history_n = 0, history_cap = 0;
  char *text = NULL, *line = NULL;
  size_t text_n = 0, text_cap = 0, line_cap = 0;
  int status = 0;
  if (!sampler || !logits || tern_session_create(model, &session, error, sizeof error) != 0) {
    fprintf(stderr, "%s: error: %s\n", program, sampler && logits ? error : "out of memory");
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
    text_n = 0;
    if (first && c->prompt && append_message(&text, &text_n, &text_cap, "system", c->prompt))
      status = 1;
    /* The previous reply's <|eot_id|>, sampled but not run yet. */
    if (!first && append(&text, &text_n, &text_cap, "<|eot_id|>", 10))
      status = 1;
    static const char kAssistant[] = "<|start_header_id|>assistant<|end_header_id|>\n\n";
    if (status != 0 || append_message(&text, &text_n, &text_cap, "user", line) ||
        append(&text, &text_n, &text_cap, kAssistant, sizeof kAssistant - 1)) {
      status = 1;
      break;
    }
    int64_t n = tern_model_tokenize(model, text, text_n, first, 1, NULL, 0, error, sizeof error);
    int32_t *grown = n > 0 ? realloc(turn, sizeof(int32_t) * (size_t)n) : NULL;
    if (n <= 0 || !grown) {
      fprintf(stderr, "%s: error: %s\n", program, n < 0 ? error : "out of memory");
      status = 1;
      break;
    }
    turn = grown;
    tern_model_tokenize(model, text, text_n, first, 1, turn, n, error, sizeof error);
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
