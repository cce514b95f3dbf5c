/* bench.c - --bench: llama-bench's tests, against the memory bandwidth measured in the same run.
 *
 * A test is prompt processing of N tokens (pp<N>: one eval of N tokens, the time to the first
 * generated token's logits) or generation of N tokens (tg<N>: N forward calls of one token each,
 * greedy), run after `depth` tokens are already in the KV cache, for each thread count, once to
 * warm up and then `repetitions` times. The read bandwidth is measured once per thread count in
 * the same process: decoding streams every weight (and the KV cache) once per token, so
 * bandwidth / bytes per token is its limit. Median and standard deviation of tokens/s, as a
 * markdown table (llama-bench's default), JSON or CSV. */
#define _GNU_SOURCE
#include "cli.h"

#include "tern/bandwidth.h"
#include "tern/thread_pool.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LIST 64
#define MAX_REPETITIONS 1000

typedef struct {
  long long v[MAX_LIST];
  int n;
} list;

typedef enum { FORMAT_MD, FORMAT_JSON, FORMAT_CSV } format;

typedef struct {
  int threads;
  long long depth, tokens;
  int generate;     /* tg (else pp) */
  double *seconds;  /* per repetition */
  double median_ts, stddev_ts, median_s;
  double bytes_per_token; /* tg: weights + the KV cache read at the mean position */
  double bandwidth;       /* GB/s with this many threads */
} result;

/* "128", "1,2,4", "1-4", "0,512-513": ascending ranges, each value in [lo, hi]. */
static int parse_list(const char *s, long long lo, long long hi, list *out) {
  out->n = 0;
  if (!s || !*s)
    return -1;
  const char *p = s;
  for (;;) {
    char *end;
    long long a = strtoll(p, &end, 10), b;
    if (end == p || a < lo || a > hi)
      return -1;
    b = a;
    if (*end == '-') {
      p = end + 1;
      b = strtoll(p, &end, 10);
      if (end == p || b < a || b > hi)
        return -1;
    }
    for (long long v = a; v <= b; ++v) {
      if (out->n == MAX_LIST)
        return -1;
      out->v[out->n++] = v;
    }
    if (*end == 0)
      return 0;
    if (*end != ',')
      return -1;
    p = end + 1;
  }
}

static int compare_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static void summarize(result *r, int repetitions) {
  double *ts = malloc(sizeof(double) * (size_t)repetitions);
  double *s = malloc(sizeof(double) * (size_t)repetitions);
  double mean = 0;
  for (int i = 0; ts && s && i < repetitions; ++i) {
    ts[i] = (double)r->tokens / r->seconds[i];
    s[i] = r->seconds[i];
    mean += ts[i] / repetitions;
  }
  if (ts && s) {
    double var = 0;
    for (int i = 0; i < repetitions; ++i)
      var += (ts[i] - mean) * (ts[i] - mean);
    r->stddev_ts = repetitions > 1 ? sqrt(var / (repetitions - 1)) : 0;
    qsort(ts, (size_t)repetitions, sizeof(double), compare_double);
    qsort(s, (size_t)repetitions, sizeof(double), compare_double);
    int m = repetitions / 2;
    r->median_ts = repetitions % 2 ? ts[m] : 0.5 * (ts[m - 1] + ts[m]);
    r->median_s = repetitions % 2 ? s[m] : 0.5 * (s[m - 1] + s[m]);
  }
  free(ts);
  free(s);
}

/* VmHWM (peak resident set) in bytes, from /proc/self/status; -1 when unknown. */
static long long peak_rss(void) {
  FILE *f = fopen("/proc/self/status", "r");
  if (!f)
    return -1;
  char line[256];
  long long kb = -1;
  while (fgets(line, sizeof line, f))
    if (sscanf(line, "VmHWM: %lld kB", &kb) == 1)
      break;
  fclose(f);
  return kb < 0 ? -1 : kb * 1024;
}

