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

#include "tern/model.h"
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

int main(int argc, char **argv) {
  const char *program = argc > 0 ? argv[0] : "model";
  const char *token_list = NULL, *dump = NULL, *weights = NULL;
  long long chunk = 0, threads = 0;
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
               !strcmp(a, "-t") || !strcmp(a, "--threads") || !strcmp(a, "--weights")) {
      if (!next)
        return usage_error(program, "missing value after", a);
      ++i;
      if (!strcmp(a, "--tokens"))
        token_list = next;
      else if (!strcmp(a, "--dump-logits"))
        dump = next;
      else if (!strcmp(a, "--weights"))
        weights = next;
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
    tern_model_close(model);
    free(default_path);
    return 0;
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
  if (threads > 0)
    tern_set_num_threads((int)threads);
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
