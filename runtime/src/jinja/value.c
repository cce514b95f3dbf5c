/* value.c - the engine's memory (an arena), UTF-8, and what every value can do: truth,
 * equality, dict entries, the loop object, printing and JSON. */
#include "jinja_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- arena ---- */

struct jinja_chunk {
  jinja_chunk *next;
  size_t size;
  max_align_t align[]; /* the chunk's bytes follow */
};

enum { CHUNK_SIZE = 4 << 10 }; /* most renders fit one: a server thread keeps little */

static void *libc_allocate(void *user, size_t size, size_t alignment) {
  (void)user;
  (void)alignment; /* malloc's alignment (16 on the platforms tern targets) is all we ask */
  return malloc(size);
}

static void libc_release(void *user, void *pointer) {
  (void)user;
  free(pointer);
}

void jinja_arena_init(jinja_arena *a, const tern_allocator *allocator, size_t limit) {
  memset(a, 0, sizeof *a);
  if (allocator && allocator->allocate && allocator->release)
    a->allocator = *allocator;
  else
    a->allocator = (tern_allocator){libc_allocate, libc_release, NULL};
  a->limit = limit;
}

void *jinja_arena_alloc(jinja_arena *a, size_t size) {
  if (size > a->limit) { /* before rounding, which could wrap */
    a->over_limit = 1;
    return NULL;
  }
  size = size ? (size + 15) & ~(size_t)15 : 16;
  if (a->cursor && (size_t)(a->end - a->cursor) >= size) {
    void *p = a->cursor;
    a->cursor += size;
    return p;
  }
  size_t bytes = size > CHUNK_SIZE / 4 ? size : CHUNK_SIZE;
  if (size > a->limit || bytes > a->limit - a->total) {
    a->over_limit = 1;
    return NULL;
  }
  jinja_chunk *c = a->allocator.allocate(a->allocator.user, sizeof *c + bytes, 16);
  if (!c) {
    a->over_limit = 0;
    return NULL;
  }
  c->size = bytes;
  c->next = a->chunks;
  a->chunks = c;
  a->total += bytes;
  char *data = (char *)c->align;
  if (bytes == size)
    return data; /* a large block: keep the current chunk's rest for small ones */
  a->cursor = data + size;
  a->end = data + bytes;
  return data;
}

void jinja_arena_free(jinja_arena *a) {
  tern_allocator allocator = a->allocator; /* the arena may live in its own chunk */
  jinja_chunk *c = a->chunks;
  while (c) {
    jinja_chunk *next = c->next;
    allocator.release(allocator.user, c);
    c = next;
  }
}

/* ---- UTF-8 ---- */

int32_t jinja_utf8_decode(const char *p, const char *end, size_t *size) {
  const unsigned char *s = (const unsigned char *)p;
  size_t left = (size_t)(end - p);
  unsigned c = s[0];
  *size = 1;
  if (c < 0x80)
    return (int32_t)c;
  size_t n = c >= 0xf5 ? 0 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;
  if (n == 0 || n > left)
    return -1;
  uint32_t code = c & (0x7f >> n);
  for (size_t i = 1; i < n; ++i) {
    if ((s[i] & 0xc0) != 0x80)
      return -1;
    code = code << 6 | (s[i] & 0x3f);
  }
  /* Overlong forms, surrogates and code points past U+10FFFF are invalid. */
  if ((n == 3 && code < 0x800) || (n == 4 && (code < 0x10000 || code > 0x10ffff)) ||
      (code >= 0xd800 && code <= 0xdfff))
    return -1;
  *size = n;
  return (int32_t)code;
}

size_t jinja_utf8_next(const char *p, const char *end) {
  size_t n;
  jinja_utf8_decode(p, end, &n);
  return n;
}

