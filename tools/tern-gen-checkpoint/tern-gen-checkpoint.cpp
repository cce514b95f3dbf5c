//===- tern-gen-checkpoint.cpp - writes BitNet checkpoints in the published layouts -----------===//
//
// Real weights cannot be downloaded where tern is tested, so tern proves its loader on
// checkpoints it writes itself: the exact tensor names, dtypes, shapes, packing and config fields
// of the published models, with random ternary weights.
//
//===------------------------------------------------------------------------------------------===//
#include "tools/tern-gen-checkpoint/CheckpointWriter.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

#include <optional>

using namespace tern::gen;
namespace cl = llvm::cl;

static cl::OptionCategory category("tern-gen-checkpoint options");

static cl::opt<std::string> outputDir("o", cl::desc("Output folder (created if needed)"),
                                      cl::value_desc("dir"), cl::Required, cl::cat(category));
static cl::opt<Format> format(
    "format", cl::desc("Checkpoint layout"), cl::init(Format::BitNet2B4T),
    cl::values(clEnumValN(Format::BitNet2B4T, "bitnet-2b4t",
                          "microsoft/bitnet-b1.58-2B-4T: U8-packed weights, relu2, sub-norms"),
               clEnumValN(Format::OneBitLLM, "1bitllm",
                          "1bitLLM/bitnet_b1_58-*: fp16 latent weights, silu, sub-norms"),
               clEnumValN(Format::LlamaBitNet, "llama-bitnet",
                          "Llama3-8B-1.58 style: U8-packed weights, silu, untied lm_head"),
               clEnumValN(Format::BitNet2B4TBF16, "bitnet-2b4t-bf16",
                          "microsoft/bitnet-b1.58-2B-4T-bf16: bitnet-2b4t with bf16 master "
                          "weights, ternarized when loaded (quantization_mode online)"),
               clEnumValN(Format::BitNetEmbedding, "bitnet-embedding",
                          "a BitNet embedding model: Qwen3Model with bf16 master weights, an "
                          "RMSNorm in every projection, last-token pooling"),
               clEnumValN(Format::Bonsai, "bonsai",
                          "PrismML's Ternary-Bonsai (unpacked): Qwen3ForCausalLM, F16 weights "
                          "ternary times a scale per 128 columns, q/k norms, head_dim 64"),
               clEnumValN(Format::Falcon3, "falcon3",
                          "tiiuae/Falcon3-*-1.58bit: llama-bitnet's layout with Falcon3's "
                          "config (head_dim, rope_theta 1000042, rms_norm_eps 1e-6, no BOS id)"),
               clEnumValN(Format::GgufI2_S, "gguf-i2_s",
                          "bitnet-2b4t's weights as model.gguf, projections in bitnet.cpp's "
                          "I2_S (a scale per tensor)"),
               clEnumValN(Format::GgufTQ1_0, "gguf-tq1_0",
                          "... in llama.cpp's TQ1_0 (a scale per 256 columns)"),
               clEnumValN(Format::GgufTQ2_0, "gguf-tq2_0",
                          "... in llama.cpp's TQ2_0 (a scale per 256 columns)"),
               clEnumValN(Format::GgufQ2_0, "gguf-q2_0",
                          "... in llama.cpp's Q2_0 (a scale per 64 columns)"),
               clEnumValN(Format::GgufIQ1_BN, "gguf-iq1_bn",
                          "... in ik_llama.cpp's IQ1_BN (a scale per row)"),
               clEnumValN(Format::GgufIQ2_BN, "gguf-iq2_bn",
                          "... in ik_llama.cpp's IQ2_BN (a scale per row)"),
               clEnumValN(Format::GgufF16, "gguf-f16",
                          "... as F16 values -s, 0, +s (llama.cpp's converter)"),
               clEnumValN(Format::GgufBF16, "gguf-bf16", "... as BF16 values -s, 0, +s")),
    cl::cat(category));
static cl::opt<Preset> preset(
    "preset", cl::desc("Model size"), cl::init(Preset::Tiny),
    cl::values(clEnumValN(Preset::Tiny, "tiny", "hidden 64, 2 layers: for tests"),
               clEnumValN(Preset::B2B4T, "2b4t", "hidden 2560, 30 layers, 20/5 heads, V 128256"),
               clEnumValN(Preset::Large, "large", "hidden 1536, 24 layers (700M)"),
               clEnumValN(Preset::B3, "3b", "hidden 3200, 26 layers"),
               clEnumValN(Preset::B8, "8b", "hidden 4096, 32 layers, 32/8 heads, V 128256")),
    cl::cat(category));
