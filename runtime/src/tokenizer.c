/* tokenizer.c - byte-level and metaspace BPE with a PCRE2 pre-tokenizer (tern/tokenizer.h). */
#include "tern/tokenizer.h"
#include "allocator.h"
#include "format_error.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <stdio.h>
#include <string.h>

struct tern_tokenizer {
  tern_allocator allocator;
  pcre2_general_context *memory; /* PCRE2's allocations, through the allocator */
  const uint8_t *vocab;
  const int64_t *offsets;
  int64_t vocab_size;
  const int32_t *merges; /* [n_merges][3] */
  int64_t n_merges;
  const int32_t *special;
  int64_t n_special;
  int ignore_merges;
  int32_t bos, eos;
  int metaspace;     /* kind 1 */
  int prepend;       /* TERN_PREPEND_* */
  int strip;         /* leading spaces decode_text strips */
  int32_t unk;       /* -1: none */
  int fuse_unk, byte_fallback;
  /* Byte-level: the token of each single byte. Metaspace: each byte's <0xXX> token. -1: none. */
  int32_t byte_token[256];
  /* Open addressing: token ids by their bytes; merge ranks by (left, right). -1 is empty. */
  int32_t *token_table;
  uint64_t token_mask;
  int64_t *merge_table; /* rank, keyed by merges[rank] */
  uint64_t merge_mask;
  pcre2_code *pattern;
};

static uint64_t table_size(int64_t n) {
  uint64_t size = 16;
  while (size < (uint64_t)n * 2)
    size <<= 1;
  return size;
}

static uint64_t pair_hash(int32_t a, int32_t b) {
  uint64_t x = ((uint64_t)(uint32_t)a << 32) | (uint32_t)b;
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  return x;
}

int32_t tern_tokenizer_find(const tern_tokenizer *t, const char *text, size_t size) {
  for (uint64_t h = tern_hash64(text, size, 0) & t->token_mask;; h = (h + 1) & t->token_mask) {
    int32_t id = t->token_table[h];
    if (id < 0)
      return -1;
    if ((size_t)(t->offsets[id + 1] - t->offsets[id]) == size &&
        (size == 0 || memcmp(t->vocab + t->offsets[id], text, size) == 0))
      return id;
  }
}

/* The rank of merging (a, b), or -1. */
static int64_t merge_rank(const tern_tokenizer *t, int32_t a, int32_t b) {
  for (uint64_t h = pair_hash(a, b) & t->merge_mask;; h = (h + 1) & t->merge_mask) {
    int64_t rank = t->merge_table[h];
    if (rank < 0)
      return -1;
    if (t->merges[3 * rank] == a && t->merges[3 * rank + 1] == b)
      return rank;
  }
}

/* The byte a metaspace byte-fallback token stands for ("<0x0A>": 10), or -1. */
static int fallback_byte(const uint8_t *text, size_t n) {
  if (n != 6 || text[0] != '<' || text[1] != '0' || text[2] != 'x' || text[5] != '>')
    return -1;
  int value = 0;
  for (int i = 3; i < 5; ++i) {
    uint8_t c = text[i];
    int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    if (digit < 0)
      return -1;
    value = value * 16 + digit;
  }
  return value;
}

/* A tensor of `dtype` (the weight store's codes: U8 1, I32 8, I64 11) and rank `rank`. */
static const tern_blob_entry *tensor(const tern_blob *blob, const char *name, uint8_t dtype,
                                     uint8_t rank, char *error, size_t size) {
  const tern_blob_entry *e = tern_blob_find(blob, name);
  if (!e) {
    tern_format_error(error, size, "the weights have no tokenizer (no tensor %s): compile the model from a "
                      "checkpoint with a tokenizer.json",
         name);
    return NULL;
  }
  if (e->dtype != dtype || e->rank != rank) {
    tern_format_error(error, size, "tensor %s: unexpected dtype %u or rank %u", name, e->dtype, e->rank);
    return NULL;
  }
  return e;
}

static void *pcre2_allocate(PCRE2_SIZE size, void *user) {
  return tern_allocate((const tern_allocator *)user, size, 0);
}

