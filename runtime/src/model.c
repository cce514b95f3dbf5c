/* model.c - opening a compiled model and running it (tern/model.h). */
/* O_CLOEXEC under -std=c11. */
#define _POSIX_C_SOURCE 200809L
#include "tern/model_abi.h"
#include "allocator.h"
#include "chat_template.h"
#include "format_error.h"
#include "kernel_calls.h"
#include "weight_load.h"

#include "tern/cpu.h"
#include "tern/tokenizer.h"
#include "tern/weight_blob.h"

#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Defined by the weights object ternc links in with --weights=embed; absent otherwise. */
extern const uint8_t tern_embedded_weights[] __attribute__((weak));
extern const uint64_t tern_embedded_weights_size __attribute__((weak));

struct tern_model {
  const tern_model_desc *desc;
  tern_allocator allocator;
  tern_blob blob;
  uint8_t *weights_copy; /* the blob loaded into memory (unless map_weights), else NULL */
  size_t weights_copy_size;
  pthread_mutex_t tokenizer_lock; /* the tokenizer is opened by the first thread needing it */
  tern_tokenizer *tokenizer;
  tern_chat *chat; /* the chat template, NULL if none */
  /* tokenizer.eog, resolved at open: the ids ternc found that end a reply (a handful of I32,
   * read with memcpy since the blob gives no alignment); NULL if the model has none. */
  const uint8_t *eog;
  size_t eog_count;
};

struct tern_session {
  tern_model *model;
  uint8_t *arena;
  float *k_cache, *v_cache;
  /* [max_tokens] each: a forward call's inputs, when this session's arena runs it */
  int32_t *tokens, *positions;
  tern_exec_segment *segments;
  int64_t position, context;
};

int tern_model_has_embedded_weights(void) { return tern_embedded_weights != NULL; }

const tern_model_desc *tern_model_describe(const tern_model *model) { return model->desc; }

tern_model_options tern_model_default_options(void) {
  tern_model_options o;
  memset(&o, 0, sizeof o);
  o.verify_data = 1;
  return o;
}

/* Checks the tensors' checksums (with `verify`) and, unless `map_weights`, copies the blob into
 * huge-page memory in the same pass (weight_load.c says why) and reads it from there. */
static int load_weights(tern_model *m, const char *path, const char *source, int verify,
                        int map_weights, char *error, size_t error_size) {
  if (map_weights)
    return verify ? tern_blob_check_and_copy(&m->blob, source, 1, NULL, 0, -1, 0, &m->allocator,
                                             error, error_size)
                  : 0;
  size_t size = m->blob.size;
  uint8_t *copy = tern_weights_allocate(&m->allocator, size);
  if (!copy)
    return tern_format_error(error, error_size,
                             "%s: out of memory for loading the weights (%.1f MB); map them "
                             "instead (--mmap, or map_weights in tern_model_options)",
                             source, (double)size / 1e6);
  uint64_t offset = 0;
  int fd = path ? open(path, O_RDONLY | O_CLOEXEC)
                : tern_open_image_file(m->blob.data, size, &offset);
  int status = tern_blob_check_and_copy(&m->blob, source, verify, copy, 1, fd, offset,
                                        &m->allocator, error, error_size);
  if (fd >= 0)
    close(fd);
  if (status != 0) {
    tern_weights_release(&m->allocator, copy, size);
    return -1;
  }
  tern_blob_close(&m->blob); /* unmaps a weights file; the embedded weights stay in the image */
  /* The copy is the same bytes: its structure was checked above. */
  if (tern_blob_parse(copy, size, source, 0, &m->blob, error, error_size) != 0) {
    tern_weights_release(&m->allocator, copy, size);
    return -1;
  }
  m->weights_copy = copy;
  m->weights_copy_size = size;
  return 0;
}

static void free_model(tern_model *m) {
  tern_allocator a = m->allocator;
  tern_weights_release(&a, m->weights_copy, m->weights_copy_size);
  pthread_mutex_destroy(&m->tokenizer_lock);
  tern_release(&a, m);
}

