/* An embedding model through the C API of ternc --emit=lib (test/tools/c-api-embedding.test):
 * the descriptor's pooling, a text tokenized for it (the EOS appended for last-token pooling),
 * its vector, and the errors of the embedding calls. Prints the vector as the executable's
 * --embedding does, so the two can be compared. */
#include "libembed.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
  const char *text = argc > 1 ? argv[1] : "A ternary embedding.";
  char error[512];
  tern_model *model;
  if (tern_model_open(NULL, &model, error, sizeof error) != 0) {
    fprintf(stderr, "open: %s\n", error);
    return 1;
  }
  const tern_model_desc *d = tern_model_describe(model);
  fprintf(stderr, "pooling %lld, normalize %lld, %lld floats\n", (long long)d->pooling,
          (long long)d->normalize, (long long)d->output_width);
  /* Asking for the count first, as a program that does not know it does. */
  int64_t n = tern_model_tokenize_embedding(model, text, strlen(text), NULL, 0, error,
                                            sizeof error);
  int32_t *ids = malloc(sizeof(int32_t) * (size_t)n);
  float *v = malloc(sizeof(float) * (size_t)d->output_width);
  /* The first count may hold an EOS the text turns out to end with: the second is the count. */
  if (n <= 0 || !ids || !v ||
      (n = tern_model_tokenize_embedding(model, text, strlen(text), ids, n, error,
                                         sizeof error)) <= 0 ||
      tern_model_embed(model, ids, n, v, error, sizeof error) != 0) {
    fprintf(stderr, "embed: %s\n", error);
    return 1;
  }
  fprintf(stderr, "%lld tokens, the last %s the EOS\n", (long long)n,
          ids[n - 1] == d->eos_token ? "is" : "is not");
  double norm = 0;
  for (int64_t j = 0; j < d->output_width; ++j) {
    printf(j ? " %.9g" : "%.9g", (double)v[j]);
    norm += (double)v[j] * v[j];
  }
  printf("\n");
  fprintf(stderr, "length %.6f\n", sqrt(norm));
  if (tern_model_embed(model, ids, 0, v, error, sizeof error) != 0)
    fprintf(stderr, "no tokens: %s\n", error);
  int32_t bad = (int32_t)d->vocab;
  if (tern_model_embed(model, &bad, 1, v, error, sizeof error) != 0)
    fprintf(stderr, "bad token: %s\n", error);
  int32_t *many = calloc((size_t)d->context + 1, sizeof(int32_t));
  if (many && tern_model_embed(model, many, d->context + 1, v, error, sizeof error) != 0)
    fprintf(stderr, "too many: %s\n", error);
  free(many);
  free(ids);
  free(v);
  tern_model_close(model);
  return 0;
}
