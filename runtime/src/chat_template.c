/* chat_template.c - rendering messages in the model's chat format (tern/model.h).
 *
 * The format is recognized by ternc from tokenizer_config.json's chat_template and stored in
 * the weights (tokenizer.chat); the runtime implements each recognized format here, so no Jinja
 * runs at run time. Llama 3's header format renders, as its template does (without the
 * {{ bos_token }} it starts with, which tokenizing with add_bos supplies):
 *   <|start_header_id|>{role}<|end_header_id|>\n\n{content | trim}<|eot_id|>   per message
 *   <|start_header_id|>assistant<|end_header_id|>\n\n                          generation prompt */
#include "tern/model.h"
#include "format_error.h"

#include <ctype.h>
#include <string.h>

/* Appends n bytes to out[capacity] at *size, counting what does not fit. */
static void put(char *out, size_t capacity, size_t *size, const char *text, size_t n) {
  if (*size < capacity)
    memcpy(out + *size, text, n < capacity - *size ? n : capacity - *size);
  *size += n;
}

static void put_header(char *out, size_t capacity, size_t *size, const char *role) {
  static const char kStart[] = "<|start_header_id|>", kEnd[] = "<|end_header_id|>\n\n";
  put(out, capacity, size, kStart, sizeof kStart - 1);
  put(out, capacity, size, role, strlen(role));
  put(out, capacity, size, kEnd, sizeof kEnd - 1);
}

int64_t tern_model_apply_chat_template(tern_model *model, const tern_chat_message *messages,
                                       size_t n, int add_generation_prompt, char *out,
                                       size_t capacity, char *error, size_t error_size) {
  const char *format = tern_model_chat_format(model);
  if (!format || strcmp(format, "llama3-header") != 0)
    return tern_format_error(error, error_size,
                             "this model has %s%s%s chat template tern implements (Llama 3's "
                             "header format in tokenizer_config.json's chat_template)",
                             format ? "the chat format '" : "no", format ? format : "",
                             format ? "', not a" : "");
  size_t size = 0;
  for (size_t i = 0; i < n; ++i) {
    const char *role = messages[i].role, *text = messages[i].content;
    if (!role || !text || !*role)
      return tern_format_error(error, error_size, "message %zu has no %s", i,
                               role && *role ? "content" : "role");
    size_t begin = 0, end = strlen(text);
    while (begin < end && isspace((unsigned char)text[begin]))
      ++begin;
    while (end > begin && isspace((unsigned char)text[end - 1]))
      --end;
    put_header(out, capacity, &size, role);
    put(out, capacity, &size, text + begin, end - begin);
    put(out, capacity, &size, "<|eot_id|>", 10);
  }
  if (add_generation_prompt)
    put_header(out, capacity, &size, "assistant");
  if (size < capacity)
    out[size] = 0;
  return (int64_t)size;
}
