/* lexer.c - template source to tokens, as @huggingface/jinja's tokenize does it with
 * lstrip_blocks and trim_blocks (the options transformers compiles chat templates with).
 *
 * Like @huggingface/jinja, whitespace control is mostly a rewrite of the source text before
 * tokenizing, so its quirks are kept: the rewrite also applies inside tags, `{-` counts as a tag
 * start for lstrip_blocks and `-}` as a tag end for trim_blocks, and a single trailing "\n" of
 * the source (not "\r\n": Python's Jinja drops either) is dropped. Python's Jinja also turns
 * "\r\n" into "\n" in the output; @huggingface/jinja, and so tern, keeps the bytes. Every byte
 * keeps the line it had in the source, for messages. */
#include "jinja_internal.h"

#include <stdio.h>
#include <string.h>

typedef struct {
  char *text;
  uint32_t *lines;
  size_t size;
} source;

static int fail(char *error, size_t size, uint32_t line, const char *format, const char *what) {
  if (error && size) {
    char message[160];
    snprintf(message, sizeof message, format, what);
    snprintf(error, size, "line %u: %s", (unsigned)line, message);
  }
  return -1;
}

/* strchr, but NUL is in no set. */
static int one_of(char c, const char *set) { return c && strchr(set, c); }

static int reserve(jinja_arena *a, source *s, size_t size) {
  s->text = jinja_arena_alloc(a, size + 1);
  s->lines = jinja_arena_alloc(a, (size + 1) * sizeof *s->lines);
  s->size = 0;
  return s->text && s->lines ? 0 : -1;
}

static void push(source *s, const source *from, size_t i) {
  s->text[s->size] = from->text[i];
  s->lines[s->size++] = from->lines[i];
}

static int line_start(const source *s, size_t i) {
  if (i == 0)
    return 1;
  unsigned char c = (unsigned char)s->text[i - 1];
  if (c == '\n' || c == '\r')
    return 1;
  /* JavaScript's ^ also starts a line after U+2028 and U+2029. */
  return i >= 3 && (unsigned char)s->text[i - 3] == 0xe2 && (unsigned char)s->text[i - 2] == 0x80 &&
         (c == 0xa8 || c == 0xa9);
}

/* lstrip_blocks: /^[ \t]*({[#%-])/gm -> "$1", except before Python's {%+ (which keeps them). */
static int lstrip_blocks(jinja_arena *a, const source *in, source *out) {
  if (reserve(a, out, in->size))
    return -1;
  for (size_t i = 0; i < in->size;) {
    if (line_start(in, i)) {
      size_t j = i;
      while (j < in->size && (in->text[j] == ' ' || in->text[j] == '\t'))
        ++j;
      if (j + 1 < in->size && in->text[j] == '{' && one_of(in->text[j + 1], "#%-") &&
          !(in->text[j + 1] == '%' && j + 2 < in->size && in->text[j + 2] == '+'))
        i = j; /* drop the blanks */
    }
    push(out, in, i++);
  }
  return 0;
}

/* trim_blocks: /([#%-]})\n/g -> "$1". */
static int trim_blocks(jinja_arena *a, const source *in, source *out) {
  if (reserve(a, out, in->size))
    return -1;
  for (size_t i = 0; i < in->size; ++i) {
    push(out, in, i);
    if (i + 2 < in->size && one_of(in->text[i], "#%-") && in->text[i + 1] == '}' && in->text[i + 2] == '\n') {
      push(out, in, ++i);
      ++i; /* the newline */
    }
  }
  return 0;
}

static size_t skip_space(const source *s, size_t i) {
  size_t n;
  while ((n = jinja_space_at(s->text + i, s->text + s->size)) > 0)
    i += n;
  return i;
}

/* transformers' {% generation %} and {% endgeneration %} (which mark the assistant's text for
 * training) render nothing: /{%(-?)\s*(?:end)?generation\s*(-?)%}(\s*)/gs, with the -'s
 * stripping whitespace as they would. Returns the end of a tag at i, or 0. */
static size_t generation_tag(const source *s, size_t i, int *strip_before, int *strip_after) {
  const char *t = s->text;
  size_t n = s->size;
  if (i + 1 >= n || t[i] != '{' || t[i + 1] != '%')
    return 0;
  i += 2;
  *strip_before = i < n && t[i] == '-';
  i = skip_space(s, i + (size_t)*strip_before);
  if (n - i >= 3 && memcmp(t + i, "end", 3) == 0)
    i += 3;
  if (n - i < 10 || memcmp(t + i, "generation", 10) != 0)
    return 0;
  i = skip_space(s, i + 10);
  *strip_after = i < n && t[i] == '-';
  i += (size_t)*strip_after;
  if (i + 1 >= n || t[i] != '%' || t[i + 1] != '}')
    return 0;
  return i + 2;
}

