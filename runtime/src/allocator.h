/* allocator.h - the runtime's allocations, through the tern_allocator a model was opened with
 * (tern/model.h), or the C library's. */
#ifndef TERN_RUNTIME_ALLOCATOR_H
#define TERN_RUNTIME_ALLOCATOR_H

#include "tern/model.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* `a`, or the C library's allocator when `a` is NULL. */
const tern_allocator *tern_allocator_or_default(const tern_allocator *a);

/* Non-zero when `a` is (a copy of) the C library's allocator. */
int tern_allocator_is_libc(const tern_allocator *a);

/* `size` bytes (at least 1) aligned to `alignment` (a power of two <= 64; 0 means 16), or NULL.
 * The zeroed form clears them. */
void *tern_allocate(const tern_allocator *a, size_t size, size_t alignment);
void *tern_allocate_zeroed(const tern_allocator *a, size_t size, size_t alignment);
/* Frees what tern_allocate returned; NULL is ignored. */
void tern_release(const tern_allocator *a, void *pointer);

#ifdef __cplusplus
}
#endif

#endif
