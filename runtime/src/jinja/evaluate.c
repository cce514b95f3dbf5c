/* evaluate.c - expressions to values: operators, lookups (x.name, x[i], x[a:b:c]), calls of
 * builtins. Where @huggingface/jinja would coerce (JavaScript's "a" + 1 is "a1"), this fails
 * with a message naming the line and the types, as Python's Jinja does. */
#include "jinja_internal.h"

#include <stdio.h>
#include <string.h>

/* ---- operators ---- */

static int type_error(jinja_render *r, const jinja_node *e, const char *verb, const jinja_value *a,
                      const jinja_value *b) {
  return jinja_fail(r, e->line, "cannot %s %s and %s", verb, jinja_kind_name(a->kind),
                    jinja_kind_name(b->kind));
}

static int is_number(const jinja_value *v) { return v->kind == JV_INT || v->kind == JV_BOOL; }

static int overflow(jinja_render *r, const jinja_node *e) {
  return jinja_fail(r, e->line, "integer overflow");
}

static int power(jinja_render *r, const jinja_node *e, int64_t base, int64_t exponent, int64_t *out) {
  if (exponent < 0)
    return jinja_fail(r, e->line, "unsupported negative exponent (it makes a float)");
  int64_t result = 1;
  while (exponent > 0) {
    if ((exponent & 1) && __builtin_mul_overflow(result, base, &result))
      return overflow(r, e);
    exponent >>= 1;
    if (exponent > 0 && __builtin_mul_overflow(base, base, &base))
      return overflow(r, e);
  }
  *out = result;
  return 0;
}

static int arithmetic(jinja_render *r, const jinja_node *e, const jinja_value *a, const jinja_value *b,
                      jinja_value *out) {
  static const char *const kSymbols[] = {
      [OP_SUB] = "-", [OP_MUL] = "*", [OP_FLOORDIV] = "//", [OP_MOD] = "%", [OP_POW] = "**"};
  /* Only ** takes booleans as numbers in @huggingface/jinja. */
  if (!(a->kind == JV_INT && b->kind == JV_INT) && !(e->op == OP_POW && is_number(a) && is_number(b))) {
    char verb[32];
    snprintf(verb, sizeof verb, "apply '%s' to", kSymbols[e->op]);
    return type_error(r, e, verb, a, b);
  }
  int64_t x = a->as.integer, y = b->as.integer, z = 0;
  switch (e->op) {
  case OP_SUB:
    if (__builtin_sub_overflow(x, y, &z))
      return overflow(r, e);
    break;
  case OP_MUL:
    if (__builtin_mul_overflow(x, y, &z))
      return overflow(r, e);
    break;
  case OP_FLOORDIV:
  case OP_MOD:
    if (y == 0)
      return jinja_fail(r, e->line, "%s by zero", e->op == OP_MOD ? "remainder" : "division");
    if (x == INT64_MIN && y == -1) {
      if (e->op == OP_FLOORDIV)
        return overflow(r, e);
      z = 0;
      break;
    }
    if (e->op == OP_MOD) {
      z = x % y; /* JavaScript's sign (of x), which @huggingface/jinja keeps; Python's is y's */
    } else {
      z = x / y;
      if ((x % y != 0) && ((x < 0) != (y < 0)))
        --z; /* floor, as Python and Math.floor */
    }
    break;
  default:
    if (power(r, e, x, y, &z))
      return -1;
    break;
  }
  *out = jinja_int(z);
  return 0;
}

static int concatenate(jinja_render *r, const jinja_node *e, const jinja_value *a, const jinja_value *b,
                       jinja_value *out) {
  const jinja_value *sides[2] = {a, b};
  jinja_value text[2];
  for (int i = 0; i < 2; ++i) {
    uint32_t k = sides[i]->kind;
    /* @huggingface/jinja: undefined is "", none an error; a list would join with "," there. */
    if (k != JV_STRING && k != JV_INT && k != JV_BOOL && k != JV_UNDEFINED)
      return type_error(r, e, "concatenate ('~')", a, b);
    if (jinja_to_text(r, e->line, sides[i], &text[i]))
      return -1;
  }
  size_t n = text[0].length + text[1].length;
  char *s = jinja_alloc(r, e->line, n + 1);
  if (!s || jinja_charge(r, e->line, n))
    return -1;
  memcpy(s, text[0].as.string, text[0].length);
  memcpy(s + text[0].length, text[1].as.string, text[1].length);
  *out = jinja_string(s, n);
  return 0;
}