static void pcre2_release(void *pointer, void *user) {
  tern_release((const tern_allocator *)user, pointer);
}

int tern_tokenizer_open(const tern_blob *blob, const tern_allocator *allocator,
                        tern_tokenizer **out, char *error, size_t size) {
  enum { U8 = 1, I32 = 8, I64 = 11 };
  *out = NULL;
  const tern_blob_entry *vocab = tensor(blob, "tokenizer.vocab", U8, 1, error, size);
  const tern_blob_entry *offsets = tensor(blob, "tokenizer.offsets", I64, 1, error, size);
  const tern_blob_entry *merges = tensor(blob, "tokenizer.merges", I32, 2, error, size);
  const tern_blob_entry *special = tensor(blob, "tokenizer.special", I32, 1, error, size);
  const tern_blob_entry *pattern = tensor(blob, "tokenizer.pattern", U8, 1, error, size);
  const tern_blob_entry *config = tensor(blob, "tokenizer.config", I64, 1, error, size);
  if (!vocab || !offsets || !merges || !special || !pattern || !config)
    return -1;
  const int64_t *cfg = (const int64_t *)(blob->data + config->offset);
  if (config->dims[0] < 4 || cfg[3] != TERN_TOKENIZER_VERSION)
    return tern_format_error(error, size, "tensor tokenizer.config: tokenizer format %lld, this runtime "
                             "reads %d (compile the model again with this tern)",
                config->dims[0] < 4 ? -1LL : (long long)cfg[3], TERN_TOKENIZER_VERSION);
  if (config->dims[0] < 10)
    return tern_format_error(error, size, "tensor tokenizer.config: %lld entries; format %d has 10",
                             (long long)config->dims[0], TERN_TOKENIZER_VERSION);
  if (cfg[4] < 0 || cfg[4] > 1 || cfg[5] < TERN_PREPEND_NEVER || cfg[5] > TERN_PREPEND_FIRST ||
      cfg[6] < 0 || cfg[6] > 1)
    return tern_format_error(error, size, "tensor tokenizer.config: unknown kind %lld, prepend rule "
                             "%lld or strip %lld", (long long)cfg[4], (long long)cfg[5],
                             (long long)cfg[6]);
  allocator = tern_allocator_or_default(allocator);
  tern_tokenizer *t = tern_allocate_zeroed(allocator, sizeof *t, 0);
  if (!t)
    return tern_format_error(error, size, "out of memory for the tokenizer");
  t->allocator = *allocator;
  t->vocab = blob->data + vocab->offset;
  t->offsets = (const int64_t *)(blob->data + offsets->offset);
  t->vocab_size = offsets->dims[0] - 1;
  t->merges = (const int32_t *)(blob->data + merges->offset);
  t->n_merges = merges->dims[0];
  t->special = (const int32_t *)(blob->data + special->offset);
  t->n_special = special->dims[0];
  t->ignore_merges = cfg[0] != 0;
  t->bos = (int32_t)cfg[1];
  t->eos = (int32_t)cfg[2];
  t->metaspace = cfg[4] == 1;
  t->prepend = (int)cfg[5];
  t->strip = (int)cfg[6];
  t->unk = (int32_t)cfg[7];
  t->fuse_unk = cfg[8] != 0;
  t->byte_fallback = cfg[9] != 0;
  /* Every offset in order and inside the vocabulary bytes; every id in range. */
  int bad = t->vocab_size < 1 || merges->dims[1] != 3;
  for (int64_t i = 0; !bad && i < t->vocab_size; ++i)
    bad = t->offsets[i] < 0 || t->offsets[i] > t->offsets[i + 1] ||
          (uint64_t)t->offsets[i + 1] > vocab->size;
  for (int64_t i = 0; !bad && i < 3 * t->n_merges; ++i)
    bad = t->merges[i] < 0 || t->merges[i] >= t->vocab_size;
  for (int64_t i = 0; !bad && i < t->n_special; ++i)
    bad = t->special[i] < 0 || t->special[i] >= t->vocab_size;
  if (bad || t->bos >= t->vocab_size || t->eos >= t->vocab_size || t->unk >= t->vocab_size) {
    tern_tokenizer_free(t);
    return tern_format_error(error, size, "the tokenizer tensors are inconsistent (an offset or an id outside "
                             "the vocabulary)");
  }
  t->token_mask = table_size(t->vocab_size) - 1;
  t->merge_mask = table_size(t->n_merges) - 1;
  t->token_table = tern_allocate(allocator, sizeof(int32_t) * (t->token_mask + 1), 0);
  t->merge_table = tern_allocate(allocator, sizeof(int64_t) * (t->merge_mask + 1), 0);
  /* The context points at t's copy of the allocator, which lives as long as t. */
  t->memory = pcre2_general_context_create(pcre2_allocate, pcre2_release, &t->allocator);
  if (!t->token_table || !t->merge_table || !t->memory) {
    tern_tokenizer_free(t);
    return tern_format_error(error, size, "out of memory for the tokenizer");
  }
  memset(t->token_table, 0xff, sizeof(int32_t) * (t->token_mask + 1));
  memset(t->merge_table, 0xff, sizeof(int64_t) * (t->merge_mask + 1));
  for (int i = 0; i < 256; ++i)
    t->byte_token[i] = -1;
  for (int64_t id = 0; id < t->vocab_size; ++id) {
    const uint8_t *bytes = t->vocab + t->offsets[id];
    size_t n = (size_t)(t->offsets[id + 1] - t->offsets[id]);
    if (tern_tokenizer_find(t, (const char *)bytes, n) >= 0)
      continue; /* a duplicate keeps the lowest id */
    uint64_t h = tern_hash64(bytes, n, 0) & t->token_mask;
    while (t->token_table[h] >= 0)
      h = (h + 1) & t->token_mask;
    t->token_table[h] = (int32_t)id;
    int byte = t->metaspace ? fallback_byte(bytes, n) : n == 1 ? bytes[0] : -1;
    if (byte >= 0 && t->byte_token[byte] < 0)
      t->byte_token[byte] = (int32_t)id;
  }
  for (int64_t r = 0; r < t->n_merges; ++r) {
    if (merge_rank(t, t->merges[3 * r], t->merges[3 * r + 1]) >= 0)
      continue;
    uint64_t h = pair_hash(t->merges[3 * r], t->merges[3 * r + 1]) & t->merge_mask;
    while (t->merge_table[h] >= 0)
      h = (h + 1) & t->merge_mask;
    t->merge_table[h] = r;
  }
  if (!t->metaspace)
    t->strip = 0, t->prepend = TERN_PREPEND_NEVER;
  int code;
  PCRE2_SIZE at;
  pcre2_compile_context *compile = pcre2_compile_context_create(t->memory);
  if (!compile) {
    tern_tokenizer_free(t);
    return tern_format_error(error, size, "out of memory for the tokenizer");
  }
  t->pattern = pcre2_compile(blob->data + pattern->offset, pattern->size,
                             PCRE2_UTF | PCRE2_UCP | PCRE2_NO_UTF_CHECK, &code, &at, compile);
  pcre2_compile_context_free(compile);
  if (!t->pattern && code == PCRE2_ERROR_HEAP_FAILED) {
    tern_tokenizer_free(t);
    return tern_format_error(error, size, "out of memory for the tokenizer (its regex)");
  }
  if (!t->pattern) {
    PCRE2_UCHAR message[160];
    pcre2_get_error_message(code, message, sizeof message);
    tern_tokenizer_free(t);
    return tern_format_error(error, size, "tensor tokenizer.pattern: PCRE2 cannot compile it at offset %zu: "
                             "%s",
                (size_t)at, (const char *)message);
  }
  *out = t;
  return 0;
}

