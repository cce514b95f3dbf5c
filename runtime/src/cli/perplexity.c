/* perplexity.c - --perplexity and --kl-divergence, in llama-perplexity's form.
 *
 * The text's tokens are cut into chunks of -c tokens; each chunk runs from position 0 in one
 * session (batched prefill), its first token replaced by the BOS when the model has one (as
 * llama-perplexity does), and only its second half is scored: the log probability of token
 * j + 1 after positions [0, j] for j from c/2 to c - 2, so every scored token sees at least
 * c/2 tokens of context. The estimate is exp(mean negative log likelihood) over the scored
 * tokens, with its standard error.
 *
 * --kl-divergence-base FILE writes the scored positions' logits (float32) with the tokens;
 * --kl-divergence reads them back, runs the same tokens through this model and compares the
 * two distributions per position (KL divergence, top-1 agreement, the change in the correct
 * token's probability and in perplexity), as llama-perplexity's KL mode reports them. */
/* fseeko, ftello under -std=c11. */
#define _POSIX_C_SOURCE 200809L

#include "cli.h"

#include "../log_prob.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The base file: kMagic, then kl_header, then the int32 tokens [chunks * n_ctx], then per chunk
 * the float32 logits [n_ctx - 1 - n_ctx / 2][vocab] of its scored positions. Little-endian, as
 * every target tern compiles for. */
static const char kMagic[8] = {'T', 'E', 'R', 'N', 'K', 'L', 'D', '1'};
typedef struct {
  int64_t n_ctx, vocab, chunks;
} kl_header;

/* A running sum for mean and standard error. */
typedef struct {
  double sum, sum2;
  int64_t n;
} moments;

static void add(moments *m, double x) {
  m->sum += x;
  m->sum2 += x * x;
  m->n += 1;
}
static double mean_of(const moments *m) { return m->n ? m->sum / (double)m->n : 0; }
/* The standard error of the mean (0 below two samples). */
static double error_of(const moments *m) {
  if (m->n < 2)
    return 0;
  double mean = mean_of(m), var = m->sum2 / (double)m->n - mean * mean;
  return var > 0 ? sqrt(var / (double)(m->n - 1)) : 0;
}

/* The chunk length: -c, else 512 (llama-perplexity's usual), at most the compiled context. */
static int64_t chunk_length(const tern_cli *c, const tern_model_desc *d) {
  if (c->context > 0)
    return c->context;
  return d->context < 512 ? d->context : 512;
}

/* The scored rows of a chunk of n_ctx: [first, n_ctx - 1). */
static int64_t first_scored(int64_t n_ctx) { return n_ctx / 2; }

/* Runs a chunk of n_ctx tokens from position 0 into logits [n_ctx][vocab], its first token
 * replaced by `bos` unless that is -1. */
static int run_chunk(tern_session *s, const tern_cli *c, int32_t bos, int32_t *chunk,
                     int64_t n_ctx, float *logits, char *error, size_t error_size) {
  if (bos >= 0)
    chunk[0] = bos;
  if (tern_session_rewind(s, 0, error, error_size) != 0)
    return -1;
  return tern_session_eval(s, chunk, n_ctx, c->chunk, logits, error, error_size);
}

/* A session of n_ctx positions when the buffers were allocated (`allocated`); 0, or -1 with the
 * failure printed. */
static int start_scoring(const char *program, tern_model *model, int allocated, int64_t n_ctx,
                         tern_session **s) {
  char error[512];
  tern_session_options options = {n_ctx};
  if (!allocated) {
    fprintf(stderr, "%s: error: out of memory for %lld x %lld logits\n", program,
            (long long)n_ctx, (long long)tern_model_describe(model)->vocab);
    return -1;
  }
  if (tern_session_create(model, &options, s, error, sizeof error) != 0) {
    fprintf(stderr, "%s: error: %s\n", program, error);
    return -1;
  }
  return 0;
}

