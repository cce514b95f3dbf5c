/* expression.c - expressions to syntax trees, with @huggingface/jinja's precedence (lowest
 * first):
 *   x if c else y | or | and | not | == != < <= > >= in, not in (left to right, not chained as
 *   in Python) | + - ~ (one level, as there; Python puts ~ between + and *) | * // % | ** |
 *   x is test | x|filter | unary - + (so -x|abs is abs(-x), in Python's Jinja too) |
 *   x.attr x[i] x[a:b:c] f(..) | literals.
 * Filters, tests, methods and functions are looked up and their arguments bound to their
 * parameters here. `/` is refused: it makes a float, and tern's templates have integers only. */
#include "parser.h"

#include <stdio.h>
#include <string.h>

/* ---- calls: arguments bound to a builtin's parameters ---- */

static const char *const kTableNames[] = {"filter", "test", "method", "function"};

/* (a, b=c, ...) after the '(' into n->body; positional first, then keywords. */
static int arguments(parser *p, jinja_node *n) {
  jinja_node **tail = &n->body;
  int keywords = 0;
  if (jinja_enter(p, peek(p)->line))
    return -1;
  while (peek(p)->type != T_RPAREN) {
    const jinja_token *t = peek(p);
    if (t->type == T_STAR || t->type == T_POW)
      return jinja_parse_fail(p, t->line, "unsupported argument unpacking ('%s')",
                              t->type == T_STAR ? "*" : "**");
    jinja_node *argument;
    if (t->type == T_NAME && peek_at(p, 1)->type == T_ASSIGN) {
      next(p);
      next(p);
      argument = jinja_make(p, E_KWARG, t->line);
      if (!argument || !(argument->text = jinja_keep(p, t->text, t->length)))
        return -1;
      argument->length = t->length;
      if (!(argument->a = jinja_expression(p)) || !jinja_finish(p, argument))
        return -1;
      keywords = 1;
    } else {
      if (keywords)
        return jinja_parse_fail(p, t->line, "a positional argument after a keyword argument");
      if (!(argument = jinja_expression(p)))
        return -1;
    }
    *tail = argument;
    tail = &argument->next;
    if (peek(p)->type != T_COMMA)
      break;
    next(p);
  }
  --p->depth;
  return jinja_expect(p, T_RPAREN, "')'", "the arguments");
}

static int bind(parser *p, jinja_node *n, jinja_table table, const char *name, size_t length) {
  int index = jinja_builtin_find(table, name, length);
  if (index < 0) {
    static const char *const kUnknown[] = {"unsupported filter", "unsupported test", "unsupported method",
                                           "unknown function"};
    return jinja_parse_fail(p, n->line, "%s '%.*s'", kUnknown[table], (int)(length > 40 ? 40 : length), name);
  }
  const jinja_builtin *b = jinja_builtin_get(table, index);
  n->index = index;
  int given[JINJA_MAX_PARAMS] = {0};
  size_t position = 0;
  for (jinja_node *a = n->body; a; a = a->next) {
    if (a->kind != E_KWARG) {
      if (position >= b->max_positional)
        return jinja_parse_fail(p, a->line, "%s '%s' takes %s%u positional argument%s", kTableNames[table],
                                b->name, b->max_positional ? "at most " : "", b->max_positional,
                                b->max_positional == 1 ? "" : "s");
      given[position++] = 1;
      continue;
    }
    if (b->any_keywords)
      continue;
    int slot = -1;
    for (int k = 0; k < JINJA_MAX_PARAMS && b->params[k]; ++k)
      if (strlen(b->params[k]) == a->length && memcmp(b->params[k], a->text, a->length) == 0)
        slot = k;
    if (slot < 0)
      return jinja_parse_fail(p, a->line, "%s '%s' has no parameter '%s'", kTableNames[table], b->name,
                              a->text);
    if (given[slot])
      return jinja_parse_fail(p, a->line, "%s '%s' got '%s' twice", kTableNames[table], b->name, a->text);
    given[slot] = 1;
    a->index = slot;
  }
  for (int k = 0; k < b->min_args; ++k)
    if (!given[k])
      return jinja_parse_fail(p, n->line, "%s '%s' needs its argument '%s'", kTableNames[table], b->name,
                              b->params[k]);
  return 0;
}

