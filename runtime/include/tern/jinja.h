/* tern/jinja.h - a Jinja subset that renders Hugging Face chat templates (tokenizer_config.json's
 * chat_template) with the semantics of @huggingface/jinja, the engine transformers.js uses.
 *
 * Everything a template uses is checked when it is parsed: an unsupported statement, filter,
 * test, method or function is refused then, with the line it is on, so a template that parses
 * renders every conversation or fails with a message naming the line (a type error, or the
 * template's own raise_exception). Plain C11, no dependencies; all memory through the allocator. */
#ifndef TERN_JINJA_H
#define TERN_JINJA_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The same struct as tern/model.h's, under the same guard. */
#ifndef TERN_ALLOCATOR_DEFINED
#define TERN_ALLOCATOR_DEFINED
typedef struct tern_allocator {
  void *(*allocate)(void *user, size_t size, size_t alignment);
  void (*release)(void *user, void *pointer);
  void *user;
} tern_allocator;
#endif

/* A parsed template. Immutable: render may be called from several threads at once. */
typedef struct tern_jinja tern_jinja;

/* A message: its role and content (NULL: none). tern/model.h's tern_chat_message, under the
 * same guard. */
#ifndef TERN_CHAT_MESSAGE_DEFINED
#define TERN_CHAT_MESSAGE_DEFINED
typedef struct {
  const char *role;
  const char *content;
} tern_chat_message;
#endif
typedef tern_chat_message tern_jinja_message;

typedef enum { TERN_JINJA_BOOL, TERN_JINJA_INT, TERN_JINJA_STRING } tern_jinja_kind;

/* An extra variable, e.g. enable_thinking=false. A NULL string is none. */
typedef struct {
  const char *name;
  tern_jinja_kind kind;
  int64_t integer; /* BOOL and INT */
  const char *string;
} tern_jinja_variable;

typedef struct {
  const tern_jinja_message *messages;
  size_t n_messages;
  int add_generation_prompt;
  const char *bos_token, *eos_token; /* NULL: undefined in the template */
  const tern_jinja_variable *variables;
  size_t n_variables;
} tern_jinja_context;

/* Parses `size` bytes of template source. allocator NULL: malloc/free (the allocator is copied,
 * so it may be temporary). Returns 0 and the template in *out, or non-zero with a message
 * "line N: ..." in error (NULL or size 0: none). */
int tern_jinja_parse(const char *source, size_t size, const tern_allocator *allocator,
                     tern_jinja **out, char *error, size_t error_size);

/* Frees a template; NULL is ignored. */
void tern_jinja_free(tern_jinja *t);

/* Renders the template. Writes at most `capacity` bytes to out, and a NUL after them when there
 * is room (out may be NULL with capacity 0 to measure). Returns the full length, which may be
 * more than capacity, or -1 with a message "line N: ..." in error; raise_exception(msg) in the
 * template fails with "line N: the chat template raised: msg". */
int64_t tern_jinja_render(const tern_jinja *t, const tern_jinja_context *context, char *out,
                          size_t capacity, char *error, size_t error_size);

#ifdef __cplusplus
}
#endif

#endif
