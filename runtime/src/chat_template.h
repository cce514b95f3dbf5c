/* chat_template.h - a compiled model's chat template (tokenizer.chat_template in the weights),
 * parsed once when the model opens and rendered with tern/jinja.h. Internal to the runtime. */
#ifndef TERN_RUNTIME_CHAT_TEMPLATE_H
#define TERN_RUNTIME_CHAT_TEMPLATE_H

#include "tern/jinja.h"
#include "tern/weight_blob.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct tern_chat tern_chat;

/* The blob's template, or *out NULL when it has none (allocator NULL: the C library's).
 * Non-zero with a message when the template does not parse (ternc checked it, so only a blob
 * from elsewhere gets here). */
int tern_chat_open(const tern_blob *blob, const tern_allocator *allocator, tern_chat **out,
                   char *error, size_t error_size);
void tern_chat_free(tern_chat *chat);

/* The template's Jinja source, NUL-terminated. */
const char *tern_chat_source(const tern_chat *chat);

/* Renders `context` with the model's bos_token and eos_token filled in. */
int64_t tern_chat_render(const tern_chat *chat, tern_jinja_context context, char *out,
                         size_t capacity, char *error, size_t error_size);

#ifdef __cplusplus
}
#endif

#endif
