/* jinja_internal.h - what the files of the Jinja engine share (tern/jinja.h): the arena, the
 * tokens, the syntax tree, the values and the render state. Internal to the engine. */
#ifndef TERN_JINJA_INTERNAL_H
#define TERN_JINJA_INTERNAL_H

#include "tern/jinja.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* Limits that keep any input from crashing, hanging or exhausting memory. The nesting limit
 * bounds the parser's recursion; the height limit the renderer's (a chain like a + b + c is
 * built without recursion but evaluated with it). */
enum {
  JINJA_MAX_NESTING = 100, /* blocks in blocks, brackets in brackets */
  JINJA_MAX_HEIGHT = 256,  /* of an expression's tree */
  JINJA_MAX_VALUE_DEPTH = 100, /* lists in lists when printing, comparing, tojson */
  JINJA_MAX_RANGE = 1000000,   /* items of range() */
};
#define JINJA_ARENA_LIMIT ((size_t)256 << 20)
/* Work units a render may spend: a byte copied or scanned costs 1, a node evaluated 16. */
#define JINJA_WORK_LIMIT ((uint64_t)1 << 30)
#define JINJA_NODE_WORK 16
/* A chat's text: a model reads at most its context of tokens, far less. */
#define JINJA_OUTPUT_LIMIT ((uint64_t)64 << 20)

/* ---- arena (value.c) ---- */

typedef struct jinja_chunk jinja_chunk;
typedef struct {
  tern_allocator allocator; /* resolved: never NULL functions */
  jinja_chunk *chunks;
  char *cursor, *end;
  size_t total, limit;
  int over_limit; /* the last failure was the limit, not the allocator */
} jinja_arena;

void jinja_arena_init(jinja_arena *a, const tern_allocator *allocator, size_t limit);
/* Aligned for any type (max_align_t), or NULL. */
void *jinja_arena_alloc(jinja_arena *a, size_t size);
void jinja_arena_free(jinja_arena *a);

/* ---- UTF-8 (value.c) ---- */

/* The bytes of the code point at p (1 to 4; an invalid byte counts as one). */
size_t jinja_utf8_next(const char *p, const char *end);
/* The code point at p, or -1 for an invalid byte. */
int32_t jinja_utf8_decode(const char *p, const char *end, size_t *size);
size_t jinja_utf8_encode(uint32_t code, char out[4]);
size_t jinja_utf8_count(const char *p, size_t n);
/* The bytes of JavaScript whitespace (String.prototype.trim's) at p, or 0. */
size_t jinja_space_at(const char *p, const char *end);
/* The bytes of JavaScript whitespace just before end (not before begin), or 0. */
size_t jinja_space_before(const char *begin, const char *end);

/* ---- tokens (lexer.c) ---- */

typedef enum {
  T_EOF, T_TEXT, T_COMMENT, T_OPEN_STMT, T_CLOSE_STMT, T_OPEN_EXPR, T_CLOSE_EXPR,
  T_INT, T_FLOAT, T_STRING, T_NAME,
  T_LPAREN, T_RPAREN, T_LBRACKET, T_RBRACKET, T_LBRACE, T_RBRACE,
  T_COMMA, T_DOT, T_COLON, T_PIPE, T_ASSIGN,
  T_EQ, T_NE, T_LT, T_LE, T_GT, T_GE,
  T_PLUS, T_MINUS, T_TILDE, T_STAR, T_POW, T_SLASH, T_FLOORDIV, T_PERCENT,
} jinja_token_type;

typedef struct {
  uint8_t type;
  uint8_t unary;   /* a + or - the lexer saw in an operand's place (never binary) */
  uint8_t keep;    /* {%+ : Python's lstrip_blocks exception (parsed, has no other effect) */
  uint32_t line;
  const char *text; /* TEXT, STRING (decoded), NAME, FLOAT, COMMENT */
  size_t length;
  int64_t integer; /* INT */
} jinja_token;

/* Tokens of `source` into `scratch`, ending with T_EOF. Returns 0, or -1 with a message. */
int jinja_lex(const char *source, size_t size, jinja_arena *scratch, jinja_token **tokens,
              size_t *count, char *error, size_t error_size);

/* ---- values ---- */

typedef enum {
  JV_MISSING, /* an argument not given: never a template's value */
  JV_UNDEFINED, JV_NONE, JV_BOOL, JV_INT, JV_STRING, JV_LIST, JV_DICT, JV_NAMESPACE, JV_LOOP,
} jinja_kind;

typedef struct jinja_dict jinja_dict;
typedef struct jinja_loop jinja_loop;