void tern_tokenizer_free(tern_tokenizer *t) {
  if (!t)
    return;
  pcre2_code_free(t->pattern);
  pcre2_general_context_free(t->memory);
  tern_release(&t->allocator, t->token_table);
  tern_release(&t->allocator, t->merge_table);
  tern_release(&t->allocator, t);
}

int64_t tern_tokenizer_vocab_size(const tern_tokenizer *t) { return t->vocab_size; }
int32_t tern_tokenizer_bos(const tern_tokenizer *t) { return t->bos; }
int32_t tern_tokenizer_eos(const tern_tokenizer *t) { return t->eos; }

/* The ids being produced: written while there is room, counted always. */
typedef struct {
  int32_t *ids;
  int64_t capacity, count;
  /* Scratch of a piece's length: its symbols, their neighbours (a linked list: a merge removes
   * the right symbol), and a heap of candidate merges, 3 per symbol (the first pairs and two
   * per merge). */
  int32_t *symbols, *next, *prev;
  struct merge_candidate *heap;
} sink;

/* A merge of the symbol at `pos` with the next one, valid while that pair still has `rank`. */
struct merge_candidate {
  int32_t rank, pos;
};

/* Lowest rank first, then the leftmost: the order Hugging Face's BPE merges in. */
static int candidate_before(struct merge_candidate a, struct merge_candidate b) {
  return a.rank < b.rank || (a.rank == b.rank && a.pos < b.pos);
}