static int remove_generation(jinja_arena *a, const source *in, source *out) {
  if (reserve(a, out, in->size))
    return -1;
  size_t last = 0;
  for (size_t i = 0; i < in->size; ++i) {
    int before, after;
    size_t end = generation_tag(in, i, &before, &after);
    if (!end)
      continue;
    size_t keep = i, n;
    while (before && keep > last && (n = jinja_space_before(in->text + last, in->text + keep)) > 0)
      keep -= n;
    for (size_t k = last; k < keep; ++k)
      push(out, in, k);
    size_t rest = skip_space(in, end);
    if (!after)
      for (size_t k = end; k < rest; ++k)
        push(out, in, k);
    last = rest;
    i = rest - 1;
  }
  for (size_t k = last; k < in->size; ++k)
    push(out, in, k);
  return 0;
}

typedef struct {
  jinja_arena *arena;
  jinja_token *tokens;
  size_t count, capacity;
} token_list;

static jinja_token *add(token_list *l, uint8_t type, uint32_t line) {
  if (l->count == l->capacity) {
    size_t capacity = l->capacity ? l->capacity * 2 : 256;
    jinja_token *tokens = jinja_arena_alloc(l->arena, capacity * sizeof *tokens);
    if (!tokens)
      return NULL;
    if (l->count)
      memcpy(tokens, l->tokens, l->count * sizeof *tokens);
    l->tokens = tokens;
    l->capacity = capacity;
  }
  jinja_token *t = &l->tokens[l->count++];
  memset(t, 0, sizeof *t);
  t->type = type;
  t->line = line;
  return t;
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }
static int is_word(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '_';
}
static int hex_value(char c) {
  return is_digit(c)            ? c - '0'
         : c >= 'a' && c <= 'f' ? c - 'a' + 10
         : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                : -1;
}

/* A string literal's value after its escapes (those of @huggingface/jinja: \n \t \r \b \f \v
 * \' \" \\ \xHH \uHHHH; any other is an error, where Python would keep the backslash). */
static int string_literal(token_list *l, const source *s, size_t *pos, jinja_token *t, char *error,
                          size_t error_size) {
  char quote = s->text[*pos];
  size_t i = *pos + 1, n = 0, close = i;
  /* Its source ends at the first unescaped quote (or the template's end: an error below); the
   * value is never longer than that source. */
  while (close < s->size && s->text[close] != quote)
    close += s->text[close] == '\\' ? 2 : 1;
  char *value = jinja_arena_alloc(l->arena, (close < s->size ? close : s->size) - i + 1);
  if (!value)
    return fail(error, error_size, t->line, "%s", "out of memory for the template");
  uint32_t pending_high = 0; /* a \uD8xx waiting for its low half */
  for (;;) {
    if (i >= s->size)
      return fail(error, error_size, t->line, "%s", "unterminated string literal");
    char c = s->text[i];
    if (c == quote)
      break;
    if (c != '\\') {
      if (pending_high) {
        n += jinja_utf8_encode(0xfffd, value + n);
        pending_high = 0;
      }
      value[n++] = c;
      ++i;
      continue;
    }
    if (++i >= s->size)
      return fail(error, error_size, t->line, "%s", "unterminated string literal");
    char e = s->text[i++];
    uint32_t code;
    if (e == 'x' || e == 'u') {
      size_t digits = e == 'x' ? 2 : 4;
      code = 0;
      for (size_t k = 0; k < digits; ++k) {
        int h = i + k < s->size ? hex_value(s->text[i + k]) : -1;
        if (h < 0)
          return fail(error, error_size, s->lines[i - 1], "invalid \\%s escape in a string literal",
                      e == 'x' ? "x" : "u");
        code = code * 16 + (uint32_t)h;
      }
      i += digits;
    } else {
      const char *from = "ntrbfv'\"\\", *to = "\n\t\r\b\f\v'\"\\";
      const char *hit = strchr(from, e);
      if (!hit || !e) {
        char what[2] = {e, 0};
        return fail(error, error_size, s->lines[i - 1], "unknown escape '\\%s' in a string literal", what);
      }
      code = (unsigned char)to[hit - from];
    }
    /* JavaScript strings are UTF-16: \uD83D\uDE00 is one character, a lone half is U+FFFD. */
    if (pending_high && code >= 0xdc00 && code <= 0xdfff) {
      code = 0x10000 + ((pending_high - 0xd800) << 10) + (code - 0xdc00);
      pending_high = 0;
    } else if (pending_high) {
      n += jinja_utf8_encode(0xfffd, value + n);
      pending_high = 0;
    }
    if (code >= 0xd800 && code <= 0xdbff) {
      pending_high = code;
      continue;
    }
    if (code >= 0xdc00 && code <= 0xdfff)
      code = 0xfffd;
    n += jinja_utf8_encode(code, value + n);
  }
  if (pending_high)
    n += jinja_utf8_encode(0xfffd, value + n);
  t->text = value;
  t->length = n;
  *pos = i + 1;
  return 0;
}

