/* parser.c - tokens to a syntax tree: the statements and the entry points (tern/jinja.h); the
 * expressions are expression.c's. Every check that needs no data is made here, so a template
 * that parses uses nothing tern lacks, and every message names the line. */
#include "parser.h"

#include <stdio.h>
#include <string.h>

int jinja_parse_fail(parser *p, uint32_t line, const char *format, ...) {
  if (!p->failed && p->error && p->error_size) {
    int n = snprintf(p->error, p->error_size, "line %u: ", (unsigned)line);
    if (n >= 0 && (size_t)n < p->error_size) {
      va_list args;
      va_start(args, format);
      vsnprintf(p->error + n, p->error_size - (size_t)n, format, args);
      va_end(args);
    }
  }
  p->failed = 1;
  return -1;
}

/* A token as a message names it. */
const char *jinja_describe(const jinja_token *t, char *buffer, size_t size) {
  static const char *const kNames[] = {[T_EOF] = "the end of the template",
                                       [T_TEXT] = "text",
                                       [T_COMMENT] = "a comment",
                                       [T_OPEN_STMT] = "'{%'",
                                       [T_CLOSE_STMT] = "'%}'",
                                       [T_OPEN_EXPR] = "'{{'",
                                       [T_CLOSE_EXPR] = "'}}'",
                                       [T_INT] = "a number",
                                       [T_FLOAT] = "a number",
                                       [T_STRING] = "a string",
                                       [T_LPAREN] = "'('",
                                       [T_RPAREN] = "')'",
                                       [T_LBRACKET] = "'['",
                                       [T_RBRACKET] = "']'",
                                       [T_LBRACE] = "'{'",
                                       [T_RBRACE] = "'}'",
                                       [T_COMMA] = "','",
                                       [T_DOT] = "'.'",
                                       [T_COLON] = "':'",
                                       [T_PIPE] = "'|'",
                                       [T_ASSIGN] = "'='",
                                       [T_EQ] = "'=='",
                                       [T_NE] = "'!='",
                                       [T_LT] = "'<'",
                                       [T_LE] = "'<='",
                                       [T_GT] = "'>'",
                                       [T_GE] = "'>='",
                                       [T_PLUS] = "'+'",
                                       [T_MINUS] = "'-'",
                                       [T_TILDE] = "'~'",
                                       [T_STAR] = "'*'",
                                       [T_POW] = "'**'",
                                       [T_SLASH] = "'/'",
                                       [T_FLOORDIV] = "'//'",
                                       [T_PERCENT] = "'%'"};
  if (t->type == T_NAME) {
    snprintf(buffer, size, "'%.*s'", (int)(t->length > 40 ? 40 : t->length), t->text);
    return buffer;
  }
  return kNames[t->type];
}

int jinja_expect(parser *p, uint8_t type, const char *what, const char *after) {
  if (peek(p)->type == type) {
    next(p);
    return 0;
  }
  char found[64];
  return jinja_parse_fail(p, peek(p)->line, "expected %s after %s, found %s", what, after,
                          jinja_describe(peek(p), found, sizeof found));
}

int jinja_enter(parser *p, uint32_t line) {
  if (++p->depth > JINJA_MAX_NESTING)
    return jinja_parse_fail(p, line, "the template is nested more than %d deep", JINJA_MAX_NESTING);
  return 0;
}

jinja_node *jinja_make(parser *p, uint8_t kind, uint32_t line) {
  jinja_node *n = jinja_arena_alloc(p->arena, sizeof *n);
  if (!n) {
    jinja_parse_fail(p, line, "out of memory for the template");
    return NULL;
  }
  memset(n, 0, sizeof *n);
  n->kind = kind;
  n->line = line;
  n->height = 1;
  return n;
}

const char *jinja_keep(parser *p, const char *text, size_t n) {
  char *copy = jinja_arena_alloc(p->arena, n + 1);
  if (!copy) {
    jinja_parse_fail(p, peek(p)->line, "out of memory for the template");
    return NULL;
  }
  if (n)
    memcpy(copy, text, n);
  copy[n] = 0;
  return copy;
}

/* The height of an expression's tree, which bounds the renderer's recursion. */
jinja_node *jinja_finish(parser *p, jinja_node *n) {
  if (!n)
    return NULL;
  uint32_t h = 0;
  const jinja_node *kids[] = {n->a, n->b, n->c, n->d};
  for (int i = 0; i < 4; ++i)
    if (kids[i] && kids[i]->height > h)
      h = kids[i]->height;
  for (const jinja_node *k = n->body; k; k = k->next)
    if (k->height > h)
      h = k->height;
  n->height = h + 1;
  if (n->height > JINJA_MAX_HEIGHT) {
    jinja_parse_fail(p, n->line, "expression nested more than %d deep", JINJA_MAX_HEIGHT);
    return NULL;
  }
  return n;
}