static void heap_push(struct merge_candidate *heap, size_t *n, struct merge_candidate c) {
  size_t i = (*n)++;
  while (i > 0 && candidate_before(c, heap[(i - 1) / 2])) {
    heap[i] = heap[(i - 1) / 2];
    i = (i - 1) / 2;
  }
  heap[i] = c;
}

static struct merge_candidate heap_pop(struct merge_candidate *heap, size_t *n) {
  struct merge_candidate top = heap[0], last = heap[--*n];
  size_t i = 0;
  for (;;) {
    size_t child = 2 * i + 1;
    if (child >= *n)
      break;
    if (child + 1 < *n && candidate_before(heap[child + 1], heap[child]))
      ++child;
    if (!candidate_before(heap[child], last))
      break;
    heap[i] = heap[child];
    i = child;
  }
  if (*n > 0)
    heap[i] = last;
  return top;
}

static void emit(sink *s, int32_t id) {
  if (s->count < s->capacity)
    s->ids[s->count] = id;
  s->count++;
}

/* The length of the UTF-8 character at p (valid UTF-8, checked before). */
static size_t utf8_length(uint8_t lead) {
  return lead < 0x80 ? 1 : lead < 0xe0 ? 2 : lead < 0xf0 ? 3 : 4;
}

/* A metaspace piece's symbols: its characters' tokens; a character outside the vocabulary as its
 * bytes' <0xXX> tokens when every one exists (byte_fallback), else the unknown token, fused with
 * an unknown one just before it (fuse_unk), or nothing without an unknown token. */
static size_t metaspace_symbols(const tern_tokenizer *t, const uint8_t *text, size_t n,
                                int32_t *sym) {
  size_t k = 0;
  int unknown_before = 0;
  for (size_t i = 0; i < n;) {
    size_t len = utf8_length(text[i]);
    int32_t id = tern_tokenizer_find(t, (const char *)text + i, len);
    int fallback = id < 0 && t->byte_fallback;
    for (size_t j = 0; fallback && j < len; ++j)
      fallback = t->byte_token[text[i + j]] >= 0;
    if (id >= 0 || fallback) {
      if (id >= 0)
        sym[k++] = id;
      else
        for (size_t j = 0; j < len; ++j)
          sym[k++] = t->byte_token[text[i + j]];
      unknown_before = 0;
    } else if (t->unk >= 0 && !(unknown_before && t->fuse_unk)) {
      sym[k++] = t->unk;
      unknown_before = 1;
    }
    i += len;
  }
  return k;
}