size_t jinja_utf8_encode(uint32_t code, char out[4]) {
  if (code < 0x80) {
    out[0] = (char)code;
    return 1;
  }
  if (code < 0x800) {
    out[0] = (char)(0xc0 | code >> 6);
    out[1] = (char)(0x80 | (code & 0x3f));
    return 2;
  }
  if (code < 0x10000) {
    out[0] = (char)(0xe0 | code >> 12);
    out[1] = (char)(0x80 | ((code >> 6) & 0x3f));
    out[2] = (char)(0x80 | (code & 0x3f));
    return 3;
  }
  out[0] = (char)(0xf0 | code >> 18);
  out[1] = (char)(0x80 | ((code >> 12) & 0x3f));
  out[2] = (char)(0x80 | ((code >> 6) & 0x3f));
  out[3] = (char)(0x80 | (code & 0x3f));
  return 4;
}

size_t jinja_utf8_count(const char *p, size_t n) {
  size_t count = 0;
  for (const char *end = p + n; p < end; p += jinja_utf8_next(p, end))
    ++count;
  return count;
}

/* JavaScript's \s (what trim, trimEnd and the lexer of @huggingface/jinja skip). */
static int is_space(int32_t c) {
  if (c <= 32)
    return c == 32 || (c >= 9 && c <= 13);
  return c == 0xa0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 ||
         c == 0x202f || c == 0x205f || c == 0x3000 || c == 0xfeff;
}

size_t jinja_space_at(const char *p, const char *end) {
  if (p >= end)
    return 0;
  size_t n;
  int32_t c = jinja_utf8_decode(p, end, &n);
  return c >= 0 && is_space(c) ? n : 0;
}

size_t jinja_space_before(const char *begin, const char *end) {
  if (end <= begin)
    return 0;
  /* Back up over continuation bytes to the start of the last code point. */
  const char *p = end - 1;
  while (p > begin && end - p < 4 && ((unsigned char)*p & 0xc0) == 0x80)
    --p;
  size_t n;
  int32_t c = jinja_utf8_decode(p, end, &n);
  if (p + n != end)
    return 0;
  return c >= 0 && is_space(c) ? n : 0;
}

/* ---- values ---- */

const char *jinja_kind_name(uint32_t kind) {
  switch (kind) {
  case JV_UNDEFINED: return "undefined";
  case JV_NONE: return "none";
  case JV_BOOL: return "a boolean";
  case JV_INT: return "an integer";
  case JV_STRING: return "a string";
  case JV_LIST: return "a list";
  case JV_DICT: return "a dict";
  case JV_NAMESPACE: return "a namespace";
  case JV_LOOP: return "the loop object";
  default: return "nothing";
  }
}

/* Python's truth, which @huggingface/jinja mirrors (an empty list or dict is false). */
int jinja_truthy(const jinja_value *v) {
  switch (v->kind) {
  case JV_BOOL:
  case JV_INT: return v->as.integer != 0;
  case JV_STRING:
  case JV_LIST: return v->length != 0;
  case JV_DICT: return v->as.dict->count != 0;
  case JV_NAMESPACE:
  case JV_LOOP: return 1;
  default: return 0;
  }
}

/* == as @huggingface/jinja computes it for the values templates compare (strings, numbers,
 * booleans, none; undefined == none is true there, as in JavaScript), except where JavaScript's
 * loose equality would be garbage: a string never equals a number (Python), and lists and dicts
 * compare by content (Python; @huggingface/jinja compares them by identity). */