static void print_eta(const char *program, const tern_cli *c, int64_t done, int64_t chunks,
                      double seconds, int64_t n_ctx) {
  if (c->quiet || done != 1)
    return;
  double eta = seconds * (double)(chunks - 1);
  fprintf(stderr, "%s: %.2f seconds per chunk (%.1f tokens/s) - ETA %.0f min %02.0f s\n",
          program, seconds, (double)n_ctx / seconds, floor(eta / 60), fmod(eta, 60));
}

static int write_all(FILE *f, const void *data, size_t size, size_t count) {
  return fwrite(data, size, count, f) == count ? 0 : -1;
}

int tern_cli_perplexity(const char *program, tern_model *model, const tern_cli *c,
                        const int32_t *tokens, int64_t n, double t0) {
  const tern_model_desc *d = tern_model_describe(model);
  int64_t n_ctx = chunk_length(c, d), vocab = d->vocab;
  const char *source = c->file ? c->file : c->tokens ? "--tokens" : "the prompt";
  if (n_ctx < 3) {
    fprintf(stderr, "%s: error: --perplexity needs chunks of at least 3 tokens (-c): the "
                    "second half is scored\n",
            program);
    return 2;
  }
  /* The BOS the tokenizer adds (llama-perplexity's add_bos), not config.json's bos_token_id. */
  int32_t bos = tern_model_added_bos(model);
  int64_t chunks = n / n_ctx;
  if (c->chunks > 0 && c->chunks < chunks)
    chunks = c->chunks;
  if (chunks == 0) {
    fprintf(stderr,
            "%s: error: %s has %lld tokens; --perplexity needs at least one chunk of %lld "
            "(-c)\n",
            program, source, (long long)n, (long long)n_ctx);
    return 1;
  }
  int64_t first = first_scored(n_ctx), scored = n_ctx - 1 - first;
  char error[512];
  tern_session *s = NULL;
  int32_t *chunk = malloc(sizeof(int32_t) * (size_t)n_ctx);
  float *logits = malloc(sizeof(float) * (size_t)(n_ctx * vocab));
  FILE *base = NULL;
  int status = 1;
  if (start_scoring(program, model, chunk && logits, n_ctx, &s) != 0)
    goto done;
  if (c->kl_base) {
    base = fopen(c->kl_base, "wb");
    kl_header h = {n_ctx, vocab, chunks};
    if (!base || write_all(base, kMagic, 1, sizeof kMagic) != 0 ||
        write_all(base, &h, sizeof h, 1) != 0) {
      fprintf(stderr, "%s: error: cannot write %s: %s\n", program, c->kl_base, strerror(errno));
      goto done;
    }
    for (int64_t i = 0; i < chunks; ++i) {
      memcpy(chunk, tokens + i * n_ctx, sizeof(int32_t) * (size_t)n_ctx);
      if (bos >= 0)
        chunk[0] = bos;
      if (write_all(base, chunk, sizeof(int32_t), (size_t)n_ctx) != 0) {
        fprintf(stderr, "%s: error: cannot write %s: %s\n", program, c->kl_base,
                strerror(errno));
        goto done;
      }
    }
  }
  if (!c->quiet)
    fprintf(stderr,
            "%s: perplexity of %s: %lld tokens, %lld chunks of %lld (%s first), scoring the "
            "last %lld tokens of each\n",
            program, source, (long long)n, (long long)chunks, (long long)n_ctx,
            bos >= 0 ? "the BOS" : "no BOS", (long long)scored);
  moments nll = {0, 0, 0};
  double loaded = tern_cli_now();
  for (int64_t i = 0; i < chunks; ++i) {
    double start = tern_cli_now();
    memcpy(chunk, tokens + i * n_ctx, sizeof(int32_t) * (size_t)n_ctx);
    if (run_chunk(s, c, bos, chunk, n_ctx, logits, error, sizeof error) != 0) {
      fprintf(stderr, "\n%s: error: chunk %lld: %s\n", program, (long long)i + 1, error);
      goto done;
    }
    for (int64_t j = first; j < n_ctx - 1; ++j) {
      const float *row = logits + j * vocab;
      add(&nll, tern_log_sum_exp(row, vocab) - (double)row[chunk[j + 1]]);
    }
    if (base && write_all(base, logits + first * vocab, sizeof(float),
                          (size_t)(scored * vocab)) != 0) {
      fprintf(stderr, "\n%s: error: cannot write %s: %s\n", program, c->kl_base,
              strerror(errno));
      goto done;
    }
    print_eta(program, c, i + 1, chunks, tern_cli_now() - start, n_ctx);
    printf("[%lld]%.4f,", (long long)i + 1, exp(mean_of(&nll)));
    fflush(stdout);
  }
  if (base) {
    int failed = fclose(base) != 0;
    base = NULL;
    if (failed) {
      fprintf(stderr, "\n%s: error: cannot write %s: %s\n", program, c->kl_base,
              strerror(errno));
      goto done;
    }
  }
  double ppl = exp(mean_of(&nll));
  printf("\nFinal estimate: PPL = %.4f +/- %.5f\n", ppl, ppl * error_of(&nll));
  if (!c->quiet) {
    double done_at = tern_cli_now();
    fprintf(stderr, "%s: load %.1f ms; %lld chunks (%lld tokens) in %.2f s (%.1f tokens/s)\n",
            program, 1e3 * (loaded - t0), (long long)chunks, (long long)(chunks * n_ctx),
            done_at - loaded, (double)(chunks * n_ctx) / (done_at - loaded));
    if (c->kl_base)
      fprintf(stderr, "%s: wrote the logits of %lld positions to %s\n", program,
              (long long)(chunks * scored), c->kl_base);
  }
  status = 0;
done:
  if (base)
    fclose(base);
  tern_session_destroy(s);
  free(logits);
  free(chunk);
  return status;
}

