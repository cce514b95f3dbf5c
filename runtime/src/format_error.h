/* format_error.h - the runtime's one way to report a failure: a message, printf-style, into the
 * caller's buffer (NULL or size 0: none), and -1 as the status. Internal to the runtime. */
#ifndef TERN_RUNTIME_FORMAT_ERROR_H
#define TERN_RUNTIME_FORMAT_ERROR_H

#include <stdarg.h>
#include <stddef.h>

int tern_format_error(char *buffer, size_t size, const char *format, ...)
    __attribute__((format(printf, 3, 4)));
int tern_vformat_error(char *buffer, size_t size, const char *format, va_list args);

#endif