/* ---- statements ---- */

static jinja_node *body(parser *p);

static const char *kTerminators[] = {"elif", "else", "endif", "endfor", "endset"};

static int terminator(const parser *p) {
  if (peek(p)->type != T_OPEN_STMT)
    return -1;
  for (int i = 0; i < (int)(sizeof kTerminators / sizeof kTerminators[0]); ++i)
    if (is_name(peek_at(p, 1), kTerminators[i]))
      return i;
  return -1;
}

/* At the end of a block's body: the tag that ends it must be one of `accepted`. */
static int end_of(parser *p, const char *opener, uint32_t line, const char *const *accepted) {
  int which = terminator(p);
  if (which < 0)
    return jinja_parse_fail(p, line, "unclosed '%s' (no '%s' before the end of the template)", opener,
                            accepted[0]);
  for (int i = 0; accepted[i]; ++i)
    if (!strcmp(kTerminators[which], accepted[i])) {
      next(p);
      next(p);
      return 0;
    }
  return jinja_parse_fail(p, peek(p)->line, "'%s' inside the '%s' of line %u (expected '%s')",
                          kTerminators[which], opener, (unsigned)line, accepted[0]);
}

static jinja_node *if_statement(parser *p, uint32_t line) {
  jinja_node *first = jinja_make(p, N_IF, line), *n = first;
  if (!n || !(n->a = jinja_expression(p)) || jinja_expect(p, T_CLOSE_STMT, "'%}'", "the 'if' condition"))
    return NULL;
  for (;;) {
    n->body = body(p);
    if (p->failed)
      return NULL;
    static const char *const kAccepted[] = {"endif", "elif", "else", NULL};
    if (end_of(p, "if", line, kAccepted))
      return NULL;
    const jinja_token *tag = &p->tokens[p->pos - 1];
    if (is_name(tag, "endif"))
      break;
    if (is_name(tag, "elif")) {
      jinja_node *elif = jinja_make(p, N_IF, tag->line);
      if (!elif || !(elif->a = jinja_expression(p)) ||
          jinja_expect(p, T_CLOSE_STMT, "'%}'", "the 'elif' condition"))
        return NULL;
      n->alt = elif;
      n->flag = 1;
      n = elif;
      continue;
    }
    if (jinja_expect(p, T_CLOSE_STMT, "'%}'", "'else'"))
      return NULL;
    n->alt = body(p);
    static const char *const kEnd[] = {"endif", NULL};
    if (p->failed || end_of(p, "if", line, kEnd))
      return NULL;
    break;
  }
  return jinja_expect(p, T_CLOSE_STMT, "'%}'", "'endif'") ? NULL : first;
}

static jinja_node *target_name(parser *p) {
  const jinja_token *t = next(p);
  char found[64];
  if (t->type != T_NAME) {
    jinja_parse_fail(p, t->line, "expected a variable name, found %s",
                     jinja_describe(t, found, sizeof found));
    return NULL;
  }
  if (jinja_is_constant_name(t->text, t->length) ||
      jinja_builtin_find(JINJA_FUNCTION, t->text, t->length) >= 0) {
    jinja_parse_fail(p, t->line, "cannot assign to '%.*s'", (int)t->length, t->text);
    return NULL;
  }
  jinja_node *n = jinja_make(p, E_NAME, t->line);
  if (!n || !(n->text = jinja_keep(p, t->text, t->length)))
    return NULL;
  n->length = t->length;
  return n;
}

/* name, or a, b, c, or (a, b): what a for or a set assigns to. */
static jinja_node *targets(parser *p) {
  int parenthesized = peek(p)->type == T_LPAREN;
  if (parenthesized)
    next(p);
  jinja_node *first = target_name(p);
  if (!first)
    return NULL;
  if (peek(p)->type == T_COMMA) {
    jinja_node *tuple = jinja_make(p, E_LIST, first->line), *last = first;
    if (!tuple)
      return NULL;
    tuple->flag = 1;
    tuple->body = first;
    while (peek(p)->type == T_COMMA) {
      next(p);
      if (!(last->next = target_name(p)))
        return NULL;
      last = last->next;
    }
    first = tuple;
  }
  if (parenthesized && jinja_expect(p, T_RPAREN, "')'", "the names"))
    return NULL;
  return first;
}

