/* chat.c - -cnv: a conversation on stdin, rendered by the model's chat template.
 *
 * Every turn renders the whole conversation (the system message -p, the user's lines, the
 * replies) with the template compiled in (tern_model_apply_chat_template), as llama.cpp's chat
 * does, and sends the model only the text after what its KV cache holds: the earlier renderings
 * and the replies as sampled. A reply's end-of-turn token is sampled but not run; the template
 * writes it again at the start of the next turn's text. When a rendering does not extend what
 * the cache holds (a template that rewrites earlier turns: trims a reply, drops its reasoning),
 * it is tokenized whole and the cache keeps the tokens it shares with it. The first turn's
 * tokens start with the tokenizer's BOS unless the template wrote it (tern_model_tokenize_chat). */
/* getline under -std=c11. */
#define _GNU_SOURCE

#include "cli.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  tern_chat_message *items;
  char **contents; /* the items' contents, owned */
  size_t n, capacity;
} conversation;

typedef struct {
  char *data;
  size_t n, capacity;
} text_buffer;

static int add_message(conversation *c, const char *role, const char *content, size_t size) {
  if (c->n == c->capacity) {
    size_t capacity = c->capacity ? c->capacity * 2 : 8;
    tern_chat_message *grown = realloc(c->items, capacity * sizeof *grown);
    if (grown)
      c->items = grown;
    char **contents = grown ? realloc(c->contents, capacity * sizeof *contents) : NULL;
    if (!contents)
      return -1;
    c->contents = contents, c->capacity = capacity;
  }
  char *copy = malloc(size + 1);
  if (!copy)
    return -1;
  memcpy(copy, content, size);
  copy[size] = 0;
  c->contents[c->n] = copy;
  c->items[c->n].role = role;
  c->items[c->n++].content = copy;
  return 0;
}

static int reserve(text_buffer *b, size_t size) {
  if (size <= b->capacity)
    return 0;
  char *grown = realloc(b->data, size);
  if (!grown)
    return -1;
  b->data = grown, b->capacity = size;
  return 0;
}

static int append(text_buffer *b, const char *text, size_t n) {
  if (reserve(b, b->n + n + 1) != 0)
    return -1;
  memcpy(b->data + b->n, text, n);
  b->n += n;
  b->data[b->n] = 0;
  return 0;
}

/* The whole conversation rendered, with the opening of the assistant's reply, into `out`. */
static int render(tern_model *model, const conversation *c, text_buffer *out, char *error,
                  size_t error_size) {
  for (;;) {
    int64_t n = tern_model_apply_chat_template(model, c->items, c->n, 1, out->data,
                                               out->capacity, error, error_size);
    if (n < 0)
      return -1;
    if ((size_t)n < out->capacity) {
      out->n = (size_t)n;
      return 0;
    }
    if (reserve(out, (size_t)n + 1) != 0)
      return snprintf(error, error_size, "out of memory"), -1;
  }
}