int tern_model_open(const tern_model_options *options, tern_model **out, char *error,
                    size_t error_size) {
  const tern_model_desc *desc = &tern_compiled_model;
  tern_model_options defaults = tern_model_default_options();
  if (!options)
    options = &defaults;
  const char *weights_path = options->weights_path;
  int verify_data = options->verify_data;
  *out = NULL;
  const tern_allocator *a = options->allocator;
  if (a && (!a->allocate || !a->release))
    return tern_format_error(error, error_size,
                "the allocator needs both functions (allocate and release)");
  a = tern_allocator_or_default(a);
  if (desc->abi_version != TERN_MODEL_ABI_VERSION)
    return tern_format_error(error, error_size,
                "the model was compiled for runtime ABI %lld, this runtime has %d: recompile "
                "it with this ternc",
                (long long)desc->abi_version, TERN_MODEL_ABI_VERSION);
  tern_cpu_features_t missing = desc->required_features & ~tern_cpu_features();
  if (missing) {
    char names[256];
    tern_cpu_format_features(missing, names, sizeof names);
    int arm = strncmp(desc->target, "aarch64", 7) == 0;
    return tern_format_error(error, error_size,
                "this model was compiled for %s, but this CPU lacks %s; recompile it with "
                "ternc --target=host on this machine, or --target=%s for any %s CPU",
                desc->target, names, arm ? "aarch64" : "x86-64-multi",
                arm ? "aarch64" : "x86-64");
  }
  tern_model *model = tern_allocate_zeroed(a, sizeof *model, 0);
  if (!model)
    return tern_format_error(error, error_size, "out of memory for the model");
  model->desc = desc;
  model->allocator = *a;
  pthread_mutex_init(&model->tokenizer_lock, NULL);
  tern_kernel_calls_install();
  int status;
  const char *source;
  /* The structure first (header, table, bounds); the tensors' checksums in load_weights. */
  if (weights_path) {
    source = weights_path;
    status = tern_blob_open(weights_path, 0, &model->blob, error, error_size);
  } else if (tern_model_has_embedded_weights()) {
    source = "the embedded weights";
    status = tern_blob_parse(tern_embedded_weights, (size_t)tern_embedded_weights_size, source,
                             0, &model->blob, error, error_size);
  } else {
    free_model(model);
    return tern_format_error(error, error_size,
                "this program carries no weights (compiled with --weights=file): pass the "
                "weights file");
  }
  if (status == 0)
    status = load_weights(model, weights_path, source, verify_data, options->map_weights, error,
                          error_size);
  if (status != 0) {
    tern_blob_close(&model->blob);
    free_model(model);
    return 1;
  }
  if (model->blob.size != desc->weights_size ||
      model->blob.header->table_checksum != desc->weights_checksum) {
    unsigned long long size = (unsigned long long)model->blob.size;
    unsigned long long checksum = (unsigned long long)model->blob.header->table_checksum;
    tern_blob_close(&model->blob);
    free_model(model);
    return tern_format_error(error, error_size,
                "%s: not the weights this model was compiled with (%llu bytes, table checksum "
                "%016llx; expected %llu bytes, %016llx)",
                source, size, checksum, (unsigned long long)desc->weights_size,
                (unsigned long long)desc->weights_checksum);
  }
  const tern_blob_entry *eog = tern_blob_find(&model->blob, "tokenizer.eog");
  if (eog) {
    model->eog = model->blob.data + eog->offset;
    model->eog_count = (size_t)(eog->size / sizeof(int32_t));
  }
  if (tern_chat_open(&model->blob, a, &model->chat, error, error_size) != 0) {
    tern_blob_close(&model->blob);
    free_model(model);
    return 1;
  }
  *out = model;
  return 0;
}

const char *tern_model_chat_template(tern_model *model) {
  return model->chat ? tern_chat_source(model->chat) : NULL;
}

int64_t tern_model_apply_chat_template(tern_model *model, const tern_chat_message *messages,
                                       size_t n, int add_generation_prompt, char *out,
                                       size_t capacity, char *error, size_t error_size) {
  const tern_chat *chat = model->chat;
  if (!chat)
    return tern_format_error(error, error_size,
                             "this model has no chat template (the checkpoint had none, or it "
                             "was compiled with --chat-template=none)");
  for (size_t i = 0; i < n; ++i)
    if (!messages[i].role || !*messages[i].role || !messages[i].content)
      return tern_format_error(error, error_size, "message %zu has no %s", i,
                               messages[i].role && *messages[i].role ? "content" : "role");
  tern_jinja_context context;
  memset(&context, 0, sizeof context);
  context.messages = messages;
  context.n_messages = n;
  context.add_generation_prompt = add_generation_prompt;
  return tern_chat_render(chat, context, out, capacity, error, error_size);
}

