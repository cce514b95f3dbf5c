/* options.c - the compiled executable's options: one table, parsed and checked. */
/* strtok_r under -std=c11. */
#define _GNU_SOURCE

#include "cli.h"

#include "tern/sampler.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char kUsage[] =
    "usage: %s (-p TEXT | -f FILE | --tokens ID[,ID...]) [options]\n"
    "       %s --embedding (-p TEXT | -f FILE | --tokens ID[,ID...]) [options]\n"
    "       %s --perplexity (-f FILE | -p TEXT | --tokens ID[,ID...]) [-c N] [--chunks N]\n"
    "             [--kl-divergence-base FILE] [options]\n"
    "       %s --kl-divergence --kl-divergence-base FILE [--chunks N] [options]\n"
    "       %s -cnv [-p SYSTEM] [options]\n"
    "       %s --server [--host ADDR] [--port N] [options]\n"
    "\n"
    "Runs this compiled model from position 0 on a prompt. Without -n it prints the most likely\n"
    "next token after each position; with -n it generates text (or token ids after --tokens).\n"
    "-cnv chats on stdin; --server answers OpenAI-compatible HTTP requests (an embedding model:\n"
    "/v1/embeddings); --perplexity scores a text as llama-perplexity does.\n"
    "\n"
    "options:\n"
    "  -p, --prompt TEXT    the prompt, tokenized with the model's tokenizer (BOS first; added\n"
    "                       tokens such as <|eot_id|> written in it are recognized)\n"
    "  -f, --file FILE      the prompt, read from FILE\n"
    "  --tokens LIST        the prompt as comma-separated token ids\n"
    "  -cnv, --conversation chat on stdin, rendered by the model's chat template (compiled in\n"
    "                       from the checkpoint); -p is the system message, -n caps each reply\n"
    "  --embedding          an embedding model: print the prompt's vector (pooled and\n"
    "                       normalized as the model says) on one line\n"
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
    "  --perplexity         the perplexity of the text: its tokens in chunks of -c (default\n"
    "                       512, at most the compiled context), each run from position 0 with\n"
    "                       the BOS first and scored on its second half (llama-perplexity's\n"
    "                       convention); prints the running estimate per chunk, then\n"
    "                       'Final estimate: PPL = X +/- E' (E: one standard error)\n"
    "  --chunks N           score only the first N chunks\n"
    "  --kl-divergence-base FILE\n"
    "                       with --perplexity: also write the scored positions' logits and the\n"
    "                       tokens to FILE (float32: chunks x (c - 1 - c/2) x vocab x 4\n"
    "                       bytes)\n"
    "  --kl-divergence      compare this model with the one that wrote --kl-divergence-base\n"
    "                       FILE on its tokens: KL divergence, top-1 agreement, Δp and\n"
    "                       PPL(Q) - PPL(base), as llama-perplexity reports them\n"
    "  --dump-logits FILE   write every position's logits: float32 [positions][vocab] to FILE,\n"
    "                       or text lines to stdout with '-'\n"
    "  -c, --ctx-size N     positions a session holds (its KV cache; default 0: the context\n"
    "                       the model was compiled for, which is also the most); with\n"
    "                       --perplexity, the chunk length\n"
    "  --chunk N            tokens per forward call (default: the compiled maximum; 1 runs the\n"
    "                       tokens one at a time, as decoding does)\n"
    "  -t, --threads N      worker threads (default: all CPUs)\n"
    "  --weights FILE       the weights file (default: the embedded weights, else the\n"
    "                       executable's path with the extension .weights)\n"
    "  --no-verify          skip the per-tensor checksums at start\n"
    "  --mmap               read the weights where they are mapped instead of loading\n"
    "                       them into (huge-page) memory: less memory while starting,\n"
    "                       slower decoding with several threads\n"
    "  --bench [N]          benchmark as llama-bench does, against the memory bandwidth\n"
    "                       measured in the same run; then -p, -n, -d and -t take lists:\n"
    "    -p, --n-prompt L   prompt lengths to time, pp<N> (default 128; 0: none)\n"
    "    -n, --n-gen L      tokens to generate, tg<N> (default 64; 0: none)\n"
    "    -d, --n-depth L    tokens already in the KV cache before each test (default 0)\n"
    "    -t, --threads L    thread counts (default: all CPUs)\n"
    "    -r, --repetitions N  runs of each test after a warm-up (default 5)\n"
    "    -o, --output F     md (default), json or csv\n"
    "                       lists are comma-separated (128,512) or ranges (1-4);\n"
    "                       --bench N is short for --bench -p 0 -n N\n"
    "  --server             serve /v1/completions, /v1/chat/completions (streamed or not),\n"
    "                       /v1/models, /health and /metrics (Prometheus) over HTTP until\n"
    "                       interrupted; busy sessions share each forward call\n"
    "  --host ADDR          the address to listen on (default 127.0.0.1)\n"
    "  --port N             the port (default 8080; 0 picks a free one, printed)\n"
    "  -np, --parallel N    requests generated at once, each in its own session (default 1)\n"
    "  --queue N            requests that may wait for a session; more are refused with\n"
    "                       HTTP 503 (default 16, at most 256)\n"
    "  --alias NAME         the model's name in the API (default: the executable's name)\n"
    "  --api-key KEY        require 'Authorization: Bearer KEY' on every endpoint but /health\n"
    "                       and /v1/models (also from the environment variable TERN_API_KEY)\n"
    "  --api-key-file FILE  the same, with the key read from the first line of FILE\n"
    "  --info               print what the model was compiled for and exit\n"
    "  --quiet              print only the requested output\n"
    "  -h, --help           print this help\n";