static cl::opt<uint64_t> seed("seed", cl::desc("Random seed (same seed, same bytes)"),
                              cl::init(0), cl::cat(category));
static cl::opt<Values> values(
    "values", cl::desc("Weight values"), cl::init(Values::Random),
    cl::values(clEnumValN(Values::Random, "random", "random ternary weights"),
               clEnumValN(Values::Ramp, "ramp",
                          "ternary weight [n, k] = ((n + 2k) mod 3) - 1, to check layouts")),
    cl::cat(category));
static cl::opt<std::string> linearClass(
    "linear-class",
    cl::desc("Scale convention the config declares for packed formats: autobitlinear "
             "(multiply by weight_scale) or bitlinear (divide); default: the format's own"),
    cl::cat(category));
static cl::opt<int64_t> inputBits(
    "input-bits",
    cl::desc("Activation bits of every bitlinear input, written as config.json's input_bits "
             "(2..8; BitNet a4.8 / v2 style models use 4; default: the format's own)"),
    cl::init(0), cl::value_desc("N"), cl::cat(category));
static cl::opt<int64_t> scaleGroup(
    "scale-group",
    cl::desc("Packed formats: one weight scale per G columns of each row (64, 128 or 256), "
             "weight_scale [rows, cols / G] (Ternary-Bonsai / Q2_0 style); default one per "
             "tensor"),
    cl::init(0), cl::value_desc("G"), cl::cat(category));
static cl::opt<bool> rowScales(
    "row-scales",
    cl::desc("Packed formats: one weight scale per row, weight_scale [rows] (the scales "
             "gguf-iq1_bn / gguf-iq2_bn store)"),
    cl::cat(category));
static cl::opt<std::string> ggufArch(
    "gguf-arch",
    cl::desc("GGUF formats: general.architecture, bitnet-b1.58 (bitnet.cpp's official file; the "
             "default), bitnet-25 (ik_llama.cpp) or bitnet (llama.cpp)"),
    cl::init("bitnet-b1.58"), cl::cat(category));
static cl::opt<std::string> ggufEmbedding(
    "gguf-embedding",
    cl::desc("GGUF formats: the embedding table's type: bf16 (exactly the checkpoint's; the "
             "default), f16, f32, q8_0 or q6_k (tern's --head quantizers, the formats' numbers), "
             "q4_0"),
    cl::init("bf16"), cl::cat(category));
static cl::opt<std::string> tokenizer("tokenizer",
                                      cl::desc("Copy this tokenizer.json (and the "
                                               "tokenizer_config.json beside it) instead of "
                                               "generating a small one"),
                                      cl::value_desc("file"), cl::cat(category));
static cl::opt<std::string> ropeScaling(
    "rope-scaling",
    cl::desc("Write a RoPE scaling into config.json: none (the default), linear (factor 4) or "
             "llama3 (Llama 3.1's: factor 8, low 1, high 4, original 8192)"),
    cl::init("none"), cl::cat(category));
static cl::opt<int64_t> ropeOriginalPositions(
    "rope-original-positions",
    cl::desc("llama3 scaling's original_max_position_embeddings (default 8192, Llama 3.1's; a "
             "small one puts the tiny preset's few frequencies in all three bands)"),
    cl::init(8192), cl::cat(category));
static cl::opt<bool> ropeParameters(
    "rope-parameters",
    cl::desc("Write RoPE's settings in transformers 5's rope_parameters form (rope_type, "
             "rope_theta and the scaling in one object) instead of rope_theta and rope_scaling"),
    cl::cat(category));
static cl::opt<std::string> tokenizerKind(
    "tokenizer-kind",
    cl::desc("The generated tokenizer: byte-level (Llama 3's kind; the default) or metaspace "
             "(Llama 2's and 1bitLLM's: U+2581 for spaces, byte fallback; 1bitllm's default)"),
    cl::init("byte-level"), cl::cat(category));
static cl::opt<std::string> chatTemplate(
    "chat-template",
    cl::desc("Write this Jinja file as the chat template (tokenizer_config.json's "
             "chat_template, GGUF's tokenizer.chat_template) instead of Llama 3's, or none"),
    cl::value_desc("file|none"), cl::cat(category));
static cl::opt<std::string> shardSize("shard-size",
                                      cl::desc("Split model.safetensors into shards above this "
                                               "size (e.g. 500MB, 2GB; default 5GB)"),
                                      cl::init("5GB"), cl::cat(category));
static cl::opt<bool> quiet("quiet", cl::desc("Print no progress"), cl::cat(category));

