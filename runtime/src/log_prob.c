/* log_prob.c - see log_prob.h. */
#include "log_prob.h"

#include <math.h>

double tern_log_sum_exp(const float *logits, int64_t n) {
  float max = logits[0];
  for (int64_t v = 1; v < n; ++v)
    if (logits[v] > max)
      max = logits[v];
  double sum = 0;
  for (int64_t v = 0; v < n; ++v)
    sum += exp((double)logits[v] - (double)max);
  return (double)max + log(sum);
}

/* Whether token a ranks before token b. */
static int before(const float *logits, int32_t a, int32_t b) {
  return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
}

void tern_top_tokens(const float *logits, int64_t n, int64_t k, int32_t *ids) {
  /* One pass keeping a sorted list of k (k is small: at most 20 in the API). */
  int64_t have = 0;
  for (int64_t v = 0; v < n && k > 0; ++v) {
    if (have == k && !before(logits, (int32_t)v, ids[k - 1]))
      continue;
    int64_t i = have < k ? have++ : k - 1;
    while (i > 0 && before(logits, (int32_t)v, ids[i - 1])) {
      ids[i] = ids[i - 1];
      --i;
    }
    ids[i] = (int32_t)v;
  }
}
