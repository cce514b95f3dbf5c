/* tern/model.h - open a compiled model and run it on tokens.
 *
 * A compiled model is the object ternc emitted (tern_model_forward and its description,
 * tern/model_abi.h) plus its weights: embedded in the executable (--weights=embed) or a side
 * file mmapped at open (--weights=file). Opening checks the ABI version, that this CPU has every
 * feature the model's kernels need, and the weights' checksums.
 *
 * This header depends on nothing but <stddef.h> and <stdint.h>: ternc --emit=lib ships it as the
 * library's C API. */
#ifndef TERN_MODEL_H
#define TERN_MODEL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped whenever a tern_op_* signature (tern/model_abi.h) or tern_model_desc changes: a model
 * object compiled against another version is refused at start. */
#define TERN_MODEL_ABI_VERSION 4 /* 2: tern_op_rope takes freq_factors; 3: tern_op_rms_norm
                                     * takes groups (per-head norms); 4: output_width, pooling,
                                     * normalize */

/* How an embedding model makes one vector of a text's hidden states (tern_model_desc.pooling);
 * TERN_POOLING_NONE: a language model, whose forward gives logits. */
#define TERN_POOLING_NONE 0
#define TERN_POOLING_LAST 1 /* the last token's */
#define TERN_POOLING_MEAN 2 /* the mean over the tokens */
#define TERN_POOLING_CLS 3  /* the first token's */

/* What a compiled model states about itself (emitted by ternc as the global tern_compiled_model). */
typedef struct {
  int64_t abi_version;          /* TERN_MODEL_ABI_VERSION */
  const char *family;           /* "bitnet-2b4t", ... */
  const char *target;           /* the ternc --target it was compiled for */
  uint64_t required_features;   /* tern_cpu_features_t the kernels it calls need */
  int64_t arena_bytes;          /* activation arena for max_tokens tokens */
  int64_t max_tokens;           /* the largest token count one forward call takes */
  int64_t layers, kv_heads, head_dim, context; /* the f32 KV cache, K and V */
  int64_t vocab;                /* the vocabulary: token ids are in [0, vocab) */
  int64_t logits_offset;        /* where the forward leaves its [t][output_width] f32 rows */
  int64_t bos_token, eos_token; /* -1 when the checkpoint names none */
  uint64_t weights_size;        /* the weights blob the offsets point into: its size and its */
  uint64_t weights_checksum;    /* table checksum, so a mismatched side file is refused */
  uint64_t weights_bytes_per_token; /* weight bytes one decoded token reads (the bandwidth
                                       limit's numerator) */
  int64_t output_width;         /* floats per token the forward gives: vocab (logits) for a
                                   language model, the hidden size for an embedding model */
  int64_t pooling;              /* TERN_POOLING_*: NONE for a language model */
  int64_t normalize;            /* an embedding model's vectors have unit length (L2) */
} tern_model_desc;

typedef struct tern_model tern_model;
typedef struct tern_session tern_session;

/* Where the runtime's memory comes from: a model's tables, its tokenizer's, every session's KV
 * cache and arena, the loaded weights, samplers and per-call scratch (tokenizing) all go
 * through it. allocate
 * returns `size` bytes aligned to `alignment` (a power of two, at most 64), or NULL when it
 * cannot; release frees what allocate returned. Both may be called from any thread that uses
 * the model. Mapped weights (map_weights) and the thread pool are not allocations. */
#ifndef TERN_ALLOCATOR_DEFINED
#define TERN_ALLOCATOR_DEFINED
typedef struct tern_allocator {
  void *(*allocate)(void *user, size_t size, size_t alignment);
  void (*release)(void *user, void *pointer);
  void *user;
} tern_allocator;
#endif

typedef struct {
  const char *weights_path; /* the weights file, or NULL for the embedded weights (an error
                               names what is missing if the program has none) */
  int verify_data;          /* non-zero: check every tensor's checksum (the default) */
  int map_weights;          /* 0 (the default): load the weights into memory (transparent huge
                               pages with the C library's allocator, else one allocation),
                               checking them in the same pass: decode reads them at full
                               bandwidth. Non-zero: read them where they are mapped (the
                               program's image or the mmapped file): less memory while loading
                               and pages shared between processes, but 4 KiB file pages, which
                               measured up to 5x slower to decode with 2 threads
                               (docs/performance.md). */
  const tern_allocator *allocator; /* NULL: the C library's; copied, so it may be temporary */
} tern_model_options;

