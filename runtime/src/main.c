/* main.c - the standalone executable of a compiled model (linked in by ternc --emit=exe).
 *
 *   <model> (-p TEXT | -f FILE | --tokens 1,2,3) [-n N] [sampling] [--dump-logits FILE|-] ...
 *
 * Runs the prompt from position 0. Without -n it prints, per position, the most likely next
 * token; --dump-logits writes every position's logits: raw little-endian float32
 * [positions][vocab] to FILE, or one text line per position to stdout with "-". With -n it
 * generates (cli/generate.c); --bench measures decoding (cli/bench.c). Options follow
 * llama-cli's names (cli/options.c). */
/* readlink, PATH_MAX, clock_gettime under -std=c11. */
#define _GNU_SOURCE

#include "cli/cli.h"

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

double tern_cli_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}


int64_t tern_cli_argmax(const float *row, int64_t n) {
  int64_t best = 0;
  for (int64_t v = 1; v < n; ++v)
    if (row[v] > row[best])
      best = v;
  return best;
}

/* The default: every position's most likely next token, and --dump-logits (an embedding
 * model's rows are its hidden states). */
static int run_logits(const char *program, tern_model *model, const tern_cli *c,
                      const int32_t *tokens, int64_t n, double t0) {
  const tern_model_desc *d = tern_model_describe(model);
  const char *dump = c->dump;
  char error[512];
  double loaded = tern_cli_now();
  int status = 1;
  tern_session *session = NULL;
  tern_session_options session_options = tern_cli_session_options(c);
  float *logits = malloc(sizeof(float) * (size_t)(n * d->output_width));
  if (!logits) {
    fprintf(stderr, "%s: error: out of memory for %lld x %lld logits\n", program, (long long)n,
            (long long)d->output_width);
  } else if (tern_session_create(model, &session_options, &session, error, sizeof error) != 0 ||
             tern_session_eval(session, tokens, n, c->chunk, logits, error, sizeof error) != 0) {
    fprintf(stderr, "%s: error: %s\n", program, error);
  } else {
    double done = tern_cli_now();
    status = 0;
    if (dump && !strcmp(dump, "-")) {
      for (int64_t t = 0; t < n; ++t)
        for (int64_t v = 0; v < d->output_width; ++v)
          printf("%.9g%c", logits[t * d->output_width + v], v + 1 == d->output_width ? '\n' : ' ');
    } else if (dump) {
      FILE *f = fopen(dump, "wb");
      if (!f || fwrite(logits, sizeof(float), (size_t)(n * d->output_width), f) !=
                    (size_t)(n * d->output_width)) {
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
        const float *row = logits + t * d->output_width;
        int64_t best = tern_cli_argmax(row, d->output_width);
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
static int tokenize_prompt(const char *program, tern_model *model, const tern_cli *c,
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
  int64_t count = c->embedding ? tern_cli_tokenize_embedding(model, text ? text : "", size,
                                                             tokens, error, sizeof error)
                               : tern_cli_tokenize(model, text ? text : "", size, 1, tokens,
                                                   error, sizeof error);
  free(text);
  if (count <= 0) {
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
  static const char *const kPooling[] = {"none", "last", "mean", "cls"};
  printf("family: %s\ntarget: %s\nvocab: %lld\nlayers: %lld\ncontext: %lld\n"
         "max_tokens: %lld\narena_bytes: %lld\nweights: %s\n",
         d->family, d->target, (long long)d->vocab, (long long)d->layers, (long long)d->context,
         (long long)d->max_tokens, (long long)d->arena_bytes, weights ? weights : "embedded");
  if (d->pooling != TERN_POOLING_NONE)
    printf("embedding: %lld floats, pooling %s%s\n", (long long)d->output_width,
           d->pooling >= 0 && d->pooling <= 3 ? kPooling[d->pooling] : "?",
           d->normalize ? ", normalized" : "");
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
  tern_cli c;
  int usage = tern_cli_parse(argc, argv, &c);
  if (usage != 0)
    return usage;
  if (c.help) {
    tern_cli_print_usage(program);
    return 0;
  }
  if (c.n_predict > 0 && c.dump)
    return tern_cli_usage_error(program, "--dump-logits writes the prompt's logits; it does not combine "
                                "with -n", NULL);
  int scoring = c.perplexity || c.kl_divergence;
  if (c.kl_base && !scoring)
    return tern_cli_usage_error(program, "--kl-divergence-base goes with --perplexity (write it) "
                                "or --kl-divergence (compare with it)", NULL);
  if (c.kl_divergence && !c.kl_base)
    return tern_cli_usage_error(program, "--kl-divergence compares with the logits of "
                                "--kl-divergence-base FILE", NULL);
  if (c.kl_divergence && c.perplexity)
    return tern_cli_usage_error(program, "--kl-divergence reports both models' perplexity; "
                                "--perplexity with --kl-divergence-base writes the base", NULL);
  if (c.kl_divergence && (c.tokens || c.prompt || c.file))
    return tern_cli_usage_error(program, "--kl-divergence takes its tokens from the "
                                "--kl-divergence-base file (-p, -f and --tokens do not apply)",
                                NULL);
  if (c.chunks && !scoring)
    return tern_cli_usage_error(program, "--chunks goes with --perplexity or --kl-divergence",
                                NULL);
  if (scoring && (c.n_predict > 0 || c.dump || c.conversation || c.server || c.bench ||
                  c.embedding))
    return tern_cli_usage_error(program, "--perplexity and --kl-divergence score a text; -n, "
                                "--dump-logits, -cnv, --server, --bench and --embedding do not "
                                "apply", NULL);
  if (c.embedding && (c.n_predict > 0 || c.dump || c.conversation || c.server || c.bench))
    return tern_cli_usage_error(program, "--embedding prints the prompt's vector; -n, "
                                "--dump-logits, -cnv, --server and --bench do not apply", NULL);

  char error[512];
  const char *weights = c.weights;
  char *default_path = NULL;
  if (!weights && !tern_model_has_embedded_weights())
    weights = default_path = default_weights_path();
  double t0 = tern_cli_now();
  tern_model *model;
  tern_model_options options = tern_model_default_options();
  options.weights_path = weights;
  options.verify_data = !c.no_verify;
  options.map_weights = c.map_weights;
  if (c.threads > 0) /* before opening: loading the weights runs on the pool */
    tern_set_num_threads((int)c.threads);
  if (tern_model_open(&options, &model, error, sizeof error) != 0) {
    fprintf(stderr, "%s: error: %s\n", program, error);
    free(default_path);
    return 1;
  }
  int status;
  int32_t *tokens = NULL;
  int64_t n = 0;
  /* An embedding model's rows are hidden states: nothing samples or ranks them as logits. */
  int embedding_model = tern_model_describe(model)->pooling != TERN_POOLING_NONE;
  if (embedding_model && !c.info && !c.server && !c.embedding && !c.dump) {
    fprintf(stderr,
            "%s: error: this is an embedding model: --embedding prints a prompt's vector, "
            "--dump-logits its hidden states, --server answers /v1/embeddings (-n, -cnv, "
            "--bench, --perplexity and next-token predictions need a language model)\n",
            program);
    status = 1;
  } else if (c.info) {
    print_info(tern_model_describe(model), weights);
    status = 0;
  } else if (c.conversation) {
    status = c.tokens || c.file ? tern_cli_usage_error(program, "-cnv reads the conversation "
                                                                "from stdin; -p is its system "
                                                                "message",
                                                       NULL)
                                : tern_cli_chat(program, model, &c, t0);
  } else if (c.server) {
    status = c.tokens || c.file || c.prompt || c.n_predict || c.dump || c.bench
                 ? tern_cli_usage_error(program, "--server takes its prompts from HTTP requests "
                                                 "(-p, -f, --tokens, -n, --dump-logits and "
                                                 "--bench do not apply)",
                                        NULL)
                 : tern_cli_server(program, model, &c);
  } else if (c.bench) {
    status = tern_cli_bench(program, model, &c, t0);
  } else if (c.kl_divergence) {
    status = tern_cli_kl_divergence(program, model, &c, t0);
  } else if (!!c.tokens + !!c.prompt + !!c.file != 1) {
    status = tern_cli_usage_error(program, c.tokens || c.prompt || c.file
                                      ? "give one prompt: -p, -f or --tokens"
                                      : "a prompt is required (-p TEXT, -f FILE or --tokens)",
                         NULL);
  } else if (c.tokens && (tern_cli_parse_tokens(c.tokens, &tokens, &n) != 0 || n == 0)) {
    status = tern_cli_usage_error(program, "--tokens expects comma-separated non-negative integers",
                         c.tokens);
  } else if (!c.tokens && tokenize_prompt(program, model, &c, &tokens, &n) != 0) {
    status = 1;
  } else {
    if (c.verbose_prompt)
      print_ids(program, tokens, n);
    status = c.perplexity     ? tern_cli_perplexity(program, model, &c, tokens, n, t0)
             : c.embedding    ? tern_cli_embed(program, model, tokens, n)
             : c.n_predict > 0 ? tern_cli_generate(program, model, &c, tokens, n, t0)
                               : run_logits(program, model, &c, tokens, n, t0);
  }
  free(tokens);
  tern_model_close(model);
  free(default_path);
  return status;
}