void tern_model_close(tern_model *model) {
  if (!model)
    return;
  tern_tokenizer_free(model->tokenizer);
  tern_chat_free(model->chat);
  tern_blob_close(&model->blob);
  free_model(model);
}

int tern_session_create(tern_model *model, const tern_session_options *options,
                        tern_session **out, char *error, size_t error_size) {
  const tern_model_desc *d = model->desc;
  const tern_allocator *a = &model->allocator;
  *out = NULL;
  int64_t context = options && options->context ? options->context : d->context;
  if (context < 1 || context > d->context)
    return tern_format_error(error, error_size,
                "a context of %lld positions: this model holds 1 to %lld (recompile it with "
                "ternc --context=N for more)",
                (long long)context, (long long)d->context);
  tern_session *s = tern_allocate_zeroed(a, sizeof *s, 0);
  size_t cache = (size_t)d->layers * tern_kv_cache_floats(d->kv_heads, context, d->head_dim) *
                 sizeof(float);
  size_t arena = (size_t)tern_round_up(d->arena_bytes > 0 ? d->arena_bytes : 64, 64);
  if (s) {
    s->model = model;
    s->context = context;
    s->arena = tern_allocate(a, arena, 64);
    /* Not cleared: attention reads only positions written before. Clearing 2 x 314 MB for
     * 2B4T's 4096 positions made the first token take ~0.4 s longer. */
    s->k_cache = tern_allocate(a, cache, 64);
    s->v_cache = tern_allocate(a, cache, 64);
    size_t max_tokens = (size_t)(d->max_tokens > 0 ? d->max_tokens : 1);
    s->tokens = tern_allocate(a, sizeof(int32_t) * max_tokens, 0);
    s->positions = tern_allocate(a, sizeof(int32_t) * max_tokens, 0);
    s->segments = tern_allocate(a, sizeof(tern_exec_segment) * max_tokens, 0);
  }
  if (!s || !s->arena || !s->k_cache || !s->v_cache || !s->tokens || !s->positions ||
      !s->segments) {
    tern_session_destroy(s);
    return tern_format_error(error, error_size,
                "out of memory for a session (arena %.1f MB, KV cache %.1f MB)",
                (double)arena / 1e6, 2.0 * (double)cache / 1e6);
  }
  *out = s;
  return 0;
}

void tern_session_destroy(tern_session *s) {
  if (!s)
    return;
  const tern_allocator *a = &s->model->allocator;
  tern_release(a, s->arena);
  tern_release(a, s->k_cache);
  tern_release(a, s->v_cache);
  tern_release(a, s->tokens);
  tern_release(a, s->positions);
  tern_release(a, s->segments);
  tern_release(a, s);
}

int64_t tern_session_context(const tern_session *s) { return s->context; }

int tern_session_rewind(tern_session *s, int64_t position, char *error, size_t error_size) {
  if (position < 0 || position > s->position)
    return tern_format_error(error, error_size,
                "cannot rewind to position %lld: the session holds positions [0, %lld)",
                (long long)position, (long long)s->position);
  s->position = position;
  return 0;
}

int64_t tern_session_position(const tern_session *s) { return s->position; }

/* Checks that n tokens fit after the session's position and are in the vocabulary. */
static int check_tokens(const tern_session *s, const int32_t *tokens, int64_t n, char *error,
                        size_t error_size) {
  const tern_model_desc *d = s->model->desc;
  if (n < 0 || s->position + n > s->context)
    return tern_format_error(error, error_size,
                "%lld tokens after position %lld do not fit the context of %lld positions",
                (long long)n, (long long)s->position, (long long)s->context);
  for (int64_t i = 0; i < n; ++i)
    if (tokens[i] < 0 || tokens[i] >= d->vocab)
      return tern_format_error(error, error_size, "token %d (input position %lld) is outside the vocabulary "
                  "[0, %lld)", (int)tokens[i], (long long)i, (long long)d->vocab);
  return 0;
}