/* ---- expressions ---- */

int jinja_is_constant_name(const char *s, size_t n) {
  static const char *const kNames[] = {"true", "false", "none", "True", "False", "None"};
  for (size_t i = 0; i < sizeof kNames / sizeof kNames[0]; ++i)
    if (strlen(kNames[i]) == n && memcmp(kNames[i], s, n) == 0)
      return (int)i + 1;
  return 0;
}

jinja_node *jinja_sequence(parser *p, jinja_node *first, uint32_t line) {
  /* a, b, c: a tuple (a list that prints like one, as in @huggingface/jinja). */
  jinja_node *tuple = jinja_make(p, E_LIST, line);
  if (!tuple)
    return NULL;
  tuple->flag = 1;
  tuple->body = first;
  jinja_node *last = first;
  while (peek(p)->type == T_COMMA) {
    next(p);
    const jinja_token *t = peek(p);
    if (t->type == T_RPAREN || t->type == T_CLOSE_STMT)
      break;
    if (!(last->next = jinja_expression(p)))
      return NULL;
    last = last->next;
  }
  return jinja_finish(p, tuple);
}

static jinja_node *primary(parser *p) {
  const jinja_token *t = next(p);
  jinja_node *n;
  char found[64];
  switch (t->type) {
  case T_INT:
    if (!(n = jinja_make(p, E_CONST, t->line)))
      return NULL;
    n->value = jinja_int(t->integer);
    return n;
  case T_FLOAT:
    jinja_parse_fail(p, t->line, "unsupported number '%.*s' (tern's templates have integers only)",
                     (int)(t->length > 40 ? 40 : t->length), t->text);
    return NULL;
  case T_STRING: {
    /* 'a' 'b' is 'ab'. */
    size_t total = t->length, k = 0;
    while (peek_at(p, k)->type == T_STRING)
      total += peek_at(p, k++)->length;
    char *text = jinja_arena_alloc(p->arena, total + 1);
    if (!text || !(n = jinja_make(p, E_CONST, t->line))) {
      jinja_parse_fail(p, t->line, "out of memory for the template");
      return NULL;
    }
    memcpy(text, t->text, t->length);
    size_t at = t->length;
    while (peek(p)->type == T_STRING) {
      const jinja_token *u = next(p);
      memcpy(text + at, u->text, u->length);
      at += u->length;
    }
    n->value = jinja_string(text, total);
    return n;
  }
  case T_NAME: {
    int constant = jinja_is_constant_name(t->text, t->length);
    if (!(n = jinja_make(p, constant ? E_CONST : E_NAME, t->line)))
      return NULL;
    if (constant) {
      n->value = constant == 3 || constant == 6 ? jinja_none() : jinja_bool(constant == 1 || constant == 4);
      return n;
    }
    if (!(n->text = jinja_keep(p, t->text, t->length)))
      return NULL;
    n->length = t->length;
    if (jinja_builtin_find(JINJA_FUNCTION, t->text, t->length) >= 0 && peek(p)->type != T_LPAREN) {
      jinja_parse_fail(p, t->line, "function '%s' used without a call", n->text);
      return NULL;
    }
    return n;
  }
  case T_LPAREN: {
    if (jinja_enter(p, t->line) || !(n = jinja_expression(p)))
      return NULL;
    if (peek(p)->type == T_COMMA && !(n = jinja_sequence(p, n, t->line)))
      return NULL;
    --p->depth;
    return jinja_expect(p, T_RPAREN, "')'", "the expression in parentheses") ? NULL : n;
  }
  case T_LBRACKET: {
    if (jinja_enter(p, t->line) || !(n = jinja_make(p, E_LIST, t->line)))
      return NULL;
    jinja_node **tail = &n->body;
    while (peek(p)->type != T_RBRACKET) {
      if (!(*tail = jinja_expression(p)))
        return NULL;
      tail = &(*tail)->next;
      if (peek(p)->type != T_COMMA)
        break;
      next(p);
    }
    --p->depth;
    return jinja_expect(p, T_RBRACKET, "']'", "the list's items") ? NULL : jinja_finish(p, n);
  }
  case T_LBRACE: {
    if (jinja_enter(p, t->line) || !(n = jinja_make(p, E_DICT, t->line)))
      return NULL;
    jinja_node **tail = &n->body;
    while (peek(p)->type != T_RBRACE) {
      jinja_node *pair = jinja_make(p, E_PAIR, peek(p)->line);
      if (!pair || !(pair->a = jinja_expression(p)) || jinja_expect(p, T_COLON, "':'", "a dict key") ||
          !(pair->b = jinja_expression(p)) || !jinja_finish(p, pair))
        return NULL;
      *tail = pair;
      tail = &pair->next;
      if (peek(p)->type != T_COMMA)
        break;
      next(p);
    }
    --p->depth;
    return jinja_expect(p, T_RBRACE, "'}'", "the dict's items") ? NULL : jinja_finish(p, n);
  }
  default:
    jinja_parse_fail(p, t->line, "expected an expression, found %s", jinja_describe(t, found, sizeof found));
    return NULL;
  }
}