static int add(jinja_render *r, const jinja_node *e, const jinja_value *a, const jinja_value *b,
               jinja_value *out) {
  if (a->kind == JV_INT && b->kind == JV_INT) {
    int64_t z;
    if (__builtin_add_overflow(a->as.integer, b->as.integer, &z))
      return overflow(r, e);
    *out = jinja_int(z);
    return 0;
  }
  if (a->kind == JV_STRING && b->kind == JV_STRING)
    return concatenate(r, e, a, b, out);
  if (a->kind == JV_LIST && b->kind == JV_LIST) {
    size_t n = a->length + b->length;
    jinja_value *items = jinja_alloc(r, e->line, (n ? n : 1) * sizeof *items);
    if (!items || jinja_charge(r, e->line, n))
      return -1;
    if (a->length)
      memcpy(items, a->as.items, a->length * sizeof *items);
    if (b->length)
      memcpy(items + a->length, b->as.items, b->length * sizeof *items);
    *out = jinja_list(items, n);
    return 0;
  }
  /* @huggingface/jinja would turn the other side into text ("a" + 1 is "a1"); Python refuses. */
  return type_error(r, e, "add", a, b);
}

static int compare(jinja_render *r, const jinja_node *e, const jinja_value *a, const jinja_value *b,
                   jinja_value *out) {
  int c;
  if (is_number(a) && is_number(b)) {
    c = (a->as.integer > b->as.integer) - (a->as.integer < b->as.integer);
  } else if (a->kind == JV_STRING && b->kind == JV_STRING) {
    size_t n = a->length < b->length ? a->length : b->length;
    c = n ? memcmp(a->as.string, b->as.string, n) : 0;
    c = c ? (c > 0) - (c < 0) : (a->length > b->length) - (a->length < b->length);
  } else {
    return type_error(r, e, "compare", a, b);
  }
  int result = e->op == OP_LT ? c < 0 : e->op == OP_LE ? c <= 0 : e->op == OP_GT ? c > 0 : c >= 0;
  *out = jinja_bool(result);
  return 0;
}

static int contains(jinja_render *r, const jinja_node *e, const jinja_value *a, const jinja_value *b,
                    jinja_value *out) {
  int found;
  if (b->kind == JV_UNDEFINED) {
    found = 0; /* anything in undefined is false, in both Jinjas */
  } else if (b->kind == JV_LIST) {
    if (a->kind == JV_UNDEFINED)
      return type_error(r, e, "test 'in' with", a, b);
    found = 0;
    for (size_t i = 0; i < b->length && !found; ++i) {
      found = jinja_equal(r, e->line, a, &b->as.items[i], 0);
      if (found < 0)
        return -1;
    }
  } else if (b->kind == JV_STRING && a->kind == JV_STRING) {
    found = a->length == 0;
    if (jinja_charge(r, e->line, b->length))
      return -1;
    for (size_t i = 0; !found && a->length <= b->length && i <= b->length - a->length; ++i)
      found = memcmp(b->as.string + i, a->as.string, a->length) == 0;
  } else if (b->kind == JV_DICT && a->kind == JV_STRING) {
    found = jinja_dict_get(b->as.dict, a->as.string, a->length) != NULL;
  } else {
    return type_error(r, e, "test 'in' with", a, b);
  }
  *out = jinja_bool(e->op == OP_IN ? found : !found);
  return 0;
}

static int binary(jinja_render *r, const jinja_node *e, jinja_value *out) {
  jinja_value a, b;
  if (jinja_eval(r, e->a, &a) || jinja_eval(r, e->b, &b))
    return -1;
  switch (e->op) {
  case OP_EQ:
  case OP_NE: {
    int equal = jinja_equal(r, e->line, &a, &b, 0);
    if (equal < 0)
      return -1;
    *out = jinja_bool(e->op == OP_EQ ? equal : !equal);
    return 0;
  }
  case OP_LT:
  case OP_LE:
  case OP_GT:
  case OP_GE: return compare(r, e, &a, &b, out);
  case OP_IN:
  case OP_NOT_IN: return contains(r, e, &a, &b, out);
  case OP_ADD: return add(r, e, &a, &b, out);
  case OP_CONCAT: return concatenate(r, e, &a, &b, out);
  default: return arithmetic(r, e, &a, &b, out);
  }
}