/* One forward call in `arena` (a session's) over exec's tokens, positions and segments. */
static int forward(tern_model *m, uint8_t *arena, tern_exec *exec, char *error,
                   size_t error_size) {
  exec->arena = arena;
  exec->weights = m->blob.data;
  exec->error[0] = 0;
  char kernel_error[256];
  tern_kernel_calls_begin(&m->allocator);
  int failed = tern_model_forward(exec);
  tern_kernel_calls_end(kernel_error, sizeof kernel_error);
  if (failed)
    return tern_format_error(error, error_size, "%s%s%s", exec->error,
                             kernel_error[0] ? ": " : "", kernel_error);
  return 0;
}

/* The segment of a session's t tokens starting at row `first`. */
static tern_exec_segment segment_of(const tern_session *s, int64_t first, int64_t t) {
  tern_exec_segment g = {first, t, s->k_cache, s->v_cache, s->context};
  return g;
}

/* Runs the tokens in calls of at most `chunk`; copies every token's logits (an embedding
 * model's hidden states) to `logits`, or with `last_only` the last token's to `logits`
 * [output_width]. */
static int eval(tern_session *s, const int32_t *tokens, int64_t n, int64_t chunk, int last_only,
                float *logits, char *error, size_t error_size) {
  const tern_model_desc *d = s->model->desc;
  if (chunk <= 0 || chunk > d->max_tokens)
    chunk = d->max_tokens;
  if (check_tokens(s, tokens, n, error, error_size) != 0)
    return -1;
  int64_t start = s->position;
  for (int64_t done = 0; done < n; done += chunk) {
    int64_t t = n - done < chunk ? n - done : chunk;
    for (int64_t i = 0; i < t; ++i)
      s->positions[i] = (int32_t)(start + done + i);
    s->segments[0] = segment_of(s, 0, t);
    tern_exec exec;
    memset(&exec, 0, sizeof exec);
    exec.tokens = tokens + done;
    exec.positions = s->positions;
    exec.n_tokens = t;
    exec.segments = s->segments;
    exec.n_segments = 1;
    exec.last_logits_only = last_only;
    if (forward(s->model, s->arena, &exec, error, error_size) != 0)
      return -1;
    const float *computed = (const float *)(s->arena + d->logits_offset);
    int64_t width = d->output_width;
    if (logits && !last_only)
      memcpy(logits + done * width, computed, (size_t)(t * width) * sizeof(float));
    else if (logits && done + t == n)
      memcpy(logits, computed + (t - 1) * width, (size_t)width * sizeof(float));
  }
  s->position = start + n;
  return 0;
}

int tern_session_eval(tern_session *s, const int32_t *tokens, int64_t n, int64_t chunk,
                      float *logits, char *error, size_t error_size) {
  return eval(s, tokens, n, chunk, 0, logits, error, error_size);
}

int tern_session_eval_last(tern_session *s, const int32_t *tokens, int64_t n, int64_t chunk,
                           float *last_logits, char *error, size_t error_size) {
  if (n < 1)
    return tern_format_error(error, error_size, "no tokens to evaluate");
  return eval(s, tokens, n, chunk, 1, last_logits, error, error_size);
}

