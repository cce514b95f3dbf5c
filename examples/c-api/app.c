/* A program embedding a model compiled with ternc --emit=lib (examples/c-api/README.md; also
 * built and run by test/tools/ternc-emit.test): it opens the model with its embedded weights,
 * runs two tokens, checks that a prompt's last logits alone equal the last row of the full run,
 * and tokenizes a line of text with the model's tokenizer. */
#include "libtiny.h"

#include <math.h>
#include <stdio.h>

int main(void) {
  char error[256];
  tern_model *model;
  tern_session *session;
  static float logits[2 * TERN_COMPILED_VOCAB];
  int32_t tokens[2] = {TERN_COMPILED_BOS_TOKEN, 7};
  if (tern_model_open(NULL, &model, error, sizeof error) != 0 ||
      tern_session_create(model, NULL, &session, error, sizeof error) != 0 ||
      tern_session_eval(session, tokens, 2, 0, logits, error, sizeof error) != 0) {
    printf("error: %s\n", error);
    return 1;
  }
  const tern_model_desc *d = tern_model_describe(model);
  printf("%s for %s: position %lld, vocab %lld, logit[1][0] %g\n", d->family, d->target,
         (long long)tern_session_position(session), (long long)d->vocab, logits[d->vocab]);
  tern_session_destroy(session);

  /* A prompt's last logits alone (the head runs for the last token only) are the last row. */
  static float last[TERN_COMPILED_VOCAB];
  if (tern_session_create(model, NULL, &session, error, sizeof error) != 0 ||
      tern_session_eval_last(session, tokens, 2, 0, last, error, sizeof error) != 0) {
    printf("error: %s\n", error);
    return 1;
  }
  float worst = 0, scale = 0;
  for (int v = 0; v < TERN_COMPILED_VOCAB; ++v) {
    float diff = fabsf(last[v] - logits[TERN_COMPILED_VOCAB + v]);
    worst = diff > worst ? diff : worst;
    scale = fabsf(last[v]) > scale ? fabsf(last[v]) : scale;
  }
  printf("last-only logits %s the last row (relative difference %.1e)\n",
         worst <= 1e-5f * scale ? "match" : "DIFFER FROM", worst / scale);
  tern_session_destroy(session);

  /* Text through the tokenizer compiled into the library, and back. */
  static const char text[] = "Hello from C!";
  int32_t ids[64];
  char back[128];
  int64_t n = tern_model_tokenize(model, text, sizeof text - 1, 1, 1, ids, 64, error, sizeof error);
  if (n > 64) { /* more tokens than room: a real program would call again with more */
    printf("error: %lld tokens\n", (long long)n);
    return 1;
  }
  /* A whole text (not a continuation): the _text form, as the tokenizer's decoder gives it. */
  int64_t len = n < 0 ? -1 : tern_model_detokenize_text(model, ids + 1, n - 1, back,
                                                         sizeof back - 1, error, sizeof error);
  if (n < 0 || len < 0 || len > (int64_t)sizeof back - 1) {
    printf("error: %s\n", n < 0 || len < 0 ? error : "the text does not fit");
    return 1;
  }
  back[len] = 0;
  printf("\"%s\" is %lld tokens after BOS %d and decodes back to \"%s\"\n", text,
         (long long)(n - 1), (int)ids[0], back);
  tern_model_close(model);
  return 0;
}
