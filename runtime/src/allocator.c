/* allocator.c - the C library's allocator as a tern_allocator, and the runtime's helpers. */
#include "allocator.h"

#include <stdlib.h>
#include <string.h>

static void *libc_allocate(void *user, size_t size, size_t alignment) {
  (void)user;
  /* aligned_alloc wants a multiple of the alignment. */
  size_t rounded = (size + alignment - 1) & ~(alignment - 1);
  return aligned_alloc(alignment, rounded);
}

static void libc_release(void *user, void *pointer) {
  (void)user;
  free(pointer);
}

static const tern_allocator kLibc = {libc_allocate, libc_release, NULL};

const tern_allocator *tern_allocator_or_default(const tern_allocator *a) {
  return a && a->allocate && a->release ? a : &kLibc;
}

int tern_allocator_is_libc(const tern_allocator *a) {
  /* By function, not by address: a model keeps its own copy of the allocator it was given. */
  return tern_allocator_or_default(a)->allocate == libc_allocate;
}

void *tern_allocate(const tern_allocator *a, size_t size, size_t alignment) {
  a = tern_allocator_or_default(a);
  return a->allocate(a->user, size ? size : 1, alignment ? alignment : 16);
}

void *tern_allocate_zeroed(const tern_allocator *a, size_t size, size_t alignment) {
  /* calloc's large blocks are fresh zero pages, touched only when used (a KV cache). */
  if (tern_allocator_is_libc(a) && alignment <= 16)
    return calloc(1, size ? size : 1);
  void *p = tern_allocate(a, size, alignment);
  if (p)
    memset(p, 0, size);
  return p;
}

void tern_release(const tern_allocator *a, void *pointer) {
  if (pointer) {
    a = tern_allocator_or_default(a);
    a->release(a->user, pointer);
  }
}
