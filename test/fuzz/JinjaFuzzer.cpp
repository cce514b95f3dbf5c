//===- JinjaFuzzer.cpp - chat templates (tern/jinja.h) on arbitrary bytes ---------------------===//
//
// Any input either fails to parse with a message "line N: ...", or parses and renders a fixed
// three-message conversation, or fails to render with such a message. A render into a small
// buffer, one into a buffer of the exact size and a measuring render (no buffer) agree on the
// length and the bytes, and the output is NUL-terminated where there is room. Crashes, hangs,
// leaks (LeakSanitizer) and overflows are the bugs this finds.
//
//===------------------------------------------------------------------------------------------===//
#include "tern/jinja.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

static void check(bool ok, const char *what, const char *error) {
  if (!ok) {
    std::fprintf(stderr, "jinja fuzzer: %s (%s)\n", what, error);
    std::abort();
  }
}

static bool hasLine(const char *error) { return std::strncmp(error, "line ", 5) == 0; }

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char error[256] = {0};
  tern_jinja *t = nullptr;
  if (tern_jinja_parse(reinterpret_cast<const char *>(data), size, nullptr, &t, error, sizeof error) != 0) {
    check(t == nullptr, "a failed parse returned a template", error);
    check(hasLine(error), "a parse error without a line", error);
    return 0;
  }
  static const tern_jinja_message messages[] = {
      {"system", "You are a helpful assistant."},
      {"user", "Hello! <think>\n\"quoted\" \\ h\xc3\xa9llo \xf0\x9f\x98\x80\n</think>\n\n  text  "},
      {"assistant", nullptr},
  };
  tern_jinja_variable variables[2] = {};
  variables[0].name = "enable_thinking";
  variables[0].kind = TERN_JINJA_BOOL;
  variables[1].name = "date_string";
  variables[1].kind = TERN_JINJA_STRING;
  variables[1].string = "1 Jan 2025";
  tern_jinja_context context = {};
  context.messages = messages;
  context.n_messages = 3;
  context.add_generation_prompt = size & 1;
  context.bos_token = "<s>";
  context.eos_token = "</s>";
  context.variables = variables;
  context.n_variables = 2;

  char small[16];
  int64_t n = tern_jinja_render(t, &context, small, sizeof small, error, sizeof error);
  char measureError[256] = {0};
  int64_t measured = tern_jinja_render(t, &context, nullptr, 0, measureError, sizeof measureError);
  check(measured == n, "measuring gave another length", error);
  if (n < 0) {
    check(hasLine(error), "a render error without a line", error);
    check(std::strcmp(error, measureError) == 0, "measuring gave another error", measureError);
  } else {
    std::vector<char> full(static_cast<size_t>(n) + 1, 'x');
    int64_t m = tern_jinja_render(t, &context, full.data(), full.size(), error, sizeof error);
    check(m == n, "a sized render gave another length", error);
    check(full[static_cast<size_t>(n)] == 0, "no NUL after the output", "");
    size_t shown = n < static_cast<int64_t>(sizeof small) ? static_cast<size_t>(n) : sizeof small;
    check(std::memcmp(small, full.data(), shown) == 0, "the truncated output differs", "");
    if (n < static_cast<int64_t>(sizeof small))
      check(small[n] == 0, "no NUL after a short output", "");
  }
  tern_jinja_free(t);
  return 0;
}
