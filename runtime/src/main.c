/* main.c - the standalone executable of a compiled model (linked in by ternc --emit=exe).
 *
 *   <model> --tokens 1,2,3 [--dump-logits FILE|-] [--chunk N] [-t N] [--weights FILE]
 *
 * Runs the tokens through the model from position 0 and prints, per position, the most likely
 * next token. --dump-logits writes every position's logits: raw little-endian float32
 * [positions][vocab] to FILE, or one text line per position to stdout with "-". Text generation
 * around this comes with the runtime issue. */
/* strtok_r, readlink, PATH_MAX, clock_gettime under -std=c11. */
#define _GNU_SOURCE

#include "tern/bandwidth.h"
#include "tern/lut_kernels.h"
#include "tern/model_abi.h"
#include "tern/thread_pool.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char kUsage[] =
    "usage: %s --tokens ID[,ID...] [options]\n"
    "\n"
    "Runs this compiled model on token ids from position 0 and prints the most likely next\n"
    "token after each position.\n"
    "\n"
    "options:\n"
    "  --tokens LIST        comma-separated token ids (required)\n"
    "  --dump-logits FILE   write every position's logits: float32 [positions][vocab] to FILE,\n"
    "                       or text lines to stdout with '-'\n"
    "  --chunk N            tokens per forward call (default: the compiled maximum; 1 runs the\n"
    "                       tokens one at a time, as decoding does)\n"
    "  -t, --threads N      worker threads (default: all CPUs)\n"
    "  --weights FILE       the weights file (default: the embedded weights, else the\n"
    "                       executable's path with the extension .weights)\n"
    "  --no-verify          skip the per-tensor checksums at start\n"
    "  --bench N            after the tokens (default: the BOS token), decode N tokens greedily\n"
    "                       and report tokens/s against the memory bandwidth measured here\n"
    "  --info               print what the model was compiled for and exit\n"
    "  --quiet              print only the requested output\n"
    "  -h, --help           print this help\n";

static int usage_error(const char *program, const char *message, const char *value) {
  fprintf(stderr, "%s: error: %s%s%s\n", program, message, value ? ": " : "", value ? value : "");
  fprintf(stderr, "run '%s --help' for the options\n", program);
  return 2;
}

/* A decimal integer in [lo, hi], all of s. */
static int parse_int(const char *s, long long lo, long long hi, long long *out) {
  char *end;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (errno || end == s || *end || v < lo || v > hi)
    return -1;
  *out = v;
  return 0;
}

static int parse_tokens(const char *list, int32_t **tokens, int64_t *n) {
  int64_t count = 1;
  for (const char *p = list; *p; ++p)
    count += *p == ',';
  *tokens = malloc(sizeof(int32_t) * (size_t)count);
  if (!*tokens)
    return -1;
  char *copy = strdup(list);
  if (!copy)
    return -1;
  int64_t i = 0;
  char *save = NULL;
  for (char *part = strtok_r(copy, ",", &save); part; part = strtok_r(NULL, ",", &save)) {
    long long v;
    if (parse_int(part, 0, INT32_MAX, &v) != 0) {
      free(copy);
      return -1;
    }
    (*tokens)[i++] = (int32_t)v;
  }
  free(copy);
  *n = i;
  return i == count ? 0 : -1;
}

/* <this executable without its extension>.weights */
static char *default_weights_path(void) {
  char exe[PATH_MAX];
  ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (len <= 0)
    return NULL;
  exe[len] = 0;
  char *slash = strrchr(exe, '/');
  char *dot = strrchr(slash ? slash : exe, '.');
  if (dot && dot != slash + 1)
    *dot = 0;
  size_t size = strlen(exe) + sizeof(".weights");
  char *path = malloc(size);
  if (path)
    snprintf(path, size, "%s.weights", exe);
  return path;
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}


static int64_t argmax(const float *row, int64_t n) {
  int64_t best = 0;
  for (int64_t v = 1; v < n; ++v)
    if (row[v] > row[best])
      best = v;
  return best;
}

/* --bench: the prompt, then `steps` greedy decode steps, against the read bandwidth measured
 * in this process (the physical limit of decoding: every weight is streamed once per token). */