typedef struct jinja_value {
  uint32_t kind;
  size_t length; /* STRING bytes, LIST items */
  union {
    int64_t integer; /* BOOL, INT */
    const char *string;
    const struct jinja_value *items;
    jinja_dict *dict; /* DICT (never changed once built), NAMESPACE (changed by set) */
    const jinja_loop *loop;
  } as;
} jinja_value;

typedef struct {
  const char *key;
  size_t key_length;
  jinja_value value;
} jinja_entry;

struct jinja_dict {
  size_t count, capacity;
  jinja_entry *entries; /* in insertion order */
};

/* The `loop` of one iteration: its attributes are computed when read. */
struct jinja_loop {
  int64_t index0, length;
  const jinja_value *items;
};

static inline jinja_value jinja_undefined(void) {
  jinja_value v = {JV_UNDEFINED, 0, {0}};
  return v;
}
static inline jinja_value jinja_none(void) {
  jinja_value v = {JV_NONE, 0, {0}};
  return v;
}
static inline jinja_value jinja_bool(int b) {
  jinja_value v = {JV_BOOL, 0, {0}};
  v.as.integer = b != 0;
  return v;
}
static inline jinja_value jinja_int(int64_t i) {
  jinja_value v = {JV_INT, 0, {0}};
  v.as.integer = i;
  return v;
}
static inline jinja_value jinja_string(const char *s, size_t n) {
  jinja_value v = {JV_STRING, n, {0}};
  v.as.string = s;
  return v;
}
static inline jinja_value jinja_list(const jinja_value *items, size_t n) {
  jinja_value v = {JV_LIST, n, {0}};
  v.as.items = items;
  return v;
}

/* ---- syntax tree (parser.c, expression.c) ---- */

typedef enum {
  /* statements */
  N_TEXT, N_PRINT, N_IF, N_FOR, N_SET, N_BREAK, N_CONTINUE,
  /* expressions */
  E_CONST, E_NAME, E_LIST, E_DICT, E_PAIR, E_ATTR, E_INDEX, E_SLICE, E_UNARY, E_BINARY, E_AND,
  E_OR, E_TERNARY, E_FILTER, E_TEST, E_CALL, E_METHOD, E_KWARG,
} jinja_node_kind;

typedef enum {
  OP_NOT, OP_NEG, OP_POS,
  OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE, OP_IN, OP_NOT_IN,
  OP_ADD, OP_SUB, OP_CONCAT, OP_MUL, OP_FLOORDIV, OP_MOD, OP_POW,
} jinja_op;

/* The fields each kind uses:
 *   N_TEXT text | N_PRINT a | N_IF a cond, body, alt (else; with flag, the elif's N_IF) |
 *   N_FOR a target (E_NAME or tuple), b iterable, c its if, body, alt (else) |
 *   N_SET a target (E_NAME, tuple, or E_ATTR of a name), b value or body (a block set) |
 *   E_CONST value | E_NAME text | E_LIST, E_DICT body (items; E_PAIRs of a key, b value) |
 *   E_ATTR a, text | E_INDEX a, b | E_SLICE a, b c d (NULL: left out) | E_UNARY op, a |
 *   E_BINARY, E_AND, E_OR op, a, b | E_TERNARY a cond, b, c (NULL: undefined) |
 *   E_FILTER, E_TEST, E_METHOD a operand, index, body arguments (E_KWARG text, index, a) |
 *   E_CALL index, body arguments. */
typedef struct jinja_node jinja_node;
struct jinja_node {
  uint8_t kind, op;
  uint8_t flag;   /* TEST: negated; LIST: a tuple; IF: `alt` is an elif (an N_IF) */
  uint32_t line;
  uint32_t height;
  jinja_node *a, *b, *c, *d; /* operands */
  jinja_node *body, *alt;    /* statement lists (IF, FOR, SET); call arguments in `body` */
  jinja_node *next;          /* the next statement, item or argument */
  const char *text;          /* TEXT, NAME, ATTR, KWARG */
  size_t length;
  int64_t index; /* FILTER, TEST, CALL, METHOD: the builtin; KWARG: its parameter */
  jinja_value value; /* CONST */
};

struct tern_jinja {
  jinja_arena arena; /* owns this struct and the tree */
  jinja_node *body;
};

/* ---- builtins (filters.c): one table each for filters, tests, methods and functions ---- */

typedef struct jinja_render jinja_render;

/* Parameters, bound by position or name (parse time checks both); an absent one is JV_MISSING. */
enum { JINJA_MAX_PARAMS = 4 };
typedef int (*jinja_builtin_fn)(jinja_render *r, const jinja_node *node, const jinja_value *self,
                                const jinja_value *params, jinja_value *out);