/* The defaults: embedded weights, verified, the C library's allocator. */
tern_model_options tern_model_default_options(void);

/* Opens the model linked into this program (options NULL: the defaults). On failure returns
 * non-zero and writes a message to error. */
int tern_model_open(const tern_model_options *options, tern_model **out, char *error,
                    size_t error_size);
void tern_model_close(tern_model *model);
const tern_model_desc *tern_model_describe(const tern_model *model);
/* Non-zero when the program carries its weights. */
int tern_model_has_embedded_weights(void);

/* Text to tokens with the model's tokenizer (compiled in from the checkpoint's tokenizer.json;
 * tern/tokenizer.h): with add_bos, the BOS token first; with parse_special, added tokens written
 * in the text ("<|eot_id|>") become their ids. Writes at most `capacity` ids and returns how
 * many the text has, or -1 with a message (no tokenizer, invalid UTF-8). When that is more than
 * `capacity`, call again with room for all. (A byte-level tokenizer makes at most one token per
 * byte, plus the BOS; a metaspace one may make more: a space becomes U+2581, which may fall back
 * to 3 byte tokens, and one is put in front.) */
int64_t tern_model_tokenize(tern_model *model, const char *text, size_t size, int add_bos,
                            int parse_special, int32_t *ids, int64_t capacity, char *error,
                            size_t error_size);
/* Tokens to their bytes (at most `capacity` written); returns how many there are, or -1 with a
 * message. A token may end inside a UTF-8 character. */
int64_t tern_model_detokenize(tern_model *model, const int32_t *ids, int64_t n, char *out,
                              size_t capacity, char *error, size_t error_size);
/* The same for a whole text (a prompt echoed, not a continuation): as the tokenizer's decoder
 * gives it back, without the space a metaspace tokenizer put in front. */
int64_t tern_model_detokenize_text(tern_model *model, const int32_t *ids, int64_t n, char *out,
                                   size_t capacity, char *error, size_t error_size);
/* The id of the token whose text is exactly `text` ("<|eot_id|>"), or -1. */
int32_t tern_model_token_id(tern_model *model, const char *text);
/* The BOS the tokenizer puts first when asked to (its post-processor's, which llama.cpp calls
 * add_bos), or -1 when it adds none or the model has no tokenizer. Not always the descriptor's
 * bos_token (config.json's): Qwen3 names one it never adds. */
int32_t tern_model_added_bos(tern_model *model);

/* Non-zero when `token` ends a reply: the model's EOS, the eos_token_id lists of config.json and
 * generation_config.json, GGUF's end-of-turn ids, and the chat formats' end-of-turn tokens
 * (<|eot_id|>, <|im_end|>, ...) of the vocabulary, as ternc found them. */
int tern_model_ends_generation(tern_model *model, int32_t token);

/* An embedding model's vector of n tokens (desc->pooling, desc->normalize): writes
 * desc->output_width floats to `out`. Runs the tokens in a session of its own; tokenize the text
 * with tern_model_tokenize_embedding, which appends what the model's pooling needs. Returns
 * non-zero with a message (a language model, no tokens, more than the context). */
int tern_model_embed(tern_model *model, const int32_t *tokens, int64_t n, float *out,
                     char *error, size_t error_size);

/* A text's tokens for tern_model_embed, as tern_model_tokenize gives them (BOS as the tokenizer
 * adds it, special tokens recognized) with, for last-token pooling, the EOS appended unless the
 * text ends with it. Returns the count, or -1 with a message; a count above `capacity` is the
 * room to call again with (the EOS counted: that call may return one less). */
int64_t tern_model_tokenize_embedding(tern_model *model, const char *text, size_t size,
                                      int32_t *ids, int64_t capacity, char *error,
                                      size_t error_size);

/* A rendered chat's tokens (tern_model_apply_chat_template's text): special tokens recognized,
 * and the tokenizer's BOS first unless the template wrote it (as llama.cpp tokenizes a chat;
 * transformers' apply_chat_template adds no BOS a template does not write). Returns the count,
 * or -1 with a message; a count above `capacity` is the room to call again with (the BOS
 * counted: that call may return one less). */