static jinja_node *for_statement(parser *p, uint32_t line) {
  jinja_node *n = jinja_make(p, N_FOR, line);
  if (!n || !(n->a = targets(p)))
    return NULL;
  if (!is_name(peek(p), "in")) {
    char found[64];
    jinja_parse_fail(p, peek(p)->line, "expected 'in' after the loop's names, found %s",
                     jinja_describe(peek(p), found, sizeof found));
    return NULL;
  }
  next(p);
  if (jinja_enter(p, line) || !(n->b = jinja_or_expression(p)))
    return NULL;
  --p->depth;
  if (is_name(peek(p), "if")) {
    next(p);
    if (!(n->c = jinja_expression(p)))
      return NULL;
  }
  if (is_name(peek(p), "recursive")) {
    jinja_parse_fail(p, peek(p)->line, "unsupported recursive loop");
    return NULL;
  }
  if (jinja_expect(p, T_CLOSE_STMT, "'%}'", "the 'for' header"))
    return NULL;
  ++p->loops;
  n->body = body(p);
  --p->loops;
  static const char *const kAccepted[] = {"endfor", "else", NULL};
  if (p->failed || end_of(p, "for", line, kAccepted))
    return NULL;
  if (is_name(&p->tokens[p->pos - 1], "else")) {
    if (jinja_expect(p, T_CLOSE_STMT, "'%}'", "'else'"))
      return NULL;
    /* The else block runs when nothing was iterated: it is not in the loop. */
    int loops = p->loops;
    p->loops = 0;
    n->alt = body(p);
    p->loops = loops;
    static const char *const kEnd[] = {"endfor", NULL};
    if (p->failed || end_of(p, "for", line, kEnd))
      return NULL;
  }
  return jinja_expect(p, T_CLOSE_STMT, "'%}'", "'endfor'") ? NULL : n;
}

static jinja_node *set_statement(parser *p, uint32_t line) {
  jinja_node *n = jinja_make(p, N_SET, line);
  if (!n)
    return NULL;
  if (peek(p)->type == T_NAME && peek_at(p, 1)->type == T_DOT) { /* ns.attr */
    jinja_node *object = target_name(p);
    next(p);
    const jinja_token *name = next(p);
    if (!object || name->type != T_NAME) {
      if (object)
        jinja_parse_fail(p, name->line, "expected an attribute name after '.'");
      return NULL;
    }
    if (!(n->a = jinja_make(p, E_ATTR, name->line)) ||
        !(n->a->text = jinja_keep(p, name->text, name->length)))
      return NULL;
    n->a->length = name->length;
    n->a->a = object;
  } else if (!(n->a = targets(p))) {
    return NULL;
  }
  if (peek(p)->type == T_ASSIGN) {
    next(p);
    if (!(n->b = jinja_expression(p)))
      return NULL;
    if (peek(p)->type == T_COMMA && !(n->b = jinja_sequence(p, n->b, n->b->line)))
      return NULL;
    return jinja_expect(p, T_CLOSE_STMT, "'%}'", "the value of 'set'") ? NULL : n;
  }
  if (n->a->kind == E_LIST) {
    jinja_parse_fail(p, line, "a block 'set' assigns to one name");
    return NULL;
  }
  if (jinja_expect(p, T_CLOSE_STMT, "'=' or '%}'", "the name of 'set'"))
    return NULL;
  n->body = body(p);
  static const char *const kEnd[] = {"endset", NULL};
  if (p->failed || end_of(p, "set", line, kEnd))
    return NULL;
  return jinja_expect(p, T_CLOSE_STMT, "'%}'", "'endset'") ? NULL : n;
}