typedef struct {
  const char *name;
  jinja_builtin_fn fn;
  uint8_t min_args;  /* required positional-or-named parameters */
  uint8_t max_positional;
  uint8_t any_keywords; /* namespace(k=v, ...) */
  const char *params[JINJA_MAX_PARAMS];
} jinja_builtin;

typedef enum { JINJA_FILTER, JINJA_TEST, JINJA_METHOD, JINJA_FUNCTION } jinja_table;

/* The index of `name` in a table, or -1. */
int jinja_builtin_find(jinja_table table, const char *name, size_t length);
const jinja_builtin *jinja_builtin_get(jinja_table table, int64_t index);
/* A test applied to `value`: 1, 0, or -1 with an error. */
int jinja_apply_test(jinja_render *r, const jinja_node *node, int64_t test,
                     const jinja_value *value, const jinja_value *argument);

/* ---- render state (render.c: statements, scopes, output) ---- */

typedef struct {
  char *data;
  size_t length, capacity;
} jinja_buffer;

typedef struct jinja_scope jinja_scope;
struct jinja_scope {
  jinja_scope *parent;
  jinja_dict variables;
};

struct jinja_render {
  jinja_arena arena;
  char *out;
  size_t capacity;
  uint64_t length;
  jinja_buffer *capture; /* a block set's text, else NULL: the output */
  char *error;
  size_t error_size;
  int failed;
  uint64_t work;
  jinja_scope *scope;
};

/* Records the first error as "line N: ..." and returns -1. */
int jinja_fail(jinja_render *r, uint32_t line, const char *format, ...)
    __attribute__((format(printf, 3, 4)));
void *jinja_alloc(jinja_render *r, uint32_t line, size_t size);
/* Charges `units` of work; -1 with an error past the limit. */
int jinja_charge(jinja_render *r, uint32_t line, uint64_t units);
int jinja_buffer_append(jinja_render *r, uint32_t line, jinja_buffer *b, const char *text,
                        size_t n);
/* A variable of the innermost scope that has it, or NULL. */
const jinja_value *jinja_lookup(const jinja_render *r, const char *name, size_t n);

/* ---- expressions (evaluate.c) ---- */

int jinja_eval(jinja_render *r, const jinja_node *e, jinja_value *out);
/* The byte offsets of a string's code points, and of its end (count + 1 of them). */
int jinja_code_points(jinja_render *r, uint32_t line, const jinja_value *s, size_t **offsets, size_t *count);

/* A copy of text in the arena (for a result built from pieces). */
int jinja_string_copy(jinja_render *r, uint32_t line, const char *text, size_t n,
                      jinja_value *out);

/* ---- values (value.c) ---- */

const char *jinja_kind_name(uint32_t kind); /* "an integer" */
int jinja_truthy(const jinja_value *v);
/* 1 equal, 0 not, -1 with an error (too deep). */
int jinja_equal(jinja_render *r, uint32_t line, const jinja_value *a, const jinja_value *b,
                int depth);
/* Looks up a key of a DICT, NAMESPACE or LOOP; NULL when absent. LOOP values go to *scratch. */
const jinja_value *jinja_dict_get(const jinja_dict *d, const char *key, size_t n);
int jinja_dict_set(jinja_render *r, uint32_t line, jinja_dict *d, const char *key, size_t n,
                   const jinja_value *value);
/* The loop's entries as a dict (for tojson, printing and methods). */
int jinja_loop_dict(jinja_render *r, uint32_t line, const jinja_loop *loop, jinja_dict **out);
/* A loop attribute; 0 with *out undefined for an unknown name. */
void jinja_loop_get(const jinja_loop *loop, const char *key, size_t n, jinja_value *out);

typedef struct {
  int64_t indent; /* <= 0: none */
  int ensure_ascii, sort_keys;
  const char *item_separator, *key_separator; /* NULL: the defaults */
  size_t item_separator_length, key_separator_length;
  int undefined_as_null; /* tojson: null; printing: undefined */
} jinja_json_options;
int jinja_json(jinja_render *r, uint32_t line, const jinja_value *v,
               const jinja_json_options *options, int depth, jinja_buffer *out);
/* The text a value prints as ({{ v }}, ~, the string filter): strings as they are, integers
 * in decimal, booleans true/false, containers as JSON; undefined "". none is an error. */
int jinja_to_text(jinja_render *r, uint32_t line, const jinja_value *v, jinja_value *out);

#endif