/* x[i], x[a:b:c] (any part may be left out) after the '['. */
static jinja_node *subscript(parser *p, jinja_node *object, uint32_t line) {
  jinja_node *parts[3] = {NULL, NULL, NULL};
  int count = 0, slice = 0;
  if (jinja_enter(p, line))
    return NULL;
  while (peek(p)->type != T_RBRACKET) {
    if (count == 3) {
      jinja_parse_fail(p, peek(p)->line, "a slice has at most 3 parts");
      return NULL;
    }
    if (peek(p)->type == T_COLON) {
      next(p);
      ++count;
      slice = 1;
      continue;
    }
    if (!(parts[count++] = jinja_expression(p)))
      return NULL;
    if (peek(p)->type == T_COLON) {
      next(p);
      slice = 1;
    } else if (peek(p)->type != T_RBRACKET) {
      jinja_expect(p, T_RBRACKET, "']'", "the subscript");
      return NULL;
    }
  }
  --p->depth;
  if (count == 0) {
    jinja_parse_fail(p, line, "empty subscript '[]'");
    return NULL;
  }
  next(p);
  jinja_node *n = jinja_make(p, slice ? E_SLICE : E_INDEX, line);
  if (!n)
    return NULL;
  n->a = object;
  n->b = parts[0];
  n->c = parts[1];
  n->d = parts[2];
  return jinja_finish(p, n);
}

static jinja_node *postfix(parser *p) {
  jinja_node *n = primary(p);
  while (n) {
    const jinja_token *t = peek(p);
    if (t->type == T_DOT) {
      next(p);
      const jinja_token *name = next(p);
      if (name->type == T_INT) { /* x.0 is x[0] */
        jinja_node *index = jinja_make(p, E_CONST, name->line), *m = jinja_make(p, E_INDEX, t->line);
        if (!index || !m)
          return NULL;
        index->value = jinja_int(name->integer);
        m->a = n;
        m->b = index;
        n = jinja_finish(p, m);
        continue;
      }
      if (name->type != T_NAME) {
        char found[64];
        jinja_parse_fail(p, name->line, "expected a name after '.', found %s",
                         jinja_describe(name, found, sizeof found));
        return NULL;
      }
      int call = peek(p)->type == T_LPAREN;
      jinja_node *m = jinja_make(p, call ? E_METHOD : E_ATTR, t->line);
      if (!m || !(m->text = jinja_keep(p, name->text, name->length)))
        return NULL;
      m->length = name->length;
      m->a = n;
      if (call) {
        next(p);
        if (arguments(p, m) || bind(p, m, JINJA_METHOD, name->text, name->length))
          return NULL;
      }
      n = jinja_finish(p, m);
    } else if (t->type == T_LBRACKET) {
      next(p);
      n = subscript(p, n, t->line);
    } else if (t->type == T_LPAREN) {
      if (n->kind != E_NAME) {
        jinja_parse_fail(p, t->line, "unsupported call: only functions and methods can be called");
        return NULL;
      }
      next(p);
      jinja_node *m = jinja_make(p, E_CALL, n->line);
      if (!m)
        return NULL;
      m->text = n->text;
      m->length = n->length;
      if (arguments(p, m) || bind(p, m, JINJA_FUNCTION, n->text, n->length))
        return NULL;
      n = jinja_finish(p, m);
    } else {
      break;
    }
  }
  return n;
}

