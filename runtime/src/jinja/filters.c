/* filters.c - the builtins: filters, tests, methods and functions, one table each, with the
 * parameters the parser binds arguments to. Each does what @huggingface/jinja's does; where that
 * one fails and Python's Jinja does not (length of undefined, a filter of a string it lacks), it
 * does what Python's does. Letters change case in ASCII only. */
#include "jinja_internal.h"

#include <stdio.h>
#include <string.h>

#define DECLARE(name)                                                                                        \
  static int name(jinja_render *r, const jinja_node *e, const jinja_value *self, const jinja_value *p,       \
                  jinja_value *out)

static int missing(const jinja_value *v) { return v->kind == JV_MISSING; }

static const char *callee(const jinja_node *e) {
  jinja_table table = e->kind == E_FILTER   ? JINJA_FILTER
                      : e->kind == E_METHOD ? JINJA_METHOD
                                            : JINJA_FUNCTION;
  return jinja_builtin_get(table, e->index)->name;
}

static int wrong_type(jinja_render *r, const jinja_node *e, const jinja_value *v) {
  if (e->kind == E_METHOD)
    return jinja_fail(r, e->line, "cannot call %s() on %s", callee(e), jinja_kind_name(v->kind));
  return jinja_fail(r, e->line, "cannot apply the filter '%s' to %s", callee(e), jinja_kind_name(v->kind));
}

static int wrong_argument(jinja_render *r, const jinja_node *e, const char *what, const jinja_value *v) {
  return jinja_fail(r, e->line, "%s's %s must be a string, not %s", callee(e), what,
                    jinja_kind_name(v->kind));
}

static jinja_value *new_items(jinja_render *r, uint32_t line, size_t n) {
  return jinja_alloc(r, line, (n ? n : 1) * sizeof(jinja_value));
}

/* A dict, namespace or loop's entries (the loop's built on demand). */
static const jinja_dict *entries(jinja_render *r, uint32_t line, const jinja_value *v) {
  if (v->kind == JV_DICT || v->kind == JV_NAMESPACE)
    return v->as.dict;
  jinja_dict *d = NULL;
  if (v->kind == JV_LOOP && jinja_loop_dict(r, line, v->as.loop, &d))
    return NULL;
  return d;
}

/* A string's characters (code points) as one-character strings. */
static int characters(jinja_render *r, uint32_t line, const jinja_value *s, jinja_value *out) {
  size_t n = jinja_utf8_count(s->as.string, s->length);
  jinja_value *items = new_items(r, line, n);
  if (!items || jinja_charge(r, line, s->length))
    return -1;
  const char *c = s->as.string, *end = c + s->length;
  for (size_t i = 0; i < n; ++i) {
    size_t k = jinja_utf8_next(c, end);
    items[i] = jinja_string(c, k);
    c += k;
  }
  *out = jinja_list(items, n);
  return 0;
}

/* ---- string helpers ---- */

