/* main.c - the standalone executable of a compiled model (linked in by ternc --emit=exe).
 *
 *   <model> --tokens 1,2,3 [--dump-logits FILE|-] [--chunk N] [-t N] [--weights FILE]
 *
 * Runs the tokens through the model from position 0 and prints, per position, the most likely
 * next token; --dump-logits writes every position's logits: raw little-endian float32
 * [positions][vocab] to FILE, or one text line per position to stdout with "-". With -n it
 * generates token ids after the prompt with llama.cpp's sampling (tern/sampler.h); text in and
 * out comes with the tokenizer. Options follow llama-cli's names. */
/* strtok_r, readlink, PATH_MAX, clock_gettime under -std=c11. */
#define _GNU_SOURCE

#include "tern/bandwidth.h"
#include "tern/lut_kernels.h"
#include "tern/model_abi.h"
#include "tern/sampler.h"
#include "tern/thread_pool.h"

#include <errno.h>
#include <stddef.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char kUsage[] =
    "usage: %s (-p TEXT | -f FILE | --tokens ID[,ID...]) [options]\n"
    "\n"
    "Runs this compiled model from position 0 on a prompt. Without -n it prints the most likely\n"
    "next token after each position; with -n it generates text (or token ids after --tokens).\n"
    "\n"
    "options:\n"
    "  -p, --prompt TEXT    the prompt, tokenized with the model's tokenizer (BOS first; added\n"
    "                       tokens such as <|eot_id|> written in it are recognized)\n"
    "  -f, --file FILE      the prompt, read from FILE\n"
    "  --tokens LIST        the prompt as comma-separated token ids\n"
    "  --verbose-prompt     print the prompt's token ids before running it\n"
    "  -n, --n-predict N    generate N tokens after the prompt (stops at the end-of-text token\n"
    "                       unless --ignore-eos)\n"
    "  --temp T             sampling temperature (default 0.8; 0 is greedy)\n"
    "  --top-k K            keep the K most likely tokens (default 40; 0 keeps all)\n"
    "  --top-p P            keep the most likely tokens up to probability P (default 0.95)\n"
    "  --min-p P            keep tokens at least P times as likely as the best (default 0.05)\n"
    "  --repeat-penalty X   penalize the last --repeat-last-n tokens (default 1.0: off)\n"
    "  --repeat-last-n N    how many tokens the penalty looks back (default 64; -1 all)\n"
    "  --seed S             the sampler's seed (default -1: a new one each run, printed)\n"
    "  --ignore-eos         keep generating after the end-of-text token\n"
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

/* Everything the command line sets. */
typedef struct {
  const char *tokens, *prompt, *file, *dump, *weights;
  long long chunk, threads, bench, n_predict, top_k, repeat_last_n, seed;
  double temp, top_p, min_p, repeat_penalty;
  int no_verify, info, quiet, ignore_eos, help, verbose_prompt;
} cli;

typedef enum { OPT_FLAG, OPT_STRING, OPT_INT, OPT_NUMBER } option_kind;

typedef struct {
  const char *name, *alias;
  option_kind kind;
  size_t offset; /* into cli */
  double lo, hi; /* the accepted range of numbers */
  const char *expects;
} option;