static jinja_node *statement(parser *p) {
  const jinja_token *open = next(p), *name = next(p);
  jinja_node *n = NULL;
  if (name->type != T_NAME) {
    char found[64];
    jinja_parse_fail(p, name->line, "expected a statement name after '{%%', found %s",
                     jinja_describe(name, found, sizeof found));
    return NULL;
  }
  uint32_t line = open->line;
  if (jinja_enter(p, line))
    return NULL;
  if (is_name(name, "if")) {
    n = if_statement(p, line);
  } else if (is_name(name, "for")) {
    n = for_statement(p, line);
  } else if (is_name(name, "set")) {
    n = set_statement(p, line);
  } else if (is_name(name, "break") || is_name(name, "continue")) {
    int is_break = is_name(name, "break");
    if (p->loops == 0) {
      jinja_parse_fail(p, line, "'%s' outside a for loop", is_break ? "break" : "continue");
      return NULL;
    }
    n = jinja_make(p, is_break ? N_BREAK : N_CONTINUE, line);
    if (n && jinja_expect(p, T_CLOSE_STMT, "'%}'", is_break ? "'break'" : "'continue'"))
      return NULL;
  } else {
    static const char *const kJinja[] = {
        "macro",   "call",      "filter",   "include",    "import", "from",          "extends",
        "block",   "with",      "raw",      "autoescape", "do",     "trans",         "endmacro",
        "endcall", "endfilter", "endblock", "endwith",    "endraw", "endautoescape", NULL};
    int known = 0;
    for (int i = 0; kJinja[i]; ++i)
      known |= is_name(name, kJinja[i]);
    jinja_parse_fail(p, line, "%s statement '%.*s'", known ? "unsupported" : "unknown",
                     (int)(name->length > 40 ? 40 : name->length), name->text);
    return NULL;
  }
  --p->depth;
  return n;
}

/* Statements up to the end of the template or a tag that ends a block (left for the caller). */
static jinja_node *body(parser *p) {
  jinja_node *first = NULL, **tail = &first;
  for (;;) {
    const jinja_token *t = peek(p);
    jinja_node *n = NULL;
    if (t->type == T_EOF || terminator(p) >= 0)
      return first;
    if (t->type == T_COMMENT) {
      next(p);
      continue;
    }
    if (t->type == T_TEXT) {
      next(p);
      if (!(n = jinja_make(p, N_TEXT, t->line)) || !(n->text = jinja_keep(p, t->text, t->length)))
        return NULL;
      n->length = t->length;
    } else if (t->type == T_OPEN_EXPR) {
      next(p);
      if (!(n = jinja_make(p, N_PRINT, t->line)) || !(n->a = jinja_expression(p)) ||
          jinja_expect(p, T_CLOSE_EXPR, "'}}'", "the expression"))
        return NULL;
    } else if (t->type == T_OPEN_STMT) {
      if (!(n = statement(p)))
        return NULL;
    } else {
      char found[64];
      jinja_parse_fail(p, t->line, "unexpected %s", jinja_describe(t, found, sizeof found));
      return NULL;
    }
    *tail = n;
    tail = &n->next;
  }
}

int tern_jinja_parse(const char *source, size_t size, const tern_allocator *allocator, tern_jinja **out,
                     char *error, size_t error_size) {
  *out = NULL;
  if (error && error_size)
    error[0] = 0;
  jinja_arena arena, scratch;
  jinja_arena_init(&arena, allocator, JINJA_ARENA_LIMIT);
  jinja_arena_init(&scratch, allocator, JINJA_ARENA_LIMIT);
  tern_jinja *t = jinja_arena_alloc(&arena, sizeof *t);
  jinja_token *tokens = NULL;
  size_t count = 0;
  int status = -1;
  if (!t) {
    parser p = {NULL, 0, 0, &arena, error, error_size, 0, 0, 0};
    jinja_parse_fail(&p, 1, "out of memory for the template");
  } else if (!source && size) {
    parser p = {NULL, 0, 0, &arena, error, error_size, 0, 0, 0};
    jinja_parse_fail(&p, 1, "no template source");
  } else if (jinja_lex(source ? source : "", size, &scratch, &tokens, &count, error, error_size) == 0) {
    parser p = {tokens, 0, count, &arena, error, error_size, 0, 0, 0};
    jinja_node *root = body(&p);
    if (!p.failed && terminator(&p) >= 0) {
      static const char *const kOpeners[] = {"'if'", "'if'", "'if'", "'for'", "'set'"};
      int which = terminator(&p);
      jinja_parse_fail(&p, peek(&p)->line, "'%s' without %s%s", kTerminators[which], kOpeners[which],
                       which == 1 ? " or 'for'" : "");
    }
    if (!p.failed) {
      t->body = root;
      status = 0;
    }
  }
  jinja_arena_free(&scratch);
  if (status) {
    jinja_arena_free(&arena);
    return -1;
  }
  t->arena = arena; /* the arena now lives in its own first chunk */
  *out = t;
  return 0;
}

void tern_jinja_free(tern_jinja *t) {
  if (t) {
    jinja_arena arena = t->arena;
    jinja_arena_free(&arena);
  }
}