/* The bytes of the valid UTF-8 character at p (at most n bytes), or 0. */
static size_t utf8_character(const unsigned char *p, size_t n) {
  size_t len = p[0] < 0x80 ? 1 : (p[0] >> 5) == 6 ? 2 : (p[0] >> 4) == 14 ? 3 : (p[0] >> 3) == 30 ? 4 : 0;
  if (len == 0 || len > n)
    return 0;
  for (size_t i = 1; i < len; ++i)
    if ((p[i] & 0xc0) != 0x80)
      return 0;
  uint32_t c = len == 1 ? p[0] : len == 2 ? p[0] & 0x1fu : len == 3 ? p[0] & 0x0fu : p[0] & 0x07u;
  for (size_t i = 1; i < len; ++i)
    c = (c << 6) | (p[i] & 0x3fu);
  /* Overlong forms, surrogates and values past U+10FFFF are not characters. */
  static const uint32_t kLeast[5] = {0, 0, 0x80, 0x800, 0x10000};
  if (c < kLeast[len] || (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
    return 0;
  return len;
}

/* The reply's text as the tokens decode after the prompt (a continuation, spaces kept), each
 * byte that is not part of a whole UTF-8 character replaced by U+FFFD, as Hugging Face's
 * decode does: the reply joins the conversation, which the tokenizer must read back. */
static int reply_text(tern_model *model, const int32_t *ids, int64_t n, text_buffer *out,
                      char *error, size_t error_size) {
  int64_t size = tern_model_detokenize(model, ids, n, NULL, 0, error, error_size);
  text_buffer raw = {NULL, 0, 0};
  if (size < 0 || reserve(&raw, (size_t)size + 1) != 0 ||
      reserve(out, 3 * (size_t)size + 1) != 0) {
    free(raw.data);
    return size < 0 ? -1 : (snprintf(error, error_size, "out of memory"), -1);
  }
  tern_model_detokenize(model, ids, n, raw.data, raw.capacity, error, error_size);
  out->n = 0;
  for (size_t i = 0; i < (size_t)size;) {
    size_t len = utf8_character((const unsigned char *)raw.data + i, (size_t)size - i);
    if (len) {
      memcpy(out->data + out->n, raw.data + i, len);
      out->n += len, i += len;
    } else {
      memcpy(out->data + out->n, "\xef\xbf\xbd", 3);
      out->n += 3, ++i;
    }
  }
  out->data[out->n] = 0;
  free(raw.data);
  return 0;
}

/* Room for `n` more tokens in the history; 0, or -1 out of memory. */
static int grow_history(int32_t **history, int64_t *capacity, int64_t needed) {
  if (needed <= *capacity)
    return 0;
  int64_t wanted = needed * 2;
  int32_t *h = realloc(*history, sizeof(int32_t) * (size_t)wanted);
  if (!h)
    return -1;
  *history = h, *capacity = wanted;
  return 0;
}

int tern_cli_chat(const char *program, tern_model *model, const tern_cli *c, double t0) {
  (void)t0;
  char error[512] = "out of memory";
  if (!tern_model_chat_template(model)) {
    fprintf(stderr,
            "%s: error: -cnv: this model has no chat template (recompile it with ternc "
            "--chat-template=FILE)\n",
            program);
    return 1;
  }
  const tern_model_desc *d = tern_model_describe(model);
  tern_sampler_params p;
  if (tern_cli_sampler_params(c, &p, error, sizeof error) != 0)
    return tern_cli_usage_error(program, error, NULL);
  tern_sampler *sampler = tern_sampler_create(&p, d->vocab, NULL);
  float *logits = malloc(sizeof(float) * (size_t)d->vocab);
  tern_session *session = NULL;
  tern_session_options session_options = tern_cli_session_options(c);
  conversation talk = {NULL, NULL, 0, 0};
  text_buffer rendered = {NULL, 0, 0}, held = {NULL, 0, 0}, reply = {NULL, 0, 0};
  /* history: every token the KV cache holds (the prompts and the replies as sampled; a reply's
   * end-of-turn token is not run), for the sampler's penalties and to find what to keep. */
  int32_t *history = NULL, *turn = NULL;
  int64_t history_n = 0, history_cap = 0;
  size_t line_cap = 0;
  char *line = NULL;
  int status = 0;
  if (!sampler || !logits || append(&held, "", 0) != 0 ||
      (c->prompt && add_message(&talk, "system", c->prompt, strlen(c->prompt)) != 0) ||
      tern_session_create(model, &session_options, &session, error, sizeof error) != 0) {
    fprintf(stderr, "%s: error: %s\n", program, error);
    status = 1;
  }
  while (status == 0) {
    if (!c->quiet) {
      printf("\n> ");
      fflush(stdout);
    }
    ssize_t got = getline(&line, &line_cap, stdin);
    if (got < 0)
      break; /* end of the conversation */
    size_t size = (size_t)got; /* the line without its end: the user pressed Enter */
    while (size > 0 && (line[size - 1] == '\n' || line[size - 1] == '\r'))
      --size;
    strcpy(error, "out of memory");
    if (add_message(&talk, "user", line, size) != 0 ||
        render(model, &talk, &rendered, error, sizeof error) != 0) {
      fprintf(stderr, "%s: error: %s\n", program, error);
      status = 1;
      break;
    }
    /* The turn is what the rendering adds to what the cache holds. A rendering that does not
     * extend it (the template rewrote an earlier turn) is tokenized whole, and the cache keeps
     * the tokens it shares with it. */
    int extends = held.n <= rendered.n && memcmp(rendered.data, held.data, held.n) == 0;
    const char *text = extends ? rendered.data + held.n : rendered.data;
    size_t text_n = extends ? rendered.n - held.n : rendered.n;
    int64_t n = extends && history_n > 0
                    ? tern_cli_tokenize(model, text, text_n, 0, &turn, error, sizeof error)
                    : tern_cli_tokenize_chat(model, text, text_n, &turn, error, sizeof error);
    int64_t keep = history_n, skip = 0;
    if (n > 0 && !extends) {
      keep = 0;
      while (keep < history_n && keep < n - 1 && history[keep] == turn[keep])
        ++keep;
      skip = keep;
      if (c->verbose_prompt)
        fprintf(stderr, "%s: the template rewrote an earlier turn: the cache keeps %lld of "
                        "%lld tokens\n",
                program, (long long)keep, (long long)history_n);
      if (tern_session_rewind(session, keep, error, sizeof error) != 0)
        n = -1;
      history_n = keep;
    }
    if (n <= 0) {
      fprintf(stderr, "%s: error: %s\n", program, n == 0 ? "the turn has no tokens" : error);
      status = 1;
      break;
    }
    if (c->verbose_prompt) {
      fprintf(stderr, "%s: chat turn: %.*s\n", program, (int)text_n, text);
      fprintf(stderr, "%s: turn of %lld tokens:", program, (long long)(n - skip));
      for (int64_t i = skip; i < n; ++i)
        fprintf(stderr, " %d", (int)turn[i]);
      fprintf(stderr, "\n");
    }
    if (tern_session_eval_last(session, turn + skip, n - skip, c->chunk, logits, error,
                               sizeof error) != 0) {
      fprintf(stderr, "%s: error: %s\n", program, error);
      status = 1;
      break;
    }
    held.n = 0;
    if (append(&held, rendered.data, rendered.n) != 0 ||
        grow_history(&history, &history_cap, history_n + n - skip + 1) != 0) {
      fprintf(stderr, "%s: error: out of memory\n", program);
      status = 1;
      break;
    }
    memcpy(history + history_n, turn + skip, sizeof(int32_t) * (size_t)(n - skip));
    history_n += n - skip;
    int64_t reply_start = history_n;
    int64_t limit = c->n_predict > 0 ? c->n_predict : d->context;
    tern_cli_text out = {{0}, 0};
    for (int64_t made = 0; made < limit && status == 0; ++made) {
      if (grow_history(&history, &history_cap, history_n + 1) != 0) {
        fprintf(stderr, "\n%s: error: out of memory\n", program);
        status = 1;
        break;
      }
      int32_t next = tern_sampler_sample(sampler, logits, history, history_n);
      if (tern_model_ends_generation(model, next))
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
      history[history_n++] = next;
    }
    printf("\n");
    fflush(stdout);
    if (c->verbose_prompt) {
      fprintf(stderr, "%s: reply of %lld tokens:", program, (long long)(history_n - reply_start));
      for (int64_t i = reply_start; i < history_n; ++i)
        fprintf(stderr, " %d", (int)history[i]);
      fprintf(stderr, "\n");
    }
    /* The reply joins the conversation as its text; the cache holds its tokens. */
    strcpy(error, "out of memory");
    if (status == 0 &&
        (reply_text(model, history + reply_start, history_n - reply_start, &reply, error,
                    sizeof error) != 0 ||
         add_message(&talk, "assistant", reply.data, reply.n) != 0 ||
         append(&held, reply.data, reply.n) != 0)) {
      fprintf(stderr, "%s: error: %s\n", program, error);
      status = 1;
    }
  }
  tern_session_destroy(session);
  tern_sampler_free(sampler);
  for (size_t i = 0; i < talk.n; ++i)
    free(talk.contents[i]);
  free(talk.items);
  free(talk.contents);
  free(rendered.data);
  free(held.data);
  free(reply.data);
  free(logits);
  free(history);
  free(turn);
  free(line);
  return status;
}