#define FIELD(f) offsetof(cli, f)
static const option kOptions[] = {
    {"--tokens", NULL, OPT_STRING, FIELD(tokens), 0, 0, NULL},
    {"--prompt", "-p", OPT_STRING, FIELD(prompt), 0, 0, NULL},
    {"--file", "-f", OPT_STRING, FIELD(file), 0, 0, NULL},
    {"--verbose-prompt", NULL, OPT_FLAG, FIELD(verbose_prompt), 0, 0, NULL},
    {"--dump-logits", NULL, OPT_STRING, FIELD(dump), 0, 0, NULL},
    {"--weights", NULL, OPT_STRING, FIELD(weights), 0, 0, NULL},
    {"--chunk", NULL, OPT_INT, FIELD(chunk), 1, INT32_MAX, "a positive integer"},
    {"--threads", "-t", OPT_INT, FIELD(threads), 1, 1024, "a thread count in [1, 1024]"},
    {"--bench", NULL, OPT_INT, FIELD(bench), 1, INT32_MAX, "a positive number of tokens"},
    {"--n-predict", "-n", OPT_INT, FIELD(n_predict), 1, INT32_MAX,
     "a positive number of tokens"},
    {"--temp", NULL, OPT_NUMBER, FIELD(temp), 0, 1e6, "a temperature >= 0"},
    {"--top-k", NULL, OPT_INT, FIELD(top_k), 0, INT32_MAX, "an integer >= 0"},
    {"--top-p", NULL, OPT_NUMBER, FIELD(top_p), 0, 1, "a probability in [0, 1]"},
    {"--min-p", NULL, OPT_NUMBER, FIELD(min_p), 0, 1, "a probability in [0, 1]"},
    {"--repeat-penalty", NULL, OPT_NUMBER, FIELD(repeat_penalty), 1e-6, 1e6,
     "a positive number"},
    {"--repeat-last-n", NULL, OPT_INT, FIELD(repeat_last_n), -1, INT32_MAX,
     "-1 (all), 0 (off) or a positive count"},
    {"--seed", NULL, OPT_INT, FIELD(seed), -1, 4294967295.0, "-1 (random) or a seed in [0, 2^32)"},
    {"--ignore-eos", NULL, OPT_FLAG, FIELD(ignore_eos), 0, 0, NULL},
    {"--no-verify", NULL, OPT_FLAG, FIELD(no_verify), 0, 0, NULL},
    {"--info", NULL, OPT_FLAG, FIELD(info), 0, 0, NULL},
    {"--quiet", NULL, OPT_FLAG, FIELD(quiet), 0, 0, NULL},
    {"--help", "-h", OPT_FLAG, FIELD(help), 0, 0, NULL},
};
#undef FIELD

/* A number in [lo, hi], all of s. */
static int parse_number(const char *s, double lo, double hi, double *out) {
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (errno || end == s || *end || !(v >= lo && v <= hi))
    return -1;
  *out = v;
  return 0;
}

/* Fills *c from argv; returns 0, or the exit status of a usage error (printed). */
static int parse_args(int argc, char **argv, cli *c) {
  const char *program = argv[0];
  memset(c, 0, sizeof *c);
  tern_sampler_params defaults = tern_sampler_default_params(0);
  c->temp = defaults.temperature, c->top_k = defaults.top_k, c->top_p = defaults.top_p;
  c->min_p = defaults.min_p, c->repeat_penalty = defaults.repeat_penalty;
  c->repeat_last_n = defaults.repeat_last_n, c->seed = -1;
  for (int i = 1; i < argc; ++i) {
    const char *a = argv[i];
    const option *o = NULL;
    for (size_t k = 0; k < sizeof kOptions / sizeof kOptions[0] && !o; ++k)
      if (!strcmp(a, kOptions[k].name) || (kOptions[k].alias && !strcmp(a, kOptions[k].alias)))
        o = &kOptions[k];
    if (!o)
      return usage_error(program, "unknown argument", a);
    char *field = (char *)c + o->offset;
    if (o->kind == OPT_FLAG) {
      *(int *)field = 1;
      continue;
    }
    if (i + 1 >= argc)
      return usage_error(program, "missing value after", a);
    const char *value = argv[++i];
    char message[128];
    snprintf(message, sizeof message, "%s expects %s", a, o->expects ? o->expects : "a value");
    if (o->kind == OPT_STRING) {
      *(const char **)field = value;
    } else if (o->kind == OPT_INT) {
      long long v;
      if (parse_int(value, (long long)o->lo, (long long)o->hi, &v) != 0)
        return usage_error(program, message, value);
      *(long long *)field = v;
    } else {
      double v;
      if (parse_number(value, o->lo, o->hi, &v) != 0)
        return usage_error(program, message, value);
      *(double *)field = v;
    }
  }
  return 0;
}

