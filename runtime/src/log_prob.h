/* log_prob.h - log probabilities of a row of logits: what --perplexity, --kl-divergence and the
 * server's logprobs share. The normalizer is summed in double (a 128k-token vocabulary's sum of
 * exponentials in float loses ~1e-5 relative), so a log probability is exact to the logits'
 * own float rounding. */
#ifndef TERN_RUNTIME_LOG_PROB_H
#define TERN_RUNTIME_LOG_PROB_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* log(sum_v exp(logits[v])), computed as max + log(sum exp(logits[v] - max)) in double. The log
 * probability of token v is logits[v] minus it. */
double tern_log_sum_exp(const float *logits, int64_t n);

/* The k most likely tokens (k <= n), best first (the lower id first on equal logits), into
 * ids[k]. */
void tern_top_tokens(const float *logits, int64_t n, int64_t k, int32_t *ids);

#ifdef __cplusplus
}
#endif

#endif