int tern_session_eval_batch(const tern_batch_entry *entries, size_t count, char *error,
                            size_t error_size) {
  if (count == 0)
    return tern_format_error(error, error_size, "a batch of no sessions");
  tern_session *runner = entries[0].session;
  tern_model *m = runner->model;
  const tern_model_desc *d = m->desc;
  if (d->pooling != TERN_POOLING_NONE) /* its rows are not compacted to one per session */
    return tern_format_error(error, error_size,
                             "an embedding model has no batched logits: use tern_model_embed");
  int64_t total = 0;
  int all_rows = 0;
  for (size_t e = 0; e < count; ++e) {
    const tern_batch_entry *entry = &entries[e];
    all_rows |= entry->all_logits != NULL;
    if (entry->session->model != m)
      return tern_format_error(error, error_size,
                  "batch entry %zu: its session belongs to another model", e);
    for (size_t o = 0; o < e; ++o)
      if (entries[o].session == entry->session)
        return tern_format_error(error, error_size,
                    "batch entries %zu and %zu: the same session twice", o, e);
    if (entry->n < 1)
      return tern_format_error(error, error_size, "batch entry %zu: no tokens to evaluate",
                               e);
    char message[256];
    if (check_tokens(entry->session, entry->tokens, entry->n, message, sizeof message) != 0)
      return tern_format_error(error, error_size, "batch entry %zu: %s", e, message);
    total += entry->n;
  }
  if (total > d->max_tokens)
    return tern_format_error(error, error_size,
                "a batch of %lld tokens: one forward call takes at most %lld (ternc "
                "--batch)",
                (long long)total, (long long)d->max_tokens);
  int64_t row = 0;
  for (size_t e = 0; e < count; ++e) {
    const tern_batch_entry *entry = &entries[e];
    for (int64_t i = 0; i < entry->n; ++i) {
      runner->tokens[row + i] = entry->tokens[i];
      runner->positions[row + i] = (int32_t)(entry->session->position + i);
    }
    runner->segments[e] = segment_of(entry->session, row, entry->n);
    row += entry->n;
  }
  tern_exec exec;
  memset(&exec, 0, sizeof exec);
  exec.tokens = runner->tokens;
  exec.positions = runner->positions;
  exec.n_tokens = total;
  exec.segments = runner->segments;
  exec.n_segments = (int64_t)count;
  exec.last_logits_only = !all_rows;
  if (forward(m, runner->arena, &exec, error, error_size) != 0)
    return -1;
  /* Every row in token order, or (last_logits_only) each entry's last in the last count rows. */
  const float *computed = (const float *)(runner->arena + d->logits_offset);
  size_t row_bytes = (size_t)d->vocab * sizeof(float);
  for (size_t e = 0; e < count; ++e) {
    const tern_batch_entry *entry = &entries[e];
    const tern_exec_segment *g = &runner->segments[e];
    int64_t last = all_rows ? g->first + g->count - 1 : total - (int64_t)count + (int64_t)e;
    if (entry->all_logits)
      memcpy(entry->all_logits, computed + g->first * d->vocab, (size_t)entry->n * row_bytes);
    if (entry->last_logits)
      memcpy(entry->last_logits, computed + last * d->vocab, row_bytes);
    entry->session->position += entry->n;
  }
  return 0;
}

static tern_tokenizer *tokenizer_of(tern_model *m, char *error, size_t error_size) {
  pthread_mutex_lock(&m->tokenizer_lock);
  if (!m->tokenizer)
    tern_tokenizer_open(&m->blob, &m->allocator, &m->tokenizer, error, error_size);
  tern_tokenizer *t = m->tokenizer;
  pthread_mutex_unlock(&m->tokenizer_lock);
  return t;
}

int64_t tern_model_tokenize(tern_model *m, const char *text, size_t size, int add_bos,
                            int parse_special, int32_t *ids, int64_t capacity, char *error,
                            size_t error_size) {
  tern_tokenizer *t = tokenizer_of(m, error, error_size);
  if (!t)
    return -1;
  return tern_tokenizer_encode(t, text, size, add_bos, parse_special, ids, capacity, error,
                               error_size);
}

/* Tokens to text with `decode` (a piece decoder or the whole-text one), errors by message. */
static int64_t detokenize(tern_model *m,
                          int64_t (*decode)(const tern_tokenizer *, const int32_t *, int64_t,
                                            char *, size_t),
                          const int32_t *ids, int64_t n, char *out, size_t capacity, char *error,
                          size_t error_size) {
  tern_tokenizer *t = tokenizer_of(m, error, error_size);
  if (!t)
    return -1;
  int64_t size = decode(t, ids, n, out, capacity);
  if (size < 0)
    return tern_format_error(error, error_size, "a token id is outside the vocabulary");
  return size;
}

int64_t tern_model_detokenize(tern_model *m, const int32_t *ids, int64_t n, char *out,
                              size_t capacity, char *error, size_t error_size) {
  return detokenize(m, tern_tokenizer_decode, ids, n, out, capacity, error, error_size);
}

int64_t tern_model_detokenize_text(tern_model *m, const int32_t *ids, int64_t n, char *out,
                                   size_t capacity, char *error, size_t error_size) {
  return detokenize(m, tern_tokenizer_decode_text, ids, n, out, capacity, error, error_size);
}

int32_t tern_model_token_id(tern_model *m, const char *text) {
  char error[8];
  tern_tokenizer *t = tokenizer_of(m, error, sizeof error);
  return t ? tern_tokenizer_find(t, text, strlen(text)) : -1;
}

int32_t tern_model_added_bos(tern_model *m) {
  char error[8];
  tern_tokenizer *t = tokenizer_of(m, error, sizeof error);
  return t ? tern_tokenizer_bos(t) : -1;
}