/* ---- lookups: x.name, x[i], x[a:b:c] ---- */

static int attribute(jinja_render *r, const jinja_node *e, const jinja_value *object, const char *name,
                     size_t n, jinja_value *out) {
  const jinja_value *v;
  switch (object->kind) {
  case JV_DICT:
  case JV_NAMESPACE:
    v = jinja_dict_get(object->as.dict, name, n);
    *out = v ? *v : jinja_undefined();
    return 0;
  case JV_LOOP: jinja_loop_get(object->as.loop, name, n, out); return 0;
  case JV_LIST:
  case JV_STRING:
    /* @huggingface/jinja's .length of a list or a string (Python's Jinja has none). */
    if (n == 6 && memcmp(name, "length", 6) == 0) {
      if (object->kind == JV_STRING && jinja_charge(r, e->line, object->length))
        return -1;
      *out =
          jinja_int((int64_t)(object->kind == JV_LIST ? object->length
                                                      : jinja_utf8_count(object->as.string, object->length)));
      return 0;
    }
    *out = jinja_undefined();
    return 0;
  default: *out = jinja_undefined(); return 0; /* as @huggingface/jinja: Python's would fail */
  }
}

/* The code points of a string, as byte offsets (n + 1 of them). */
int jinja_code_points(jinja_render *r, uint32_t line, const jinja_value *s, size_t **offsets,
                       size_t *count) {
  size_t n = jinja_utf8_count(s->as.string, s->length);
  size_t *o = jinja_alloc(r, line, (n + 1) * sizeof *o);
  if (!o || jinja_charge(r, line, s->length))
    return -1;
  const char *p = s->as.string, *end = p + s->length;
  for (size_t i = 0; i < n; ++i) {
    o[i] = (size_t)(p - s->as.string);
    p += jinja_utf8_next(p, end);
  }
  o[n] = s->length;
  *offsets = o;
  *count = n;
  return 0;
}

static int item(jinja_render *r, const jinja_node *e, const jinja_value *object, const jinja_value *key,
                jinja_value *out) {
  if (key->kind == JV_STRING && object->kind != JV_DICT && object->kind != JV_NAMESPACE &&
      object->kind != JV_LOOP)
    return attribute(r, e, object, key->as.string, key->length, out);
  switch (object->kind) {
  case JV_DICT:
  case JV_NAMESPACE:
  case JV_LOOP:
    if (key->kind != JV_STRING)
      break;
    return attribute(r, e, object, key->as.string, key->length, out);
  case JV_LIST:
  case JV_STRING: {
    if (key->kind != JV_INT)
      break;
    size_t *offsets = NULL, n = object->length;
    if (object->kind == JV_STRING && jinja_code_points(r, e->line, object, &offsets, &n))
      return -1;
    int64_t i = key->as.integer;
    if (i < 0)
      i += (int64_t)n;
    if (i < 0 || i >= (int64_t)n)
      *out = jinja_undefined();
    else if (object->kind == JV_LIST)
      *out = object->as.items[i];
    else
      *out = jinja_string(object->as.string + offsets[i], offsets[i + 1] - offsets[i]);
    return 0;
  }
  default: break;
  }
  return jinja_fail(r, e->line, "cannot index %s with %s", jinja_kind_name(object->kind),
                    jinja_kind_name(key->kind));
}

/* @huggingface/jinja's slice(), Python's but for a negative step's stop of -1, which counts
 * as "before the start" ("abc"[2:-1:-1] is "cba" there, "" in Python). */
