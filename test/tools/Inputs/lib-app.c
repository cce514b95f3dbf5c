/* A program embedding a model compiled with ternc --emit=lib (test/tools/ternc-emit.test): it
 * opens the model with its embedded weights, runs two tokens and prints what it learned. */
#include "libtiny.h"

#include <stdio.h>

int main(void) {
  char error[256];
  tern_model *model;
  tern_session *session;
  static float logits[2 * TERN_COMPILED_VOCAB];
  int32_t tokens[2] = {TERN_COMPILED_BOS_TOKEN, 7};
  if (tern_model_open(NULL, 1, &model, error, sizeof error) != 0 ||
      tern_session_create(model, &session, error, sizeof error) != 0 ||
      tern_session_eval(session, tokens, 2, 0, logits, error, sizeof error) != 0) {
    printf("error: %s\n", error);
    return 1;
  }
  const tern_model_desc *d = tern_model_describe(model);
  printf("%s for %s: position %lld, vocab %lld, logit[1][0] %g\n", d->family, d->target,
         (long long)tern_session_position(session), (long long)d->vocab, logits[d->vocab]);
  tern_session_destroy(session);
  tern_model_close(model);
  return 0;
}
