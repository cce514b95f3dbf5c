//===- DequantizeBlocks.h - ggml's other block types, dequantized as llama.cpp does -*- C++ -*-===//
//
// An embedding or head table in a type tern has no kernel for (Q4_1, Q5_0, Q5_1, Q4_K, Q5_K;
// llama-quantize gives TQ1_0 / TQ2_0 models a Q4_K token_embd) is converted exactly: into the
// float32 values llama.cpp's dequantize_row_* compute, in the same operations and order, so the
// numbers are the ones the file means and no second rounding is added.
//
//===------------------------------------------------------------------------------------------===//
#ifndef TERN_FRONTENDS_GGUF_DEQUANTIZEBLOCKS_H
#define TERN_FRONTENDS_GGUF_DEQUANTIZEBLOCKS_H

#include "frontends/gguf/GgmlType.h"

#include <cstdint>

namespace tern::gguf {

/// Whether dequantize() reads `type`.
bool canDequantize(GgmlType type);

/// `count` elements (a multiple of the type's block) of `type` blocks into float32 `out`.
void dequantize(GgmlType type, const uint8_t *blocks, int64_t count, float *out);

} // namespace tern::gguf

#endif // TERN_FRONTENDS_GGUF_DEQUANTIZEBLOCKS_H