static int slice(jinja_render *r, const jinja_node *e, jinja_value *out) {
  jinja_value object, bound[3];
  const jinja_node *parts[3] = {e->b, e->c, e->d};
  if (jinja_eval(r, e->a, &object))
    return -1;
  for (int i = 0; i < 3; ++i) {
    bound[i] = jinja_undefined();
    if (parts[i] && jinja_eval(r, parts[i], &bound[i]))
      return -1;
    if (bound[i].kind != JV_INT && bound[i].kind != JV_UNDEFINED)
      return jinja_fail(r, e->line, "a slice's bounds must be integers, not %s",
                        jinja_kind_name(bound[i].kind));
  }
  if (object.kind != JV_LIST && object.kind != JV_STRING)
    return jinja_fail(r, e->line, "cannot slice %s", jinja_kind_name(object.kind));
  size_t *offsets = NULL, count = object.length;
  if (object.kind == JV_STRING && jinja_code_points(r, e->line, &object, &offsets, &count))
    return -1;
  int64_t n = (int64_t)count, step = bound[2].kind == JV_INT ? bound[2].as.integer : 1;
  int64_t start, stop;
  int defined_start = bound[0].kind == JV_INT, defined_stop = bound[1].kind == JV_INT;
  if (step >= 0) {
    start = defined_start ? bound[0].as.integer : 0;
    stop = defined_stop ? bound[1].as.integer : n;
    start = start < 0 ? (n + start > 0 ? n + start : 0) : (start < n ? start : n);
    stop = stop < 0 ? (n + stop > 0 ? n + stop : 0) : (stop < n ? stop : n);
  } else {
    start = defined_start ? bound[0].as.integer : n - 1;
    stop = defined_stop ? bound[1].as.integer : -1;
    start = start < 0 ? (n + start > -1 ? n + start : -1) : (start < n - 1 ? start : n - 1);
    stop = stop < -1 ? (n + stop > -1 ? n + stop : -1) : (stop < n - 1 ? stop : n - 1);
  }
  /* step 0 selects nothing there (Python refuses it). */
  size_t taken = 0;
  jinja_value *items = NULL;
  jinja_buffer text = {0};
  if (object.kind == JV_LIST && !(items = jinja_alloc(r, e->line, (count ? count : 1) * sizeof *items)))
    return -1;
  for (int64_t i = start; step != 0 && (step > 0 ? i < stop : i > stop);) {
    if (object.kind == JV_LIST)
      items[taken++] = object.as.items[i];
    else if (jinja_buffer_append(r, e->line, &text, object.as.string + offsets[i],
                                 offsets[i + 1] - offsets[i]))
      return -1;
    if (jinja_charge(r, e->line, 1) || __builtin_add_overflow(i, step, &i))
      break;
  }
  if (r->failed)
    return -1;
  *out = object.kind == JV_LIST ? jinja_list(items, taken)
                                : jinja_string(text.data ? text.data : "", text.length);
  return 0;
}

/* ---- calls ---- */

static int parameters(jinja_render *r, const jinja_node *e, jinja_value *params) {
  for (int i = 0; i < JINJA_MAX_PARAMS; ++i)
    params[i].kind = JV_MISSING;
  int position = 0;
  for (const jinja_node *a = e->body; a; a = a->next) {
    int slot = a->kind == E_KWARG ? (int)a->index : position++;
    if (jinja_eval(r, a->kind == E_KWARG ? a->a : a, &params[slot]))
      return -1;
  }
  return 0;
}

/* namespace(k=v, ...), or namespace(dict, k=v, ...): mutable attributes for set ns.k = ... */
static int namespace_call(jinja_render *r, const jinja_node *e, jinja_value *out) {
  jinja_dict *d = jinja_alloc(r, e->line, sizeof *d);
  if (!d)
    return -1;
  memset(d, 0, sizeof *d);
  for (const jinja_node *a = e->body; a; a = a->next) {
    jinja_value v;
    if (jinja_eval(r, a->kind == E_KWARG ? a->a : a, &v))
      return -1;
    if (a->kind == E_KWARG) {
      if (jinja_dict_set(r, a->line, d, a->text, a->length, &v))
        return -1;
    } else if (v.kind == JV_DICT) {
      for (size_t i = 0; i < v.as.dict->count; ++i)
        if (jinja_dict_set(r, a->line, d, v.as.dict->entries[i].key, v.as.dict->entries[i].key_length,
                           &v.as.dict->entries[i].value))
          return -1;
    } else {
      return jinja_fail(r, a->line, "namespace() takes a dict, not %s", jinja_kind_name(v.kind));
    }
  }
  out->kind = JV_NAMESPACE;
  out->length = 0;
  out->as.dict = d;
  return 0;
}

