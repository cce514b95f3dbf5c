/* format_error.c - a failure's message into the caller's buffer (format_error.h). */
#include "format_error.h"

#include <stdio.h>

int tern_vformat_error(char *buffer, size_t size, const char *format, va_list args) {
  if (buffer && size > 0)
    vsnprintf(buffer, size, format, args);
  return -1;
}

int tern_format_error(char *buffer, size_t size, const char *format, ...) {
  va_list args;
  va_start(args, format);
  tern_vformat_error(buffer, size, format, args);
  va_end(args);
  return -1;
}