/* ---- --kl-divergence ---------------------------------------------------------------------- */

static int compare_doubles(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* The q-quantile of sorted values (linear between neighbours). */
static double quantile(const double *sorted, int64_t n, double q) {
  if (n < 1)
    return NAN;
  double at = q * (double)(n - 1);
  int64_t lo = (int64_t)floor(at), hi = lo + 1 < n ? lo + 1 : lo;
  return sorted[lo] + (at - (double)lo) * (sorted[hi] - sorted[lo]);
}

/* Reads the base file's header and tokens; -1 with a message naming the file. */
static int read_base(const char *path, FILE *f, kl_header *h, int32_t **tokens, char *error,
                     size_t error_size) {
  char magic[sizeof kMagic];
  if (fread(magic, 1, sizeof magic, f) != sizeof magic || memcmp(magic, kMagic, sizeof magic))
    return snprintf(error, error_size,
                    "%s: not a tern --kl-divergence-base file (expected the magic TERNKLD1)",
                    path),
           -1;
  if (fread(h, sizeof *h, 1, f) != 1 || h->n_ctx < 3 || h->n_ctx > INT32_MAX || h->vocab < 1 ||
      h->vocab > INT32_MAX || h->chunks < 1 || h->chunks > INT32_MAX / h->n_ctx)
    return snprintf(error, error_size,
                    "%s: its header is cut or out of range (expected chunk length >= 3, a "
                    "vocabulary and a chunk count)",
                    path),
           -1;
  int64_t scored = h->n_ctx - 1 - first_scored(h->n_ctx);
  /* The size the header implies, checked before anything is allocated from it. */
  double expected = (double)sizeof kMagic + (double)sizeof *h +
                    4.0 * (double)(h->chunks * h->n_ctx) +
                    4.0 * (double)h->chunks * (double)scored * (double)h->vocab;
  if (fseeko(f, 0, SEEK_END) != 0)
    return snprintf(error, error_size, "%s: cannot seek: %s", path, strerror(errno)), -1;
  double size = (double)ftello(f);
  if (size != expected)
    return snprintf(error, error_size,
                    "%s: %.0f bytes, but its header (%lld chunks of %lld tokens, vocabulary "
                    "%lld) needs %.0f",
                    path, size, (long long)h->chunks, (long long)h->n_ctx, (long long)h->vocab,
                    expected),
           -1;
  fseeko(f, (off_t)(sizeof kMagic + sizeof *h), SEEK_SET);
  size_t count = (size_t)(h->chunks * h->n_ctx);
  *tokens = malloc(sizeof(int32_t) * count);
  if (!*tokens || fread(*tokens, sizeof(int32_t), count, f) != count)
    return snprintf(error, error_size, "%s: cannot read its tokens", path), -1;
  return 0;
}

int tern_cli_kl_divergence(const char *program, tern_model *model, const tern_cli *c,
                           double t0) {
  const tern_model_desc *d = tern_model_describe(model);
  char error[512];
  FILE *f = fopen(c->kl_base, "rb");
  if (!f) {
    fprintf(stderr, "%s: error: cannot read %s: %s\n", program, c->kl_base, strerror(errno));
    return 1;
  }
  kl_header h;
  int32_t *tokens = NULL;
  float *logits = NULL, *base = NULL;
  double *kld = NULL, *dp = NULL;
  tern_session *s = NULL;
  int status = 1;
  if (read_base(c->kl_base, f, &h, &tokens, error, sizeof error) != 0) {
    fprintf(stderr, "%s: error: %s\n", program, error);
    goto done;
  }
  if (h.vocab != d->vocab) {
    fprintf(stderr,
            "%s: error: %s holds logits over %lld tokens, this model's vocabulary has %lld\n",
            program, c->kl_base, (long long)h.vocab, (long long)d->vocab);
    goto done;
  }
  if (c->context > 0 && c->context != h.n_ctx) {
    fprintf(stderr, "%s: error: %s was written with chunks of %lld tokens (-c %lld given)\n",
            program, c->kl_base, (long long)h.n_ctx, (long long)c->context);
    goto done;
  }
  for (int64_t i = 0; i < h.chunks * h.n_ctx; ++i)
    if (tokens[i] < 0 || tokens[i] >= d->vocab) {
      fprintf(stderr, "%s: error: %s: token %d at %lld is outside the vocabulary [0, %lld)\n",
              program, c->kl_base, (int)tokens[i], (long long)i, (long long)d->vocab);
      goto done;
    }
  if (h.n_ctx > d->context) {
    fprintf(stderr,
            "%s: error: %s was written with chunks of %lld tokens; this model's context holds "
            "%lld (recompile it with ternc --context=N)\n",
            program, c->kl_base, (long long)h.n_ctx, (long long)d->context);
    goto done;
  }
  int32_t bos = tern_model_added_bos(model);
  int64_t chunks = c->chunks > 0 && c->chunks < h.chunks ? c->chunks : h.chunks;
  int64_t n_ctx = h.n_ctx, vocab = h.vocab, first = first_scored(n_ctx),
          scored = n_ctx - 1 - first;
  int64_t total = chunks * scored;
  logits = malloc(sizeof(float) * (size_t)(n_ctx * vocab));
  base = malloc(sizeof(float) * (size_t)(scored * vocab));
  kld = malloc(sizeof(double) * (size_t)total);
  dp = malloc(sizeof(double) * (size_t)total);
  if (start_scoring(program, model, logits && base && kld && dp, n_ctx, &s) != 0)
    goto done;
  if (!c->quiet)
    fprintf(stderr,
            "%s: KL divergence from %s: %lld chunks of %lld tokens, scoring the last %lld of "
            "each\n",
            program, c->kl_base, (long long)chunks, (long long)n_ctx, (long long)scored);
  if (!c->quiet)
    printf("chunk             PPL      ln(PPL(Q)/PPL(base))        KL divergence          "
           "Δp RMS         Same top p\n");
  /* Over all scored tokens: -log p of the correct token under this model (q) and the base (b),
   * their product and difference; KL; Δp² and whether the best tokens agree. */
  moments nll_q = {0, 0, 0}, nll_b = {0, 0, 0}, diff = {0, 0, 0}, kl = {0, 0, 0},
          delta = {0, 0, 0}, delta2 = {0, 0, 0}, same = {0, 0, 0};
  double cross = 0;
  int64_t at = 0;
  double loaded = tern_cli_now();
  fseeko(f, (off_t)(sizeof kMagic + sizeof h + sizeof(int32_t) * (size_t)(h.chunks * n_ctx)),
         SEEK_SET);
  for (int64_t i = 0; i < chunks; ++i) {
    double start = tern_cli_now();
    int32_t *chunk = tokens + i * n_ctx;
    if (fread(base, sizeof(float), (size_t)(scored * vocab), f) != (size_t)(scored * vocab)) {
      fprintf(stderr, "\n%s: error: %s: cannot read chunk %lld's logits\n", program,
              c->kl_base, (long long)i + 1);
      goto done;
    }
    if (run_chunk(s, c, bos, chunk, n_ctx, logits, error, sizeof error) != 0) {
      fprintf(stderr, "\n%s: error: chunk %lld: %s\n", program, (long long)i + 1, error);
      goto done;
    }
    for (int64_t j = first; j < n_ctx - 1; ++j, ++at) {
      const float *q = logits + j * vocab, *b = base + (j - first) * vocab;
      double lse_q = tern_log_sum_exp(q, vocab), lse_b = tern_log_sum_exp(b, vocab);
      /* KL(base || q) = sum_v p_b(v) (log p_b(v) - log p_q(v)) */
      double k = 0;
      int32_t best_q = 0, best_b = 0;
      for (int64_t v = 0; v < vocab; ++v) {
        double lb = (double)b[v] - lse_b, lq = (double)q[v] - lse_q;
        k += exp(lb) * (lb - lq);
        if (q[v] > q[best_q])
          best_q = (int32_t)v;
        if (b[v] > b[best_b])
          best_b = (int32_t)v;
      }
      int32_t next = chunk[j + 1];
      double lq = (double)q[next] - lse_q, lb = (double)b[next] - lse_b;
      add(&nll_q, -lq);
      add(&nll_b, -lb);
      add(&diff, lb - lq);
      cross += lq * lb;
      kld[at] = k;
      add(&kl, k);
      dp[at] = exp(lq) - exp(lb);
      add(&delta, dp[at]);
      add(&delta2, dp[at] * dp[at]);
      add(&same, best_q == best_b ? 1.0 : 0.0);
    }
    print_eta(program, c, i + 1, chunks, tern_cli_now() - start, n_ctx);
    if (!c->quiet) {
      double rms = sqrt(mean_of(&delta2));
      printf("%4lld  %14.4f  %10.5f ± %9.5f  %10.6f ± %9.6f  %6.3f ± %5.3f %%  %6.3f ± %5.3f %%\n",
             (long long)i + 1, exp(mean_of(&nll_q)), mean_of(&diff), error_of(&diff),
             mean_of(&kl), error_of(&kl), 100 * rms,
             rms > 0 ? 100 * error_of(&delta2) / (2 * rms) : 0.0, 100 * mean_of(&same),
             100 * error_of(&same));
      fflush(stdout);
    }
  }
  {
    double mq = mean_of(&nll_q), mb = mean_of(&nll_b), n = (double)total;
    double ppl_q = exp(mq), ppl_b = exp(mb);
    double eq = error_of(&nll_q), eb = error_of(&nll_b);
    /* cov(nll_q, nll_b) of the means: the same tokens, so the two errors are correlated. */
    double cov = (cross / n - mq * mb) / (n > 1 ? n - 1 : 1);
    double var_q = nll_q.sum2 / n - mq * mq, var_b = nll_b.sum2 / n - mb * mb;
    double cor = var_q > 0 && var_b > 0 ? (cross / n - mq * mb) / sqrt(var_q * var_b) : 1.0;
    double d_ppl = ppl_q - ppl_b;
    double d_err2 = ppl_q * ppl_q * eq * eq + ppl_b * ppl_b * eb * eb - 2 * ppl_q * ppl_b * cov;
    double ratio = exp(mean_of(&diff));
    qsort(kld, (size_t)total, sizeof *kld, compare_doubles);
    qsort(dp, (size_t)total, sizeof *dp, compare_doubles);
    double rms = sqrt(mean_of(&delta2));
    printf("\n====== Perplexity statistics ======\n");
    printf("Mean PPL(Q)                   : %12.6f ± %10.6f\n", ppl_q, ppl_q * eq);
    printf("Mean PPL(base)                : %12.6f ± %10.6f\n", ppl_b, ppl_b * eb);
    printf("Cor(ln(PPL(Q)), ln(PPL(base))): %9.2f %%\n", 100 * cor);
    printf("Mean ln(PPL(Q)/PPL(base))     : %12.6f ± %10.6f\n", mean_of(&diff),
           error_of(&diff));
    printf("Mean PPL(Q)/PPL(base)         : %12.6f ± %10.6f\n", ratio, ratio * error_of(&diff));
    printf("Mean PPL(Q)-PPL(base)         : %12.6f ± %10.6f\n", d_ppl,
           d_err2 > 0 ? sqrt(d_err2) : 0.0);
    printf("\n====== KL divergence statistics ======\n");
    printf("Mean    KLD: %12.6f ± %10.6f\n", mean_of(&kl), error_of(&kl));
    /* llama-perplexity's quantiles: the KL divergence's, and Δp's with the quartiles too. */
    typedef struct {
      const char *name;
      double q;
    } named_quantile;
    static const named_quantile kKld[] = {
        {"Maximum", 1.0},  {"99.9%  ", 0.999}, {"99.0%  ", 0.99},   {"Median ", 0.5},
        {"10.0%  ", 0.1},  {" 5.0%  ", 0.05},  {" 1.0%  ", 0.01},   {" 0.1%  ", 0.001},
        {"Minimum", 0.0}};
    static const named_quantile kDeltaP[] = {
        {"Maximum", 1.0}, {"99.9%  ", 0.999}, {"99.0%  ", 0.99}, {"95.0%  ", 0.95},
        {"90.0%  ", 0.9}, {"75.0%  ", 0.75},  {"Median ", 0.5},  {"25.0%  ", 0.25},
        {"10.0%  ", 0.1}, {" 5.0%  ", 0.05},  {" 1.0%  ", 0.01}, {" 0.1%  ", 0.001},
        {"Minimum", 0.0}};
    for (size_t k = 0; k < sizeof kKld / sizeof kKld[0]; ++k)
      printf("%s KLD: %12.6f\n", kKld[k].name, quantile(kld, total, kKld[k].q));
    printf("\n====== Token probability statistics ======\n");
    printf("Mean    Δp: %8.3f ± %5.3f %%\n", 100 * mean_of(&delta), 100 * error_of(&delta));
    for (size_t k = 0; k < sizeof kDeltaP / sizeof kDeltaP[0]; ++k)
      printf("%s Δp: %8.3f %%\n", kDeltaP[k].name, 100 * quantile(dp, total, kDeltaP[k].q));
    printf("RMS Δp    : %8.3f ± %5.3f %%\n", 100 * rms,
           rms > 0 ? 100 * error_of(&delta2) / (2 * rms) : 0.0);
    printf("Same top p: %8.3f ± %5.3f %%\n", 100 * mean_of(&same), 100 * error_of(&same));
  }
  if (!c->quiet) {
    double done_at = tern_cli_now();
    fprintf(stderr, "%s: load %.1f ms; %lld chunks (%lld tokens) in %.2f s\n", program,
            1e3 * (loaded - t0), (long long)chunks, (long long)(chunks * n_ctx),
            done_at - loaded);
  }
  status = 0;
done:
  fclose(f);
  tern_session_destroy(s);
  free(tokens);
  free(logits);
  free(base);
  free(kld);
  free(dp);
  return status;
}