static int run_bench(const char *program, tern_model *model, const char *token_list,
                     long long steps, double t0) {
  const tern_model_desc *d = tern_model_describe(model);
  double loaded = now();
  int32_t *prompt = NULL;
  int64_t n = 1;
  if (token_list) {
    if (parse_tokens(token_list, &prompt, &n) != 0 || n == 0) {
      free(prompt);
      return usage_error(program, "--tokens expects comma-separated non-negative integers",
                         token_list);
    }
  } else {
    prompt = malloc(sizeof(int32_t));
    if (!prompt)
      return 1;
    prompt[0] = d->bos_token >= 0 ? (int32_t)d->bos_token : 0;
  }
  char error[512];
  tern_session *session = NULL;
  float *logits = malloc(sizeof(float) * (size_t)d->vocab);
  int status = 1;
  if (!logits || tern_session_create(model, &session, error, sizeof error) != 0) {
    fprintf(stderr, "%s: error: %s\n", program, logits ? error : "out of memory");
  } else {
    double start = now();
    if (tern_session_eval_last(session, prompt, n, 0, logits, error, sizeof error) != 0) {
      fprintf(stderr, "%s: error: %s\n", program, error);
    } else {
      double prefilled = now();
      int32_t next = (int32_t)argmax(logits, d->vocab);
      long long done = 0;
      for (; done < steps; ++done) {
        if (tern_session_eval(session, &next, 1, 1, logits, error, sizeof error) != 0) {
          fprintf(stderr, "%s: stopped after %lld tokens: %s\n", program, done, error);
          break;
        }
        next = (int32_t)argmax(logits, d->vocab);
      }
      double decoded = now();
      double gbs = tern_measure_read_bandwidth((size_t)1 << 30, 3);
      double tps = (double)done / (decoded - prefilled);
      double need = (double)d->weights_bytes_per_token / 1e9;
      printf("model:     %s for %s, %d threads, load %.1f ms\n", d->family, d->target,
             tern_get_num_threads(), 1e3 * (loaded - t0));
      printf("prompt:    %lld tokens in %.1f ms (%.1f tokens/s)\n", (long long)n,
             1e3 * (prefilled - start), (double)n / (prefilled - start));
      printf("decode:    %lld tokens in %.1f ms (%.2f tokens/s, %.2f ms/token)\n", done,
             1e3 * (decoded - prefilled), tps, 1e3 * (decoded - prefilled) / (double)done);
      printf("limit:     %.1f MB of weights per token; read bandwidth %.1f GB/s measured now "
             "-> at most %.2f tokens/s\n",
             need * 1e3, gbs, gbs / need);
      printf("achieved:  %.1f GB/s of weights, %.0f%% of the bandwidth limit\n", need * tps,
             100.0 * need * tps / gbs);
      status = done == steps ? 0 : 1;
    }
  }
  tern_session_destroy(session);
  free(logits);
  free(prompt);
  return status;
}