/* Forgets the peak so far (the bandwidth probe's buffer is not the model's); 0 on success. */
static int reset_peak_rss(void) {
  FILE *f = fopen("/proc/self/clear_refs", "w");
  if (!f)
    return -1;
  int ok = fputs("5", f) >= 0;
  return fclose(f) == 0 && ok ? 0 : -1;
}

static void random_tokens(int32_t *tokens, long long n, int64_t vocab, unsigned long long *state) {
  for (long long i = 0; i < n; ++i) {
    *state = *state * 6364136223846793005ull + 1442695040888963407ull;
    tokens[i] = (int32_t)((*state >> 33) % (unsigned long long)vocab);
  }
}

/* One run of a test from position `depth`; its seconds, or a negative value on failure. */
static double run_once(tern_session *s, const tern_model_desc *d, const result *r,
                       const int32_t *tokens, long long chunk, float *logits, char *error,
                       size_t error_size) {
  if (tern_session_rewind(s, r->depth, error, error_size) != 0)
    return -1;
  double start = tern_cli_now();
  if (!r->generate) {
    if (tern_session_eval_last(s, tokens, r->tokens, chunk, logits, error, error_size) != 0)
      return -1;
    return tern_cli_now() - start;
  }
  int32_t next = tokens[0];
  for (long long i = 0; i < r->tokens; ++i) {
    if (tern_session_eval(s, &next, 1, 1, logits, error, error_size) != 0)
      return -1;
    next = (int32_t)tern_cli_argmax(logits, d->vocab);
  }
  return tern_cli_now() - start;
}

static const char *test_name(const result *r, char *buffer, size_t size) {
  if (r->depth > 0)
    snprintf(buffer, size, "%s%lld @ d%lld", r->generate ? "tg" : "pp", r->tokens, r->depth);
  else
    snprintf(buffer, size, "%s%lld", r->generate ? "tg" : "pp", r->tokens);
  return buffer;
}

static void print_markdown(const tern_model_desc *d, const result *results, int count,
                           const list *threads, const double *bandwidth, double load_ms,
                           double first_ms, int first_threads, long long rss, int rss_exact,
                           double kv_bytes, double arena_bytes) {
  printf("model: %s for %s; weights %.1f MB, %.1f MB read per token; KV cache %.1f MB at %lld "
         "positions; arena %.1f MB\n",
         d->family, d->target, (double)d->weights_size / 1e6,
         (double)d->weights_bytes_per_token / 1e6, kv_bytes / 1e6, (long long)d->context,
         arena_bytes / 1e6);
  printf("load %.1f ms; first forward call %.1f ms (1 token, %d threads)\n", load_ms, first_ms,
         first_threads);
  printf("read bandwidth measured in this run:");
  for (int i = 0; i < threads->n; ++i)
    printf("%s %lld thread%s %.1f GB/s", i ? "," : "", threads->v[i],
           threads->v[i] == 1 ? "" : "s", bandwidth[i]);
  printf("\n\n| threads | test | t/s | ms | GB/s | limit t/s | of limit |\n");
  printf("| ---: | :--- | ---: | ---: | ---: | ---: | ---: |\n");
  for (int i = 0; i < count; ++i) {
    const result *r = &results[i];
    char name[64];
    printf("| %d | %s | %.2f ± %.2f | ", r->threads, test_name(r, name, sizeof name),
           r->median_ts, r->stddev_ts);
    if (r->generate) {
      double gbs = r->median_ts * r->bytes_per_token / 1e9;
      double limit = r->bandwidth * 1e9 / r->bytes_per_token;
      printf("%.2f /token | %.1f | %.1f | %.0f %% |\n", 1e3 * r->median_s / (double)r->tokens,
             gbs, limit, 100.0 * r->median_ts / limit);
    } else {
      printf("%.1f to first token | | | |\n", 1e3 * r->median_s);
    }
  }
  double bound = (double)d->weights_size + kv_bytes + arena_bytes;
  if (rss >= 0)
    printf("\npeak RSS %.1f MB%s: weights + KV cache + arena = %.1f MB (%+.1f %%)\n",
           (double)rss / 1e6, rss_exact ? "" : " (with the bandwidth probe's buffer)",
           bound / 1e6, 100.0 * ((double)rss - bound) / bound);
  printf("t/s: median ± standard deviation; tg GB/s: weights and KV cache bytes per token x t/s; "
         "limit: read bandwidth / bytes per token\n");
}

