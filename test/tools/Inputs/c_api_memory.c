/* The C API's memory and sessions (test/tools/c-api.test), on a model compiled with
 * ternc --emit=lib: every allocation goes through the injected allocator and is released; each
 * allocation, made to fail in turn, gives an error, never a crash or a leak; a session's context
 * sizes its KV cache and bounds it; rewinding recomputes exactly what a fresh session does. */
#include "libtiny.h"

#include <ctype.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A counting allocator that can be told to fail its n-th allocation. Kernels allocate on the
 * thread pool's workers too: it takes a lock. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

typedef struct {
  long calls, live, fail_at, misaligned;
  size_t bytes, peak;
  void *pointers[4096];
  size_t sizes[4096];
} counter;

static void *count_allocate(void *user, size_t size, size_t alignment) {
  counter *c = user;
  pthread_mutex_lock(&lock);
  void *p = ++c->calls == c->fail_at
                ? NULL
                : aligned_alloc(alignment, (size + alignment - 1) / alignment * alignment);
  if (!p) {
    pthread_mutex_unlock(&lock);
    return NULL;
  }
  c->misaligned += ((uintptr_t)p % alignment) != 0;
  for (int i = 0; i < 4096; ++i)
    if (!c->pointers[i]) {
      c->pointers[i] = p, c->sizes[i] = size;
      break;
    }
  c->live++, c->bytes += size;
  c->peak = c->bytes > c->peak ? c->bytes : c->peak;
  pthread_mutex_unlock(&lock);
  return p;
}

static void count_release(void *user, void *p) {
  counter *c = user;
  pthread_mutex_lock(&lock);
  for (int i = 0; i < 4096; ++i)
    if (c->pointers[i] == p) {
      c->bytes -= c->sizes[i];
      c->pointers[i] = NULL;
      break;
    }
  c->live--;
  pthread_mutex_unlock(&lock);
  free(p);
}

/* Whether the message says it ran out of memory (Halide's says "Out of memory"). */
static int out_of_memory(const char *message) {
  char lower[256];
  size_t i = 0;
  for (; message[i] && i + 1 < sizeof lower; ++i)
    lower[i] = (char)tolower((unsigned char)message[i]);
  lower[i] = 0;
  return strstr(lower, "out of memory") != NULL;
}

/* Everything the API does with memory, once; 0, or 1 with the message in error. */
static int use_model(counter *c, int64_t context, char *error, size_t size) {
  tern_allocator a = {count_allocate, count_release, c};
  tern_model_options options = tern_model_default_options();
  options.allocator = &a;
  tern_model *model = NULL;
  tern_session *session = NULL;
  tern_sampler *sampler = NULL;
  int status = 1;
  static float logits[TERN_COMPILED_VOCAB];
  int32_t ids[16];
  tern_session_options so = {context};
  tern_sampler_params sp = tern_sampler_default_params(1);
  if (tern_model_open(&options, &model, error, size) != 0)
    return 1;
  int64_t n = tern_model_tokenize(model, "Hello, memory", 13, 1, 1, ids, 16, error, size);
  if (n < 0 || tern_session_create(model, &so, &session, error, size) != 0 ||
      tern_session_eval_last(session, ids, n, 0, logits, error, size) != 0)
    goto done;
  sampler = tern_sampler_create(&sp, TERN_COMPILED_VOCAB, &a);
  if (!sampler) {
    snprintf(error, size, "no sampler (out of memory)");
    goto done;
  }
  tern_sampler_sample(sampler, logits, ids, n);
  status = 0;
done:
  tern_sampler_free(sampler);
  tern_session_destroy(session);
  tern_model_close(model);
  return status;
}

static tern_model_desc desc; /* the compiled model's, read first */

/* The KV cache of a session: keys and values, per layer and KV head the context rounded up to a
 * block of 64 positions (the layout in tern/decoder_kernels.h). */
static int64_t kv_bytes(int64_t context) {
  int64_t held = (context + 63) / 64 * 64;
  return 2 * desc.layers * desc.kv_heads * held * desc.head_dim * (int64_t)sizeof(float);
}

