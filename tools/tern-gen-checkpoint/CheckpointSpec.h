//===- CheckpointSpec.h - what tern-gen-checkpoint writes ---------------------------*- C++ -*-===//
//
// The published checkpoint layouts tern-gen-checkpoint reproduces (with random ternary weights),
// their size presets, and the spec a run resolves to after command-line overrides.
//
//===------------------------------------------------------------------------------------------===//
#ifndef TERN_TOOLS_TERNGENCHECKPOINT_CHECKPOINTSPEC_H
#define TERN_TOOLS_TERNGENCHECKPOINT_CHECKPOINTSPEC_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <optional>
#include <string>

namespace tern::gen {

enum class Format {
  BitNet2B4T,  ///< microsoft/bitnet-b1.58-2B-4T: packed U8, relu2, sub-norms, tied head
  OneBitLLM,   ///< 1bitLLM/bitnet_b1_58-*: fp16 latent weights, silu, sub-norms, tied head
  LlamaBitNet, ///< HF1BitLLM Llama3-8B-1.58 style: packed U8, silu, no sub-norms, lm_head
  /// microsoft/bitnet-b1.58-2B-4T-bf16: 2B4T with BF16 master weights ("quantization_mode":
  /// "online"), ternarized when loaded
  BitNet2B4TBF16,
  /// tiiuae/Falcon3-*-1.58bit: llama-bitnet's layout (packed U8, weight_scale divides, silu, no
  /// sub-norms, lm_head) with Falcon3's config: head_dim written, rope_theta 1000042,
  /// rms_norm_eps 1e-6, no bos_token_id
  Falcon3,
  /// PrismML's Ternary-Bonsai (-unpacked): Qwen3ForCausalLM with F16 weights that are ternary
  /// times an F16 scale per 128 columns, no quantization_config; q_norm / k_norm per head,
  /// head_dim (64 in the tiny preset) other than hidden / heads
  Bonsai,
  /// A BitNet embedding model (microsoft/bitnet-embedding style): Qwen3Model (no head, tensor
  /// names without "model."), BF16 master weights ternarized at load, an RMSNorm inside every
  /// projection ({q,k,v,o,gate,up,down}_proj.norm), q/k norms, head_dim 32 in the tiny preset;
  /// sentence-transformers' modules.json and 1_Pooling/config.json (last token, normalized)
  BitNetEmbedding,
  // The BitNet2B4T weights as one GGUF file (model.gguf), projections in one ggml type:
  GgufI2_S,   ///< bitnet.cpp's I2_S (one scale per tensor)
  GgufTQ1_0,  ///< llama.cpp's TQ1_0 (a scale per 256 columns)
  GgufTQ2_0,  ///< llama.cpp's TQ2_0 (a scale per 256 columns)
  GgufQ2_0,   ///< llama.cpp's Q2_0 (a scale per 64 columns)
  GgufIQ1_BN, ///< ik_llama.cpp's IQ1_BN (a scale per row)
  GgufIQ2_BN, ///< ik_llama.cpp's IQ2_BN (a scale per row)
  GgufF16,    ///< F16 values -s, 0, +s (llama.cpp's converter's output)
  GgufBF16,   ///< BF16 values -s, 0, +s
};
enum class Preset { Tiny, B2B4T, Large, B3, B8 };
enum class Values {
  Random, ///< random ternary weights and floats, deterministic by seed
  Ramp,   ///< ternary weight [n, k] = ((n + 2k) mod 3) - 1, to check layouts by hand
};

struct CheckpointSpec {
  Format format = Format::BitNet2B4T;
  Preset preset = Preset::Tiny;
  int64_t hidden = 0, intermediate = 0, layers = 0, heads = 0, kvHeads = 0, vocab = 0;
  int64_t maxPositions = 0;
  double ropeTheta = 0, rmsNormEps = 1e-5;
  /// RoPE scaling written to config.json: "" (none), "linear" (factor 4) or "llama3" (Llama
  /// 3.1's factor 8, low 1, high 4, original 8192); in transformers 5's rope_parameters form
  /// (rope_theta inside it) when ropeParameters.
  std::string ropeScaling;
  bool ropeParameters = false;
  int64_t ropeOriginalPositions = 8192; ///< llama3's original_max_position_embeddings
  bool tieWordEmbeddings = true;
  /// For packed formats: "autobitlinear" (multiply by weight_scale) or "bitlinear" (divide);
  /// empty writes no linear_class (which means bitlinear).
  std::string linearClass;
  /// input_bits in config.json (0: the format's own: 8 for 1bitLLM, absent otherwise).
  int64_t inputBits = 0;
  /// Packed formats: one weight scale per this many columns of a row (64, 128 or 256), stored
  /// [rows, cols / G]; 0: one per tensor.
  int64_t scaleGroup = 0;
  /// Packed formats: one weight scale per row, stored [rows] (scaleGroup 0).
  bool rowScales = false;
  /// GGUF formats: general.architecture (bitnet-b1.58, bitnet-25 or bitnet) and the ggml type
  /// of the embedding table (f32, f16, bf16, q8_0, q6_k, q4_0).
  std::string ggufArch = "bitnet-b1.58";
  std::string ggufEmbedding = "bf16";
  uint64_t seed = 0;
  Values values = Values::Random;
  uint64_t shardBytes = 5ull << 30; ///< start a new shard above this size
  std::string tokenizerPath;         ///< copy this tokenizer.json instead of generating one
  bool metaspaceTokenizer = false;   ///< generate Llama 2's metaspace kind, not byte-level
  /// A Jinja file written as tokenizer_config.json's chat_template (GGUF: tokenizer.chat_template)
  /// in place of the tokenizer's; "none" writes none.
  std::string chatTemplatePath;
  std::optional<int64_t> bosTokenId, eosTokenId; ///< set from the tokenizer when not given

  bool packed() const {
    return format != Format::OneBitLLM && format != Format::BitNet2B4TBF16 &&
           format != Format::Bonsai && format != Format::BitNetEmbedding;
  }
  bool subNorms() const {
    return format == Format::BitNet2B4T || format == Format::BitNet2B4TBF16 ||
           format == Format::OneBitLLM || gguf();
  }
  bool gguf() const { return format >= Format::GgufI2_S; }
  /// head_dim in config.json when set (Qwen3's); else hidden / heads.
  int64_t headDimOverride = 0;
  int64_t headDim() const { return headDimOverride ? headDimOverride : hidden / heads; }

  /// Fills sizes and format defaults for `format` at `preset` (before overrides).
  static CheckpointSpec defaults(Format format, Preset preset);
  /// Checks the sizes can form a model; the message names the field.
  llvm::Error validate() const;
};

llvm::StringRef formatName(Format f);
llvm::StringRef presetName(Preset p);

} // namespace tern::gen

#endif // TERN_TOOLS_TERNGENCHECKPOINT_CHECKPOINTSPEC_H
