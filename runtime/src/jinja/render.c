/* render.c - running the statements (evaluate.c computes the expressions): scopes, loops and
 * the output, which truncates at the caller's capacity but counts every byte.
 *
 * Scopes are @huggingface/jinja's: the template's top level is one scope, each for statement
 * opens one more for all its iterations (so a set in the body is gone after the loop, but is
 * still there in the next iteration, where Python's Jinja would have forgotten it), and if
 * opens none. Everything a render allocates is in its arena, freed before it returns. */
#include "jinja_internal.h"

#include <stdio.h>
#include <string.h>

enum { STATUS_BREAK = 1, STATUS_CONTINUE = 2 };

int jinja_fail(jinja_render *r, uint32_t line, const char *format, ...) {
  if (!r->failed && r->error && r->error_size) {
    int n = snprintf(r->error, r->error_size, "line %u: ", (unsigned)line);
    if (n >= 0 && (size_t)n < r->error_size) {
      va_list args;
      va_start(args, format);
      vsnprintf(r->error + n, r->error_size - (size_t)n, format, args);
      va_end(args);
    }
  }
  r->failed = 1;
  return -1;
}

void *jinja_alloc(jinja_render *r, uint32_t line, size_t size) {
  void *p = jinja_arena_alloc(&r->arena, size);
  if (!p) {
    if (r->arena.over_limit)
      jinja_fail(r, line, "the template needs more than %zu MiB to render", JINJA_ARENA_LIMIT >> 20);
    else
      jinja_fail(r, line, "out of memory");
  }
  return p;
}

int jinja_charge(jinja_render *r, uint32_t line, uint64_t units) {
  r->work += units;
  if (r->work > JINJA_WORK_LIMIT)
    return jinja_fail(r, line, "the template does too much work to render (a loop that does not end?)");
  return 0;
}

int jinja_buffer_append(jinja_render *r, uint32_t line, jinja_buffer *b, const char *text, size_t n) {
  if (n > b->capacity - b->length) {
    if (n > JINJA_ARENA_LIMIT - b->length)
      return jinja_fail(r, line, "the template needs more than %zu MiB to render", JINJA_ARENA_LIMIT >> 20);
    size_t capacity = b->capacity ? b->capacity : 64;
    while (capacity - b->length < n)
      capacity *= 2;
    char *data = jinja_alloc(r, line, capacity);
    if (!data)
      return -1;
    if (b->length)
      memcpy(data, b->data, b->length);
    b->data = data;
    b->capacity = capacity;
  }
  if (n)
    memcpy(b->data + b->length, text, n);
  b->length += n;
  return 0;
}

int jinja_string_copy(jinja_render *r, uint32_t line, const char *text, size_t n, jinja_value *out) {
  char *copy = jinja_alloc(r, line, n + 1);
  if (!copy)
    return -1;
  if (n)
    memcpy(copy, text, n);
  copy[n] = 0;
  *out = jinja_string(copy, n);
  return 0;
}

static int emit(jinja_render *r, uint32_t line, const char *text, size_t n) {
  if (jinja_charge(r, line, n))
    return -1;
  if (r->capture)
    return jinja_buffer_append(r, line, r->capture, text, n);
  if (r->length < r->capacity) {
    size_t room = r->capacity - (size_t)r->length;
    memcpy(r->out + r->length, text, n < room ? n : room);
  }
  r->length += n;
  if (r->length > JINJA_OUTPUT_LIMIT)
    return jinja_fail(r, line, "the output is longer than %llu MiB",
                      (unsigned long long)(JINJA_OUTPUT_LIMIT >> 20));
  return 0;
}

/* ---- variables ---- */

const jinja_value *jinja_lookup(const jinja_render *r, const char *name, size_t n) {
  for (const jinja_scope *s = r->scope; s; s = s->parent) {
    const jinja_value *v = jinja_dict_get(&s->variables, name, n);
    if (v)
      return v;
  }
  return NULL;
}

static int assign(jinja_render *r, const jinja_node *name, const jinja_value *v) {
  return jinja_dict_set(r, name->line, &r->scope->variables, name->text, name->length, v);
}

/* ---- statements ---- */

static int execute(jinja_render *r, const jinja_node *s);