// Overrides of the preset; -1 / empty keeps the preset's value.
static cl::opt<int64_t> hiddenSize("hidden-size", cl::init(-1), cl::cat(category),
                                   cl::desc("Override hidden_size"));
static cl::opt<int64_t> intermediateSize("intermediate-size", cl::init(-1), cl::cat(category),
                                         cl::desc("Override intermediate_size"));
static cl::opt<int64_t> layers("layers", cl::init(-1), cl::cat(category),
                               cl::desc("Override num_hidden_layers"));
static cl::opt<int64_t> heads("heads", cl::init(-1), cl::cat(category),
                              cl::desc("Override num_attention_heads"));
static cl::opt<int64_t> kvHeads("kv-heads", cl::init(-1), cl::cat(category),
                                cl::desc("Override num_key_value_heads"));
static cl::opt<int64_t> vocabSize("vocab-size", cl::init(-1), cl::cat(category),
                                  cl::desc("Override vocab_size"));
static cl::opt<int64_t> maxPositions("max-positions", cl::init(-1), cl::cat(category),
                                     cl::desc("Override max_position_embeddings"));
static cl::opt<double> ropeTheta("rope-theta", cl::init(-1), cl::cat(category),
                                 cl::desc("Override rope_theta"));
static cl::opt<int64_t> headDim("head-dim", cl::init(-1), cl::cat(category),
                               cl::desc("Override head_dim (written into config.json)"));
static cl::opt<double> rmsNormEps("rms-norm-eps", cl::init(-1), cl::cat(category),
                                  cl::desc("Override rms_norm_eps"));
static cl::opt<std::string> tie("tie-word-embeddings", cl::cat(category),
                                cl::desc("Override tie_word_embeddings (true/false)"));