int tern_model_ends_generation(tern_model *m, int32_t token) {
  if (token < 0)
    return 0;
  if (token == m->desc->eos_token)
    return 1;
  for (size_t i = 0; i < m->eog_count; ++i) {
    int32_t id;
    memcpy(&id, m->eog + i * sizeof id, sizeof id);
    if (id == token)
      return 1;
  }
  return 0;
}

int tern_model_embed(tern_model *m, const int32_t *tokens, int64_t n, float *out, char *error,
                     size_t error_size) {
  const tern_model_desc *d = m->desc;
  if (d->pooling == TERN_POOLING_NONE)
    return tern_format_error(error, error_size,
                             "this is a language model: it gives logits, not embeddings");
  if (d->pooling < TERN_POOLING_LAST || d->pooling > TERN_POOLING_CLS)
    return tern_format_error(error, error_size, "unknown pooling %lld in the model's descriptor",
                             (long long)d->pooling);
  if (n < 1)
    return tern_format_error(error, error_size, "no tokens to embed");
  if (n > d->context)
    return tern_format_error(error, error_size,
                             "%lld tokens do not fit the context of %lld positions (recompile "
                             "the model with ternc --context=N)",
                             (long long)n, (long long)d->context);
  int64_t width = d->output_width;
  /* The mean needs every row; the last and the first token need one. */
  int64_t rows = d->pooling == TERN_POOLING_MEAN ? n : 1;
  float *states = tern_allocate(&m->allocator, sizeof(float) * (size_t)(rows * width), 0);
  tern_session_options options = {n};
  tern_session *s = NULL;
  int status = states ? 0 : tern_format_error(error, error_size, "out of memory");
  if (status == 0)
    status = tern_session_create(m, &options, &s, error, error_size);
  /* A causal model's first hidden state depends on the first token alone. */
  if (status == 0 && d->pooling == TERN_POOLING_CLS)
    status = check_tokens(s, tokens, n, error, error_size) ||
             eval(s, tokens, 1, 0, 1, states, error, error_size);
  else if (status == 0)
    status = eval(s, tokens, n, 0, d->pooling == TERN_POOLING_LAST, states, error, error_size);
  if (status == 0) {
    double norm = 0;
    for (int64_t j = 0; j < width; ++j) {
      double v = 0;
      for (int64_t r = 0; r < rows; ++r)
        v += states[r * width + j];
      out[j] = (float)(v / (double)rows);
      norm += (double)out[j] * out[j];
    }
    /* torch.nn.functional.normalize: v / max(||v||, 1e-12). */
    double length = sqrt(norm);
    if (d->normalize)
      for (int64_t j = 0; j < width; ++j)
        out[j] = (float)(out[j] / (length > 1e-12 ? length : 1e-12));
  }
  tern_session_destroy(s);
  tern_release(&m->allocator, states);
  return status ? -1 : 0;
}

int64_t tern_model_tokenize_embedding(tern_model *m, const char *text, size_t size, int32_t *ids,
                                      int64_t capacity, char *error, size_t error_size) {
  int64_t n = tern_model_tokenize(m, text, size, 1, 1, ids, capacity, error, error_size);
  if (n < 0 || m->desc->pooling != TERN_POOLING_LAST || m->desc->eos_token < 0)
    return n;
  /* The last token pools the text only once it has seen all of it: the EOS after it, as
   * Qwen3-Embedding's tokenizer appends (and llama-server does not, with worse vectors). */
  if (n > 0 && n <= capacity && ids[n - 1] == (int32_t)m->desc->eos_token)
    return n;
  if (n < capacity)
    ids[n] = (int32_t)m->desc->eos_token;
  return n + 1;
}

int64_t tern_model_tokenize_chat(tern_model *m, const char *text, size_t size, int32_t *ids,
                                 int64_t capacity, char *error, size_t error_size) {
  int64_t n = tern_model_tokenize(m, text, size, 1, 1, ids, capacity, error, error_size);
  tern_tokenizer *t = n >= 2 && n <= capacity ? tokenizer_of(m, error, error_size) : NULL;
  int32_t bos = t ? tern_tokenizer_bos(t) : -1;
  /* The tokenizer's BOS, unless the template wrote it too. */
  if (bos >= 0 && ids[0] == bos && ids[1] == bos) {
    memmove(ids, ids + 1, sizeof(int32_t) * (size_t)(n - 1));
    return n - 1;
  }
  return n;
}
