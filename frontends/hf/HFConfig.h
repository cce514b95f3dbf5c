//===- HFConfig.h - config.json of BitNet-family checkpoints ------------------------*- C++ -*-===//
#ifndef TERN_FRONTENDS_HF_HFCONFIG_H
#define TERN_FRONTENDS_HF_HFCONFIG_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tern::hf {

/// The checkpoint families tern imports, told apart by `architectures[0]`.
enum class ModelFamily {
  BitNet,      ///< BitNetForCausalLM (microsoft/bitnet-b1.58-2B-4T): attn_sub_norm, ffn_sub_norm
  OneBitLLM,   ///< BitnetForCausalLM (1bitLLM/bitnet_b1_58-*): inner_attn_ln, ffn_layernorm
  LlamaBitNet, ///< LlamaForCausalLM with a bitnet quantization_config: no sub-norms
  /// Qwen3ForCausalLM (PrismML's Ternary-Bonsai): q_norm / k_norm on each head, head_dim from
  /// the config, no sub-norms; Qwen3Model, the same without a head: an embedding model
  /// (microsoft's BitNet embedding models, with an RMSNorm inside every projection)
  Qwen3,
};

enum class Activation { ReLU2, SiLU };

/// How the checkpoint stores its ternary linear weights.
enum class WeightStorage {
  Packed, ///< U8 [out/4, in] + weight_scale ("quantization_mode: offline")
  Latent, ///< fp16/bf16 master weights, ternarized at import
  /// Float tensors whose values are already ternary times a scale per group of columns
  /// (Ternary-Bonsai's unpacked form: every 128 weights of a row -s, 0 or +s), decoded exactly
  Ternary,
};

struct HFConfig {
  std::string path; ///< where it was read from, for messages
  std::string architecture;
  std::string modelType;
  ModelFamily family = ModelFamily::BitNet;
  WeightStorage storage = WeightStorage::Packed;
  /// For packed weights: true when `linear_class` is autobitlinear (y = acc * weight_scale),
  /// false for bitlinear or no linear_class (y = acc / weight_scale).
  bool scaleMultiplies = false;
  Activation activation = Activation::ReLU2;
  int64_t hiddenSize = 0, intermediateSize = 0, numLayers = 0, numHeads = 0, numKVHeads = 0;
  int64_t headDim = 0, vocabSize = 0, maxPositions = 0;
  double rmsNormEps = 0, ropeTheta = 0;
  /// RoPE scaling (linear or llama3, from rope_scaling or rope_parameters) as head_dim / 2
  /// divisors of the inverse frequencies (tern.rope's freq_factors); empty for none.
  std::vector<float> ropeFreqFactors;
  bool tieWordEmbeddings = false;
  /// Bits of the per-token activation quantization before each bitlinear ("input_bits").
  int64_t activationBits = 8;
  std::optional<int64_t> bosTokenId, eosTokenId;
  /// An embedding model (Qwen3Model): no head; the runtime pools the last hidden states.
  bool embedding = false;

  /// Reads and validates `path` (a config.json).
  static llvm::Expected<HFConfig> load(llvm::StringRef path);
  /// Validates config.json text; `path` is only used in messages.
  static llvm::Expected<HFConfig> parse(llvm::StringRef text, llvm::StringRef path);

  llvm::StringRef familyName() const;
  bool hasSubNorms() const {
    return family == ModelFamily::BitNet || family == ModelFamily::OneBitLLM;
  }
  bool hasQKNorm() const { return family == ModelFamily::Qwen3; }
};

} // namespace tern::hf

#endif // TERN_FRONTENDS_HF_HFCONFIG_H