/* One pre-tokenized piece: a whole token (ignore_merges), else its symbols merged by rank. */
static void encode_piece(const tern_tokenizer *t, const uint8_t *bytes, size_t n, sink *s) {
  if (n == 0)
    return;
  if (t->ignore_merges) {
    int32_t id = tern_tokenizer_find(t, (const char *)bytes, n);
    if (id >= 0) {
      emit(s, id);
      return;
    }
  }
  int32_t *sym = s->symbols, *next = s->next, *prev = s->prev;
  size_t k = 0;
  if (t->metaspace) {
    k = metaspace_symbols(t, bytes, n, sym);
  } else {
    for (size_t i = 0; i < n; ++i)
      sym[k++] = t->byte_token[bytes[i]]; /* -1 if the vocabulary lacks the byte */
  }
  /* Merges from a heap of candidates, O(k log k) (a long span is one piece for metaspace). A
   * merged symbol keeps the left one's place; the right one leaves the list (its id becomes
   * DEAD). A candidate is stale once its pair has changed: its rank no longer matches. */
  enum { DEAD = -2 };
  size_t heap_n = 0;
  for (size_t i = 0; i < k; ++i) {
    next[i] = i + 1 < k ? (int32_t)(i + 1) : -1;
    prev[i] = (int32_t)i - 1;
  }
  for (size_t i = 0; i + 1 < k; ++i) {
    int64_t r = sym[i] < 0 || sym[i + 1] < 0 ? -1 : merge_rank(t, sym[i], sym[i + 1]);
    if (r >= 0)
      heap_push(s->heap, &heap_n, (struct merge_candidate){(int32_t)r, (int32_t)i});
  }
  while (heap_n > 0) {
    struct merge_candidate c = heap_pop(s->heap, &heap_n);
    int32_t i = c.pos, j = next[i];
    if (sym[i] < 0 || j < 0 || sym[j] < 0 || merge_rank(t, sym[i], sym[j]) != c.rank)
      continue;
    sym[i] = t->merges[3 * (int64_t)c.rank + 2];
    sym[j] = DEAD;
    next[i] = next[j];
    if (next[j] >= 0)
      prev[next[j]] = i;
    if (prev[i] >= 0 && sym[prev[i]] >= 0) {
      int64_t r = merge_rank(t, sym[prev[i]], sym[i]);
      if (r >= 0)
        heap_push(s->heap, &heap_n, (struct merge_candidate){(int32_t)r, prev[i]});
    }
    if (next[i] >= 0 && sym[next[i]] >= 0) {
      int64_t r = merge_rank(t, sym[i], sym[next[i]]);
      if (r >= 0)
        heap_push(s->heap, &heap_n, (struct merge_candidate){(int32_t)r, i});
    }
  }
  for (size_t i = 0; i < k; ++i)
    if (sym[i] >= 0)
      emit(s, sym[i]);
}

/* A span without added tokens: the pattern's matches and the gaps between them. 0, or PCRE2's
 * (negative) error code. */
static int encode_span(const tern_tokenizer *t, const uint8_t *text, size_t n,
                       pcre2_match_data *match, sink *s) {
  size_t off = 0;
  while (off < n) {
    int rc = pcre2_match(t->pattern, text, n, off, PCRE2_NO_UTF_CHECK, match, NULL);
    if (rc == PCRE2_ERROR_NOMATCH) {
      encode_piece(t, text + off, n - off, s);
      return 0;
    }
    if (rc < 0)
      return rc;
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(match);
    size_t start = ov[0], end = ov[1];
    if (start > off)
      encode_piece(t, text + off, start - off, s);
    if (end == start) { /* an empty match: take one character as its own piece */
      end = start + 1;
      while (end < n && (text[end] & 0xc0) == 0x80)
        ++end;
    }
    encode_piece(t, text + start, end - start, s);
    off = end;
  }
  return 0;
}

static const uint8_t kMetaspace[3] = {0xe2, 0x96, 0x81}; /* U+2581 */

/* A span as metaspace normalizes it into `out` (room for 3 n + 3 bytes): every space a U+2581,
 * one put in front as the prepend rule says (`at_start`: the span begins the text). */
static size_t metaspace_normalize(const tern_tokenizer *t, const uint8_t *text, size_t n,
                                  int at_start, uint8_t *out) {
  size_t k = 0;
  if (n == 0)
    return 0;
  int starts_with_one = text[0] == ' ' || (n >= 3 && memcmp(text, kMetaspace, 3) == 0);
  int prepend = t->prepend == TERN_PREPEND_ALWAYS ||
                (t->prepend == TERN_PREPEND_UNLESS_THERE && !starts_with_one) ||
                (t->prepend == TERN_PREPEND_FIRST && at_start && !starts_with_one);
  if (prepend)
    memcpy(out, kMetaspace, 3), k = 3;
  for (size_t i = 0; i < n; ++i) {
    if (text[i] == ' ')
      memcpy(out + k, kMetaspace, 3), k += 3;
    else
      out[k++] = text[i];
  }
  return k;
}