int64_t tern_model_tokenize_chat(tern_model *model, const char *text, size_t size, int32_t *ids,
                                 int64_t capacity, char *error, size_t error_size);

/* The chat template compiled in (the checkpoint's chat_template, Jinja source), or NULL. */
const char *tern_model_chat_template(tern_model *model);

/* A message: role ("system", "user", "assistant", ...) and content, UTF-8, NUL-terminated.
 * (tern/jinja.h, which renders them, has the same definition.) */
#ifndef TERN_CHAT_MESSAGE_DEFINED
#define TERN_CHAT_MESSAGE_DEFINED
typedef struct {
  const char *role;
  const char *content;
} tern_chat_message;
#endif

/* The messages as the model's chat template renders them (tern/jinja.h: the subset of Jinja
 * tern implements), as transformers' apply_chat_template does: with add_generation_prompt the
 * template's opening of the assistant's reply follows them, and bos_token / eos_token are the
 * checkpoint's. The text holds the template's own special tokens, the BOS included when the
 * template writes it: tokenize it with tern_model_tokenize_chat.
 * Writes at most `capacity` bytes and a NUL when there is room; returns the text's length, or
 * -1 with a message (no chat template, a message without role or content, the template's
 * raise_exception, e.g. a role it does not accept). */
int64_t tern_model_apply_chat_template(tern_model *model, const tern_chat_message *messages,
                                       size_t n, int add_generation_prompt, char *out,
                                       size_t capacity, char *error, size_t error_size);

typedef struct {
  int64_t context; /* positions the session holds (the size of its KV cache): 0 for the context
                      the model was compiled for (ternc --context), which is also the most */
} tern_session_options;

/* A KV cache, an activation arena and a position (options NULL: the defaults). */
int tern_session_create(tern_model *model, const tern_session_options *options,
                        tern_session **out, char *error, size_t error_size);
void tern_session_destroy(tern_session *session);
/* Positions consumed so far, and how many the session holds. */
int64_t tern_session_position(const tern_session *session);
int64_t tern_session_context(const tern_session *session);
/* Forgets every position from `position` on (at most the current one), so the next tokens are
 * evaluated there: a prompt sharing a prefix with what the session holds only needs the rest
 * evaluated. Returns non-zero with a message when `position` is out of range. */
int tern_session_rewind(tern_session *session, int64_t position, char *error,
                        size_t error_size);
/* Runs n tokens at the next positions, in forward calls of at most `chunk` tokens (0: the
 * model's max_tokens). logits: NULL, or [n][output_width] floats to fill (a language model's
 * logits; an embedding model's hidden states). On failure returns non-zero
 * with a message; the session's position is then unchanged. */
int tern_session_eval(tern_session *session, const int32_t *tokens, int64_t n, int64_t chunk,
                      float *logits, char *error, size_t error_size);
/* The same, but only the last token's logits ([output_width] floats; what a prompt before
 * generation needs): the output head runs for one token per call instead of all of them. */
int tern_session_eval_last(tern_session *session, const int32_t *tokens, int64_t n,
                           int64_t chunk, float *last_logits, char *error, size_t error_size);

/* Continuous batching: several sessions' next tokens in one forward call, so the weights are
 * read once for all of them (a server's busy sessions, each one token; a prompt's chunk beside
 * them). Each entry's tokens run at its session's next positions against its own KV cache,
 * exactly as tern_session_eval_last would run them: the logits are the same, bit for bit. */
typedef struct {
  tern_session *session; /* distinct sessions of one model */
  const int32_t *tokens;
  int64_t n;           /* at least 1 */
  float *last_logits;  /* NULL, or [vocab] floats: the logits after the entry's last token */
  float *all_logits;   /* NULL, or [n][vocab] floats: the logits after each of its tokens (a
                          server scoring a prompt; the head then runs on every token of the
                          call, not only on each entry's last) */
} tern_batch_entry;
/* The entries' tokens together are at most the model's max_tokens (tern_model_desc; ternc
 * --batch). The call runs in the first entry's session's arena; no entry's session may be
 * in use by another thread. On failure returns non-zero with a message and no session's
 * position changed; the KV caches then hold unspecified values past those positions. */
int tern_session_eval_batch(const tern_batch_entry *entries, size_t count, char *error,
                            size_t error_size);

#ifdef __cplusplus
}
#endif

#endif /* TERN_MODEL_H */