/* Digits (after an optional sign the caller consumed) to an integer, or a float token. */
static int number(const source *s, size_t *pos, int negative, int after_dot, jinja_token *t, char *error,
                  size_t error_size) {
  size_t begin = *pos, i = begin;
  uint64_t value = 0, limit = negative ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
  int overflow = 0;
  while (i < s->size && is_digit(s->text[i])) {
    unsigned d = (unsigned)(s->text[i++] - '0');
    if (value > (limit - d) / 10)
      overflow = 1;
    else
      value = value * 10 + d;
  }
  if (!after_dot && i + 1 < s->size && s->text[i] == '.' && is_digit(s->text[i + 1])) {
    ++i;
    while (i < s->size && is_digit(s->text[i]))
      ++i;
    t->type = T_FLOAT;
    t->text = s->text + begin - (negative ? 1 : 0);
    t->length = i - begin + (negative ? 1 : 0);
    *pos = i;
    return 0;
  }
  if (overflow)
    return fail(error, error_size, t->line, "%s", "integer literal out of range");
  t->type = T_INT;
  t->integer = negative ? (int64_t)(0 - value) : (int64_t)value;
  *pos = i;
  return 0;
}

static const struct {
  const char *text;
  uint8_t type;
} kSymbols[] = {
    {"{%", T_OPEN_STMT}, {"%}", T_CLOSE_STMT}, {"{{", T_OPEN_EXPR}, {"}}", T_CLOSE_EXPR}, {"(", T_LPAREN},
    {")", T_RPAREN},     {"{", T_LBRACE},      {"}", T_RBRACE},     {"[", T_LBRACKET},    {"]", T_RBRACKET},
    {",", T_COMMA},      {".", T_DOT},         {":", T_COLON},      {"|", T_PIPE},        {"<=", T_LE},
    {">=", T_GE},        {"==", T_EQ},         {"!=", T_NE},        {"<", T_LT},          {">", T_GT},
    {"+", T_PLUS},       {"-", T_MINUS},       {"~", T_TILDE},      {"**", T_POW},        {"*", T_STAR},
    {"//", T_FLOORDIV},  {"/", T_SLASH},       {"%", T_PERCENT},    {"=", T_ASSIGN},
};

/* {%- and {{- strip the text before them; a text left empty is dropped. */
static void strip_trailing(token_list *l) {
  if (l->count == 0 || l->tokens[l->count - 1].type != T_TEXT)
    return;
  jinja_token *t = &l->tokens[l->count - 1];
  size_t n;
  while ((n = jinja_space_before(t->text, t->text + t->length)) > 0)
    t->length -= n;
  if (t->length == 0)
    --l->count;
}