/* Text printed as tokens arrive: bytes of a UTF-8 character split across tokens wait until
 * the character is complete. */
typedef struct {
  char pending[8];
  size_t n;
} text_stream;

/* The length of the longest prefix of p[0, n) that ends on a whole UTF-8 character. */
static size_t complete_utf8(const char *p, size_t n) {
  size_t i = n;
  while (i > 0 && n - i < 4 && ((unsigned char)p[i - 1] & 0xc0) == 0x80)
    --i;
  if (i == 0)
    return n; /* no lead byte: print as is */
  unsigned char lead = (unsigned char)p[i - 1];
  size_t need = lead < 0x80 ? 1 : (lead >> 5) == 6 ? 2 : (lead >> 4) == 14 ? 3 : 4;
  return n - (i - 1) >= need ? n : i - 1;
}

static int print_text(tern_model *model, const int32_t *ids, int64_t n, text_stream *s) {
  char error[256];
  int64_t size = tern_model_detokenize(model, ids, n, NULL, 0, error, sizeof error);
  if (size < 0) {
    fprintf(stderr, "error: %s\n", error);
    return -1;
  }
  char *buffer = malloc(s->n + (size_t)size + 1);
  if (!buffer)
    return -1;
  memcpy(buffer, s->pending, s->n);
  tern_model_detokenize(model, ids, n, buffer + s->n, (size_t)size, error, sizeof error);
  size_t total = s->n + (size_t)size, whole = complete_utf8(buffer, total);
  if (total - whole >= sizeof s->pending)
    whole = total;
  fwrite(buffer, 1, whole, stdout);
  s->n = total - whole;
  memcpy(s->pending, buffer + whole, s->n);
  free(buffer);
  return 0;
}

/* -n: the prompt, then up to n_predict sampled tokens, printed as they come. */
static int run_generate(const char *program, tern_model *model, const cli *c,
                        const int32_t *prompt, int64_t n, double t0) {
  const tern_model_desc *d = tern_model_describe(model);
  tern_sampler_params p = tern_sampler_default_params(0);
  p.temperature = (float)c->temp, p.top_k = (int32_t)c->top_k, p.top_p = (float)c->top_p;
  p.min_p = (float)c->min_p, p.repeat_penalty = (float)c->repeat_penalty;
  p.repeat_last_n = (int32_t)c->repeat_last_n;
  /* A random seed is printed in the range --seed takes, so the run can be repeated. */
  p.seed = c->seed >= 0 ? (uint64_t)c->seed
                        : (uint32_t)((uint64_t)time(NULL) ^ ((uint64_t)getpid() * 2654435761u));
  char error[512];
  if (tern_sampler_check_params(&p, error, sizeof error) != 0)
    return usage_error(program, error, NULL);
  int64_t total = n + c->n_predict;
  int32_t *history = malloc(sizeof(int32_t) * (size_t)total);
  float *logits = malloc(sizeof(float) * (size_t)d->vocab);
  tern_sampler *sampler = tern_sampler_create(&p, d->vocab);
  tern_session *session = NULL;
  int status = 1;
  if (!history || !logits || !sampler) {
    fprintf(stderr, "%s: error: out of memory\n", program);
  } else if (tern_session_create(model, &session, error, sizeof error) != 0) {
    fprintf(stderr, "%s: error: %s\n", program, error);
  } else {
    memcpy(history, prompt, sizeof(int32_t) * (size_t)n);
    double loaded = now();
    int64_t made = 0;
    status = 0;
    if (tern_session_eval_last(session, prompt, n, c->chunk, logits, error, sizeof error) != 0) {
      fprintf(stderr, "%s: error: %s\n", program, error);
      status = 1;
    }
    double prompted = now();
    int text = c->tokens == NULL; /* a text prompt gets text back */
    text_stream out = {{0}, 0};
    /* The prompt echoed as text, without the BOS the tokenizer put first. */
    int64_t skip = n > 0 && prompt[0] == d->bos_token ? 1 : 0;
    if (status == 0 && text && !c->quiet &&
        print_text(model, prompt + skip, n - skip, &out) != 0)
      status = 1;
    if (!c->quiet && status == 0 && !text)
      printf("generated:");
    int32_t eot = text ? tern_model_token_id(model, "<|eot_id|>") : -1;
    while (status == 0 && made < c->n_predict) {
      int32_t next = tern_sampler_sample(sampler, logits, history, n + made);
      history[n + made++] = next;
      if (text) {
        if (print_text(model, &next, 1, &out) != 0)
          status = 1;
      } else {
        printf(c->quiet && made == 1 ? "%d" : " %d", (int)next);
      }
      fflush(stdout);
      if ((next == d->eos_token || (eot >= 0 && next == eot)) && !c->ignore_eos)
        break;
      if (made == c->n_predict)
        break;
      if (tern_session_eval(session, &next, 1, 1, logits, error, sizeof error) != 0) {
        fprintf(stderr, "\n%s: stopped after %lld tokens: %s\n", program, (long long)made,
                error);
        status = 1;
      }
    }
    printf("\n");
    fflush(stdout); /* before the timing on stderr */
    double done = now();
    if (!c->quiet)
      fprintf(stderr,
              "%s: load %.1f ms; prompt %lld tokens in %.1f ms (%.1f tokens/s); generated %lld "
              "tokens in %.1f ms (%.1f tokens/s); seed %llu\n",
              program, 1e3 * (loaded - t0), (long long)n, 1e3 * (prompted - loaded),
              (double)n / (prompted - loaded), (long long)made, 1e3 * (done - prompted),
              made > 1 ? (double)(made - 1) / (done - prompted) : 0.0,
              (unsigned long long)p.seed);
  }
  tern_session_destroy(session);
  tern_sampler_free(sampler);
  free(logits);
  free(history);
  return status;
}

