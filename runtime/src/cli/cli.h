/* cli.h - the compiled executable's command line (runtime/src/cli/, main.c): llama-cli's
 * option names, one table (options.c), and the run modes (bench.c, generate.c). */
#ifndef TERN_RUNTIME_CLI_H
#define TERN_RUNTIME_CLI_H

#include "tern/model.h"
#include "tern/sampler.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Everything the command line sets. */
typedef struct {
  const char *tokens, *prompt, *file, *dump, *weights, *host, *alias, *api_key, *api_key_file;
  long long context, chunk, threads, n_predict, top_k, repeat_last_n, seed;
  /* --perplexity, --kl-divergence-base FILE, --kl-divergence, --chunks N */
  const char *kl_base;
  long long chunks;
  int perplexity, kl_divergence;
  /* --bench's lists (llama-bench's -p -n -d -t -r -o), as given; bench_decode is the N of the
   * shorthand --bench N. */
  const char *bench_prompt, *bench_gen, *bench_depth, *bench_threads, *bench_repetitions,
      *bench_output;
  long long bench_decode;
  long long port, parallel, queue;
  double temp, top_p, min_p, repeat_penalty;
  int no_verify, map_weights, info, quiet, ignore_eos, help, verbose_prompt, conversation, server,
      bench, embedding;
} tern_cli;


/* Fills *c from argv; returns 0, or the exit status of a usage error (printed). */
int tern_cli_parse(int argc, char **argv, tern_cli *c);
void tern_cli_print_usage(const char *program);
/* Prints "error: message[: value]" and the --help hint; returns 2 (a usage error). */
int tern_cli_usage_error(const char *program, const char *message, const char *value);
/* Comma-separated non-negative token ids; 0, or -1 (then *tokens may need freeing). */
int tern_cli_parse_tokens(const char *list, int32_t **tokens, int64_t *n);

double tern_cli_now(void);
int64_t tern_cli_argmax(const float *row, int64_t n);

/* --bench: llama-bench's tests (prompt processing pp<N>, generation tg<N>, at context depths,
 * for thread counts, repeated) against the read bandwidth measured in the same run. */
int tern_cli_bench(const char *program, tern_model *model, const tern_cli *c, double t0);
/* The sampler the options ask for (a random seed when --seed is -1); 0, or -1 with a message. */
int tern_cli_sampler_params(const tern_cli *c, tern_sampler_params *p, char *error,
                            size_t error_size);

/* Text printed as tokens arrive: bytes of a UTF-8 character split across tokens wait until the
 * character is complete. */
typedef struct {
  char pending[8];
  size_t n;
} tern_cli_text;
int tern_cli_print_text(tern_model *model, const int32_t *ids, int64_t n, tern_cli_text *s);
/* The same for the start of a text (the prompt echoed): as the tokenizer decodes a whole text. */
int tern_cli_print_text_start(tern_model *model, const int32_t *ids, int64_t n,
                              tern_cli_text *s);

/* Tokens of text[0, size) (added tokens recognized) into *ids, grown with realloc as the
 * tokenizer needs (the caller frees it, also after a failure). Returns the count, or -1 with a
 * message. */
int64_t tern_cli_tokenize(tern_model *model, const char *text, size_t size, int add_bos,
                          int32_t **ids, char *error, size_t error_size);
/* The same for a rendered chat (tern_model_tokenize_chat: the BOS unless the template wrote it)
 * and for an embedding (tern_model_tokenize_embedding: the EOS last-token pooling needs). */
int64_t tern_cli_tokenize_chat(tern_model *model, const char *text, size_t size, int32_t **ids,
                               char *error, size_t error_size);
int64_t tern_cli_tokenize_embedding(tern_model *model, const char *text, size_t size,
                                    int32_t **ids, char *error, size_t error_size);

/* --embedding: the prompt's vector, printed on one line. */
int tern_cli_embed(const char *program, tern_model *model, const int32_t *tokens, int64_t n);

/* -cnv: a conversation on stdin, rendered by the model's chat template (-p is the system
 * message). */
int tern_cli_chat(const char *program, tern_model *model, const tern_cli *c, double t0);

/* --server: OpenAI-compatible HTTP until interrupted (server/, C++). */
int tern_cli_server(const char *program, tern_model *model, const tern_cli *c);

/* --perplexity: the tokens in chunks of -c (default 512), each scored on its second half, as
 * llama-perplexity does; with --kl-divergence-base FILE the scored logits are written there. */
int tern_cli_perplexity(const char *program, tern_model *model, const tern_cli *c,
                        const int32_t *tokens, int64_t n, double t0);
/* --kl-divergence: the tokens and logits of a --kl-divergence-base file against this model's. */
int tern_cli_kl_divergence(const char *program, tern_model *model, const tern_cli *c,
                           double t0);

/* The session options -c asks for. */
tern_session_options tern_cli_session_options(const tern_cli *c);

/* -n: the prompt, then up to c->n_predict sampled tokens, printed as they come. */
int tern_cli_generate(const char *program, tern_model *model, const tern_cli *c,
                      const int32_t *prompt, int64_t n, double t0);

#ifdef __cplusplus
}
#endif

#endif