static int is_word(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

enum { CASE_UPPER, CASE_LOWER, CASE_TITLE, CASE_CAPITALIZE };

/* upper, lower; title as @huggingface/jinja's /\b\w/ (Python's also lowers the rest);
 * capitalize its first character only (Python's also lowers the rest). */
static int change_case(jinja_render *r, const jinja_node *e, const jinja_value *s, int mode,
                       jinja_value *out) {
  if (s->kind != JV_STRING)
    return wrong_type(r, e, s);
  char *t = jinja_charge(r, e->line, s->length) ? NULL : jinja_alloc(r, e->line, s->length + 1);
  if (!t)
    return -1;
  memcpy(t, s->as.string, s->length);
  t[s->length] = 0;
  *out = jinja_string(t, s->length);
  for (size_t i = 0; i < s->length; ++i) {
    char c = t[i];
    int up = mode == CASE_UPPER || (mode == CASE_TITLE && (i == 0 || !is_word(s->as.string[i - 1]))) ||
             (mode == CASE_CAPITALIZE && i == 0);
    if (up && c >= 'a' && c <= 'z')
      t[i] = (char)(c - 32);
    else if (mode == CASE_LOWER && c >= 'A' && c <= 'Z')
      t[i] = (char)(c + 32);
  }
  return 0;
}

/* JavaScript's trim, trimStart, trimEnd (which strip, lstrip and rstrip are there); charges
 * the bytes it may scan. */
static int trim(jinja_render *r, uint32_t line, const jinja_value *s, int left, int right,
                jinja_value *out) {
  if (jinja_charge(r, line, s->length))
    return -1;
  const char *b = s->as.string, *end = b + s->length;
  size_t n;
  while (left && (n = jinja_space_at(b, end)) > 0)
    b += n;
  while (right && (n = jinja_space_before(b, end)) > 0)
    end -= n;
  *out = jinja_string(b, (size_t)(end - b));
  return 0;
}

/* The first `needle` in `hay`, or NULL; every position tried and every comparison is charged,
 * so a long needle over a long text cannot run unbounded (*failed then set). */
static const char *find(jinja_render *r, uint32_t line, const char *hay, size_t n,
                        const char *needle, size_t m, int *failed) {
  if (m == 0)
    return hay;
  size_t tried = 0;
  for (size_t i = 0; m <= n && i <= n - m; ++i) {
    if (hay[i] != needle[0])
      continue;
    if (++tried % 64 == 0 && jinja_charge(r, line, 64 * (uint64_t)m)) {
      *failed = 1;
      return NULL;
    }
    if (memcmp(hay + i, needle, m) == 0)
      return hay + i;
  }
  return NULL;
}

static int replace(jinja_render *r, const jinja_node *e, const jinja_value *s, const jinja_value *p,
                   jinja_value *out) {
  if (s->kind != JV_STRING)
    return wrong_type(r, e, s);
  const jinja_value *old = &p[0], *with = &p[1], *count = &p[2];
  if (old->kind != JV_STRING || with->kind != JV_STRING)
    return jinja_fail(r, e->line, "replace()'s arguments must be strings");
  if (!missing(count) && count->kind != JV_INT && count->kind != JV_NONE)
    return jinja_fail(r, e->line, "replace()'s count must be an integer");
  int64_t left = count->kind == JV_INT && count->as.integer >= 0 ? count->as.integer : INT64_MAX;
  jinja_buffer b = {0};
  const char *at = s->as.string, *end = at + s->length;
  if (jinja_charge(r, e->line, s->length))
    return -1;
  if (old->length == 0) {
    /* Between every two characters, and at both ends (JavaScript's /(?=)/gu, Python's ''). */
    for (;;) {
      if (left > 0) {
        --left;
        if (jinja_buffer_append(r, e->line, &b, with->as.string, with->length))
          return -1;
      }
      if (at >= end)
        break;
      size_t k = jinja_utf8_next(at, end);
      if (jinja_buffer_append(r, e->line, &b, at, k))
        return -1;
      at += k;
    }
  } else {
    const char *hit;
    int failed = 0;
    while (left > 0 &&
           (hit = find(r, e->line, at, (size_t)(end - at), old->as.string, old->length, &failed))) {
      if (jinja_buffer_append(r, e->line, &b, at, (size_t)(hit - at)) ||
          jinja_buffer_append(r, e->line, &b, with->as.string, with->length))
        return -1;
      at = hit + old->length;
      --left;
    }
    if (failed || jinja_buffer_append(r, e->line, &b, at, (size_t)(end - at)))
      return -1;
  }
  *out = jinja_string(b.data ? b.data : "", b.length);
  return 0;
}

/* ---- filters ---- */

DECLARE(f_safe) {
  (void)r, (void)e, (void)p;
  *out = *self;
  return 0;
}

DECLARE(f_tojson) {
  jinja_json_options o = {0};
  o.undefined_as_null = 1;
  const jinja_value *indent = &p[0], *ascii = &p[1], *sort = &p[2], *separators = &p[3];
  if (indent->kind == JV_INT) {
    if (indent->as.integer < 0 || indent->as.integer > 1000)
      return jinja_fail(r, e->line, "tojson's indent must be from 0 to 1000");
    o.indent = indent->as.integer; /* 0 is no indent there, newlines in Python */
  } else if (!missing(indent) && indent->kind != JV_NONE) {
    return jinja_fail(r, e->line, "tojson's indent must be an integer, not %s",
                      jinja_kind_name(indent->kind));
  }
  if ((!missing(ascii) && ascii->kind != JV_BOOL) || (!missing(sort) && sort->kind != JV_BOOL))
    return jinja_fail(r, e->line, "tojson's ensure_ascii and sort_keys must be booleans");
  o.ensure_ascii = ascii->kind == JV_BOOL && ascii->as.integer;
  o.sort_keys = sort->kind == JV_BOOL && sort->as.integer;
  if (!missing(separators) && separators->kind != JV_NONE) {
    if (separators->kind != JV_LIST || separators->length != 2 || separators->as.items[0].kind != JV_STRING ||
        separators->as.items[1].kind != JV_STRING)
      return jinja_fail(r, e->line, "tojson's separators must be two strings");
    o.item_separator = separators->as.items[0].as.string;
    o.item_separator_length = separators->as.items[0].length;
    o.key_separator = separators->as.items[1].as.string;
    o.key_separator_length = separators->as.items[1].length;
  }
  jinja_buffer b = {0};
  if (jinja_json(r, e->line, self, &o, 0, &b))
    return -1;
  *out = jinja_string(b.data ? b.data : "", b.length);
  return 0;
}

DECLARE(f_list) {
  (void)p;
  switch (self->kind) {
  case JV_LIST: *out = *self; return 0;
  case JV_STRING: return characters(r, e->line, self, out);
  case JV_UNDEFINED: *out = jinja_list(NULL, 0); return 0;
  case JV_DICT: {
    jinja_value *keys = new_items(r, e->line, self->as.dict->count);
    if (!keys)
      return -1;
    for (size_t i = 0; i < self->as.dict->count; ++i)
      keys[i] = jinja_string(self->as.dict->entries[i].key, self->as.dict->entries[i].key_length);
    *out = jinja_list(keys, self->as.dict->count);
    return 0;
  }
  default: return wrong_type(r, e, self);
  }
}

static int first_or_last(jinja_render *r, const jinja_node *e, const jinja_value *self, int last,
                         jinja_value *out) {
  jinja_value chars;
  if (self->kind == JV_UNDEFINED) {
    *out = *self;
    return 0;
  }
  if (self->kind == JV_STRING) {
    if (characters(r, e->line, self, &chars))
      return -1;
    self = &chars;
  }
  if (self->kind != JV_LIST)
    return wrong_type(r, e, self);
  *out = self->length == 0 ? jinja_undefined() : self->as.items[last ? self->length - 1 : 0];
  return 0;
}

DECLARE(f_first) {
  (void)p;
  return first_or_last(r, e, self, 0, out);
}
DECLARE(f_last) {
  (void)p;
  return first_or_last(r, e, self, 1, out);
}

DECLARE(f_length) {
  (void)p;
  switch (self->kind) {
  case JV_LIST: *out = jinja_int((int64_t)self->length); return 0;
  case JV_STRING:
    if (jinja_charge(r, e->line, self->length))
      return -1;
    *out = jinja_int((int64_t)jinja_utf8_count(self->as.string, self->length));
    return 0;
  case JV_DICT: *out = jinja_int((int64_t)self->as.dict->count); return 0;
  case JV_UNDEFINED: *out = jinja_int(0); return 0;
  default: return wrong_type(r, e, self);
  }
}

DECLARE(f_reverse) {
  (void)p;
  jinja_value list = *self;
  if (self->kind == JV_STRING && characters(r, e->line, self, &list))
    return -1;
  if (list.kind != JV_LIST)
    return wrong_type(r, e, self);
  jinja_value *items = new_items(r, e->line, list.length);
  if (!items)
    return -1;
  for (size_t i = 0; i < list.length; ++i)
    items[i] = list.as.items[list.length - 1 - i];
  if (self->kind == JV_LIST) {
    *out = jinja_list(items, list.length);
    return 0;
  }
  jinja_buffer b = {0};
  for (size_t i = 0; i < list.length; ++i)
    if (jinja_buffer_append(r, e->line, &b, items[i].as.string, items[i].length))
      return -1;
  *out = jinja_string(b.data ? b.data : "", b.length);
  return 0;
}

/* Case-sensitive, as @huggingface/jinja's (Python's ignores case by default). */
DECLARE(f_unique) {
  (void)p;
  if (self->kind != JV_LIST)
    return wrong_type(r, e, self);
  jinja_value *items = new_items(r, e->line, self->length);
  size_t n = 0;
  if (!items)
    return -1;
  for (size_t i = 0; i < self->length; ++i) {
    int seen = 0;
    if (jinja_charge(r, e->line, n))
      return -1;
    for (size_t k = 0; k < n && !seen; ++k)
      if ((seen = jinja_equal(r, e->line, &items[k], &self->as.items[i], 0)) < 0)
        return -1;
    if (!seen)
      items[n++] = self->as.items[i];
  }
  *out = jinja_list(items, n);
  return 0;
}

DECLARE(f_upper) {
  (void)p;
  return change_case(r, e, self, CASE_UPPER, out);
}
DECLARE(f_lower) {
  (void)p;
  return change_case(r, e, self, CASE_LOWER, out);
}
DECLARE(f_title) {
  (void)p;
  return change_case(r, e, self, CASE_TITLE, out);
}
DECLARE(f_capitalize) {
  (void)p;
  return change_case(r, e, self, CASE_CAPITALIZE, out);
}

DECLARE(f_trim) {
  (void)p;
  if (self->kind != JV_STRING)
    return wrong_type(r, e, self);
  return trim(r, e->line, self, 1, 1, out);
}

DECLARE(f_string) {
  (void)p;
  return jinja_to_text(r, e->line, self, out);
}

DECLARE(f_items) {
  (void)p;
  if (self->kind == JV_UNDEFINED) {
    *out = jinja_list(NULL, 0);
    return 0;
  }
  if (self->kind != JV_DICT && self->kind != JV_LOOP)
    return wrong_type(r, e, self);
  const jinja_dict *d = entries(r, e->line, self);
  jinja_value *pairs = d ? new_items(r, e->line, d->count) : NULL;
  jinja_value *both = d ? new_items(r, e->line, 2 * d->count) : NULL;
  if (!pairs || !both)
    return -1;
  for (size_t i = 0; i < d->count; ++i) {
    both[2 * i] = jinja_string(d->entries[i].key, d->entries[i].key_length);
    both[2 * i + 1] = d->entries[i].value;
    pairs[i] = jinja_list(&both[2 * i], 2);
  }
  *out = jinja_list(pairs, d->count);
  return 0;
}

DECLARE(f_abs) {
  (void)p;
  if (self->kind != JV_INT)
    return wrong_type(r, e, self);
  if (self->as.integer == INT64_MIN)
    return jinja_fail(r, e->line, "integer overflow");
  *out = jinja_int(self->as.integer < 0 ? -self->as.integer : self->as.integer);
  return 0;
}

/* Items as text, as JavaScript's join: none and undefined are "". */
DECLARE(f_join) {
  const jinja_value *separator = &p[0];
  if (!missing(separator) && separator->kind != JV_STRING)
    return wrong_argument(r, e, "separator", separator);
  jinja_value list = *self;
  if (self->kind == JV_STRING && characters(r, e->line, self, &list))
    return -1;
  if (list.kind != JV_LIST)
    return wrong_type(r, e, self);
  jinja_buffer b = {0};
  for (size_t i = 0; i < list.length; ++i) {
    const jinja_value *v = &list.as.items[i];
    jinja_value text = jinja_string("", 0);
    if (i && !missing(separator) &&
        jinja_buffer_append(r, e->line, &b, separator->as.string, separator->length))
      return -1;
    if (v->kind == JV_LIST || v->kind == JV_DICT || v->kind == JV_NAMESPACE || v->kind == JV_LOOP)
      return jinja_fail(r, e->line, "join cannot join %s", jinja_kind_name(v->kind));
    if (v->kind != JV_NONE && jinja_to_text(r, e->line, v, &text))
      return -1;
    if (jinja_buffer_append(r, e->line, &b, text.as.string, text.length))
      return -1;
  }
  *out = jinja_string(b.data ? b.data : "", b.length);
  return 0;
}

/* Python's int(): "12" and " -3 " and "1.9" (to 1), else the default (0); @huggingface/jinja's
 * parseInt would also read "12abc" as 12. */
DECLARE(f_int) {
  jinja_value fallback = missing(&p[0]) ? jinja_int(0) : p[0];
  if (self->kind == JV_INT || self->kind == JV_BOOL) {
    *out = jinja_int(self->as.integer);
    return 0;
  }
  if (self->kind != JV_STRING)
    return wrong_type(r, e, self);
  jinja_value t;
  if (trim(r, e->line, self, 1, 1, &t))
    return -1;
  const char *s = t.as.string, *end = s + t.length;
  int negative = s < end && *s == '-';
  if (s < end && (*s == '-' || *s == '+'))
    ++s;
  uint64_t value = 0, limit = negative ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
  const char *digits = s;
  while (s < end && *s >= '0' && *s <= '9') {
    unsigned d = (unsigned)(*s++ - '0');
    if (value > (limit - d) / 10)
      return jinja_fail(r, e->line, "integer overflow");
    value = value * 10 + d;
  }
  int ok = s > digits;
  if (ok && s < end && *s == '.') /* a fraction is cut off */
    for (++s; s < end && *s >= '0' && *s <= '9'; ++s) {
    }
  *out = ok && s == end ? jinja_int(negative ? (int64_t)(0 - value) : (int64_t)value) : fallback;
  return 0;
}

DECLARE(f_default) {
  int use = self->kind == JV_UNDEFINED || (!missing(&p[1]) && jinja_truthy(&p[1]) && !jinja_truthy(self));
  (void)r, (void)e;
  *out = !use ? *self : missing(&p[0]) ? jinja_string("", 0) : p[0];
  return 0;
}

DECLARE(f_replace) { return replace(r, e, self, p, out); }

/* An attribute by a dotted path ("function.name", "items.0"), as @huggingface/jinja's. */
static void path_value(const jinja_value *item, const char *path, size_t n, jinja_value *out) {
  jinja_value v = *item;
  const char *end = path + n;
  for (const char *part = path; part <= end;) {
    const char *dot = memchr(part, '.', (size_t)(end - part));
    size_t k = dot ? (size_t)(dot - part) : (size_t)(end - part);
    if (v.kind == JV_DICT || v.kind == JV_NAMESPACE) {
      const jinja_value *found = jinja_dict_get(v.as.dict, part, k);
      v = found ? *found : jinja_undefined();
    } else if (v.kind == JV_LOOP) {
      jinja_loop_get(v.as.loop, part, k, &v);
    } else if (v.kind == JV_LIST && k > 0 && k < 19) {
      int64_t index = 0;
      for (size_t i = 0; i < k && index >= 0; ++i)
        index = part[i] >= '0' && part[i] <= '9' ? index * 10 + (part[i] - '0') : -1;
      v = index >= 0 && (uint64_t)index < v.length ? v.as.items[index] : jinja_undefined();
    } else {
      v = jinja_undefined();
    }
    if (!dot)
      break;
    part = dot + 1;
  }
  *out = v;
}

static int is_container(const jinja_value *v) {
  return v->kind == JV_DICT || v->kind == JV_NAMESPACE || v->kind == JV_LOOP;
}

DECLARE(f_map) {
  const jinja_value *attribute = &p[0];
  if (attribute->kind != JV_STRING)
    return jinja_fail(r, e->line, "map's attribute must be a string");
  if (self->kind == JV_UNDEFINED) {
    *out = jinja_list(NULL, 0);
    return 0;
  }
  if (self->kind != JV_LIST)
    return wrong_type(r, e, self);
  jinja_value *items = new_items(r, e->line, self->length);
  if (!items)
    return -1;
  for (size_t i = 0; i < self->length; ++i) {
    if (!is_container(&self->as.items[i]))
      return jinja_fail(r, e->line, "map(attribute=...) needs dicts, not %s",
                        jinja_kind_name(self->as.items[i].kind));
    path_value(&self->as.items[i], attribute->as.string, attribute->length, &items[i]);
    if (items[i].kind == JV_UNDEFINED && !missing(&p[1]))
      items[i] = p[1];
  }
  *out = jinja_list(items, self->length);
  return 0;
}

static int select_attribute(jinja_render *r, const jinja_node *e, const jinja_value *self,
                            const jinja_value *p, int select, jinja_value *out) {
  if (self->kind == JV_UNDEFINED) {
    *out = jinja_list(NULL, 0);
    return 0;
  }
  if (self->kind != JV_LIST)
    return wrong_type(r, e, self);
  int test = missing(&p[1]) ? -1 : jinja_builtin_find(JINJA_TEST, p[1].as.string, p[1].length);
  jinja_value *items = new_items(r, e->line, self->length),
              argument = missing(&p[2]) ? jinja_undefined() : p[2];
  size_t n = 0;
  if (!items)
    return -1;
  for (size_t i = 0; i < self->length; ++i) {
    const jinja_value *item = &self->as.items[i];
    if (!is_container(item))
      return jinja_fail(r, e->line, "%s needs dicts, not %s", callee(e), jinja_kind_name(item->kind));
    jinja_value v;
    int result = 0;
    if (item->kind == JV_LOOP) {
      jinja_loop_get(item->as.loop, p[0].as.string, p[0].length, &v);
    } else {
      const jinja_value *found = jinja_dict_get(item->as.dict, p[0].as.string, p[0].length);
      v = found ? *found : jinja_undefined();
    }
    /* A missing attribute fails the test without running it, as in @huggingface/jinja. */
    if (v.kind != JV_UNDEFINED) {
      result = test < 0 ? jinja_truthy(&v) : jinja_apply_test(r, e, test, &v, &argument);
      if (result < 0)
        return -1;
    }
    if (result == select)
      items[n++] = *item;
  }
  *out = jinja_list(items, n);
  return 0;
}

/* Python's select and reject (@huggingface/jinja has neither; Llama 3.1 uses reject). */
static int select_items(jinja_render *r, const jinja_node *e, const jinja_value *self, const jinja_value *p,
                        int select, jinja_value *out) {
  jinja_value list = *self;
  if (self->kind == JV_UNDEFINED)
    list = jinja_list(NULL, 0);
  else if (self->kind == JV_STRING && characters(r, e->line, self, &list))
    return -1;
  if (list.kind != JV_LIST)
    return wrong_type(r, e, self);
  int test = missing(&p[0]) ? -1 : jinja_builtin_find(JINJA_TEST, p[0].as.string, p[0].length);
  jinja_value *items = new_items(r, e->line, list.length),
              argument = missing(&p[1]) ? jinja_undefined() : p[1];
  size_t n = 0;
  if (!items)
    return -1;
  for (size_t i = 0; i < list.length; ++i) {
    const jinja_value *v = &list.as.items[i];
    int result = test < 0 ? jinja_truthy(v) : jinja_apply_test(r, e, test, v, &argument);
    if (result < 0)
      return -1;
    if (result == select)
      items[n++] = *v;
  }
  *out = jinja_list(items, n);
  return 0;
}

DECLARE(f_select) { return select_items(r, e, self, p, 1, out); }
DECLARE(f_reject) { return select_items(r, e, self, p, 0, out); }

DECLARE(f_selectattr) { return select_attribute(r, e, self, p, 1, out); }
DECLARE(f_rejectattr) { return select_attribute(r, e, self, p, 0, out); }

/* Every line but the first and the empty ones indented by width spaces (or a string). */
DECLARE(f_indent) {
  if (self->kind != JV_STRING)
    return wrong_type(r, e, self);
  const jinja_value *width = &p[0];
  char spaces[256];
  jinja_value indent = jinja_string("    ", 4);
  if (width->kind == JV_INT) {
    int64_t w = width->as.integer < 0 ? 0 : width->as.integer;
    if (w > (int64_t)sizeof spaces)
      return jinja_fail(r, e->line, "indent's width must be at most %zu", sizeof spaces);
    memset(spaces, ' ', (size_t)w);
    indent = jinja_string(spaces, (size_t)w);
  } else if (width->kind == JV_STRING) {
    indent = *width;
  } else if (!missing(width)) {
    return jinja_fail(r, e->line, "indent's width must be an integer or a string");
  }
  int first = !missing(&p[1]) && jinja_truthy(&p[1]), blank = !missing(&p[2]) && jinja_truthy(&p[2]);
  jinja_buffer b = {0};
  const char *line = self->as.string, *end = line + self->length;
  for (int i = 0;; ++i) {
    const char *newline = memchr(line, '\n', (size_t)(end - line));
    size_t n = newline ? (size_t)(newline - line) : (size_t)(end - line);
    if (((first || i > 0) && (blank || n > 0)) &&
        jinja_buffer_append(r, e->line, &b, indent.as.string, indent.length))
      return -1;
    if (jinja_buffer_append(r, e->line, &b, line, n + (newline ? 1 : 0)))
      return -1;
    if (!newline)
      break;
    line = newline + 1;
  }
  *out = jinja_string(b.data ? b.data : "", b.length);
  return 0;
}

/* ---- methods ---- */

static int need_string(jinja_render *r, const jinja_node *e, const jinja_value *self) {
  return self->kind == JV_STRING ? 0 : wrong_type(r, e, self);
}

/* strip, lstrip and rstrip ignore their argument, as @huggingface/jinja's do (they are
 * JavaScript's trim, which strips whitespace): "\n x\n".strip("\n") is "x" there and in tern,
 * " x" in Python. */
DECLARE(m_strip) {
  (void)p;
  if (need_string(r, e, self))
    return -1;
  return trim(r, e->line, self, 1, 1, out);
}
DECLARE(m_lstrip) {
  (void)p;
  if (need_string(r, e, self))
    return -1;
  return trim(r, e->line, self, 1, 0, out);
}
DECLARE(m_rstrip) {
  (void)p;
  if (need_string(r, e, self))
    return -1;
  return trim(r, e->line, self, 0, 1, out);
}

/* Python's str.split(sep=None, maxsplit=-1). */
DECLARE(m_split) {
  if (need_string(r, e, self))
    return -1;
  const jinja_value *sep = &p[0], *max = &p[1];
  if (!missing(sep) && sep->kind != JV_STRING && sep->kind != JV_NONE)
    return jinja_fail(r, e->line, "split()'s separator must be a string or none");
  if (!missing(max) && max->kind != JV_INT)
    return jinja_fail(r, e->line, "split()'s maxsplit must be an integer");
  if (sep->kind == JV_STRING && sep->length == 0)
    return jinja_fail(r, e->line, "split()'s separator is empty");
  int64_t limit = max->kind == JV_INT ? max->as.integer : -1;
  size_t n = 0, k;
  if (jinja_charge(r, e->line, self->length))
    return -1;
  const char *s = self->as.string, *end = s + self->length;
  if (sep->kind == JV_STRING) {
    /* Counted first: a part per separator, not a part per byte of the text. */
    const char *hit, *at = s;
    int failed = 0;
    size_t count = 1;
    while ((limit < 0 || (int64_t)(count - 1) < limit) &&
           (hit = find(r, e->line, at, (size_t)(end - at), sep->as.string, sep->length,
                       &failed))) {
      ++count;
      at = hit + sep->length;
    }
    jinja_value *parts = failed ? NULL : new_items(r, e->line, count);
    if (!parts)
      return -1;
    while ((limit < 0 || (int64_t)n < limit) &&
           (hit = find(r, e->line, s, (size_t)(end - s), sep->as.string, sep->length, &failed))) {
      parts[n++] = jinja_string(s, (size_t)(hit - s));
      s = hit + sep->length;
    }
    if (failed) /* the work limit, in the second pass */
      return -1;
    parts[n++] = jinja_string(s, (size_t)(end - s));
    *out = jinja_list(parts, n);
    return 0;
  }
  /* Words are separated by whitespace: at most one per two bytes. */
  jinja_value *parts = new_items(r, e->line, self->length / 2 + 1);
  if (!parts)
    return -1;
  for (;;) {
    while ((k = jinja_space_at(s, end)) > 0)
      s += k;
    if (s >= end)
      break;
    if (limit >= 0 && (int64_t)n >= limit) {
      parts[n++] = jinja_string(s, (size_t)(end - s));
      break;
    }
    const char *word = s;
    while (s < end && jinja_space_at(s, end) == 0)
      s += jinja_utf8_next(s, end);
    parts[n++] = jinja_string(word, (size_t)(s - word));
  }
  *out = jinja_list(parts, n);
  return 0;
}

static int affix(jinja_render *r, const jinja_node *e, const jinja_value *self, const jinja_value *p, int end,
                 jinja_value *out) {
  if (need_string(r, e, self))
    return -1;
  const jinja_value *options = p[0].kind == JV_LIST ? p[0].as.items : &p[0];
  size_t n = p[0].kind == JV_LIST ? p[0].length : 1;
  int hit = 0;
  for (size_t i = 0; i < n; ++i) {
    const jinja_value *a = &options[i];
    if (a->kind != JV_STRING)
      return jinja_fail(r, e->line, "%s() takes a string or a list of strings, not %s", callee(e),
                        jinja_kind_name(a->kind));
    hit |= a->length <= self->length &&
           memcmp(self->as.string + (end ? self->length - a->length : 0), a->as.string, a->length) == 0;
  }
  *out = jinja_bool(hit);
  return 0;
}

DECLARE(m_startswith) { return affix(r, e, self, p, 0, out); }
DECLARE(m_endswith) { return affix(r, e, self, p, 1, out); }

DECLARE(m_get) {
  if (self->kind != JV_DICT && self->kind != JV_LOOP)
    return wrong_type(r, e, self);
  if (p[0].kind != JV_STRING)
    return jinja_fail(r, e->line, "get()'s key must be a string, not %s", jinja_kind_name(p[0].kind));
  const jinja_dict *d = entries(r, e->line, self);
  if (!d)
    return -1;
  const jinja_value *v = jinja_dict_get(d, p[0].as.string, p[0].length);
  *out = v ? *v : missing(&p[1]) ? jinja_none() : p[1];
  return 0;
}

static int dict_view(jinja_render *r, const jinja_node *e, const jinja_value *self, int which,
                     jinja_value *out) {
  if (which == 2)
    return f_items(r, e, self, NULL, out);
  if (self->kind != JV_DICT && self->kind != JV_LOOP)
    return wrong_type(r, e, self);
  const jinja_dict *d = entries(r, e->line, self);
  jinja_value *items = d ? new_items(r, e->line, d->count) : NULL;
  if (!items)
    return -1;
  for (size_t i = 0; i < d->count; ++i)
    items[i] = which ? d->entries[i].value : jinja_string(d->entries[i].key, d->entries[i].key_length);
  *out = jinja_list(items, d->count);
  return 0;
}

DECLARE(m_keys) {
  (void)p;
  return dict_view(r, e, self, 0, out);
}
DECLARE(m_values) {
  (void)p;
  return dict_view(r, e, self, 1, out);
}
DECLARE(m_items) {
  (void)p;
  if (self->kind != JV_DICT && self->kind != JV_LOOP)
    return wrong_type(r, e, self);
  return dict_view(r, e, self, 2, out);
}

/* ---- functions ---- */

/* Python's range, up to JINJA_MAX_RANGE items. */
DECLARE(fn_range) {
  (void)self;
  for (int i = 0; i < 3; ++i)
    if (!missing(&p[i]) && p[i].kind != JV_INT)
      return jinja_fail(r, e->line, "range() takes integers, not %s", jinja_kind_name(p[i].kind));
  int64_t start = 0, stop = p[0].as.integer, step = missing(&p[2]) ? 1 : p[2].as.integer;
  if (!missing(&p[1])) {
    start = p[0].as.integer;
    stop = p[1].as.integer;
  }
  if (step == 0)
    return jinja_fail(r, e->line, "range()'s step must not be zero");
  uint64_t count = 0;
  if (step > 0 && start < stop)
    count = ((uint64_t)stop - (uint64_t)start - 1) / (uint64_t)step + 1;
  else if (step < 0 && start > stop)
    count = ((uint64_t)start - (uint64_t)stop - 1) / (0 - (uint64_t)step) + 1;
  if (count > JINJA_MAX_RANGE)
    return jinja_fail(r, e->line, "range() of %llu items (at most %d)", (unsigned long long)count,
                      JINJA_MAX_RANGE);
  jinja_value *items = new_items(r, e->line, (size_t)count);
  if (!items || jinja_charge(r, e->line, count))
    return -1;
  for (uint64_t i = 0; i < count; ++i)
    items[i] = jinja_int((int64_t)((uint64_t)start + i * (uint64_t)step));
  *out = jinja_list(items, (size_t)count);
  return 0;
}

DECLARE(fn_raise_exception) {
  (void)self, (void)out;
  jinja_value text = jinja_string("", 0);
  if (p[0].kind != JV_NONE && jinja_to_text(r, e->line, &p[0], &text))
    return -1;
  return jinja_fail(r, e->line, "the chat template raised: %.*s",
                    (int)(text.length > 4000 ? 4000 : text.length), text.as.string);
}

/* ---- tables ---- */

static const jinja_builtin kFilters[] = {
    {"safe", f_safe, 0, 0, 0, {0}},
    {"tojson", f_tojson, 0, 0, 0, {"indent", "ensure_ascii", "sort_keys", "separators"}},
    {"list", f_list, 0, 0, 0, {0}},
    {"first", f_first, 0, 0, 0, {0}},
    {"last", f_last, 0, 0, 0, {0}},
    {"length", f_length, 0, 0, 0, {0}},
    {"count", f_length, 0, 0, 0, {0}},
    {"reverse", f_reverse, 0, 0, 0, {0}},
    {"unique", f_unique, 0, 0, 0, {0}},
    {"upper", f_upper, 0, 0, 0, {0}},
    {"lower", f_lower, 0, 0, 0, {0}},
    {"title", f_title, 0, 0, 0, {0}},
    {"capitalize", f_capitalize, 0, 0, 0, {0}},
    {"trim", f_trim, 0, 0, 0, {0}},
    {"string", f_string, 0, 0, 0, {0}},
    {"items", f_items, 0, 0, 0, {0}},
    {"abs", f_abs, 0, 0, 0, {0}},
    {"join", f_join, 0, 1, 0, {"d"}},
    {"int", f_int, 0, 1, 0, {"default"}},
    {"default", f_default, 0, 2, 0, {"default_value", "boolean"}},
    {"d", f_default, 0, 2, 0, {"default_value", "boolean"}},
    {"replace", f_replace, 2, 3, 0, {"old", "new", "count"}},
    {"map", f_map, 1, 0, 0, {"attribute", "default"}},
    {"selectattr", f_selectattr, 1, 3, 0, {"attribute", "test", "value"}},
    {"rejectattr", f_rejectattr, 1, 3, 0, {"attribute", "test", "value"}},
    {"select", f_select, 0, 2, 0, {"test", "value"}},
    {"reject", f_reject, 0, 2, 0, {"test", "value"}},
    {"indent", f_indent, 0, 3, 0, {"width", "first", "blank"}},
};

enum {
  T_DEFINED,
  T_UNDEFINED,
  T_NONE,
  T_STRING_,
  T_NUMBER,
  T_INTEGER,
  T_BOOLEAN,
  T_TRUE,
  T_FALSE,
  T_MAPPING,
  T_ITERABLE,
  T_SEQUENCE,
  T_ODD,
  T_EVEN,
  T_EQUALTO,
  T_EQ_,
  T_LOWER,
  T_UPPER,
};
static const jinja_builtin kTests[] = {
    {"defined", NULL, 0, 0, 0, {0}},       {"undefined", NULL, 0, 0, 0, {0}},
    {"none", NULL, 0, 0, 0, {0}},          {"string", NULL, 0, 0, 0, {0}},
    {"number", NULL, 0, 0, 0, {0}},        {"integer", NULL, 0, 0, 0, {0}},
    {"boolean", NULL, 0, 0, 0, {0}},       {"true", NULL, 0, 0, 0, {0}},
    {"false", NULL, 0, 0, 0, {0}},         {"mapping", NULL, 0, 0, 0, {0}},
    {"iterable", NULL, 0, 0, 0, {0}},      {"sequence", NULL, 0, 0, 0, {0}},
    {"odd", NULL, 0, 0, 0, {0}},           {"even", NULL, 0, 0, 0, {0}},
    {"equalto", NULL, 0, 1, 0, {"value"}}, {"eq", NULL, 0, 1, 0, {"value"}},
    {"lower", NULL, 0, 0, 0, {0}},         {"upper", NULL, 0, 0, 0, {0}},
};

static const jinja_builtin kMethods[] = {
    {"strip", m_strip, 0, 1, 0, {"chars"}},
    {"lstrip", m_lstrip, 0, 1, 0, {"chars"}},
    {"rstrip", m_rstrip, 0, 1, 0, {"chars"}},
    {"split", m_split, 0, 2, 0, {"sep", "maxsplit"}},
    {"startswith", m_startswith, 1, 1, 0, {"prefix"}},
    {"endswith", m_endswith, 1, 1, 0, {"suffix"}},
    {"upper", f_upper, 0, 0, 0, {0}},
    {"lower", f_lower, 0, 0, 0, {0}},
    {"title", f_title, 0, 0, 0, {0}},
    {"capitalize", f_capitalize, 0, 0, 0, {0}},
    {"replace", f_replace, 2, 3, 0, {"old", "new", "count"}},
    {"get", m_get, 1, 2, 0, {"key", "default"}},
    {"items", m_items, 0, 0, 0, {0}},
    {"keys", m_keys, 0, 0, 0, {0}},
    {"values", m_values, 0, 0, 0, {0}},
};

static const jinja_builtin kFunctions[] = {
    {"range", fn_range, 1, 3, 0, {"start", "stop", "step"}},
    {"namespace", NULL, 0, 1, 1, {0}}, /* render.c builds it */
    {"raise_exception", fn_raise_exception, 1, 1, 0, {"message"}},
};

static const struct {
  const jinja_builtin *entries;
  size_t count;
} kTables[] = {
    {kFilters, sizeof kFilters / sizeof kFilters[0]},
    {kTests, sizeof kTests / sizeof kTests[0]},
    {kMethods, sizeof kMethods / sizeof kMethods[0]},
    {kFunctions, sizeof kFunctions / sizeof kFunctions[0]},
};

int jinja_builtin_find(jinja_table table, const char *name, size_t length) {
  for (size_t i = 0; i < kTables[table].count; ++i) {
    const char *candidate = kTables[table].entries[i].name;
    if (strlen(candidate) == length && memcmp(candidate, name, length) == 0)
      return (int)i;
  }
  return -1;
}

const jinja_builtin *jinja_builtin_get(jinja_table table, int64_t index) {
  return &kTables[table].entries[index];
}

/* The tests of @huggingface/jinja: a boolean is no number, a dict not iterable. */
int jinja_apply_test(jinja_render *r, const jinja_node *e, int64_t test, const jinja_value *v,
                     const jinja_value *argument) {
  uint32_t k = v->kind;
  switch (test) {
  case T_DEFINED: return k != JV_UNDEFINED;
  case T_UNDEFINED: return k == JV_UNDEFINED;
  case T_NONE: return k == JV_NONE;
  case T_STRING_: return k == JV_STRING;
  case T_NUMBER:
  case T_INTEGER: return k == JV_INT;
  case T_BOOLEAN: return k == JV_BOOL;
  case T_TRUE: return k == JV_BOOL && v->as.integer;
  case T_FALSE: return k == JV_BOOL && !v->as.integer;
  case T_MAPPING: return k == JV_DICT || k == JV_LOOP;
  case T_ITERABLE: return k == JV_LIST || k == JV_STRING;
  case T_SEQUENCE: return k == JV_LIST || k == JV_STRING || k == JV_DICT || k == JV_LOOP;
  case T_ODD:
  case T_EVEN:
    if (k != JV_INT)
      return jinja_fail(r, e->line, "the test '%s' needs an integer, not %s", test == T_ODD ? "odd" : "even",
                        jinja_kind_name(k));
    return (v->as.integer % 2 != 0) == (test == T_ODD);
  case T_EQUALTO:
  case T_EQ_: {
    /* JavaScript's ===: 1 is not true. */
    jinja_value other = argument->kind == JV_MISSING ? jinja_undefined() : *argument;
    if (k != other.kind)
      return 0;
    return jinja_equal(r, e->line, v, &other, 0);
  }
  case T_LOWER:
  case T_UPPER:
    if (k != JV_STRING)
      return 0;
    if (jinja_charge(r, e->line, v->length))
      return -1;
    for (size_t i = 0; i < v->length; ++i) {
      char c = v->as.string[i];
      if (test == T_LOWER ? (c >= 'A' && c <= 'Z') : (c >= 'a' && c <= 'z'))
        return 0;
    }
    return 1;
  default: return jinja_fail(r, e->line, "internal error: test %lld", (long long)test);
  }
}