void tern_cli_print_usage(const char *program) {
  printf(kUsage, program, program, program, program, program, program);
}

int tern_cli_usage_error(const char *program, const char *message, const char *value) {
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

int tern_cli_parse_tokens(const char *list, int32_t **tokens, int64_t *n) {
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

typedef enum { OPT_FLAG, OPT_STRING, OPT_INT, OPT_NUMBER } option_kind;

typedef struct {
  const char *name, *alias;
  option_kind kind;
  size_t offset; /* into cli */
  double lo, hi; /* the accepted range of numbers */
  const char *expects;
} option;

#define FIELD(f) offsetof(tern_cli, f)
static const option kOptions[] = {
    {"--tokens", NULL, OPT_STRING, FIELD(tokens), 0, 0, NULL},
    {"--prompt", "-p", OPT_STRING, FIELD(prompt), 0, 0, NULL},
    {"--file", "-f", OPT_STRING, FIELD(file), 0, 0, NULL},
    {"--verbose-prompt", NULL, OPT_FLAG, FIELD(verbose_prompt), 0, 0, NULL},
    {"--conversation", "-cnv", OPT_FLAG, FIELD(conversation), 0, 0, NULL},
    {"--embedding", NULL, OPT_FLAG, FIELD(embedding), 0, 0, NULL},
    {"--dump-logits", NULL, OPT_STRING, FIELD(dump), 0, 0, NULL},
    {"--perplexity", NULL, OPT_FLAG, FIELD(perplexity), 0, 0, NULL},
    {"--chunks", NULL, OPT_INT, FIELD(chunks), 1, INT32_MAX, "a positive number of chunks"},
    {"--kl-divergence-base", NULL, OPT_STRING, FIELD(kl_base), 0, 0, NULL},
    {"--kl-divergence", NULL, OPT_FLAG, FIELD(kl_divergence), 0, 0, NULL},
    {"--weights", NULL, OPT_STRING, FIELD(weights), 0, 0, NULL},
    {"--ctx-size", "-c", OPT_INT, FIELD(context), 0, INT32_MAX, "a number of positions >= 0"},
    {"--chunk", NULL, OPT_INT, FIELD(chunk), 1, INT32_MAX, "a positive integer"},
    {"--threads", "-t", OPT_INT, FIELD(threads), 1, 1024, "a thread count in [1, 1024]"},
    {"--bench", NULL, OPT_FLAG, FIELD(bench), 0, 0, NULL},
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
    {"--mmap", NULL, OPT_FLAG, FIELD(map_weights), 0, 0, NULL},
    {"--server", NULL, OPT_FLAG, FIELD(server), 0, 0, NULL},
    {"--host", NULL, OPT_STRING, FIELD(host), 0, 0, NULL},
    {"--port", NULL, OPT_INT, FIELD(port), 0, 65535, "a port in [0, 65535]"},
    {"--parallel", "-np", OPT_INT, FIELD(parallel), 1, 256, "a number of sessions in [1, 256]"},
    {"--queue", NULL, OPT_INT, FIELD(queue), 0, 256, "a number of requests in [0, 256]"},
    {"--alias", NULL, OPT_STRING, FIELD(alias), 0, 0, NULL},
    {"--api-key", NULL, OPT_STRING, FIELD(api_key), 0, 0, NULL},
    {"--api-key-file", NULL, OPT_STRING, FIELD(api_key_file), 0, 0, NULL},
    {"--info", NULL, OPT_FLAG, FIELD(info), 0, 0, NULL},
    {"--quiet", NULL, OPT_FLAG, FIELD(quiet), 0, 0, NULL},
    {"--help", "-h", OPT_FLAG, FIELD(help), 0, 0, NULL},
};
/* --bench's options: in a benchmark, -p, -n, -d, -t, -r and -o are llama-bench's, kept as
 * given (bench.c parses the lists). */
static const option kBenchOptions[] = {
    {"--n-prompt", "-p", OPT_STRING, FIELD(bench_prompt), 0, 0, NULL},
    {"--n-gen", "-n", OPT_STRING, FIELD(bench_gen), 0, 0, NULL},
    {"--n-depth", "-d", OPT_STRING, FIELD(bench_depth), 0, 0, NULL},
    {"--threads", "-t", OPT_STRING, FIELD(bench_threads), 0, 0, NULL},
    {"--repetitions", "-r", OPT_STRING, FIELD(bench_repetitions), 0, 0, NULL},
    {"--output", "-o", OPT_STRING, FIELD(bench_output), 0, 0, NULL},
};

#undef FIELD

static const option *find_option(const option *table, size_t n, const char *a) {
  for (size_t k = 0; k < n; ++k)
    if (!strcmp(a, table[k].name) || (table[k].alias && !strcmp(a, table[k].alias)))
      return &table[k];
  return NULL;
}

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
int tern_cli_parse(int argc, char **argv, tern_cli *c) {
  const char *program = argv[0];
  memset(c, 0, sizeof *c);
  tern_sampler_params defaults = tern_sampler_default_params(0);
  c->temp = defaults.temperature, c->top_k = defaults.top_k, c->top_p = defaults.top_p;
  c->min_p = defaults.min_p, c->repeat_penalty = defaults.repeat_penalty;
  c->repeat_last_n = defaults.repeat_last_n, c->seed = -1;
  c->host = "127.0.0.1", c->port = 8080, c->parallel = 1, c->queue = 16;
  int bench = 0;
  for (int i = 1; i < argc; ++i)
    bench |= !strcmp(argv[i], "--bench");
  for (int i = 1; i < argc; ++i) {
    const char *a = argv[i];
    const option *o = NULL;
    if (bench)
      o = find_option(kBenchOptions, sizeof kBenchOptions / sizeof kBenchOptions[0], a);
    if (!o)
      o = find_option(kOptions, sizeof kOptions / sizeof kOptions[0], a);
    if (!o)
      return tern_cli_usage_error(program, "unknown argument", a);
    char *field = (char *)c + o->offset;
    if (o->kind == OPT_FLAG) {
      *(int *)field = 1;
      /* --bench N: the shorthand of --bench -p 0 -n N. */
      long long n;
      if (o->offset == offsetof(tern_cli, bench) && i + 1 < argc &&
          parse_int(argv[i + 1], 1, INT32_MAX, &n) == 0) {
        c->bench_decode = n;
        ++i;
      }
      continue;
    }
    if (i + 1 >= argc)
      return tern_cli_usage_error(program, "missing value after", a);
    const char *value = argv[++i];
    char message[128];
    snprintf(message, sizeof message, "%s expects %s", a, o->expects ? o->expects : "a value");
    if (o->kind == OPT_STRING) {
      *(const char **)field = value;
    } else if (o->kind == OPT_INT) {
      long long v;
      if (parse_int(value, (long long)o->lo, (long long)o->hi, &v) != 0)
        return tern_cli_usage_error(program, message, value);
      *(long long *)field = v;
    } else {
      double v;
      if (parse_number(value, o->lo, o->hi, &v) != 0)
        return tern_cli_usage_error(program, message, value);
      *(double *)field = v;
    }
  }
  return 0;
}


tern_session_options tern_cli_session_options(const tern_cli *c) {
  tern_session_options o;
  memset(&o, 0, sizeof o);
  o.context = c->context;
  return o;
}
