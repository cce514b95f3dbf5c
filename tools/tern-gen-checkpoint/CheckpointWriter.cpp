//===- CheckpointWriter.cpp - writes a checkpoint folder in a published layout ----------------===//
//
// Every tensor is generated from its own random stream (seeded by the run's seed and the tensor
// name), so the bytes do not depend on the order of writing or on sharding.
//
//===------------------------------------------------------------------------------------------===//
#include "tools/tern-gen-checkpoint/CheckpointWriter.h"

#include "tools/tern-gen-checkpoint/TokenizerGen.h"

#include "frontends/hf/SafetensorsWriter.h"

#include "dialects/weights/DType.h"
#include "dialects/weights/TernaryCodec.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cmath>
#include <cstring>

using namespace tern;
using namespace tern::gen;
using tern::hf::TensorToWrite;

namespace {

/// SplitMix64: small, fast, and good enough for synthetic weights.
struct Random {
  uint64_t state;
  Random(uint64_t seed, llvm::StringRef name) {
    uint64_t h = 0xcbf29ce484222325ull; // FNV-1a of the tensor name
    for (unsigned char c : name)
      h = (h ^ c) * 0x100000001b3ull;
    state = h ^ (seed * 0x9e3779b97f4a7c15ull);
  }
  uint64_t next() {
    uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  /// Approximately standard normal: the sum of four 16-bit uniforms, rescaled.
  float normal() {
    uint64_t r = next();
    float s = 0;
    for (int i = 0; i < 4; ++i)
      s += float((r >> (16 * i)) & 0xffff) / 65536.0f;
    return (s - 2.0f) * 1.7320508f;
  }
  float uniform() { return float(next() >> 40) / float(1 << 24); }
};

void storeFloat(DType dtype, float v, uint8_t *out) {
  if (dtype == DType::F32) {
    std::memcpy(out, &v, 4);
  } else {
    uint16_t h = dtype == DType::BF16 ? floatToBF16(v) : floatToHalf(v);
    std::memcpy(out, &h, 2);
  }
}

/// The ternary value of weight [n, k] in --values=ramp.
int8_t rampValue(int64_t n, int64_t k) { return int8_t((n + 2 * k) % 3 - 1); }

class TensorFactory {
public:
  explicit TensorFactory(const CheckpointSpec &spec) : spec(spec) {}

  TensorToWrite floats(const std::string &name, DType dtype, std::vector<int64_t> shape,
                       float mean, float spread, bool normal) {
    TensorToWrite t{name, dtype, {shape.begin(), shape.end()}, {}};
    uint64_t seed = spec.seed;
    t.fill = [=](llvm::MutableArrayRef<uint8_t> out) {
      Random r(seed, name);
      unsigned size = dtypeSize(dtype);
      for (size_t i = 0; i < out.size() / size; ++i) {
        float v = normal ? mean + spread * r.normal() : mean + spread * (2 * r.uniform() - 1);
        storeFloat(dtype, v, out.data() + i * size);
      }
    };
    return t;
  }

  /// U8 [rows/4, cols], Hugging Face's block-wise packing.
  TensorToWrite packedTernary(const std::string &name, int64_t rows, int64_t cols) {
    TensorToWrite t{name, DType::U8, {rows / 4, cols}, {}};
    uint64_t seed = spec.seed;
    bool ramp = spec.values == Values::Ramp;
    t.fill = [=](llvm::MutableArrayRef<uint8_t> out) {
      if (ramp) {
        std::vector<int8_t> values(size_t(rows * cols));
        for (int64_t n = 0; n < rows; ++n)
          for (int64_t k = 0; k < cols; ++k)
            values[n * cols + k] = rampValue(n, k);
        encodeHFPacked(values.data(), rows, cols, out.data());
        return;
      }
      // Each byte holds four independent codes; 8 random bits per code give
      // P(-1) = P(+1) = 83/256 and P(0) = 90/256.
      Random r(seed, name);
      for (uint8_t &byte : out) {
        uint64_t bits = r.next();
        uint8_t packed = 0;
        for (int b = 0; b < 4; ++b) {
          unsigned v = (bits >> (8 * b)) & 0xff;
          packed |= uint8_t((v < 83 ? 0 : v < 173 ? 1 : 2) << (2 * b));
        }
        byte = packed;
      }
    };
    return t;
  }