static jinja_node *unary(parser *p) {
  const jinja_token *t = peek(p);
  if (t->type != T_MINUS && t->type != T_PLUS)
    return postfix(p);
  next(p);
  jinja_node *n = jinja_make(p, E_UNARY, t->line);
  if (!n || jinja_enter(p, t->line) || !(n->a = unary(p)))
    return NULL;
  --p->depth;
  n->op = t->type == T_MINUS ? OP_NEG : OP_POS;
  return jinja_finish(p, n);
}

static jinja_node *filtered(parser *p) {
  jinja_node *n = unary(p);
  while (n && peek(p)->type == T_PIPE) {
    next(p);
    const jinja_token *name = next(p);
    if (name->type != T_NAME) {
      char found[64];
      jinja_parse_fail(p, name->line, "expected a filter name after '|', found %s",
                       jinja_describe(name, found, sizeof found));
      return NULL;
    }
    jinja_node *f = jinja_make(p, E_FILTER, name->line);
    if (!f)
      return NULL;
    f->a = n;
    if (peek(p)->type == T_LPAREN) {
      next(p);
      if (arguments(p, f))
        return NULL;
    }
    if (bind(p, f, JINJA_FILTER, name->text, name->length))
      return NULL;
    /* selectattr('attr', 'test', value) and select('test', value): the test is named by a
     * literal, checked here. */
    const char *fname = jinja_builtin_get(JINJA_FILTER, f->index)->name;
    int by_attribute = !strcmp(fname, "selectattr") || !strcmp(fname, "rejectattr");
    if (by_attribute || !strcmp(fname, "select") || !strcmp(fname, "reject")) {
      int k = by_attribute ? 0 : 1;
      for (const jinja_node *a = f->body; a && k < 2; a = a->next, ++k) {
        if (a->kind != E_CONST || a->value.kind != JV_STRING) {
          jinja_parse_fail(p, a->line, "%s's %s must be a string literal", fname, k ? "test" : "attribute");
          return NULL;
        }
        if (k == 1 && jinja_builtin_find(JINJA_TEST, a->value.as.string, a->value.length) < 0) {
          jinja_parse_fail(p, a->line, "unsupported test '%.*s'",
                           (int)(a->value.length > 40 ? 40 : a->value.length), a->value.as.string);
          return NULL;
        }
      }
    }
    n = jinja_finish(p, f);
  }
  return n;
}

static jinja_node *tested(parser *p) {
  jinja_node *n = filtered(p);
  while (n && is_name(peek(p), "is")) {
    const jinja_token *is = next(p);
    int negate = is_name(peek(p), "not");
    if (negate)
      next(p);
    const jinja_token *name = next(p);
    if (name->type != T_NAME) {
      char found[64];
      jinja_parse_fail(p, name->line, "expected a test name after 'is', found %s",
                       jinja_describe(name, found, sizeof found));
      return NULL;
    }
    jinja_node *test = jinja_make(p, E_TEST, is->line);
    if (!test)
      return NULL;
    test->a = n;
    test->flag = (uint8_t)negate;
    if (peek(p)->type == T_LPAREN) {
      next(p);
      if (arguments(p, test))
        return NULL;
    }
    if (bind(p, test, JINJA_TEST, name->text, name->length))
      return NULL;
    n = jinja_finish(p, test);
  }
  return n;
}

static jinja_node *binary(parser *p, uint8_t op, uint32_t line, jinja_node *left, jinja_node *right) {
  if (!left || !right)
    return NULL;
  jinja_node *n = jinja_make(p, E_BINARY, line);
  if (!n)
    return NULL;
  n->op = op;
  n->a = left;
  n->b = right;
  return jinja_finish(p, n);
}

