//===- DecoderRecognizer.h - finds the BitNet decoder in an ONNX graph --------------*- C++ -*-===//
//
// Walks an ONNX graph back from its `logits` output through the residual stream, layer by
// layer, and recognizes each part of the decoder tern builds (frontends/common/DecoderBuilder):
// norms, ternary projections, rotary embedding and attention with its KV cache, the MLP's
// activation. What it returns names the initializers of every weight; the importer turns them
// into tern tensors. Every live node must be part of what was recognized: a node that is not is
// an error naming it.
//
//===------------------------------------------------------------------------------------------===//
#ifndef TERN_FRONTENDS_ONNX_DECODERRECOGNIZER_H
#define TERN_FRONTENDS_ONNX_DECODERRECOGNIZER_H

#include "frontends/common/DecoderBuilder.h"
#include "frontends/onnx/OnnxModel.h"

namespace tern::onnx {

/// A projection of the graph, in one of four forms (docs/frontends.md):
///  - MatMulNBits: com.microsoft MatMulNBits, bits = 2 (B, block scales, zero points);
///  - FakeQuant: MatMul of the fake-quantized activations by a float initializer holding
///    {-s, 0, +s} (`scale` empty: the scale is in the weight) or {-1, 0, +1} times `scale`;
///  - Integer: MatMulInteger of the int8 activations by an int8 {-1, 0, +1} initializer, times
///    `scale`;
///  - Float: a MatMul of unquantized activations by a float weight, which the importer keeps as
///    tern.matmul or refuses (ImportOptions::keepFloatMatMul).
struct OnnxLinear {
  enum class Kind { MatMulNBits, FakeQuant, Integer, Float };
  Kind kind = Kind::MatMulNBits;
  const ::onnx::NodeProto *node = nullptr; ///< the MatMulNBits / MatMul / MatMulInteger
  std::string input;                       ///< the float activations it reads
  std::string weight, scales, zeroPoints;  ///< MatMulNBits' initializers (zeroPoints optional)
  std::string scale;         ///< FakeQuant / Integer: the weight scale; empty if folded in
  bool divide = false;       ///< the scale divides (y = acc / s_x / scale)
  bool transposed = false;   ///< FakeQuant / Integer: `weight` is [N, K] under a Transpose
  int64_t rows = 0, cols = 0, blockSize = 0; ///< N, K, MatMulNBits' block_size
  int64_t activationBits = 8;
};

struct OnnxLayer {
  OnnxLinear q, k, v, o, gate, up, down;
  std::string inputNorm, postAttentionNorm, attnSubNorm, ffnSubNorm; ///< gamma initializers
  /// The ONNX names of the KV cache this layer reads and writes (empty when absent).
  std::string pastKey, pastValue, presentKey, presentValue;
};

struct OnnxDecoder {
  DecoderSpec spec;
  std::string embedding;  ///< [V, H] initializer
  std::string tokenIds;   ///< the graph input the embedding looks up
  std::string logits;     ///< the graph output of the head
  std::string finalNorm;
  std::string head;       ///< [H, V] initializer of an untied head; empty when tied
  int64_t maxPositions = 0; ///< rows of the rotary cache
  std::vector<OnnxLayer> layers;
  int64_t nodes = 0, deadNodes = 0; ///< nodes recognized, and nodes no output depends on
};

/// Recognizes the decoder of `model`, or explains which node is not what was expected.
llvm::Expected<OnnxDecoder> recognizeDecoder(const OnnxModel &model);

} // namespace tern::onnx

#endif // TERN_FRONTENDS_ONNX_DECODERRECOGNIZER_H
