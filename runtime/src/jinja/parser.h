/* parser.h - what the two halves of the parser share: parser.c (statements, the entry points)
 * and expression.c (expressions, and the binding of arguments to builtins). */
#ifndef TERN_JINJA_PARSER_H
#define TERN_JINJA_PARSER_H

#include "jinja_internal.h"

#include <string.h>

typedef struct {
  const jinja_token *tokens;
  size_t pos, count;
  jinja_arena *arena;
  char *error;
  size_t error_size;
  int failed;
  int depth; /* open blocks and brackets */
  int loops; /* for bodies around the current statement */
} parser;

/* Records the first error as "line N: ..." and returns -1. */
int jinja_parse_fail(parser *p, uint32_t line, const char *format, ...) __attribute__((format(printf, 3, 4)));

static inline const jinja_token *peek(const parser *p) { return &p->tokens[p->pos]; }
static inline const jinja_token *peek_at(const parser *p, size_t k) {
  return p->pos + k < p->count ? &p->tokens[p->pos + k] : &p->tokens[p->count - 1];
}
static inline const jinja_token *next(parser *p) {
  const jinja_token *t = &p->tokens[p->pos];
  if (t->type != T_EOF)
    ++p->pos;
  return t;
}
static inline int is_name(const jinja_token *t, const char *name) {
  return t->type == T_NAME && t->length == strlen(name) && memcmp(t->text, name, t->length) == 0;
}

/* A token as a message names it ("'%}'", "a string", "the end of the template"). */
const char *jinja_describe(const jinja_token *t, char *buffer, size_t size);
/* Consumes a token of `type`, or fails with "expected <what> after <after>, found ...". */
int jinja_expect(parser *p, uint8_t type, const char *what, const char *after);
/* One level deeper (a block, a bracket); fails past JINJA_MAX_NESTING. */
int jinja_enter(parser *p, uint32_t line);
jinja_node *jinja_make(parser *p, uint8_t kind, uint32_t line);
/* A copy of text in the template's arena. */
const char *jinja_keep(parser *p, const char *text, size_t n);
/* Computes n's height, failing past JINJA_MAX_HEIGHT; NULL for a NULL n. */
jinja_node *jinja_finish(parser *p, jinja_node *n);

/* An expression, with x if c else y; without it; a, b, c after its first item. */
jinja_node *jinja_expression(parser *p);
jinja_node *jinja_or_expression(parser *p);
jinja_node *jinja_sequence(parser *p, jinja_node *first, uint32_t line);
/* 1 + the index of true false none True False None, or 0. */
int jinja_is_constant_name(const char *s, size_t n);

#endif