/* The default: every position's most likely next token, and --dump-logits. */
static int run_logits(const char *program, tern_model *model, const cli *c,
                      const int32_t *tokens, int64_t n, double t0) {
  const tern_model_desc *d = tern_model_describe(model);
  const char *dump = c->dump;
  char error[512];
  double loaded = now();
  int status = 1;
  tern_session *session = NULL;
  float *logits = malloc(sizeof(float) * (size_t)(n * d->vocab));
  if (!logits) {
    fprintf(stderr, "%s: error: out of memory for %lld x %lld logits\n", program, (long long)n,
            (long long)d->vocab);
  } else if (tern_session_create(model, &session, error, sizeof error) != 0 ||
             tern_session_eval(session, tokens, n, c->chunk, logits, error, sizeof error) != 0) {
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
    if (!c->quiet && !(dump && !strcmp(dump, "-"))) {
      for (int64_t t = 0; t < n; ++t) {
        const float *row = logits + t * d->vocab;
        int64_t best = argmax(row, d->vocab);
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
  return status;
}

/* The -p text or the -f file's content, tokenized (BOS first, added tokens recognized). */
static int tokenize_prompt(const char *program, tern_model *model, const cli *c,
                           int32_t **tokens, int64_t *n) {
  char *text = NULL;
  size_t size = 0;
  if (c->file) {
    FILE *f = fopen(c->file, "rb");
    if (!f) {
      fprintf(stderr, "%s: error: cannot read %s: %s\n", program, c->file, strerror(errno));
      return 1;
    }
    char chunk[65536];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) {
      char *grown = realloc(text, size + got);
      if (!grown) {
        free(text);
        fclose(f);
        return 1;
      }
      text = grown;
      memcpy(text + size, chunk, got);
      size += got;
    }
    fclose(f);
  } else {
    size = strlen(c->prompt);
    text = malloc(size + 1);
    if (!text)
      return 1;
    memcpy(text, c->prompt, size);
  }
  char error[256];
  int64_t count = tern_model_tokenize(model, text ? text : "", size, 1, 1, NULL, 0, error,
                                      sizeof error);
  *tokens = count > 0 ? malloc(sizeof(int32_t) * (size_t)count) : NULL;
  if (count > 0 && *tokens)
    count = tern_model_tokenize(model, text, size, 1, 1, *tokens, count, error, sizeof error);
  free(text);
  if (count <= 0 || !*tokens) {
    fprintf(stderr, "%s: error: %s: %s\n", program, c->file ? c->file : "the prompt",
            count == 0 ? "no tokens" : error);
    return 1;
  }
  *n = count;
  return 0;
}

static void print_ids(const char *program, const int32_t *ids, int64_t n) {
  fprintf(stderr, "%s: prompt of %lld tokens:", program, (long long)n);
  for (int64_t i = 0; i < n; ++i)
    fprintf(stderr, " %d", (int)ids[i]);
  fprintf(stderr, "\n");
}

/* --info: what the model was compiled for (and, for x86-64-multi, what dispatch chose). */
static void print_info(const tern_model_desc *d, const char *weights) {
  printf("family: %s\ntarget: %s\nvocab: %lld\nlayers: %lld\ncontext: %lld\n"
         "max_tokens: %lld\narena_bytes: %lld\nweights: %s\n",
         d->family, d->target, (long long)d->vocab, (long long)d->layers, (long long)d->context,
         (long long)d->max_tokens, (long long)d->arena_bytes, weights ? weights : "embedded");
  if (!strcmp(d->target, "x86-64-multi")) {
    /* TERN_CPU_DISABLE applies. */
    tern_cpu_features_t cpu = tern_cpu_features();
    printf("dispatch: i2 %s, tl1 %s, tl2 %s, decoder %s\n", tern_gemm_i2_select(cpu)->name,
           tern_gemm_tl1_select(cpu)->name, tern_gemm_tl2_select(cpu)->name,
           tern_decoder_select(cpu)->name);
  }
}

int main(int argc, char **argv) {
  const char *program = argc > 0 ? argv[0] : "model";
  cli c;
  int usage = parse_args(argc, argv, &c);
  if (usage != 0)
    return usage;
  if (c.help) {
    printf(kUsage, program);
    return 0;
  }
  if (c.n_predict > 0 && c.dump)
    return usage_error(program, "--dump-logits writes the prompt's logits; it does not combine "
                                "with -n", NULL);

  char error[512];
  const char *weights = c.weights;
  char *default_path = NULL;
  if (!weights && !tern_model_has_embedded_weights())
    weights = default_path = default_weights_path();
  double t0 = now();
  tern_model *model;
  if (tern_model_open(weights, !c.no_verify, &model, error, sizeof error) != 0) {
    fprintf(stderr, "%s: error: %s\n", program, error);
    free(default_path);
    return 1;
  }
  int status;
  int32_t *tokens = NULL;
  int64_t n = 0;
  if (c.threads > 0)
    tern_set_num_threads((int)c.threads);
  if (c.info) {
    print_info(tern_model_describe(model), weights);
    status = 0;
  } else if (c.bench > 0) {
    status = run_bench(program, model, c.tokens, c.bench, t0);
  } else if (!!c.tokens + !!c.prompt + !!c.file != 1) {
    status = usage_error(program, c.tokens || c.prompt || c.file
                                      ? "give one prompt: -p, -f or --tokens"
                                      : "a prompt is required (-p TEXT, -f FILE or --tokens)",
                         NULL);
  } else if (c.tokens && (parse_tokens(c.tokens, &tokens, &n) != 0 || n == 0)) {
    status = usage_error(program, "--tokens expects comma-separated non-negative integers",
                         c.tokens);
  } else if (!c.tokens && tokenize_prompt(program, model, &c, &tokens, &n) != 0) {
    status = 1;
  } else {
    if (c.verbose_prompt)
      print_ids(program, tokens, n);
    status = c.n_predict > 0 ? run_generate(program, model, &c, tokens, n, t0)
                             : run_logits(program, model, &c, tokens, n, t0);
  }
  free(tokens);
  tern_model_close(model);
  free(default_path);
  return status;
}