int jinja_equal(jinja_render *r, uint32_t line, const jinja_value *a, const jinja_value *b, int depth) {
  if (depth > JINJA_MAX_VALUE_DEPTH)
    return jinja_fail(r, line, "values nested more than %d deep", JINJA_MAX_VALUE_DEPTH);
  uint32_t x = a->kind, y = b->kind;
  int nullish_a = x == JV_UNDEFINED || x == JV_NONE, nullish_b = y == JV_UNDEFINED || y == JV_NONE;
  if (nullish_a || nullish_b)
    return nullish_a && nullish_b;
  if ((x == JV_INT || x == JV_BOOL) && (y == JV_INT || y == JV_BOOL))
    return a->as.integer == b->as.integer;
  if (x != y)
    return 0;
  switch (x) {
  case JV_STRING:
    if (a->length != b->length)
      return 0;
    if (jinja_charge(r, line, a->length))
      return -1;
    return memcmp(a->as.string, b->as.string, a->length) == 0;
  case JV_LIST:
    if (a->length != b->length)
      return 0;
    if (jinja_charge(r, line, a->length))
      return -1;
    for (size_t i = 0; i < a->length; ++i) {
      int e = jinja_equal(r, line, &a->as.items[i], &b->as.items[i], depth + 1);
      if (e != 1)
        return e;
    }
    return 1;
  case JV_DICT: {
    const jinja_dict *p = a->as.dict, *q = b->as.dict;
    if (p->count != q->count)
      return 0;
    if (jinja_charge(r, line, (uint64_t)p->count * p->count))
      return -1;
    for (size_t i = 0; i < p->count; ++i) {
      const jinja_value *w = jinja_dict_get(q, p->entries[i].key, p->entries[i].key_length);
      if (!w)
        return 0;
      int e = jinja_equal(r, line, &p->entries[i].value, w, depth + 1);
      if (e != 1)
        return e;
    }
    return 1;
  }
  case JV_NAMESPACE: return a->as.dict == b->as.dict;
  case JV_LOOP: return a->as.loop == b->as.loop;
  default: return 0;
  }
}

const jinja_value *jinja_dict_get(const jinja_dict *d, const char *key, size_t n) {
  for (size_t i = 0; i < d->count; ++i)
    if (d->entries[i].key_length == n && memcmp(d->entries[i].key, key, n) == 0)
      return &d->entries[i].value;
  return NULL;
}

int jinja_dict_set(jinja_render *r, uint32_t line, jinja_dict *d, const char *key, size_t n,
                   const jinja_value *value) {
  for (size_t i = 0; i < d->count; ++i)
    if (d->entries[i].key_length == n && memcmp(d->entries[i].key, key, n) == 0) {
      d->entries[i].value = *value;
      return 0;
    }
  if (d->count == d->capacity) {
    size_t capacity = d->capacity ? d->capacity * 2 : 8;
    jinja_entry *entries = jinja_alloc(r, line, capacity * sizeof *entries);
    if (!entries)
      return -1;
    if (d->count)
      memcpy(entries, d->entries, d->count * sizeof *entries);
    d->entries = entries;
    d->capacity = capacity;
  }
  d->entries[d->count].key = key;
  d->entries[d->count].key_length = n;
  d->entries[d->count].value = *value;
  ++d->count;
  return 0;
}

static const char *const kLoopKeys[] = {"index", "index0", "revindex", "revindex0", "first",
                                        "last",  "length", "previtem", "nextitem"};
enum { LOOP_KEYS = sizeof kLoopKeys / sizeof kLoopKeys[0] };

static void loop_entry(const jinja_loop *loop, int which, jinja_value *out) {
  int64_t i = loop->index0, n = loop->length;
  switch (which) {
  case 0: *out = jinja_int(i + 1); break;
  case 1: *out = jinja_int(i); break;
  case 2: *out = jinja_int(n - i); break;
  case 3: *out = jinja_int(n - i - 1); break;
  case 4: *out = jinja_bool(i == 0); break;
  case 5: *out = jinja_bool(i == n - 1); break;
  case 6: *out = jinja_int(n); break;
  case 7: *out = i > 0 ? loop->items[i - 1] : jinja_undefined(); break;
  default: *out = i + 1 < n ? loop->items[i + 1] : jinja_undefined(); break;
  }
}

void jinja_loop_get(const jinja_loop *loop, const char *key, size_t n, jinja_value *out) {
  for (int k = 0; k < LOOP_KEYS; ++k)
    if (strlen(kLoopKeys[k]) == n && memcmp(kLoopKeys[k], key, n) == 0) {
      loop_entry(loop, k, out);
      return;
    }
  *out = jinja_undefined();
}

int jinja_loop_dict(jinja_render *r, uint32_t line, const jinja_loop *loop, jinja_dict **out) {
  jinja_dict *d = jinja_alloc(r, line, sizeof *d);
  if (!d)
    return -1;
  memset(d, 0, sizeof *d);
  for (int k = 0; k < LOOP_KEYS; ++k) {
    jinja_value v;
    loop_entry(loop, k, &v);
    if (jinja_dict_set(r, line, d, kLoopKeys[k], strlen(kLoopKeys[k]), &v))
      return -1;
  }
  *out = d;
  return 0;
}

