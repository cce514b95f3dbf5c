/* Continuous batching through the C API (test/tools/c-api-batch.test), on a model compiled with
 * ternc --emit=lib: sessions evaluated together by tern_session_eval_batch give the logits each
 * gives alone with tern_session_eval_last, bit for bit (the test prints how many rows are
 * identical, and how many are within 1e-5 of the largest logit with the same greedy token, to
 * tell a rounding difference from a wrong result). Four sessions with prompts of
 * different lengths are prefilled in one call, then decode greedily one token each per call,
 * with a fifth session's prompt chunks joining the calls halfway, then batches of two and three;
 * the same steps are replayed one session at a time. Then the batch's errors. */
#include "libtiny.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { SESSIONS = 5, STEPS = 12, JOIN = 5, CHUNK = 3 };

static int argmax(const float *x, int64_t n) {
  int64_t best = 0;
  for (int64_t i = 1; i < n; ++i)
    if (x[i] > x[best])
      best = i;
  return (int)best;
}

static long compared, identical, matching;

/* Counts one comparison of a batched row of logits against the same session's alone. */
static void compare(const float *alone, const float *batched, int64_t vocab) {
  float worst = 0, largest = 0;
  for (int64_t i = 0; i < vocab; ++i) {
    float d = alone[i] - batched[i];
    worst = d < 0 ? -d > worst ? -d : worst : d > worst ? d : worst;
    largest = alone[i] < 0 ? -alone[i] > largest ? -alone[i] : largest
                           : alone[i] > largest ? alone[i] : largest;
  }
  ++compared;
  identical += memcmp(alone, batched, sizeof(float) * (size_t)vocab) == 0;
  matching += worst <= 1e-5f * largest && argmax(alone, vocab) == argmax(batched, vocab);
}

static void fail(const char *what, const char *error) {
  printf("FAILED: %s: %s\n", what, error);
  exit(1);
}

/* The prompt of session i: 1 + 4 i tokens (the fifth's, 17, is fed in chunks of CHUNK). */
static int64_t prompt_of(int i, int32_t *tokens) {
  int64_t n = 1 + 4 * i;
  for (int64_t j = 0; j < n; ++j)
    tokens[j] = (int32_t)((37 * i + 11 * j + 5) % 500);
  return n;
}

int main(void) {
  tern_model *model;
  char error[512];
  if (tern_model_open(NULL, &model, error, sizeof error) != 0)
    fail("open", error);
  int64_t vocab = tern_model_describe(model)->vocab;
  tern_session *batched[SESSIONS], *alone[SESSIONS];
  for (int i = 0; i < SESSIONS; ++i)
    if (tern_session_create(model, NULL, &batched[i], error, sizeof error) != 0 ||
        tern_session_create(model, NULL, &alone[i], error, sizeof error) != 0)
      fail("session", error);
  float *logits = malloc(sizeof(float) * (size_t)(vocab * SESSIONS));
  float *expected = malloc(sizeof(float) * (size_t)vocab);
  int32_t prompts[SESSIONS][32], next[SESSIONS];
  int64_t lengths[SESSIONS], fed[SESSIONS] = {0};
  for (int i = 0; i < SESSIONS; ++i)
    lengths[i] = prompt_of(i, prompts[i]);

  /* Step 0 prefills sessions 0-3 in one call; each later step decodes every session whose
   * prompt is in, and from step JOIN on also feeds the next CHUNK tokens of session 4's. */
  for (int step = 0; step < STEPS; ++step) {
    tern_batch_entry entries[SESSIONS];
    int owner[SESSIONS];
    size_t count = 0;
    for (int i = 0; i < SESSIONS; ++i) {
      tern_batch_entry e = {batched[i], NULL, 0, logits + count * vocab};
      if (fed[i] == lengths[i]) {
        e.tokens = &next[i], e.n = 1;
      } else if (i < 4 || step >= JOIN) {
        int64_t n = i < 4 ? lengths[i] : CHUNK;
        if (n > lengths[i] - fed[i])
          n = lengths[i] - fed[i];
        e.tokens = prompts[i] + fed[i], e.n = n;
      } else {
        continue;
      }
      owner[count] = i;
      entries[count++] = e;
    }
    if (tern_session_eval_batch(entries, count, error, sizeof error) != 0)
      fail("batch", error);
    for (size_t c = 0; c < count; ++c) {
      int i = owner[c];
      if (tern_session_eval_last(alone[i], entries[c].tokens, entries[c].n, 0, expected, error,
                                 sizeof error) != 0)
        fail("alone", error);
      compare(expected, logits + c * vocab, vocab);
      if (fed[i] < lengths[i])
        fed[i] += entries[c].n;
      if (fed[i] == lengths[i])
        next[i] = argmax(logits + c * vocab, vocab);
    }
  }
  /* Then batches of two and three sessions (a head taking four tokens at a time pads these). */
  for (size_t count = 2; count <= 3; ++count) {
    tern_batch_entry entries[3];
    for (size_t c = 0; c < count; ++c) {
      tern_batch_entry e = {batched[c], &next[c], 1, logits + c * vocab};
      entries[c] = e;
    }
    if (tern_session_eval_batch(entries, count, error, sizeof error) != 0)
      fail("batch", error);
    for (size_t c = 0; c < count; ++c) {
      if (tern_session_eval_last(alone[c], &next[c], 1, 0, expected, error, sizeof error) != 0)
        fail("alone", error);
      compare(expected, logits + c * vocab, vocab);
      next[c] = argmax(logits + c * vocab, vocab);
    }
  }
  printf("batched logits match single-session logits: %ld of %ld (%ld bit for bit)\n", matching,
         compared, identical);
  for (int i = 0; i < SESSIONS; ++i)
    printf("session %d at position %lld, alone %lld\n", i,
           (long long)tern_session_position(batched[i]),
           (long long)tern_session_position(alone[i]));

  /* Errors: nothing is evaluated, no position moves. */
  int32_t token = 1, bad = (int32_t)vocab;
  int64_t before = tern_session_position(batched[0]);
  tern_batch_entry twice[2] = {{batched[0], &token, 1, NULL}, {batched[0], &token, 1, NULL}};
  tern_batch_entry bad_token[2] = {{batched[0], &token, 1, NULL}, {batched[1], &bad, 1, NULL}};
  tern_batch_entry empty[1] = {{batched[0], &token, 0, NULL}};
  int64_t max_tokens = tern_model_describe(model)->max_tokens;
  int32_t *many = calloc((size_t)max_tokens, sizeof(int32_t));
  tern_batch_entry too_many[2] = {{batched[0], many, max_tokens, NULL},
                                  {batched[1], &token, 1, NULL}};
  if (tern_session_eval_batch(twice, 2, error, sizeof error) != 0)
    printf("same session twice: %s\n", error);
  if (tern_session_eval_batch(bad_token, 2, error, sizeof error) != 0)
    printf("bad token: %s\n", error);
  if (tern_session_eval_batch(empty, 1, error, sizeof error) != 0)
    printf("no tokens: %s\n", error);
  if (tern_session_eval_batch(too_many, 2, error, sizeof error) != 0)
    printf("too many: %s\n", error);
  if (tern_session_eval_batch(twice, 0, error, sizeof error) != 0)
    printf("no entries: %s\n", error);
  printf("position unchanged: %s\n", tern_session_position(batched[0]) == before ? "yes" : "no");

  free(many);
  free(logits);
  free(expected);
  for (int i = 0; i < SESSIONS; ++i) {
    tern_session_destroy(batched[i]);
    tern_session_destroy(alone[i]);
  }
  tern_model_close(model);
  return 0;
}