  /// F16 or BF16 [rows, cols] master weights that ternarize to a random (or ramp) matrix.
  TensorToWrite latentTernary(const std::string &name, DType dtype, int64_t rows, int64_t cols) {
    TensorToWrite t{name, dtype, {rows, cols}, {}};
    uint64_t seed = spec.seed;
    bool ramp = spec.values == Values::Ramp;
    // A spread that keeps the layer's output of order 1: y = acc * mean|W| with
    // mean|W| ~ 0.8 std and acc ~ sqrt(0.65 K).
    float spread = 1.25f / std::sqrt(0.65f * float(cols));
    t.fill = [=](llvm::MutableArrayRef<uint8_t> out) {
      Random r(seed, name);
      for (int64_t n = 0; n < rows; ++n)
        for (int64_t k = 0; k < cols; ++k) {
          // Ramp: |W| is 0.03 or 0, so mean|W| = 0.02 and W * sw is 0 or +-1.5 -> +-1.
          float v = ramp ? 0.03f * rampValue(n, k) : spread * r.normal();
          storeFloat(dtype, v, out.data() + 2 * (n * cols + k));
        }
    };
    return t;
  }

  /// F16 [rows, cols] weights that are ternary times a scale per `group` columns (Ternary-
  /// Bonsai's unpacked form): random codes as packedTernary draws them (or the ramp), each
  /// group's scale around 1 / sqrt(0.65 K), rounded to F16 first so every weight is exactly
  /// -s, 0 or +s.
  TensorToWrite groupTernaryFloats(const std::string &name, int64_t rows, int64_t cols,
                                   int64_t group) {
    TensorToWrite t{name, DType::F16, {rows, cols}, {}};
    uint64_t seed = spec.seed;
    bool ramp = spec.values == Values::Ramp;
    float mean = 1.0f / std::sqrt(0.65f * float(cols));
    t.fill = [=](llvm::MutableArrayRef<uint8_t> out) {
      Random codes(seed, name), scales(seed, name + ":scale");
      for (int64_t n = 0; n < rows; ++n)
        for (int64_t g = 0; g < cols / group; ++g) {
          float s = halfToFloat(floatToHalf(mean * (0.8f + 0.4f * scales.uniform())));
          for (int64_t k = g * group; k < (g + 1) * group; ++k) {
            unsigned v = codes.next() & 0xff;
            int w = ramp ? rampValue(n, k) : v < 83 ? -1 : v < 173 ? 0 : 1;
            storeFloat(DType::F16, float(w) * s, out.data() + 2 * (n * cols + k));
          }
        }
    };
    return t;
  }

private:
  const CheckpointSpec &spec;
};

} // namespace

std::vector<TensorToWrite> tern::gen::checkpointTensors(const CheckpointSpec &s) {
  TensorFactory f(s);
  std::vector<TensorToWrite> out;
  DType floatType =
      s.format == Format::OneBitLLM || s.format == Format::Bonsai ? DType::F16 : DType::BF16;
  bool embedding = s.format == Format::BitNetEmbedding;
  // Qwen3Model saved alone names its tensors without "model.".
  std::string root = embedding ? "" : "model.";
  int64_t h = s.hidden, i = s.intermediate, q = s.heads * s.headDim();
  int64_t kv = s.kvHeads * s.headDim();
  // Embedding rows with norm ~2 keep the tied head's logits of order 1.
  float embedStd = 2.0f / std::sqrt(float(h));
  out.push_back(f.floats(root + "embed_tokens.weight", floatType, {s.vocab, h}, 0, embedStd, true));
  out.push_back(f.floats(root + "norm.weight", floatType, {h}, 1.0f, 0.25f, false));
  if (!s.tieWordEmbeddings && !embedding)
    out.push_back(f.floats("lm_head.weight", floatType, {s.vocab, h}, 0, embedStd, true));
  bool multiply = s.linearClass == "autobitlinear";
  for (int64_t l = 0; l < s.layers; ++l) {
    std::string p = root + "layers." + std::to_string(l) + ".";
    out.push_back(f.floats(p + "input_layernorm.weight", floatType, {h}, 1.0f, 0.25f, false));
    out.push_back(
        f.floats(p + "post_attention_layernorm.weight", floatType, {h}, 1.0f, 0.25f, false));
    if (s.subNorms()) {
      bool oneBit = s.format == Format::OneBitLLM;
      out.push_back(f.floats(p + (oneBit ? "self_attn.inner_attn_ln.weight"
                                         : "self_attn.attn_sub_norm.weight"),
                             floatType, {h}, 1.0f, 0.25f, false));
      out.push_back(f.floats(p + (oneBit ? "mlp.ffn_layernorm.weight" : "mlp.ffn_sub_norm.weight"),
                             floatType, {i}, 1.0f, 0.25f, false));
    }
    if (s.format == Format::Bonsai || embedding) // Qwen3's RMSNorm of each head of q and k
      for (const char *norm : {"self_attn.q_norm.weight", "self_attn.k_norm.weight"})
        out.push_back(f.floats(p + norm, floatType, {s.headDim()}, 1.0f, 0.25f, false));
    struct Proj {
      const char *name;
      int64_t rows, cols;
    } projections[] = {{"self_attn.q_proj", q, h}, {"self_attn.k_proj", kv, h},
                       {"self_attn.v_proj", kv, h}, {"self_attn.o_proj", h, q},
                       {"mlp.gate_proj", i, h},     {"mlp.up_proj", i, h},
                       {"mlp.down_proj", h, i}};
    for (const Proj &pr : projections) {
      std::string name = p + pr.name + ".weight";
      if (s.format == Format::Bonsai) {
        out.push_back(f.groupTernaryFloats(name, pr.rows, pr.cols, s.scaleGroup));
        continue;
      }
      if (embedding) // BitLinear's own RMSNorm of its input
        out.push_back(f.floats(p + pr.name + ".norm.weight", floatType, {pr.cols}, 1.0f, 0.25f,
                               false));
      if (!s.packed()) {
        out.push_back(f.latentTernary(name, floatType, pr.rows, pr.cols));
        continue;
      }
      out.push_back(f.packedTernary(name, pr.rows, pr.cols));
      // A scale that keeps each projection's output of order 1: about 1 / sqrt(0.65 K) when it
      // multiplies, its inverse when it divides.
      float scale = 1.0f / std::sqrt(0.65f * float(pr.cols));
      float mean = multiply ? scale : 1.0f / scale;
      // Group-wise along K with --scale-group: [rows, cols / G], each group's scale drawn
      // around the same mean.
      std::vector<int64_t> scaleShape{1};
      if (s.scaleGroup)
        scaleShape = {pr.rows, pr.cols / s.scaleGroup};
      else if (s.rowScales)
        scaleShape = {pr.rows};
      out.push_back(f.floats(p + pr.name + ".weight_scale", DType::BF16, scaleShape, mean,
                             0.2f * mean, false));
    }
  }
  // The order the Python safetensors library writes: larger dtypes first, then by name.
  std::stable_sort(out.begin(), out.end(), [](const TensorToWrite &a, const TensorToWrite &b) {
    if (dtypeSize(a.dtype) != dtypeSize(b.dtype))
      return dtypeSize(a.dtype) > dtypeSize(b.dtype);
    return a.name < b.name;
  });
  return out;
}

namespace {

llvm::json::Object configJson(const CheckpointSpec &s) {
  llvm::json::Object c{{"hidden_size", s.hidden},
                       {"intermediate_size", s.intermediate},
                       {"num_hidden_layers", s.layers},
                       {"num_attention_heads", s.heads},
                       {"num_key_value_heads", s.kvHeads},
                       {"vocab_size", s.vocab},
                       {"max_position_embeddings", s.maxPositions},
                       {"rms_norm_eps", s.rmsNormEps},
                       {"rope_theta", s.ropeTheta},
                       {"tie_word_embeddings", s.tieWordEmbeddings},
                       {"initializer_range", 0.02},
                       {"attention_bias", false},
                       {"attention_dropout", 0.0},
                       {"use_cache", true}};
  if (s.bosTokenId && s.format != Format::Falcon3) // Falcon3-1B's config names no BOS
    c["bos_token_id"] = *s.bosTokenId;
  if (s.eosTokenId)
    c["eos_token_id"] = *s.eosTokenId;
  llvm::json::Object quant{{"quant_method", "bitnet"}};
  if (!s.linearClass.empty())
    quant["linear_class"] = s.linearClass;
  switch (s.format) {
  case Format::BitNet2B4T:
  case Format::BitNet2B4TBF16: // the same model, packed or as bf16 masters
    c["architectures"] = llvm::json::Array{"BitNetForCausalLM"};
    c["model_type"] = "bitnet";
    c["hidden_act"] = "relu2";
    c["torch_dtype"] = "bfloat16";
    quant["quantization_mode"] = s.packed() ? "offline" : "online";
    c["quantization_config"] = std::move(quant);
    break;
  case Format::OneBitLLM:
    c["architectures"] = llvm::json::Array{"BitnetForCausalLM"};
    c["model_type"] = "llama";
    c["hidden_act"] = "silu";
    c["torch_dtype"] = "float16";
    c["input_bits"] = 8;
    c["weight_bits"] = 1;
    break;
  case Format::BitNetEmbedding: // Qwen3 without a head, bf16 master weights
    c["architectures"] = llvm::json::Array{"Qwen3Model"};
    c["model_type"] = "qwen3";
    c["hidden_act"] = "silu";
    c["torch_dtype"] = "bfloat16";
    c["head_dim"] = s.headDim();
    break;
  case Format::Bonsai: // Qwen3 with ternary F16 weights and no quantization_config
    c["architectures"] = llvm::json::Array{"Qwen3ForCausalLM"};
    c["model_type"] = "qwen3";
    c["hidden_act"] = "silu";
    c["torch_dtype"] = "float16";
    c["head_dim"] = s.headDim();
    break;
  case Format::LlamaBitNet:
  case Format::Falcon3:
    c["architectures"] = llvm::json::Array{"LlamaForCausalLM"};
    if (s.format == Format::Falcon3 || s.headDimOverride)
      c["head_dim"] = s.headDim();
    c["model_type"] = "llama";
    c["hidden_act"] = "silu";
    c["torch_dtype"] = "bfloat16";
    quant["modules_to_not_convert"] = llvm::json::Array{"lm_head"};
    c["quantization_config"] = std::move(quant);
    break;
  default: // GGUF formats write no config.json
    break;
  }
  if (s.inputBits)
    c["input_bits"] = s.inputBits;
  llvm::json::Object rope;
  if (s.ropeScaling == "linear")
    rope = llvm::json::Object{{"rope_type", "linear"}, {"factor", 4.0}};
  else if (s.ropeScaling == "llama3")
    rope = llvm::json::Object{{"rope_type", "llama3"},
                              {"factor", 8.0},
                              {"low_freq_factor", 1.0},
                              {"high_freq_factor", 4.0},
                              {"original_max_position_embeddings", s.ropeOriginalPositions}};
  if (s.ropeParameters) {
    if (rope.empty())
      rope["rope_type"] = "default";
    rope["rope_theta"] = s.ropeTheta;
    c.erase("rope_theta");
    c["rope_parameters"] = std::move(rope);
  } else if (!rope.empty()) {
    c["rope_scaling"] = std::move(rope);
  }
  return c;
}

llvm::Error writeText(llvm::StringRef dir, llvm::StringRef file, llvm::StringRef text) {
  llvm::SmallString<256> path(dir);
  llvm::sys::path::append(path, file);
  std::error_code ec;
  llvm::raw_fd_ostream out(path, ec);
  if (ec)
    return llvm::createStringError(ec, "%s: cannot write: %s", path.c_str(),
                                   ec.message().c_str());
  out << text;
  return llvm::Error::success();
}

} // namespace

/// tokenizer_config.json's chat_template replaced by the file at `path` ("none": removed).
static llvm::Error replaceChatTemplate(Tokenizer &tokenizer, llvm::StringRef path) {
  llvm::Expected<llvm::json::Value> config = llvm::json::parse(tokenizer.tokenizerConfigJson);
  if (!config)
    return config.takeError();
  llvm::json::Object *o = config->getAsObject();
  if (!o)
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "tokenizer_config.json: expected an object");
  if (path == "none") {
    o->erase("chat_template");
  } else {
    auto text = llvm::MemoryBuffer::getFile(path, /*IsText=*/true);
    if (!text)
      return llvm::createStringError(text.getError(), "--chat-template=%s: cannot read: %s",
                                     path.str().c_str(), text.getError().message().c_str());
    (*o)["chat_template"] = (*text)->getBuffer().str();
  }
  std::string json;
  llvm::raw_string_ostream(json) << llvm::formatv("{0:2}\n", llvm::json::Value(std::move(*o)));
  tokenizer.tokenizerConfigJson = std::move(json);
  return llvm::Error::success();
}

