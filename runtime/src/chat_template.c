/* chat_template.c - a compiled model's chat template (chat_template.h).
 *
 * ternc stores the checkpoint's Jinja chat template as its source, with the bos_token and
 * eos_token texts of tokenizer_config.json (or GGUF's ids), and checked that tern/jinja.h
 * parses it; here it is parsed again once per model and rendered per request, as transformers'
 * apply_chat_template renders it. */
#include "chat_template.h"
#include "allocator.h"
#include "format_error.h"

#include <string.h>

struct tern_chat {
  tern_allocator allocator;
  tern_jinja *parsed;
  char *source, *bos, *eos; /* NUL-terminated copies; bos and eos NULL when undefined */
};

/* A NUL-terminated copy of the blob's U8 tensor `name`, or NULL (absent, or out of memory:
 * *failed set). */
static char *copy_text(const tern_blob *blob, const tern_allocator *a, const char *name,
                       int *failed) {
  const tern_blob_entry *e = tern_blob_find(blob, name);
  if (!e)
    return NULL;
  char *text = tern_allocate(a, e->size + 1, 1);
  if (!text) {
    *failed = 1;
    return NULL;
  }
  memcpy(text, blob->data + e->offset, e->size);
  text[e->size] = 0;
  return text;
}

void tern_chat_free(tern_chat *chat) {
  if (!chat)
    return;
  tern_allocator a = chat->allocator;
  tern_jinja_free(chat->parsed);
  tern_release(&a, chat->source);
  tern_release(&a, chat->bos);
  tern_release(&a, chat->eos);
  tern_release(&a, chat);
}

int tern_chat_open(const tern_blob *blob, const tern_allocator *allocator, tern_chat **out,
                   char *error, size_t error_size) {
  *out = NULL;
  const tern_blob_entry *e = tern_blob_find(blob, "tokenizer.chat_template");
  if (!e)
    return 0;
  allocator = tern_allocator_or_default(allocator);
  tern_chat *chat = tern_allocate_zeroed(allocator, sizeof *chat, 0);
  if (!chat)
    return tern_format_error(error, error_size, "out of memory for the chat template");
  chat->allocator = *allocator;
  int failed = 0;
  chat->source = copy_text(blob, allocator, "tokenizer.chat_template", &failed);
  chat->bos = copy_text(blob, allocator, "tokenizer.chat_bos_token", &failed);
  chat->eos = copy_text(blob, allocator, "tokenizer.chat_eos_token", &failed);
  if (failed) {
    tern_chat_free(chat);
    return tern_format_error(error, error_size, "out of memory for the chat template");
  }
  char message[384];
  if (tern_jinja_parse(chat->source, e->size, allocator, &chat->parsed, message,
                       sizeof message) != 0) {
    tern_chat_free(chat);
    return tern_format_error(error, error_size, "tokenizer.chat_template: %s", message);
  }
  *out = chat;
  return 0;
}

const char *tern_chat_source(const tern_chat *chat) { return chat->source; }

int64_t tern_chat_render(const tern_chat *chat, tern_jinja_context context, char *out,
                         size_t capacity, char *error, size_t error_size) {
  context.bos_token = chat->bos;
  context.eos_token = chat->eos;
  return tern_jinja_render(chat->parsed, &context, out, capacity, error, error_size);
}