static int call(jinja_render *r, const jinja_node *e, jinja_table table, jinja_value *out) {
  const jinja_builtin *b = jinja_builtin_get(table, e->index);
  if (table == JINJA_FUNCTION && !b->fn)
    return namespace_call(r, e, out);
  jinja_value self, params[JINJA_MAX_PARAMS];
  if ((e->a && jinja_eval(r, e->a, &self)) || parameters(r, e, params))
    return -1;
  if (table == JINJA_TEST) {
    int result = jinja_apply_test(r, e, e->index, &self, &params[0]);
    if (result < 0)
      return -1;
    *out = jinja_bool(e->flag ? !result : result);
    return 0;
  }
  return b->fn(r, e, e->a ? &self : NULL, params, out);
}

/* ---- expressions ---- */

static int list(jinja_render *r, const jinja_node *e, jinja_value *out) {
  size_t n = 0;
  for (const jinja_node *k = e->body; k; k = k->next)
    ++n;
  jinja_value *items = jinja_alloc(r, e->line, (n ? n : 1) * sizeof *items);
  if (!items)
    return -1;
  size_t i = 0;
  for (const jinja_node *k = e->body; k; k = k->next)
    if (jinja_eval(r, k, &items[i++]))
      return -1;
  *out = jinja_list(items, n);
  return 0;
}

static int dict(jinja_render *r, const jinja_node *e, jinja_value *out) {
  jinja_dict *d = jinja_alloc(r, e->line, sizeof *d);
  if (!d)
    return -1;
  memset(d, 0, sizeof *d);
  for (const jinja_node *pair = e->body; pair; pair = pair->next) {
    jinja_value key, value;
    if (jinja_eval(r, pair->a, &key) || jinja_eval(r, pair->b, &value))
      return -1;
    if (key.kind != JV_STRING)
      return jinja_fail(r, pair->line, "a dict's keys must be strings, not %s", jinja_kind_name(key.kind));
    if (jinja_dict_set(r, pair->line, d, key.as.string, key.length, &value))
      return -1;
  }
  out->kind = JV_DICT;
  out->length = 0;
  out->as.dict = d;
  return 0;
}

int jinja_eval(jinja_render *r, const jinja_node *e, jinja_value *out) {
  if (jinja_charge(r, e->line, JINJA_NODE_WORK))
    return -1;
  jinja_value v;
  switch (e->kind) {
  case E_CONST: *out = e->value; return 0;
  case E_NAME: {
    const jinja_value *found = jinja_lookup(r, e->text, e->length);
    *out = found ? *found : jinja_undefined();
    return 0;
  }
  case E_LIST: return list(r, e, out);
  case E_DICT: return dict(r, e, out);
  case E_ATTR: return jinja_eval(r, e->a, &v) || attribute(r, e, &v, e->text, e->length, out) ? -1 : 0;
  case E_INDEX: {
    jinja_value key;
    return jinja_eval(r, e->a, &v) || jinja_eval(r, e->b, &key) || item(r, e, &v, &key, out) ? -1 : 0;
  }
  case E_SLICE: return slice(r, e, out);
  case E_UNARY:
    if (jinja_eval(r, e->a, &v))
      return -1;
    if (e->op == OP_NOT) {
      *out = jinja_bool(!jinja_truthy(&v));
      return 0;
    }
    if (!is_number(&v))
      return jinja_fail(r, e->line, "cannot apply unary '%s' to %s", e->op == OP_NEG ? "-" : "+",
                        jinja_kind_name(v.kind));
    if (e->op == OP_NEG && v.as.integer == INT64_MIN)
      return overflow(r, e);
    *out = jinja_int(e->op == OP_NEG ? -v.as.integer : v.as.integer);
    return 0;
  case E_BINARY: return binary(r, e, out);
  case E_AND:
  case E_OR:
    if (jinja_eval(r, e->a, &v))
      return -1;
    if (jinja_truthy(&v) == (e->kind == E_OR)) {
      *out = v;
      return 0;
    }
    return jinja_eval(r, e->b, out);
  case E_TERNARY:
    if (jinja_eval(r, e->a, &v))
      return -1;
    if (jinja_truthy(&v))
      return jinja_eval(r, e->b, out);
    if (e->c)
      return jinja_eval(r, e->c, out);
    *out = jinja_undefined();
    return 0;
  case E_FILTER: return call(r, e, JINJA_FILTER, out);
  case E_TEST: return call(r, e, JINJA_TEST, out);
  case E_METHOD: return call(r, e, JINJA_METHOD, out);
  case E_CALL: return call(r, e, JINJA_FUNCTION, out);
  default: return jinja_fail(r, e->line, "internal error: node %d is no expression", e->kind);
  }
}