/* ---- JSON: @huggingface/jinja's toJSON, byte for byte ---- */

static int put(jinja_render *r, uint32_t line, jinja_buffer *b, const char *s, size_t n) {
  return jinja_buffer_append(r, line, b, s, n);
}

static int put_escape(jinja_render *r, uint32_t line, jinja_buffer *b, uint32_t unit) {
  char text[16];
  snprintf(text, sizeof text, "\\u%04x", unit & 0xffff);
  return put(r, line, b, text, 6);
}

/* JSON.stringify's escaping: ", \\ and control characters; everything else as it is unless
 * ensure_ascii, which escapes U+007F and up as UTF-16 units (as Python's json.dumps). */
static int json_string(jinja_render *r, uint32_t line, jinja_buffer *b, const char *s, size_t n,
                       int ensure_ascii) {
  if (jinja_charge(r, line, n) || put(r, line, b, "\"", 1))
    return -1;
  const char *end = s + n, *run = s;
  for (const char *p = s; p < end;) {
    unsigned char c = (unsigned char)*p;
    const char *short_escape = NULL;
    switch (c) {
    case '"': short_escape = "\\\""; break;
    case '\\': short_escape = "\\\\"; break;
    case '\b': short_escape = "\\b"; break;
    case '\f': short_escape = "\\f"; break;
    case '\n': short_escape = "\\n"; break;
    case '\r': short_escape = "\\r"; break;
    case '\t': short_escape = "\\t"; break;
    default: break;
    }
    if (!short_escape && c >= 0x20 && (c < 0x7f || !ensure_ascii)) {
      ++p;
      continue;
    }
    if (put(r, line, b, run, (size_t)(p - run)))
      return -1;
    if (short_escape) {
      if (put(r, line, b, short_escape, 2))
        return -1;
      ++p;
    } else if (c < 0x80) {
      if (put_escape(r, line, b, c))
        return -1;
      ++p;
    } else {
      size_t size;
      int32_t code = jinja_utf8_decode(p, end, &size);
      if (code < 0)
        code = 0xfffd;
      if (code >= 0x10000) {
        uint32_t v = (uint32_t)code - 0x10000;
        if (put_escape(r, line, b, 0xd800 | (v >> 10)) || put_escape(r, line, b, 0xdc00 | (v & 0x3ff)))
          return -1;
      } else if (put_escape(r, line, b, (uint32_t)code)) {
        return -1;
      }
      p += size;
    }
    run = p;
  }
  return put(r, line, b, run, (size_t)(end - run)) || put(r, line, b, "\"", 1) ? -1 : 0;
}

static int pad(jinja_render *r, uint32_t line, jinja_buffer *b, int64_t indent, int depth) {
  if (put(r, line, b, "\n", 1))
    return -1;
  for (int64_t i = 0; i < indent * depth; ++i)
    if (put(r, line, b, " ", 1))
      return -1;
  return 0;
}

static int compare_keys(const void *x, const void *y) {
  const jinja_entry *a = *(const jinja_entry *const *)x, *b = *(const jinja_entry *const *)y;
  size_t n = a->key_length < b->key_length ? a->key_length : b->key_length;
  int c = memcmp(a->key, b->key, n);
  return c ? c : (a->key_length > b->key_length) - (a->key_length < b->key_length);
}