/// Parses "4096", "500MB", "2GB", "64KiB" ... (decimal and binary units).
static std::optional<uint64_t> parseSize(llvm::StringRef s) {
  s = s.trim();
  size_t digits = s.find_first_not_of("0123456789");
  uint64_t n;
  if (s.substr(0, digits).getAsInteger(10, n))
    return std::nullopt;
  llvm::StringRef unit = digits == llvm::StringRef::npos ? "" : s.substr(digits).trim();
  static const std::pair<const char *, uint64_t> units[] = {
      {"", 1},          {"B", 1},           {"KB", 1000},          {"MB", 1000000},
      {"GB", 1000000000}, {"KiB", 1ull << 10}, {"MiB", 1ull << 20}, {"GiB", 1ull << 30}};
  for (auto [name, factor] : units)
    if (unit.equals_insensitive(name))
      return n * factor;
  return std::nullopt;
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(
      argc, argv,
      "tern-gen-checkpoint: write a BitNet checkpoint folder (config.json, model.safetensors, "
      "tokenizer.json, tokenizer_config.json) in a published layout, or its weights as one GGUF "
      "file (model.gguf), with random ternary weights\n");
  auto error = [](const llvm::Twine &message) {
    llvm::WithColor::error(llvm::errs(), "tern-gen-checkpoint") << message << "\n";
    return 1;
  };

  CheckpointSpec spec = CheckpointSpec::defaults(format, preset);
  if (hiddenSize != -1) spec.hidden = hiddenSize;
  if (intermediateSize != -1) spec.intermediate = intermediateSize;
  if (layers != -1) spec.layers = layers;
  if (heads != -1) spec.heads = heads;
  if (kvHeads != -1) spec.kvHeads = kvHeads;
  if (vocabSize != -1) spec.vocab = vocabSize;
  if (maxPositions != -1) spec.maxPositions = maxPositions;
  if (ropeTheta != -1) spec.ropeTheta = ropeTheta;
  if (rmsNormEps != -1) spec.rmsNormEps = rmsNormEps;
  if (headDim != -1) {
    if (headDim <= 0)
      return error("--head-dim must be positive, found " + std::to_string(headDim));
    spec.headDimOverride = headDim;
  }
  if (!tie.empty()) {
    if (tie != "true" && tie != "false")
      return error("--tie-word-embeddings must be true or false, found '" + tie + "'");
    spec.tieWordEmbeddings = tie == "true";
  }
  if (linearClass.getNumOccurrences()) {
    if (spec.format == Format::OneBitLLM)
      return error("--linear-class applies to the bitnet quantization_config; 1bitllm has "
                   "none");
    spec.linearClass = linearClass;
  }
  if (inputBits.getNumOccurrences()) {
    if (inputBits < 2 || inputBits > 8)
      return error("--input-bits must be in [2, 8], found " + std::to_string(inputBits));
    spec.inputBits = inputBits;
  }
  if (scaleGroup.getNumOccurrences()) {
    if (!spec.packed())
      return error("--scale-group applies to packed formats; " + formatName(spec.format) +
                   " stores latent weights");
    if (scaleGroup != 64 && scaleGroup != 128 && scaleGroup != 256)
      return error("--scale-group must be 64, 128 or 256, found " + std::to_string(scaleGroup));
    for (int64_t k : {spec.hidden, spec.intermediate, spec.heads * spec.headDim()})
      if (k % scaleGroup != 0)
        return error("--scale-group " + std::to_string(scaleGroup) + " does not divide K = " +
                     std::to_string(k) + " (hidden, intermediate and attention sizes must be "
                     "multiples of it)");
    spec.scaleGroup = scaleGroup;
    spec.rowScales = false;
  }
  if (rowScales) {
    if (!spec.packed())
      return error("--row-scales applies to packed formats; " + formatName(spec.format) +
                   " stores latent weights");
    if (scaleGroup.getNumOccurrences())
      return error("--row-scales and --scale-group are exclusive");
    spec.rowScales = true, spec.scaleGroup = 0;
  }
  if ((ggufArch.getNumOccurrences() || ggufEmbedding.getNumOccurrences()) && !spec.gguf())
    return error("--gguf-arch and --gguf-embedding apply to the gguf-* formats");
  spec.ggufArch = ggufArch;
  spec.ggufEmbedding = ggufEmbedding;
  spec.seed = seed;
  spec.values = values;
  spec.tokenizerPath = tokenizer;
  if (tokenizerKind != "byte-level" && tokenizerKind != "metaspace")
    return error("--tokenizer-kind must be byte-level or metaspace, found '" + tokenizerKind +
                 "'");
  if (tokenizerKind.getNumOccurrences() && !tokenizer.empty())
    return error("--tokenizer-kind and --tokenizer are exclusive (a given tokenizer.json has "
                 "its kind)");
  // 1bitLLM's checkpoints carry Llama 2's SentencePiece tokenizer: its kind by default.
  spec.metaspaceTokenizer =
      tokenizerKind.getNumOccurrences()
          ? tokenizerKind == "metaspace"
          : tokenizer.empty() && spec.format == Format::OneBitLLM;
  spec.chatTemplatePath = chatTemplate;
  if (ropeScaling != "none" && ropeScaling != "linear" && ropeScaling != "llama3")
    return error("--rope-scaling must be none, linear or llama3, found '" + ropeScaling + "'");
  if ((ropeScaling != "none" || ropeParameters) && spec.gguf())
    return error("--rope-scaling and --rope-parameters apply to the checkpoint formats");
  spec.ropeScaling = ropeScaling == "none" ? "" : ropeScaling.getValue();
  spec.ropeParameters = ropeParameters;
  if (ropeOriginalPositions.getNumOccurrences() && ropeScaling != "llama3")
    return error("--rope-original-positions applies to --rope-scaling=llama3");
  if (ropeOriginalPositions <= 0)
    return error("--rope-original-positions must be positive");
  spec.ropeOriginalPositions = ropeOriginalPositions;
  if (spec.metaspaceTokenizer && spec.gguf())
    return error("--tokenizer-kind=metaspace applies to the checkpoint formats (the gguf-* "
                 "formats write byte-level tokenizers only)");
  std::optional<uint64_t> shard = parseSize(shardSize);
  if (!shard || *shard == 0)
    return error("--shard-size must be a positive size such as 500MB or 2GB, found '" +
                 shardSize + "'");
  spec.shardBytes = *shard;

  WriteProgress progress;
  int lastPercent = -10;
  uint64_t written = 0;
  progress.onBytes = [&](uint64_t done, uint64_t total) {
      written = total;
      int percent = total ? int(100 * done / total) : 100;
      // Progress only where writing takes a while (above 100 MB).
      if (!quiet && total >= 100000000 && (percent >= lastPercent + 10 || done == total)) {
        llvm::errs() << llvm::formatv("tern-gen-checkpoint: {0} {1} {2}: {3,3}% of {4:f1} MB\n",
                                      formatName(spec.format), presetName(spec.preset),
                                      outputDir.getValue(), percent, double(total) / 1e6);
        lastPercent = percent;
      }
    };
  if (llvm::Error e = writeCheckpoint(spec, outputDir, progress))
    return error(llvm::toString(std::move(e)));
  if (!quiet)
    llvm::errs() << llvm::formatv("tern-gen-checkpoint: wrote {0} ({1}, {2}, {3:f1} MB of "
                                  "tensors)\n",
                                  outputDir.getValue(), formatName(spec.format),
                                  presetName(spec.preset), double(written) / 1e6);
  return 0;
}