llvm::Expected<Tokenizer> tern::gen::resolveTokenizer(CheckpointSpec &spec) {
  // The tokenizer decides the vocabulary of the tiny preset and the special token ids.
  Tokenizer tokenizer;
  if (!spec.tokenizerPath.empty()) {
    llvm::Expected<Tokenizer> t = readTokenizer(spec.tokenizerPath);
    if (!t)
      return t.takeError();
    tokenizer = std::move(*t);
    llvm::SmallString<256> siblingConfig(llvm::sys::path::parent_path(spec.tokenizerPath));
    llvm::sys::path::append(siblingConfig, "tokenizer_config.json");
    if (auto text = llvm::MemoryBuffer::getFile(siblingConfig, /*IsText=*/true))
      tokenizer.tokenizerConfigJson = (*text)->getBuffer().str();
    else
      tokenizer.tokenizerConfigJson = generateTokenizer(0, false, spec.maxPositions)
                                          .tokenizerConfigJson;
  } else if (spec.metaspaceTokenizer) {
    tokenizer = generateMetaspaceTokenizer(246, spec.maxPositions);
  } else {
    tokenizer = generateTokenizer(246, spec.vocab >= 128256, spec.maxPositions);
  }
  if (!spec.chatTemplatePath.empty())
    if (llvm::Error e = replaceChatTemplate(tokenizer, spec.chatTemplatePath))
      return std::move(e);
  if (spec.vocab == 0)
    spec.vocab = tokenizer.size;
  if (spec.vocab < tokenizer.size)
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "--vocab-size %lld is smaller than the tokenizer (%lld tokens)",
                                   (long long)spec.vocab, (long long)tokenizer.size);
  if (!spec.bosTokenId)
    spec.bosTokenId = tokenizer.bos;
  if (!spec.eosTokenId)
    spec.eosTokenId = tokenizer.eos;
  if (llvm::Error e = spec.validate())
    return std::move(e);
  return tokenizer;
}

