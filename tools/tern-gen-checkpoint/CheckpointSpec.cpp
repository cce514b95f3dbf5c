//===- CheckpointSpec.cpp - what tern-gen-checkpoint writes -----------------------------------===//
#include "tools/tern-gen-checkpoint/CheckpointSpec.h"

#include "llvm/Support/FormatVariadic.h"

using namespace tern::gen;

llvm::StringRef tern::gen::formatName(Format f) {
  switch (f) {
  case Format::BitNet2B4T: return "bitnet-2b4t";
  case Format::OneBitLLM: return "1bitllm";
  case Format::LlamaBitNet: return "llama-bitnet";
  case Format::BitNet2B4TBF16: return "bitnet-2b4t-bf16";
  case Format::Falcon3: return "falcon3";
  case Format::Bonsai: return "bonsai";
  case Format::BitNetEmbedding: return "bitnet-embedding";
  case Format::GgufI2_S: return "gguf-i2_s";
  case Format::GgufTQ1_0: return "gguf-tq1_0";
  case Format::GgufTQ2_0: return "gguf-tq2_0";
  case Format::GgufQ2_0: return "gguf-q2_0";
  case Format::GgufIQ1_BN: return "gguf-iq1_bn";
  case Format::GgufIQ2_BN: return "gguf-iq2_bn";
  case Format::GgufF16: return "gguf-f16";
  case Format::GgufBF16: return "gguf-bf16";
  }
  return "?";
}

llvm::StringRef tern::gen::presetName(Preset p) {
  switch (p) {
  case Preset::Tiny: return "tiny";
  case Preset::B2B4T: return "2b4t";
  case Preset::Large: return "large";
  case Preset::B3: return "3b";
  case Preset::B8: return "8b";
  }
  return "?";
}

CheckpointSpec CheckpointSpec::defaults(Format format, Preset preset) {
  CheckpointSpec s;
  s.format = format;
  s.preset = preset;
  switch (preset) {
  case Preset::Tiny: // small enough for every test; grouped-query attention like 2B4T
    s.hidden = 64, s.intermediate = 160, s.layers = 2, s.heads = 4, s.kvHeads = 2;
    s.vocab = 0; // the generated tokenizer's size
    s.maxPositions = 512;
    break;
  case Preset::B2B4T: // microsoft/bitnet-b1.58-2B-4T
    s.hidden = 2560, s.intermediate = 6912, s.layers = 30, s.heads = 20, s.kvHeads = 5;
    s.vocab = 128256, s.maxPositions = 4096;
    break;
  case Preset::Large: // 1bitLLM/bitnet_b1_58-large (700M)
    s.hidden = 1536, s.intermediate = 4096, s.layers = 24, s.heads = 16, s.kvHeads = 16;
    s.vocab = 32002, s.maxPositions = 2048;
    break;
  case Preset::B3: // 1bitLLM/bitnet_b1_58-3B
    s.hidden = 3200, s.intermediate = 8640, s.layers = 26, s.heads = 32, s.kvHeads = 32;
    s.vocab = 32002, s.maxPositions = 2048;
    break;
  case Preset::B8: // Llama3-8B-1.58
    s.hidden = 4096, s.intermediate = 14336, s.layers = 32, s.heads = 32, s.kvHeads = 8;
    s.vocab = 128256, s.maxPositions = 8192;
    break;
  }
  switch (format) {
  case Format::BitNet2B4T:
  case Format::BitNet2B4TBF16:
    s.ropeTheta = 500000.0, s.tieWordEmbeddings = true, s.linearClass = "autobitlinear";
    break;
  case Format::OneBitLLM:
    s.ropeTheta = 10000.0, s.tieWordEmbeddings = true;
    break;
  case Format::LlamaBitNet:
    s.ropeTheta = 500000.0, s.tieWordEmbeddings = false;
    break;
  case Format::Falcon3: // Falcon3-{1,3,7,10}B's config.json
    s.ropeTheta = 1000042.0, s.rmsNormEps = 1e-6, s.tieWordEmbeddings = false;
    break;
  case Format::BitNetEmbedding: // Qwen3-0.6B's shape: head_dim 128 with hidden 1024, 16 heads
    s.ropeTheta = 1000000.0, s.rmsNormEps = 1e-6, s.tieWordEmbeddings = true;
    s.headDimOverride = preset == Preset::Tiny ? 32 : 128;
    break;
  case Format::Bonsai: // Qwen3's config.json; groups of 128 columns need K >= 128
    s.ropeTheta = 1000000.0, s.rmsNormEps = 1e-6, s.tieWordEmbeddings = true;
    s.scaleGroup = 128;
    if (preset == Preset::Tiny)
      s.hidden = 128, s.intermediate = 384, s.headDimOverride = 64;
    else
      s.headDimOverride = 128;
    break;
  default: // GGUF: 2B4T's weights, each projection type's scale granularity
    s.ropeTheta = 500000.0, s.tieWordEmbeddings = true, s.linearClass = "autobitlinear";
    if (format == Format::GgufTQ1_0 || format == Format::GgufTQ2_0)
      s.scaleGroup = 256;
    else if (format == Format::GgufQ2_0)
      s.scaleGroup = 64;
    else if (format == Format::GgufIQ1_BN || format == Format::GgufIQ2_BN)
      s.rowScales = true;
    // Every ggml block type needs K a multiple of its block (256 at most).
    if (preset == Preset::Tiny)
      s.hidden = 256, s.intermediate = 512;
    break;
  }
  return s;
}