static jinja_node *power(parser *p) {
  jinja_node *n = tested(p);
  while (n && peek(p)->type == T_POW) {
    uint32_t line = next(p)->line;
    n = binary(p, OP_POW, line, n, tested(p));
  }
  return n;
}

static jinja_node *product(parser *p) {
  jinja_node *n = power(p);
  for (;;) {
    const jinja_token *t = peek(p);
    uint8_t op = t->type == T_STAR       ? OP_MUL
                 : t->type == T_FLOORDIV ? OP_FLOORDIV
                 : t->type == T_PERCENT  ? OP_MOD
                                         : 0;
    if (!n)
      return NULL;
    if (t->type == T_SLASH) {
      jinja_parse_fail(p, t->line, "unsupported operator '/' (it makes a float; use '//')");
      return NULL;
    }
    if (!op)
      return n;
    next(p);
    n = binary(p, op, t->line, n, power(p));
  }
}

static jinja_node *sum(parser *p) {
  jinja_node *n = product(p);
  for (;;) {
    const jinja_token *t = peek(p);
    if (!n)
      return NULL;
    uint8_t op = t->type == T_TILDE   ? OP_CONCAT
                 : t->unary           ? 0
                 : t->type == T_PLUS  ? OP_ADD
                 : t->type == T_MINUS ? OP_SUB
                                      : 0;
    if (!op)
      return n;
    next(p);
    n = binary(p, op, t->line, n, product(p));
  }
}

static jinja_node *comparison(parser *p) {
  jinja_node *n = sum(p);
  for (;;) {
    const jinja_token *t = peek(p);
    if (!n)
      return NULL;
    uint8_t op;
    switch (t->type) {
    case T_EQ: op = OP_EQ; break;
    case T_NE: op = OP_NE; break;
    case T_LT: op = OP_LT; break;
    case T_LE: op = OP_LE; break;
    case T_GT: op = OP_GT; break;
    case T_GE: op = OP_GE; break;
    default:
      if (is_name(t, "in"))
        op = OP_IN;
      else if (is_name(t, "not") && is_name(peek_at(p, 1), "in")) {
        op = OP_NOT_IN;
        next(p);
      } else
        return n;
    }
    next(p);
    n = binary(p, op, t->line, n, sum(p));
  }
}

static jinja_node *negation(parser *p) {
  const jinja_token *t = peek(p);
  if (!is_name(t, "not"))
    return comparison(p);
  next(p);
  jinja_node *n = jinja_make(p, E_UNARY, t->line);
  if (!n || jinja_enter(p, t->line) || !(n->a = negation(p)))
    return NULL;
  --p->depth;
  n->op = OP_NOT;
  return jinja_finish(p, n);
}

static jinja_node *conjunction(parser *p) {
  jinja_node *n = negation(p);
  while (n && is_name(peek(p), "and")) {
    uint32_t line = next(p)->line;
    jinja_node *m = binary(p, 0, line, n, negation(p));
    if (m)
      m->kind = E_AND;
    n = m;
  }
  return n;
}

jinja_node *jinja_or_expression(parser *p) {
  jinja_node *n = conjunction(p);
  while (n && is_name(peek(p), "or")) {
    uint32_t line = next(p)->line;
    jinja_node *m = binary(p, 0, line, n, conjunction(p));
    if (m)
      m->kind = E_OR;
    n = m;
  }
  return n;
}

/* x if c else y; without else, undefined when c is false. */
jinja_node *jinja_expression(parser *p) {
  if (jinja_enter(p, peek(p)->line))
    return NULL;
  jinja_node *n = jinja_or_expression(p);
  if (n && is_name(peek(p), "if")) {
    jinja_node *t = jinja_make(p, E_TERNARY, next(p)->line);
    if (!t)
      return NULL;
    t->b = n;
    if (!(t->a = jinja_or_expression(p)))
      return NULL;
    if (is_name(peek(p), "else")) {
      next(p);
      if (!(t->c = jinja_expression(p)))
        return NULL;
    }
    n = jinja_finish(p, t);
  }
  --p->depth;
  return n;
}