static int tokenize(token_list *l, const source *s, char *error, size_t error_size) {
  const char *text = s->text;
  size_t size = s->size, pos = 0;
  int curly = 0; /* braces open in an expression: }} there closes a dict, not the tag */
#define LINE (pos < size ? s->lines[pos] : size ? s->lines[size - 1] : 1)
#define ADD(type)                                                                                            \
  if (!(t = add(l, (type), LINE)))                                                                           \
  return fail(error, error_size, LINE, "%s", "out of memory for the template")
  while (pos < size) {
    jinja_token *t;
    uint8_t last = l->count ? l->tokens[l->count - 1].type : T_EOF;
    if (last == T_EOF || last == T_CLOSE_STMT || last == T_CLOSE_EXPR || last == T_COMMENT) {
      size_t end = pos;
      while (end < size && !(text[end] == '{' && end + 1 < size && one_of(text[end + 1], "%{#")))
        ++end;
      if (end > pos) {
        ADD(T_TEXT);
        t->text = text + pos;
        t->length = end - pos;
        pos = end;
        continue;
      }
    }
    if (text[pos] == '{' && pos + 1 < size) {
      char next = text[pos + 1];
      if (next == '#') {
        uint32_t line = s->lines[pos];
        size_t begin = pos + 2;
        int strip_before = begin < size && text[begin] == '-';
        begin += (size_t)strip_before;
        size_t end = begin;
        while (end + 1 < size && !(text[end] == '#' && text[end + 1] == '}'))
          ++end;
        if (end + 1 >= size)
          return fail(error, error_size, line, "%s", "unclosed comment (no '#}')");
        int strip_after = end > begin && text[end - 1] == '-';
        if (strip_before)
          strip_trailing(l);
        ADD(T_COMMENT);
        t->line = line;
        pos = end + 2;
        if (strip_after)
          pos = skip_space(s, pos);
        continue;
      }
      if (pos + 2 < size && text[pos + 2] == '-' && (next == '%' || next == '{')) {
        strip_trailing(l);
        ADD(next == '%' ? T_OPEN_STMT : T_OPEN_EXPR);
        if (next == '{')
          curly = 0;
        pos += 3;
        continue;
      }
    }
    pos = skip_space(s, pos);
    if (pos >= size)
      break; /* inside a tag: the parser names what is missing */
    char c = text[pos];
    if (c == '-' && pos + 2 < size && text[pos + 2] == '}' &&
        (text[pos + 1] == '%' || text[pos + 1] == '}')) {
      ADD(text[pos + 1] == '%' ? T_CLOSE_STMT : T_CLOSE_EXPR);
      pos = skip_space(s, pos + 3);
      continue;
    }
    if (c == '-' || c == '+') {
      if (last == T_TEXT || last == T_EOF) {
        char what[2] = {c, 0};
        return fail(error, error_size, LINE, "unexpected '%s'", what);
      }
      /* After an operand it is binary; elsewhere a sign, folded into a number that follows. */
      if (last != T_NAME && last != T_INT && last != T_FLOAT && last != T_STRING && last != T_RPAREN &&
          last != T_RBRACKET) {
        ADD(c == '-' ? T_MINUS : T_PLUS);
        t->unary = 1;
        ++pos;
        if (pos < size && is_digit(text[pos]) && number(s, &pos, c == '-', 0, t, error, error_size))
          return -1;
        continue;
      }
    }
    int matched = 0;
    for (size_t k = 0; k < sizeof kSymbols / sizeof kSymbols[0]; ++k) {
      size_t n = strlen(kSymbols[k].text);
      if (kSymbols[k].type == T_CLOSE_EXPR && curly > 0)
        continue;
      if (size - pos >= n && memcmp(text + pos, kSymbols[k].text, n) == 0) {
        ADD(kSymbols[k].type);
        pos += n;
        if (t->type == T_OPEN_EXPR)
          curly = 0;
        else if (t->type == T_LBRACE)
          ++curly;
        else if (t->type == T_RBRACE)
          --curly;
        else if (t->type == T_OPEN_STMT && pos < size && text[pos] == '+') {
          t->keep = 1; /* Python's {%+; @huggingface/jinja has no such tag */
          ++pos;
        }
        matched = 1;
        break;
      }
    }
    if (matched)
      continue;
    if (c == '\'' || c == '"') {
      ADD(T_STRING);
      if (string_literal(l, s, &pos, t, error, error_size))
        return -1;
      continue;
    }
    if (is_digit(c)) {
      ADD(T_INT);
      if (number(s, &pos, 0, last == T_DOT, t, error, error_size))
        return -1;
      continue;
    }
    if (is_word(c)) {
      ADD(T_NAME);
      t->text = text + pos;
      while (pos < size && is_word(text[pos]))
        ++pos;
      t->length = (size_t)(text + pos - t->text);
      continue;
    }
    char what[8] = {0};
    memcpy(what, text + pos, jinja_utf8_next(text + pos, text + size));
    return fail(error, error_size, LINE, "unexpected character '%s'", what);
  }
  jinja_token *t;
  ADD(T_EOF);
  t->line = size ? s->lines[size - 1] : 1;
  return 0;
#undef ADD
#undef LINE
}

int jinja_lex(const char *text, size_t size, jinja_arena *scratch, jinja_token **tokens, size_t *count,
              char *error, size_t error_size) {
  source original;
  if (size && text[size - 1] == '\n')
    --size;
  if (reserve(scratch, &original, size))
    return fail(error, error_size, 1, "%s", "out of memory for the template");
  uint32_t line = 1;
  for (size_t i = 0; i < size; ++i) {
    original.text[i] = text[i];
    original.lines[i] = line;
    line += text[i] == '\n';
  }
  original.size = size;
  source stripped, trimmed, final;
  if (lstrip_blocks(scratch, &original, &stripped) || trim_blocks(scratch, &stripped, &trimmed) ||
      remove_generation(scratch, &trimmed, &final))
    return fail(error, error_size, 1, "%s", "out of memory for the template");
  token_list l = {scratch, NULL, 0, 0};
  if (tokenize(&l, &final, error, error_size))
    return -1;
  *tokens = l.tokens;
  *count = l.count;
  return 0;
}