/* Binds a for's or a set's names to a value (a, b = [1, 2]). */
static int bind_targets(jinja_render *r, const jinja_node *target, const jinja_value *v) {
  if (target->kind == E_NAME)
    return assign(r, target, v);
  size_t n = 0;
  for (const jinja_node *k = target->body; k; k = k->next)
    ++n;
  if (v->kind != JV_LIST)
    return jinja_fail(r, target->line, "cannot unpack %s into %zu names", jinja_kind_name(v->kind), n);
  if (v->length != n)
    return jinja_fail(r, target->line, "cannot unpack a list of %zu items into %zu names", v->length, n);
  size_t i = 0;
  for (const jinja_node *k = target->body; k; k = k->next)
    if (assign(r, k, &v->as.items[i++]))
      return -1;
  return 0;
}

/* What a for iterates: a list's items, a dict's keys, a string's characters; undefined is
 * empty (as in Python; @huggingface/jinja refuses undefined and strings). */
static int iterable(jinja_render *r, const jinja_node *s, const jinja_value *v, jinja_value *out) {
  switch (v->kind) {
  case JV_LIST: *out = *v; return 0;
  case JV_UNDEFINED: *out = jinja_list(NULL, 0); return 0;
  case JV_DICT:
  case JV_LOOP: {
    jinja_dict *d = v->as.dict;
    if (v->kind == JV_LOOP && jinja_loop_dict(r, s->line, v->as.loop, &d))
      return -1;
    jinja_value *keys = jinja_alloc(r, s->line, (d->count ? d->count : 1) * sizeof *keys);
    if (!keys)
      return -1;
    for (size_t i = 0; i < d->count; ++i)
      keys[i] = jinja_string(d->entries[i].key, d->entries[i].key_length);
    *out = jinja_list(keys, d->count);
    return 0;
  }
  case JV_STRING: {
    size_t *offsets, n;
    if (jinja_code_points(r, s->line, v, &offsets, &n))
      return -1;
    jinja_value *chars = jinja_alloc(r, s->line, (n ? n : 1) * sizeof *chars);
    if (!chars)
      return -1;
    for (size_t i = 0; i < n; ++i)
      chars[i] = jinja_string(v->as.string + offsets[i], offsets[i + 1] - offsets[i]);
    *out = jinja_list(chars, n);
    return 0;
  }
  default: return jinja_fail(r, s->line, "cannot iterate over %s", jinja_kind_name(v->kind));
  }
}

static int for_loop(jinja_render *r, const jinja_node *s) {
  jinja_scope *outer = r->scope, *scope = jinja_alloc(r, s->line, sizeof *scope);
  if (!scope)
    return -1;
  memset(scope, 0, sizeof *scope);
  scope->parent = outer;
  r->scope = scope;
  jinja_value value, all = jinja_list(NULL, 0);
  int status = -1, completed = 0;
  if (jinja_eval(r, s->b, &value) || iterable(r, s, &value, &all))
    goto done;
  /* Every item is checked (and selected by the loop's if) before the first iteration. */
  const jinja_value *items = all.as.items;
  size_t n = all.length;
  if (s->a->kind == E_LIST)
    for (size_t i = 0; i < n; ++i) {
      size_t names = 0;
      for (const jinja_node *k = s->a->body; k; k = k->next)
        ++names;
      if (items[i].kind != JV_LIST || items[i].length != names) {
        jinja_fail(r, s->line, "cannot unpack %s%s into %zu names", jinja_kind_name(items[i].kind),
                   items[i].kind == JV_LIST ? " of another length" : "", names);
        goto done;
      }
    }
  if (s->c) {
    jinja_value *selected = jinja_alloc(r, s->line, (n ? n : 1) * sizeof *selected);
    jinja_scope *test = jinja_alloc(r, s->line, sizeof *test);
    if (!selected || !test)
      goto done;
    size_t kept = 0;
    for (size_t i = 0; i < n; ++i) {
      memset(test, 0, sizeof *test);
      test->parent = scope;
      r->scope = test;
      jinja_value keep;
      int failed = bind_targets(r, s->a, &items[i]) || jinja_eval(r, s->c, &keep);
      r->scope = scope;
      if (failed)
        goto done;
      if (jinja_truthy(&keep))
        selected[kept++] = items[i];
    }
    items = selected;
    n = kept;
  }
  for (size_t i = 0; i < n; ++i) {
    jinja_loop *loop = jinja_alloc(r, s->line, sizeof *loop);
    if (!loop || jinja_charge(r, s->line, JINJA_NODE_WORK))
      goto done;
    loop->index0 = (int64_t)i;
    loop->length = (int64_t)n;
    loop->items = items;
    jinja_value loop_value = {JV_LOOP, 0, {0}};
    loop_value.as.loop = loop;
    if (jinja_dict_set(r, s->line, &scope->variables, "loop", 4, &loop_value) ||
        bind_targets(r, s->a, &items[i]))
      goto done;
    int result = execute(r, s->body);
    if (result < 0)
      goto done;
    if (result == STATUS_BREAK)
      break;
    completed |= result == 0;
  }
  /* The else block runs unless an iteration ran to its end (one that ended in break or
   * continue does not count), in both Jinjas. An iteration's text before its break stays
   * (Python); @huggingface/jinja drops it. */
  if (!completed && s->alt && execute(r, s->alt) < 0)
    goto done;
  status = 0;
done:
  r->scope = outer;
  return status;
}

