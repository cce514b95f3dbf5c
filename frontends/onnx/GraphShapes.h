//===- GraphShapes.h - the ONNX graph's inputs and outputs against the decoder ------*- C++ -*-===//
//
// The decoder's graph inputs (input_ids, position_ids, attention_mask, past_key_values.*) and
// outputs (logits, present.*) have dims that are symbolic (batch, sequence_length, ...) or
// static. They are checked against the recognized decoder (one sequence per call, the heads'
// sizes, the vocabulary), symbolic ones may be bound by name (ternc --shapes), and the static
// lengths that result become the binary's defaults: the sequence length the most tokens one
// call takes, the total length the KV cache's context.
//
//===------------------------------------------------------------------------------------------===//
#ifndef TERN_FRONTENDS_ONNX_GRAPHSHAPES_H
#define TERN_FRONTENDS_ONNX_GRAPHSHAPES_H

#include "frontends/onnx/DecoderRecognizer.h"

#include "llvm/ADT/StringMap.h"

namespace tern::onnx {

struct GraphShapes {
  std::optional<int64_t> tokensPerCall; ///< a static sequence length
  std::optional<int64_t> context;       ///< a static total length (past + sequence)
};

/// Checks the graph's inputs and outputs, with the symbolic dims in `bindings` bound.
llvm::Expected<GraphShapes> resolveShapes(const OnnxModel &model, const OnnxDecoder &decoder,
                                          const llvm::StringMap<int64_t> &bindings);

} // namespace tern::onnx

#endif // TERN_FRONTENDS_ONNX_GRAPHSHAPES_H