int main(int argc, char **argv) {
  const char *program = argc > 0 ? argv[0] : "model";
  const char *token_list = NULL, *dump = NULL, *weights = NULL;
  long long chunk = 0, threads = 0, bench = 0;
  int verify = 1, info = 0, quiet = 0;
  for (int i = 1; i < argc; ++i) {
    const char *a = argv[i];
    const char *next = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
      printf(kUsage, program);
      return 0;
    } else if (!strcmp(a, "--no-verify")) {
      verify = 0;
    } else if (!strcmp(a, "--info")) {
      info = 1;
    } else if (!strcmp(a, "--quiet")) {
      quiet = 1;
    } else if (!strcmp(a, "--tokens") || !strcmp(a, "--dump-logits") || !strcmp(a, "--chunk") ||
               !strcmp(a, "-t") || !strcmp(a, "--threads") || !strcmp(a, "--weights") ||
               !strcmp(a, "--bench")) {
      if (!next)
        return usage_error(program, "missing value after", a);
      ++i;
      if (!strcmp(a, "--tokens"))
        token_list = next;
      else if (!strcmp(a, "--dump-logits"))
        dump = next;
      else if (!strcmp(a, "--weights"))
        weights = next;
      else if (!strcmp(a, "--bench") && parse_int(next, 1, INT32_MAX, &bench) != 0)
        return usage_error(program, "--bench expects a positive number of tokens", next);
      else if (!strcmp(a, "--bench"))
        continue;
      else if (!strcmp(a, "--chunk") ? parse_int(next, 1, INT32_MAX, &chunk) != 0
                                     : parse_int(next, 1, 1024, &threads) != 0)
        return usage_error(program, !strcmp(a, "--chunk")
                                        ? "--chunk expects a positive integer"
                                        : "-t expects a thread count in [1, 1024]",
                           next);
    } else {
      return usage_error(program, "unknown argument", a);
    }
  }

  char error[512];
  char *default_path = NULL;
  if (!weights && !tern_model_has_embedded_weights())
    weights = default_path = default_weights_path();
  double t0 = now();
  tern_model *model;
  if (tern_model_open(weights, verify, &model, error, sizeof error) != 0) {
    fprintf(stderr, "%s: error: %s\n", program, error);
    free(default_path);
    return 1;
  }
  const tern_model_desc *d = tern_model_describe(model);
  if (info) {
    printf("family: %s\ntarget: %s\nvocab: %lld\nlayers: %lld\ncontext: %lld\n"
           "max_tokens: %lld\narena_bytes: %lld\nweights: %s\n",
           d->family, d->target, (long long)d->vocab, (long long)d->layers,
           (long long)d->context, (long long)d->max_tokens, (long long)d->arena_bytes,
           weights ? weights : "embedded");
    if (!strcmp(d->target, "x86-64-multi")) {
      /* What run-time dispatch chose on this CPU (TERN_CPU_DISABLE applies). */
      tern_cpu_features_t cpu = tern_cpu_features();
      printf("dispatch: i2 %s, tl1 %s, tl2 %s, decoder %s\n", tern_gemm_i2_select(cpu)->name,
             tern_gemm_tl1_select(cpu)->name, tern_gemm_tl2_select(cpu)->name,
             tern_decoder_select(cpu)->name);
    }
    tern_model_close(model);
    free(default_path);
    return 0;
  }
  if (threads > 0)
    tern_set_num_threads((int)threads);
  if (bench > 0) {
    int status = run_bench(program, model, token_list, bench, t0);
    tern_model_close(model);
    free(default_path);
    return status;
  }
  if (!token_list) {
    tern_model_close(model);
    free(default_path);
    return usage_error(program, "--tokens is required", NULL);
  }
  int32_t *tokens = NULL;
  int64_t n = 0;
  if (parse_tokens(token_list, &tokens, &n) != 0 || n == 0) {
    free(tokens);
    tern_model_close(model);
    free(default_path);
    return usage_error(program, "--tokens expects comma-separated non-negative integers",
                       token_list);
  }
  double loaded = now();

  int status = 1;
  tern_session *session = NULL;
  float *logits = malloc(sizeof(float) * (size_t)(n * d->vocab));
  if (!logits) {
    fprintf(stderr, "%s: error: out of memory for %lld x %lld logits\n", program, (long long)n,
            (long long)d->vocab);
  } else if (tern_session_create(model, &session, error, sizeof error) != 0 ||
             tern_session_eval(session, tokens, n, chunk, logits, error, sizeof error) != 0) {
    fprintf(stderr, "%s: error: %s\n", program, error);
  } else {
    double done = now();
    status = 0;
    if (dump && !strcmp(dump, "-")) {
      for (int64_t t = 0; t < n; ++t)
        for (int64_t v = 0; v < d->vocab; ++v)
          printf("%.9g%c", logits[t * d->vocab + v], v + 1 == d->vocab ? '\n' : ' ');
    } else if (dump) {
      FILE *f = fopen(dump, "wb");
      if (!f || fwrite(logits, sizeof(float), (size_t)(n * d->vocab), f) !=
                    (size_t)(n * d->vocab)) {
        fprintf(stderr, "%s: error: cannot write %s: %s\n", program, dump, strerror(errno));
        status = 1;
      }
      if (f && fclose(f) != 0 && status == 0) {
        fprintf(stderr, "%s: error: cannot write %s: %s\n", program, dump, strerror(errno));
        status = 1;
      }
    }
    if (!quiet && !(dump && !strcmp(dump, "-"))) {
      for (int64_t t = 0; t < n; ++t) {
        const float *row = logits + t * d->vocab;
        int64_t best = 0;
        for (int64_t v = 1; v < d->vocab; ++v)
          if (row[v] > row[best])
            best = v;
        printf("position %lld: token %d -> next %lld (logit %.4f)\n", (long long)t,
               (int)tokens[t], (long long)best, row[best]);
      }
      fprintf(stderr, "%s: %s for %s; load %.1f ms, %lld tokens in %.1f ms (%.1f tokens/s)\n",
              program, d->family, d->target, 1e3 * (loaded - t0), (long long)n,
              1e3 * (done - loaded), (double)n / (done - loaded));
    }
  }
  tern_session_destroy(session);
  free(logits);
  free(tokens);
  tern_model_close(model);
  free(default_path);
  return status;
}