int main(void) {
  char error[256];
  tern_model *model = NULL;
  if (tern_model_open(NULL, &model, error, sizeof error) != 0) {
    printf("error: %s\n", error);
    return 1;
  }
  desc = *tern_model_describe(model);
  tern_model_close(model);
  counter full = {0};
  if (use_model(&full, 16, error, sizeof error) != 0) {
    printf("error: %s\n", error);
    return 1;
  }
  printf("allocations %ld, live after close %ld, misaligned %ld\n", full.calls, full.live,
         full.misaligned);
  /* The KV cache of 16 positions, not of the compiled context. */
  counter whole = {0};
  use_model(&whole, 0, error, sizeof error);
  printf("peak grows by the KV cache: %s\n",
         (int64_t)(whole.peak - full.peak) == kv_bytes(desc.context) - kv_bytes(16)
             ? "yes"
             : "NO");

  /* Each allocation failing in turn. */
  long failed = 0, leaks = 0, unexplained = 0;
  for (long k = 1; k <= full.calls; ++k) {
    counter c = {0};
    c.fail_at = k;
    error[0] = 0;
    int status = use_model(&c, 16, error, sizeof error);
    failed += status != 0;
    leaks += c.live != 0;
    if (status != 0 && !out_of_memory(error))
      unexplained++, printf("allocation %ld: %s\n", k, error);
  }
  printf("failing each of %ld allocations: %ld errors, %ld leaks, %ld without 'out of memory'\n",
         full.calls, failed, leaks, unexplained);

  /* Bad options. */
  tern_allocator half = {count_allocate, NULL, &full};
  tern_model_options options = tern_model_default_options();
  options.allocator = &half;
  if (tern_model_open(&options, &model, error, sizeof error) != 0)
    printf("half an allocator: %s\n", error);
  if (tern_model_open(NULL, &model, error, sizeof error) != 0) {
    printf("error: %s\n", error);
    return 1;
  }
  tern_session *s = NULL, *fresh = NULL;
  tern_session_options too_big = {desc.context + 1}, small = {4};
  if (tern_session_create(model, &too_big, &s, error, sizeof error) != 0)
    printf("context %lld: %s\n", (long long)desc.context + 1, error);
  int32_t t[5] = {TERN_COMPILED_BOS_TOKEN, 7, 8, 9, 10};
  static float a[2 * TERN_COMPILED_VOCAB], b[2 * TERN_COMPILED_VOCAB];
  if (tern_session_create(model, &small, &s, error, sizeof error) != 0 ||
      tern_session_eval(s, t, 4, 0, NULL, error, sizeof error) != 0) {
    printf("error: %s\n", error);
    return 1;
  }
  printf("session context %lld, position %lld\n", (long long)tern_session_context(s),
         (long long)tern_session_position(s));
  if (tern_session_eval(s, t + 4, 1, 0, NULL, error, sizeof error) != 0)
    printf("a fifth token: %s\n", error);
  if (tern_session_rewind(s, 5, error, sizeof error) != 0)
    printf("rewind past the end: %s\n", error);
  /* Rewind to 2, evaluate two other tokens: the logits of a fresh session's run, bit for bit. */
  int32_t other[2] = {11, 12}, fresh_tokens[4] = {t[0], t[1], 11, 12};
  if (tern_session_rewind(s, 2, error, sizeof error) != 0 ||
      tern_session_eval(s, other, 2, 0, a, error, sizeof error) != 0 ||
      tern_session_create(model, &small, &fresh, error, sizeof error) != 0 ||
      tern_session_eval(fresh, fresh_tokens, 4, 0, NULL, error, sizeof error) != 0) {
    printf("error: %s\n", error);
    return 1;
  }
  /* The fresh run's last two rows, again through eval of a rewound fresh session. */
  tern_session_rewind(fresh, 2, error, sizeof error);
  tern_session_eval(fresh, other, 2, 1, b, error, sizeof error);
  printf("rewound logits equal a fresh run's: %s\n",
         memcmp(a, b, sizeof a) == 0 ? "yes" : "NO");
  tern_session_destroy(fresh);
  tern_session_destroy(s);

  /* The chat template, rendered by the runtime. */
  tern_chat_message chat[2] = {{"system", " Be brief. "}, {"user", "Hi"}};
  char text[256];
  int64_t n = tern_model_apply_chat_template(model, chat, 2, 1, text, sizeof text, error,
                                             sizeof error);
  printf("chat (%lld bytes): %s|\n", (long long)n, text);
  tern_chat_message no_role[1] = {{NULL, "x"}};
  if (tern_model_apply_chat_template(model, no_role, 1, 0, text, sizeof text, error,
                                     sizeof error) < 0)
    printf("no role: %s\n", error);
  tern_model_close(model);
  return 0;
}