/* A span without added tokens, normalized first for metaspace. */
static int encode_text_span(const tern_tokenizer *t, const uint8_t *text, size_t n, int at_start,
                            uint8_t *normalized, pcre2_match_data *match, sink *s) {
  if (!t->metaspace)
    return encode_span(t, text, n, match, s);
  size_t k = metaspace_normalize(t, text, n, at_start, normalized);
  return encode_span(t, normalized, k, match, s);
}

size_t tern_utf8_invalid_at(const char *text, size_t n) {
  const uint8_t *p = (const uint8_t *)text;
  size_t i = 0;
  while (i < n) {
    uint8_t c = p[i];
    size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (len == 0 || i + len > n)
      return i;
    uint32_t cp = len == 1 ? c : len == 2 ? c & 0x1f : len == 3 ? c & 0x0f : c & 0x07;
    for (size_t j = 1; j < len; ++j) {
      if ((p[i + j] & 0xc0) != 0x80)
        return i;
      cp = (cp << 6) | (p[i + j] & 0x3f);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
      return i;
    i += len;
  }
  return n;
}

/* The longest added token written at text[0, n), or -1. */
static int32_t special_at(const tern_tokenizer *t, const uint8_t *text, size_t n,
                          size_t *length) {
  int32_t best = -1;
  *length = 0;
  for (int64_t i = 0; i < t->n_special; ++i) {
    int32_t id = t->special[i];
    size_t len = (size_t)(t->offsets[id + 1] - t->offsets[id]);
    if (len > *length && len <= n && memcmp(t->vocab + t->offsets[id], text, len) == 0)
      best = id, *length = len;
  }
  return best;
}

int64_t tern_tokenizer_encode(const tern_tokenizer *t, const char *text, size_t size,
                              int add_bos, int parse_special, int32_t *ids, int64_t capacity,
                              char *error, size_t error_size) {
  const uint8_t *p = (const uint8_t *)text;
  size_t invalid = tern_utf8_invalid_at((const char *)p, size);
  if (invalid < size)
    return tern_format_error(error, error_size, "the text is not valid UTF-8 at byte %zu", invalid);
  /* Metaspace pieces grow by normalizing: a space becomes 3 bytes, and 3 may come in front. */
  size_t room = t->metaspace ? 3 * size + 4 : size + 1;
  if (size > INT32_MAX / 4) /* the merge heap indexes symbols with int32_t */
    return tern_format_error(error, error_size, "the text of %zu bytes is too long to tokenize "
                             "(at most %d)", size, INT32_MAX / 4);
  sink s = {ids,
            capacity,
            0,
            tern_allocate(&t->allocator, sizeof(int32_t) * room, 0),
            tern_allocate(&t->allocator, sizeof(int32_t) * room, 0),
            tern_allocate(&t->allocator, sizeof(int32_t) * room, 0),
            tern_allocate(&t->allocator, sizeof(struct merge_candidate) * 3 * room, 0)};
  uint8_t *normalized = t->metaspace ? tern_allocate(&t->allocator, room, 0) : NULL;
  pcre2_match_data *match = pcre2_match_data_create_from_pattern(t->pattern, t->memory);
  if (!s.symbols || !s.next || !s.prev || !s.heap || (t->metaspace && !normalized) || !match) {
    tern_release(&t->allocator, s.symbols);
    tern_release(&t->allocator, s.next);
    tern_release(&t->allocator, s.prev);
    tern_release(&t->allocator, s.heap);
    tern_release(&t->allocator, normalized);
    pcre2_match_data_free(match);
    return tern_format_error(error, error_size, "out of memory for tokenizing %zu bytes", size);
  }
  if (add_bos && t->bos >= 0)
    emit(&s, t->bos);
  int status = 0;
  size_t start = 0;
  for (size_t i = 0; i < size && status == 0;) {
    size_t len;
    int32_t id = parse_special ? special_at(t, p + i, size - i, &len) : -1;
    if (id < 0) {
      ++i;
      continue;
    }
    status = encode_text_span(t, p + start, i - start, start == 0, normalized, match, &s);
    emit(&s, id);
    i += len;
    start = i;
  }
  if (status == 0)
    status = encode_text_span(t, p + start, size - start, start == 0, normalized, match, &s);
  tern_release(&t->allocator, s.symbols);
  tern_release(&t->allocator, s.next);
  tern_release(&t->allocator, s.prev);
  tern_release(&t->allocator, s.heap);
  tern_release(&t->allocator, normalized);
  pcre2_match_data_free(match);
  if (status == PCRE2_ERROR_NOMEMORY)
    return tern_format_error(error, error_size, "out of memory for tokenizing %zu bytes", size);
  if (status != 0) {
    PCRE2_UCHAR message[160];
    pcre2_get_error_message(status, message, sizeof message);
    return tern_format_error(error, error_size, "the pre-tokenizer's regex failed on the text: %s",
                             (const char *)message);
  }
  return s.count;
}

/* Token `id`'s decoded bytes into out[0, capacity) (as many as fit); returns how many it has.
 * With `drop_space`, without its first byte, a space (decode_text's strip). */
static size_t decode_token(const tern_tokenizer *t, int32_t id, int drop_space, char *out,
                           size_t capacity) {
  const uint8_t *text = t->vocab + t->offsets[id];
  size_t n = (size_t)(t->offsets[id + 1] - t->offsets[id]);
  if (!t->metaspace) {
    if (capacity > 0) /* out may be NULL when only counting */
      memcpy(out, text, n < capacity ? n : capacity);
    return n;
  }
  int byte = fallback_byte(text, n);
  if (byte >= 0 && t->byte_token[byte] == id) {
    if (drop_space)
      return 0;
    if (capacity > 0)
      out[0] = (char)byte;
    return 1;
  }
  size_t i = 0, k = 0;
  if (drop_space)
    i = n >= 3 && memcmp(text, kMetaspace, 3) == 0 ? 3 : 1;
  while (i < n) {
    int space = i + 3 <= n && memcmp(text + i, kMetaspace, 3) == 0;
    if (k < capacity)
      out[k] = space ? ' ' : (char)text[i];
    i += space ? 3 : 1;
    ++k;
  }
  return k;
}

/* The tokens' bytes; with `strip`, the first byte, a space, left out. */
static int64_t decode_ids(const tern_tokenizer *t, const int32_t *ids, int64_t n, int64_t strip,
                          char *out, size_t capacity) {
  size_t total = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (ids[i] < 0 || ids[i] >= t->vocab_size)
      return -1;
    /* No arithmetic on a NULL `out` (counting only): it is used only below capacity. */
    total += decode_token(t, ids[i], i == strip, total < capacity ? out + total : NULL,
                          total < capacity ? capacity - total : 0);
  }
  return (int64_t)total;
}

