/* halide_buffer.h - a halide_buffer_t over the caller's memory, for the wrappers that call
 * Halide pipelines (decoder_halide.c, gemm_i2_halide.c, gemm_lut_halide.c). */
#ifndef TERN_RUNTIME_KERNELS_HALIDE_BUFFER_H
#define TERN_RUNTIME_KERNELS_HALIDE_BUFFER_H

#include <HalideRuntime.h>

#include <stdint.h>
#include <string.h>

static inline void tern_init_halide_buffer(halide_buffer_t *b, const void *host,
                                           halide_type_code_t code, int bits, int dims,
                                           halide_dimension_t *dim) {
  memset(b, 0, sizeof *b);
  b->host = (uint8_t *)(uintptr_t)host; /* Halide buffers are not const-qualified */
  b->type.code = code, b->type.bits = (uint8_t)bits, b->type.lanes = 1;
  b->dimensions = dims, b->dim = dim;
}

#endif /* TERN_RUNTIME_KERNELS_HALIDE_BUFFER_H */