llvm::Error CheckpointSpec::validate() const {
  auto fail = [](const llvm::Twine &m) {
    return llvm::createStringError(llvm::inconvertibleErrorCode(), m);
  };
  for (auto [name, v] : {std::pair<const char *, int64_t>{"hidden-size", hidden},
                         {"intermediate-size", intermediate},
                         {"layers", layers},
                         {"heads", heads},
                         {"kv-heads", kvHeads},
                         {"max-positions", maxPositions}})
    if (v <= 0)
      return fail(llvm::formatv("--{0} must be positive, found {1}", name, v));
  if (!headDimOverride && hidden % heads != 0)
    return fail(llvm::formatv("--hidden-size {0} is not a multiple of --heads {1}", hidden, heads));
  if (headDim() % 2 != 0)
    return fail(llvm::formatv("head dimension {0} must be even for RoPE", headDim()));
  if (heads % kvHeads != 0)
    return fail(llvm::formatv("--heads {0} is not a multiple of --kv-heads {1}", heads, kvHeads));
  if (packed()) {
    int64_t kv = kvHeads * headDim();
    for (auto [what, rows] : {std::pair<const char *, int64_t>{"hidden size", hidden},
                              {"intermediate size", intermediate},
                              {"kv width (kv-heads * head dim)", kv}})
      if (rows % 4 != 0)
        return fail(llvm::formatv("packed formats store 4 output rows per byte: the {0} {1} is "
                                  "not a multiple of 4",
                                  what, rows));
    if (!linearClass.empty() && linearClass != "autobitlinear" && linearClass != "bitlinear")
      return fail("--linear-class must be autobitlinear or bitlinear, found '" + linearClass + "'");
  }
  if (format == Format::Bonsai)
    for (auto [what, k] : {std::pair<const char *, int64_t>{"hidden size", hidden},
                           {"intermediate size", intermediate},
                           {"attention width (heads * head dim)", heads * headDim()}})
      if (k % scaleGroup != 0)
        return fail(llvm::formatv("bonsai stores a scale per {0} columns: the {1} {2} is not a "
                                  "multiple of it",
                                  scaleGroup, what, k));
  if (!(ropeTheta > 0) || !(rmsNormEps > 0))
    return fail("--rope-theta and --rms-norm-eps must be positive");
  return llvm::Error::success();
}