int64_t tern_tokenizer_decode(const tern_tokenizer *t, const int32_t *ids, int64_t n, char *out,
                              size_t capacity) {
  return decode_ids(t, ids, n, -1, out, capacity);
}

int64_t tern_tokenizer_decode_text(const tern_tokenizer *t, const int32_t *ids, int64_t n,
                                   char *out, size_t capacity) {
  /* The first token with any bytes holds the first byte: is it the space to strip? */
  int64_t strip = -1;
  for (int64_t i = 0; t->strip && i < n; ++i) {
    if (ids[i] < 0 || ids[i] >= t->vocab_size)
      return -1;
    char first = 0;
    if (decode_token(t, ids[i], 0, &first, 1) > 0) {
      strip = first == ' ' ? i : -1;
      break;
    }
  }
  return decode_ids(t, ids, n, strip, out, capacity);
}

size_t tern_utf8_whole_prefix(const char *text, size_t n) {
  const uint8_t *p = (const uint8_t *)text;
  size_t i = n;
  while (i > 0 && n - i < 4 && (p[i - 1] & 0xc0) == 0x80)
    --i;
  if (i == 0)
    return n; /* no lead byte: nothing to wait for */
  uint8_t lead = p[i - 1];
  size_t need = lead < 0xc0 ? 1 : lead < 0xe0 ? 2 : lead < 0xf0 ? 3 : 4;
  return n - (i - 1) >= need ? n : i - 1;
}
