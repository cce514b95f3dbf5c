/* kernel_calls.c - see kernel_calls.h. */
#include "kernel_calls.h"
#include "allocator.h"

#include <HalideRuntime.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* The call in progress: taken by one thread at a time. */
static pthread_mutex_t call_lock = PTHREAD_MUTEX_INITIALIZER;
static const tern_allocator *active;
/* The first error of the call (kernels may fail on several worker threads at once). */
static pthread_mutex_t error_lock = PTHREAD_MUTEX_INITIALIZER;
static char first_error[256];

/* Halide wants its buffers aligned for vector loads and readable 8 bytes before and after: a
 * 64-byte header (which records the allocator, for the free) and 64 bytes of slack. */
enum { kHeader = 64, kSlack = 64 };

static void *kernel_allocate(void *user_context, size_t size) {
  (void)user_context;
  const tern_allocator *a = active;
  uint8_t *base = tern_allocate(a, size + kHeader + kSlack, 64);
  if (!base)
    return NULL;
  *(const tern_allocator **)base = a;
  return base + kHeader;
}

static void kernel_release(void *user_context, void *pointer) {
  (void)user_context;
  if (!pointer)
    return;
  uint8_t *base = (uint8_t *)pointer - kHeader;
  tern_release(*(const tern_allocator **)base, base);
}

static void kernel_error(void *user_context, const char *message) {
  (void)user_context;
  pthread_mutex_lock(&error_lock);
  if (!first_error[0]) {
    /* Halide's messages start with "Error: " and may end with a newline. */
    if (!strncmp(message, "Error: ", 7))
      message += 7;
    snprintf(first_error, sizeof first_error, "%s", message);
    size_t n = strlen(first_error);
    if (n > 0 && first_error[n - 1] == '\n')
      first_error[n - 1] = 0;
  }
  pthread_mutex_unlock(&error_lock);
}

void tern_kernel_calls_install(void) {
  static atomic_bool installed;
  if (!atomic_exchange(&installed, true)) {
    halide_set_custom_malloc(kernel_allocate);
    halide_set_custom_free(kernel_release);
    halide_set_error_handler(kernel_error);
  }
}

void tern_kernel_calls_begin(const tern_allocator *allocator) {
  pthread_mutex_lock(&call_lock);
  active = allocator;
  first_error[0] = 0;
}

void tern_kernel_calls_end(char *message, size_t size) {
  pthread_mutex_lock(&error_lock);
  snprintf(message, size, "%s", first_error);
  pthread_mutex_unlock(&error_lock);
  active = NULL;
  pthread_mutex_unlock(&call_lock);
}