static void print_json(const tern_model_desc *d, const result *results, int count,
                       int repetitions, const list *threads, const double *bandwidth,
                       double load_ms, double first_ms, long long rss, double kv_bytes,
                       double arena_bytes) {
  printf("{\n  \"model\": \"%s\",\n  \"target\": \"%s\",\n  \"weights_bytes\": %llu,\n"
         "  \"weights_bytes_per_token\": %llu,\n  \"kv_cache_bytes\": %.0f,\n"
         "  \"arena_bytes\": %.0f,\n  \"context\": %lld,\n  \"load_ms\": %.3f,\n"
         "  \"first_call_ms\": %.3f,\n  \"peak_rss_bytes\": %lld,\n  \"bandwidth_gbs\": {",
         d->family, d->target, (unsigned long long)d->weights_size,
         (unsigned long long)d->weights_bytes_per_token, kv_bytes, arena_bytes,
         (long long)d->context, load_ms, first_ms, rss);
  for (int i = 0; i < threads->n; ++i)
    printf("%s\"%lld\": %.3f", i ? ", " : "", threads->v[i], bandwidth[i]);
  printf("},\n  \"tests\": [\n");
  for (int i = 0; i < count; ++i) {
    const result *r = &results[i];
    char name[64];
    printf("    {\"threads\": %d, \"test\": \"%s\", \"n_prompt\": %lld, \"n_gen\": %lld, "
           "\"n_depth\": %lld, \"median_ts\": %.4f, \"stddev_ts\": %.4f, \"median_ms\": %.4f, ",
           r->threads, test_name(r, name, sizeof name), r->generate ? 0 : r->tokens,
           r->generate ? r->tokens : 0, r->depth, r->median_ts, r->stddev_ts, 1e3 * r->median_s);
    if (r->generate)
      printf("\"bytes_per_token\": %.0f, \"gbs\": %.3f, \"limit_ts\": %.3f, ",
             r->bytes_per_token, r->median_ts * r->bytes_per_token / 1e9,
             r->bandwidth * 1e9 / r->bytes_per_token);
    printf("\"samples_ns\": [");
    for (int k = 0; k < repetitions; ++k)
      printf("%s%.0f", k ? ", " : "", r->seconds[k] * 1e9);
    printf("]}%s\n", i + 1 < count ? "," : "");
  }
  printf("  ]\n}\n");
}

static void print_csv(const tern_model_desc *d, const result *results, int count) {
  printf("model,target,threads,test,n_prompt,n_gen,n_depth,median_ts,stddev_ts,median_ms,"
         "bandwidth_gbs,bytes_per_token,gbs,limit_ts\n");
  for (int i = 0; i < count; ++i) {
    const result *r = &results[i];
    char name[64];
    printf("%s,%s,%d,%s,%lld,%lld,%lld,%.4f,%.4f,%.4f,%.3f,", d->family, d->target, r->threads,
           test_name(r, name, sizeof name), r->generate ? 0 : r->tokens,
           r->generate ? r->tokens : 0, r->depth, r->median_ts, r->stddev_ts, 1e3 * r->median_s,
           r->bandwidth);
    if (r->generate)
      printf("%.0f,%.3f,%.3f\n", r->bytes_per_token, r->median_ts * r->bytes_per_token / 1e9,
             r->bandwidth * 1e9 / r->bytes_per_token);
    else
      printf(",,\n");
  }
}