static int set(jinja_render *r, const jinja_node *s) {
  jinja_value value;
  if (s->b) {
    if (jinja_eval(r, s->b, &value))
      return -1;
  } else {
    jinja_buffer captured = {0}, *saved = r->capture;
    r->capture = &captured;
    int status = execute(r, s->body);
    r->capture = saved;
    if (status)
      return status; /* an error, or a break that leaves the set undone */
    value = jinja_string(captured.data ? captured.data : "", captured.length);
  }
  const jinja_node *target = s->a;
  if (target->kind != E_ATTR)
    return bind_targets(r, target, &value);
  const jinja_value *object = jinja_lookup(r, target->a->text, target->a->length);
  if (!object || object->kind != JV_NAMESPACE)
    return jinja_fail(r, s->line, "cannot set an attribute of %s (only of a namespace())",
                      jinja_kind_name(object ? object->kind : JV_UNDEFINED));
  return jinja_dict_set(r, s->line, object->as.dict, target->text, target->length, &value);
}

/* A list of statements: 0, -1 on error, or the break or continue that ends it. */
static int execute(jinja_render *r, const jinja_node *s) {
  for (; s; s = s->next) {
    if (jinja_charge(r, s->line, JINJA_NODE_WORK))
      return -1;
    jinja_value v, text;
    int status = 0;
    switch (s->kind) {
    case N_TEXT: status = emit(r, s->line, s->text, s->length); break;
    case N_PRINT:
      if (jinja_eval(r, s->a, &v))
        return -1;
      /* undefined and none print nothing (Python prints None), true prints true (not True). */
      if (v.kind == JV_UNDEFINED || v.kind == JV_NONE)
        break;
      status = jinja_to_text(r, s->line, &v, &text) || emit(r, s->line, text.as.string, text.length) ? -1 : 0;
      break;
    case N_IF: {
      const jinja_node *branch = s;
      for (;;) {
        if (jinja_eval(r, branch->a, &v))
          return -1;
        if (jinja_truthy(&v)) {
          status = execute(r, branch->body);
          break;
        }
        if (!branch->flag) {
          status = execute(r, branch->alt);
          break;
        }
        branch = branch->alt;
      }
      break;
    }
    case N_FOR: status = for_loop(r, s); break;
    case N_SET: status = set(r, s); break;
    case N_BREAK: return STATUS_BREAK;
    case N_CONTINUE: return STATUS_CONTINUE;
    default: return jinja_fail(r, s->line, "internal error: node %d is no statement", s->kind);
    }
    if (status)
      return status;
  }
  return 0;
}

/* ---- the entry point ---- */

static int context_variable(jinja_render *r, jinja_scope *scope, const char *name, const jinja_value *v) {
  size_t n = strlen(name);
  if (jinja_dict_get(&scope->variables, name, n))
    return jinja_fail(r, 1, "the variable '%s' is given twice", name);
  return jinja_dict_set(r, 1, &scope->variables, name, n, v);
}

