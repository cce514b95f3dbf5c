//===- DecoderBuilder.h - builds a BitNet-family decoder in tern IR -----------------*- C++ -*-===//
//
// The graph every BitNet-family checkpoint shares, built once for all importers. An importer
// describes the sizes (DecoderSpec) and supplies the weights (DecoderWeights: usually tern.weight
// ops naming checkpoint tensors); the builder emits
//
//   func.func @forward(%tokens: tensor<?xi32>, %positions: tensor<?xi32>, %kv: !tern.kv_cache)
//       -> (tensor<?xVxf32>, !tern.kv_cache)
//
// with, per layer (the sub-norms only where the family has them):
//   h   = x + o_proj(attn_sub_norm(attention(rope(q), rope(k), v)))   q, k, v = proj(input_norm(x))
//   out = h + down_proj(ffn_sub_norm(act(gate_proj(n)) * up_proj(n)))  n = post_attention_norm(h)
// and every projection fed by a per-token int8 quantization of its input. Qwen3-backbone models
// add an RMSNorm of each head of q and k before RoPE (qkNorm), BitNet embedding models one on
// every projection's input (projectionNorms).
//
//===------------------------------------------------------------------------------------------===//
#ifndef TERN_FRONTENDS_COMMON_DECODERBUILDER_H
#define TERN_FRONTENDS_COMMON_DECODERBUILDER_H

#include "dialects/tern/TernDialect.h"
#include "dialects/weights/DType.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"

#include <cstdint>
#include <functional>
#include <vector>

namespace tern {

enum class DecoderActivation { ReLU2, SiLU };

struct DecoderSpec {
  int64_t hidden = 0, intermediate = 0, layers = 0, heads = 0, kvHeads = 0, headDim = 0;
  int64_t vocab = 0;
  float rmsNormEps = 1e-5f;
  float ropeTheta = 10000.0f;
  /// A scaled RoPE's divisors of the inverse frequencies, head_dim / 2 of them (tern.rope's
  /// freq_factors); empty for none.
  std::vector<float> ropeFreqFactors;
  DecoderActivation activation = DecoderActivation::SiLU;
  bool attnSubNorm = false; ///< RMSNorm of the attention output before o_proj
  bool ffnSubNorm = false;  ///< RMSNorm of act(gate) * up before down_proj
  /// Qwen3's q_norm / k_norm: an RMSNorm of each head of q and k (over head_dim) before RoPE.
  bool qkNorm = false;
  /// An RMSNorm of its own on every projection's input (BitNet embedding models' BitLinear:
  /// `{q,k,v,o,gate,up,down}_proj.norm`), so each projection quantizes its own input.
  bool projectionNorms = false;
  bool tiedHead = false;    ///< the output head is the embedding table
  /// An embedding model: @forward returns the final norm's hidden states [T, hidden] (the
  /// runtime pools them), and there is no head.
  bool embeddingOutput = false;
  int64_t activationBits = 8; ///< tern.act_quant's bits before every bitlinear
  /// Context length of the KV cache; dynamic (`?`) until the driver fixes it.
  int64_t contextLength = mlir::ShapedType::kDynamic;
};

/// The weights of one decoder, as the builder asks for them.
enum class WeightRole {
  Embedding, InputNorm, Q, K, V, O, AttnSubNorm, PostAttentionNorm, Gate, Up, Down, FfnSubNorm,
  FinalNorm, Head,
  QNorm, KNorm, ///< qkNorm: [head_dim] each
  /// projectionNorms: the norm of each projection's input
  QInNorm, KInNorm, VInNorm, OInNorm, GateInNorm, UpInNorm, DownInNorm,
};
llvm::StringRef roleName(WeightRole role);
/// The norm of a projection's input (projectionNorms), e.g. QInNorm for Q.
WeightRole inputNormOf(WeightRole projection);

/// A projection: a ternary weight with its scale and how the scale applies, or (`scale` null) a
/// float [N, K] weight the importer was asked to keep (tern.matmul, no activation quantization).
struct LinearWeights {
  mlir::Value weight; ///< !tern.ternary or !tern.packed; a float tensor when `scale` is null
  mlir::Value scale;  ///< [1], [N] or [N, K / G] float tensor
  mlir::tern::ScaleMode mode = mlir::tern::ScaleMode::multiply;
  bool isFloat() const { return weight && !scale; }
};

class DecoderWeights {
public:
  virtual ~DecoderWeights();
  /// A dense tensor: the embedding table, a norm weight, or an untied head ([V, H]). `layer` is
  /// -1 for weights outside the layers. Returns null after emitting an error.
  virtual mlir::Value dense(mlir::OpBuilder &b, WeightRole role, int64_t layer) = 0;
  /// A projection (Q, K, V, O, Gate, Up, Down): ternary, or float where an importer keeps one.
  /// Returns a null weight after an error.
  virtual LinearWeights linear(mlir::OpBuilder &b, WeightRole role, int64_t layer) = 0;
  /// The location of the ops computing `role` in `layer` (default: unknown).
  virtual mlir::Location location(mlir::OpBuilder &b, WeightRole role, int64_t layer);
  /// Called before each layer is built (progress reporting).
  virtual void beginLayer(int64_t layer) {}
};

/// The IR element type of a stored float tensor (F16, BF16; F32 otherwise).
mlir::Type floatElementType(mlir::Builder &b, DType dtype);

/// Builds `@<name>` at the builder's insertion point. Returns null if a weight was missing
/// (the DecoderWeights implementation reported why).
mlir::func::FuncOp buildDecoder(mlir::OpBuilder &b, mlir::Location loc, llvm::StringRef name,
                                const DecoderSpec &spec, DecoderWeights &weights);

} // namespace tern

#endif // TERN_FRONTENDS_COMMON_DECODERBUILDER_H