int jinja_json(jinja_render *r, uint32_t line, const jinja_value *v, const jinja_json_options *o, int depth,
               jinja_buffer *b) {
  if (depth > JINJA_MAX_VALUE_DEPTH)
    return jinja_fail(r, line, "values nested more than %d deep", JINJA_MAX_VALUE_DEPTH);
  /* Indented: "," between items (no space) unless told; ": " after keys. */
  const char *item = o->item_separator ? o->item_separator : o->indent > 0 ? "," : ", ";
  size_t item_n = o->item_separator ? o->item_separator_length : strlen(item);
  const char *key = o->key_separator ? o->key_separator : ": ";
  size_t key_n = o->key_separator ? o->key_separator_length : 2;
  char number[24];
  switch (v->kind) {
  case JV_UNDEFINED:
    return o->undefined_as_null ? put(r, line, b, "null", 4) : put(r, line, b, "undefined", 9);
  case JV_NONE: return put(r, line, b, "null", 4);
  case JV_BOOL: return v->as.integer ? put(r, line, b, "true", 4) : put(r, line, b, "false", 5);
  case JV_INT:
    snprintf(number, sizeof number, "%lld", (long long)v->as.integer);
    return put(r, line, b, number, strlen(number));
  case JV_STRING: return json_string(r, line, b, v->as.string, v->length, o->ensure_ascii);
  case JV_LIST: {
    if (put(r, line, b, "[", 1))
      return -1;
    for (size_t i = 0; i < v->length; ++i) {
      if ((i && put(r, line, b, item, item_n)) || (o->indent > 0 && pad(r, line, b, o->indent, depth + 1)) ||
          jinja_json(r, line, &v->as.items[i], o, depth + 1, b))
        return -1;
    }
    if (v->length && o->indent > 0 && pad(r, line, b, o->indent, depth))
      return -1;
    return put(r, line, b, "]", 1);
  }
  case JV_DICT:
  case JV_NAMESPACE:
  case JV_LOOP: {
    const jinja_dict *d = v->as.dict;
    jinja_dict *loop_entries;
    if (v->kind == JV_LOOP) {
      if (jinja_loop_dict(r, line, v->as.loop, &loop_entries))
        return -1;
      d = loop_entries;
    }
    const jinja_entry **order = NULL;
    if (d->count) {
      order = jinja_alloc(r, line, d->count * sizeof *order);
      if (!order)
        return -1;
      for (size_t i = 0; i < d->count; ++i)
        order[i] = &d->entries[i];
      /* Byte order: @huggingface/jinja's localeCompare depends on the machine's locale. */
      if (o->sort_keys)
        qsort(order, d->count, sizeof *order, compare_keys);
    }
    if (put(r, line, b, "{", 1))
      return -1;
    for (size_t i = 0; i < d->count; ++i) {
      if ((i && put(r, line, b, item, item_n)) || (o->indent > 0 && pad(r, line, b, o->indent, depth + 1)) ||
          json_string(r, line, b, order[i]->key, order[i]->key_length, o->ensure_ascii) ||
          put(r, line, b, key, key_n) || jinja_json(r, line, &order[i]->value, o, depth + 1, b))
        return -1;
    }
    if (d->count && o->indent > 0 && pad(r, line, b, o->indent, depth))
      return -1;
    return put(r, line, b, "}", 1);
  }
  default: return jinja_fail(r, line, "cannot convert %s to JSON", jinja_kind_name(v->kind));
  }
}

int jinja_to_text(jinja_render *r, uint32_t line, const jinja_value *v, jinja_value *out) {
  char number[24];
  switch (v->kind) {
  case JV_STRING: *out = *v; return 0;
  case JV_UNDEFINED: *out = jinja_string("", 0); return 0;
  case JV_BOOL: *out = v->as.integer ? jinja_string("true", 4) : jinja_string("false", 5); return 0;
  case JV_INT:
    snprintf(number, sizeof number, "%lld", (long long)v->as.integer);
    return jinja_string_copy(r, line, number, strlen(number), out);
  case JV_LIST:
  case JV_DICT:
  case JV_NAMESPACE:
  case JV_LOOP: {
    /* As @huggingface/jinja prints them: JSON, with undefined items as `undefined`. */
    jinja_json_options options = {0};
    jinja_buffer b = {0};
    if (jinja_json(r, line, v, &options, 0, &b))
      return -1;
    *out = jinja_string(b.data ? b.data : "", b.length);
    return 0;
  }
  default: return jinja_fail(r, line, "cannot convert %s to a string", jinja_kind_name(v->kind));
  }
}