llvm::Error tern::gen::writeCheckpoint(CheckpointSpec spec, llvm::StringRef dir,
                                       const WriteProgress &progress) {
  if (std::error_code ec = llvm::sys::fs::create_directories(dir))
    return llvm::createStringError(ec, "%s: cannot create: %s", dir.str().c_str(),
                                   ec.message().c_str());
  llvm::Expected<Tokenizer> resolved = resolveTokenizer(spec);
  if (!resolved)
    return resolved.takeError();
  Tokenizer &tokenizer = *resolved;
  if (spec.gguf()) {
    llvm::SmallString<256> path(dir);
    llvm::sys::path::append(path, "model.gguf");
    return writeGgufModel(spec, tokenizer, path, progress);
  }

  std::string config;
  llvm::raw_string_ostream(config) << llvm::formatv("{0:2}\n", llvm::json::Value(configJson(spec)));
  if (llvm::Error e = writeText(dir, "config.json", config))
    return e;
  if (llvm::Error e = writeText(dir, "tokenizer.json", tokenizer.tokenizerJson))
    return e;
  if (llvm::Error e = writeText(dir, "tokenizer_config.json", tokenizer.tokenizerConfigJson))
    return e;
  if (spec.format == Format::BitNetEmbedding) {
    // sentence-transformers' description of the pooling: the last token, normalized.
    if (llvm::Error e = writeText(
            dir, "modules.json",
            "[\n  {\"idx\": 0, \"name\": \"0\", \"path\": \"\", \"type\": "
            "\"sentence_transformers.models.Transformer\"},\n  {\"idx\": 1, \"name\": "
            "\"1\", \"path\": \"1_Pooling\", \"type\": "
            "\"sentence_transformers.models.Pooling\"},\n  {\"idx\": 2, \"name\": \"2\", "
            "\"path\": \"2_Normalize\", \"type\": "
            "\"sentence_transformers.models.Normalize\"}\n]\n"))
      return e;
    llvm::SmallString<256> pooling(dir);
    llvm::sys::path::append(pooling, "1_Pooling");
    if (std::error_code ec = llvm::sys::fs::create_directories(pooling))
      return llvm::createStringError(ec, "%s: cannot create: %s", pooling.c_str(),
                                     ec.message().c_str());
    if (llvm::Error e = writeText(
            pooling, "config.json",
            llvm::formatv("{{\n  \"word_embedding_dimension\": {0},\n  "
                          "\"pooling_mode_cls_token\": false,\n  \"pooling_mode_mean_tokens\": "
                          "false,\n  \"pooling_mode_max_tokens\": false,\n  "
                          "\"pooling_mode_mean_sqrt_len_tokens\": false,\n  "
                          "\"pooling_mode_weightedmean_tokens\": false,\n  "
                          "\"pooling_mode_lasttoken\": true,\n  \"include_prompt\": true\n}\n",
                          spec.hidden)
                .str()))
      return e;
  }

  // Shards: fill each up to spec.shardBytes (at least one tensor per shard).
  std::vector<TensorToWrite> tensors = checkpointTensors(spec);
  std::vector<std::vector<TensorToWrite>> shards(1);
  uint64_t shardSize = 0, total = 0;
  for (TensorToWrite &t : tensors) {
    uint64_t size = t.byteSize();
    if (!shards.back().empty() && shardSize + size > spec.shardBytes) {
      shards.emplace_back();
      shardSize = 0;
    }
    shardSize += size;
    total += size;
    shards.back().push_back(std::move(t));
  }
  uint64_t done = 0;
  llvm::json::Object weightMap;
  for (size_t i = 0; i < shards.size(); ++i) {
    std::string file = shards.size() == 1
                           ? std::string("model.safetensors")
                           : llvm::formatv("model-{0:d5}-of-{1:d5}.safetensors", i + 1,
                                           shards.size())
                                 .str();
    llvm::SmallString<256> path(dir);
    llvm::sys::path::append(path, file);
    uint64_t before = done;
    if (llvm::Error e = hf::writeSafetensors(path, shards[i], {{"format", "pt"}},
                                             [&](uint64_t bytes) {
                                               done = before + bytes;
                                               if (progress.onBytes)
                                                 progress.onBytes(done, total);
                                             }))
      return e;
    for (const TensorToWrite &t : shards[i])
      weightMap[t.name] = file;
  }
  if (shards.size() > 1) {
    llvm::json::Object index{{"metadata", llvm::json::Object{{"total_size", int64_t(total)}}},
                             {"weight_map", std::move(weightMap)}};
    std::string text;
    llvm::raw_string_ostream(text) << llvm::formatv("{0:2}\n", llvm::json::Value(std::move(index)));
    if (llvm::Error e = writeText(dir, "model.safetensors.index.json", text))
      return e;
  }
  return llvm::Error::success();
}
