/* kernel_calls.h - what a forward call's Halide kernels get from the runtime: their scratch
 * buffers (halide_malloc) from the allocator of the model being run, and their errors recorded
 * for the call's message instead of printed (Halide's default prints and aborts). */
#ifndef TERN_RUNTIME_KERNEL_CALLS_H
#define TERN_RUNTIME_KERNEL_CALLS_H

#include "tern/model.h"

#include <stddef.h>

/* Installs the hooks in Halide's runtime (idempotent). */
void tern_kernel_calls_install(void);

/* A forward call brackets itself with these. Until _end, kernels allocate from `allocator`;
 * Halide allocates on whichever thread runs a task, so the allocator is process-wide for the
 * call, and forward calls of different threads take turns (they share one thread pool anyway).
 * _end copies the first error a kernel reported ("" if none) into message. */
void tern_kernel_calls_begin(const tern_allocator *allocator);
void tern_kernel_calls_end(char *message, size_t size);

#endif