int tern_cli_bench(const char *program, tern_model *model, const tern_cli *c, double t0) {
  const tern_model_desc *d = tern_model_describe(model);
  double load_ms = 1e3 * (tern_cli_now() - t0);
  list prompts, gens, depths, threads;
  long long repetitions = 5;
  format out = FORMAT_MD;
  if (c->tokens || c->file)
    return tern_cli_usage_error(program, "--bench makes its own prompts of random tokens (-p N)",
                                c->tokens ? c->tokens : c->file);
  if (c->bench_decode > 0 && (c->bench_prompt || c->bench_gen))
    return tern_cli_usage_error(program, "--bench N is short for --bench -p 0 -n N; give either",
                                NULL);
  const char *p = c->bench_decode > 0 ? "0" : c->bench_prompt ? c->bench_prompt : "128";
  char decode[32];
  snprintf(decode, sizeof decode, "%lld", c->bench_decode);
  const char *n = c->bench_decode > 0 ? decode : c->bench_gen ? c->bench_gen : "64";
  char all_cpus[32];
  snprintf(all_cpus, sizeof all_cpus, "%d", tern_get_num_threads());
  if (parse_list(p, 0, INT32_MAX, &prompts) != 0)
    return tern_cli_usage_error(program, "-p expects a list of prompt lengths (128,512 or 1-4)",
                                p);
  if (parse_list(n, 0, INT32_MAX, &gens) != 0)
    return tern_cli_usage_error(program, "-n expects a list of token counts (64,128 or 1-4)", n);
  if (parse_list(c->bench_depth ? c->bench_depth : "0", 0, INT32_MAX, &depths) != 0)
    return tern_cli_usage_error(program, "-d expects a list of depths (0,1024,4096)",
                                c->bench_depth);
  if (parse_list(c->bench_threads ? c->bench_threads : all_cpus, 1, 1024, &threads) != 0)
    return tern_cli_usage_error(program, "-t expects a list of thread counts in [1, 1024]",
                                c->bench_threads);
  if (c->bench_repetitions) {
    char *end;
    repetitions = strtoll(c->bench_repetitions, &end, 10);
    if (*end || end == c->bench_repetitions || repetitions < 1 ||
        repetitions > MAX_REPETITIONS)
      return tern_cli_usage_error(program, "-r expects a number of repetitions in [1, 1000]",
                                  c->bench_repetitions);
  }
  if (c->bench_output) {
    if (!strcmp(c->bench_output, "md"))
      out = FORMAT_MD;
    else if (!strcmp(c->bench_output, "json"))
      out = FORMAT_JSON;
    else if (!strcmp(c->bench_output, "csv"))
      out = FORMAT_CSV;
    else
      return tern_cli_usage_error(program, "-o expects md, json or csv", c->bench_output);
  }
  tern_session_options session_options = tern_cli_session_options(c);
  long long context = session_options.context ? session_options.context : d->context;
  long long longest = 0, deepest = 0;
  for (int i = 0; i < prompts.n; ++i)
    longest = prompts.v[i] > longest ? prompts.v[i] : longest;
  for (int i = 0; i < gens.n; ++i)
    longest = gens.v[i] > longest ? gens.v[i] : longest;
  for (int i = 0; i < depths.n; ++i)
    deepest = depths.v[i] > deepest ? depths.v[i] : deepest;
  if (longest == 0)
    return tern_cli_usage_error(program, "nothing to run: every -p and -n is 0", NULL);
  if (deepest + longest > context) {
    char message[160];
    snprintf(message, sizeof message, "depth %lld and a test of %lld tokens need %lld positions",
             deepest, longest, deepest + longest);
    fprintf(stderr,
            "%s: error: %s; the session holds %lld (-c, or recompile with ternc --context=N)\n",
            program, message, context);
    return 1;
  }

  int tests_per_thread = depths.n * (prompts.n + gens.n);
  int count = 0;
  result *results = calloc((size_t)(tests_per_thread * threads.n), sizeof(result));
  double *seconds = calloc((size_t)(tests_per_thread * threads.n * repetitions), sizeof(double));
  double *bandwidth = calloc((size_t)threads.n, sizeof(double));
  size_t buffer = (size_t)(deepest > longest ? deepest : longest);
  int32_t *tokens = malloc(sizeof(int32_t) * buffer);
  float *logits = malloc(sizeof(float) * (size_t)d->vocab);
  tern_session *session = NULL;
  char error[512] = "";
  int status = 1, rss_exact = 1;
  double first_ms = 0;
  unsigned long long rng = 1234;
  if (!results || !seconds || !bandwidth || !tokens || !logits) {
    fprintf(stderr, "%s: error: out of memory\n", program);
    goto done;
  }
  if (tern_session_create(model, &session_options, &session, error, sizeof error) != 0) {
    fprintf(stderr, "%s: error: %s\n", program, error);
    goto done;
  }
  double kv_per_position = 2.0 * (double)(d->layers * d->kv_heads * d->head_dim) * sizeof(float);
  for (int ti = 0; ti < threads.n; ++ti) {
    int t = (int)threads.v[ti];
    tern_set_num_threads(t);
    if (ti == 0) { /* the first forward call of the process, cold */
      random_tokens(tokens, 1, d->vocab, &rng);
      double start = tern_cli_now();
      if (tern_session_eval_last(session, tokens, 1, 0, logits, error, sizeof error) != 0) {
        fprintf(stderr, "%s: error: %s\n", program, error);
        goto done;
      }
      first_ms = 1e3 * (tern_cli_now() - start);
    }
    bandwidth[ti] = tern_measure_read_bandwidth((size_t)1 << 30, 3);
    rss_exact &= reset_peak_rss() == 0;
    for (int di = 0; di < depths.n; ++di) {
      long long depth = depths.v[di];
      if (depth > 0) { /* the context the tests start from, evaluated once */
        if (!c->quiet)
          fprintf(stderr, "bench: %d threads: filling the KV cache to depth %lld\n", t, depth);
        random_tokens(tokens, depth, d->vocab, &rng);
        if (tern_session_rewind(session, 0, error, sizeof error) != 0 ||
            tern_session_eval_last(session, tokens, depth, c->chunk, logits, error,
                                   sizeof error) != 0) {
          fprintf(stderr, "%s: error: %s\n", program, error);
          goto done;
        }
      }
      for (int k = 0; k < prompts.n + gens.n; ++k) {
        int generate = k >= prompts.n;
        long long size = generate ? gens.v[k - prompts.n] : prompts.v[k];
        if (size == 0)
          continue;
        result *r = &results[count];
        r->threads = t, r->depth = depth, r->tokens = size, r->generate = generate;
        r->seconds = seconds + (size_t)count * (size_t)repetitions;
        r->bandwidth = bandwidth[ti];
        r->bytes_per_token = (double)d->weights_bytes_per_token +
                             kv_per_position * ((double)depth + 0.5 * (double)size);
        char name[64];
        if (!c->quiet)
          fprintf(stderr, "bench: %d threads: %s, %lld runs after a warm-up\n", t,
                  test_name(r, name, sizeof name), repetitions);
        random_tokens(tokens, size, d->vocab, &rng);
        for (long long rep = -1; rep < repetitions; ++rep) {
          double s = run_once(session, d, r, tokens, c->chunk, logits, error, sizeof error);
          if (s < 0) {
            fprintf(stderr, "%s: error: %s\n", program, error);
            goto done;
          }
          if (rep >= 0)
            r->seconds[rep] = s;
        }
        summarize(r, (int)repetitions);
        ++count;
      }
    }
  }
  long long rss = peak_rss();
  double kv_bytes = kv_per_position * (double)context;
  double arena_bytes = (double)d->arena_bytes;
  if (out == FORMAT_MD)
    print_markdown(d, results, count, &threads, bandwidth, load_ms, first_ms, (int)threads.v[0],
                   rss, rss_exact, kv_bytes, arena_bytes);
  else if (out == FORMAT_JSON)
    print_json(d, results, count, (int)repetitions, &threads, bandwidth, load_ms, first_ms, rss,
               kv_bytes, arena_bytes);
  else
    print_csv(d, results, count);
  status = 0;
done:
  tern_session_destroy(session);
  free(results);
  free(seconds);
  free(bandwidth);
  free(tokens);
  free(logits);
  return status;
}