static jinja_value text_or_none(const char *s) { return s ? jinja_string(s, strlen(s)) : jinja_none(); }

static jinja_value variable_value(const tern_jinja_variable *x) {
  return x->kind == TERN_JINJA_BOOL  ? jinja_bool(x->integer != 0)
         : x->kind == TERN_JINJA_INT ? jinja_int(x->integer)
                                     : text_or_none(x->string);
}

static int prepare(jinja_render *r, const tern_jinja_context *c, jinja_scope *scope) {
  jinja_value *messages = jinja_alloc(r, 1, (c->n_messages ? c->n_messages : 1) * sizeof *messages);
  if (!messages)
    return -1;
  for (size_t i = 0; i < c->n_messages; ++i) {
    jinja_dict *d = jinja_alloc(r, 1, sizeof *d);
    if (!d)
      return -1;
    memset(d, 0, sizeof *d);
    jinja_value role = text_or_none(c->messages[i].role), content = text_or_none(c->messages[i].content);
    if (jinja_dict_set(r, 1, d, "role", 4, &role) || jinja_dict_set(r, 1, d, "content", 7, &content))
      return -1;
    messages[i].kind = JV_DICT;
    messages[i].length = 0;
    messages[i].as.dict = d;
  }
  jinja_value v = jinja_list(messages, c->n_messages);
  if (context_variable(r, scope, "messages", &v))
    return -1;
  v = jinja_bool(c->add_generation_prompt);
  if (context_variable(r, scope, "add_generation_prompt", &v))
    return -1;
  if (c->bos_token && (v = text_or_none(c->bos_token), context_variable(r, scope, "bos_token", &v)))
    return -1;
  if (c->eos_token && (v = text_or_none(c->eos_token), context_variable(r, scope, "eos_token", &v)))
    return -1;
  for (size_t i = 0; i < c->n_variables; ++i) {
    const tern_jinja_variable *x = &c->variables[i];
    if (!x->name)
      return jinja_fail(r, 1, "variable %zu has no name", i);
    if (!strcmp(x->name, "tools") || !strcmp(x->name, "documents"))
      continue; /* below */
    v = variable_value(x);
    if (context_variable(r, scope, x->name, &v))
      return -1;
  }
  /* Both transformers pass tools and documents, none when there are none (Llama 3.1 tests
   * `tools is not none`); a variable of the same name replaces them. */
  static const char *const kNone[] = {"tools", "documents"};
  for (int k = 0; k < 2; ++k) {
    v = jinja_none();
    for (size_t i = 0; i < c->n_variables; ++i)
      if (c->variables[i].name && !strcmp(c->variables[i].name, kNone[k]))
        v = variable_value(&c->variables[i]);
    if (context_variable(r, scope, kNone[k], &v))
      return -1;
  }
  return 0;
}

int64_t tern_jinja_render(const tern_jinja *t, const tern_jinja_context *context, char *out, size_t capacity,
                          char *error, size_t error_size) {
  jinja_render r;
  memset(&r, 0, sizeof r);
  r.error = error;
  r.error_size = error_size;
  if (error && error_size)
    error[0] = 0;
  if (!out)
    capacity = 0;
  if (!t)
    return jinja_fail(&r, 1, "no template");
  static const tern_jinja_context kEmpty = {0};
  if (!context)
    context = &kEmpty;
  if (context->n_messages && !context->messages)
    return jinja_fail(&r, 1, "%zu messages but no array of them", context->n_messages);
  if (context->n_variables && !context->variables)
    return jinja_fail(&r, 1, "%zu variables but no array of them", context->n_variables);
  jinja_arena_init(&r.arena, &t->arena.allocator, JINJA_ARENA_LIMIT);
  r.out = out;
  r.capacity = capacity;
  jinja_scope globals, top;
  memset(&globals, 0, sizeof globals);
  memset(&top, 0, sizeof top);
  top.parent = &globals;
  r.scope = &top;
  int status = prepare(&r, context, &globals);
  if (status == 0)
    status = execute(&r, t->body);
  jinja_arena_free(&r.arena);
  if (status) {
    if (capacity)
      out[0] = 0;
    return -1;
  }
  if (r.length < capacity)
    out[r.length] = 0;
  return (int64_t)r.length;
}
