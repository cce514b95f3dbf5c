//===- GgufModelWriter.cpp - a generated checkpoint as one GGUF file --------------------------===//
//
// The same weights as the Hugging Face 2B4T layout (checkpointTensors), laid out as llama.cpp's
// and bitnet.cpp's converters write them: llama.cpp's tensor names and metadata keys, F32 norms,
// the embedding table in the chosen type, every projection in one ternary type with the
// checkpoint's weight_scale as its block, row or tensor scale (weight = code * d), and the
// tokenizer in tokenizer.ggml.* (normal tokens in GPT-2's byte-level text, added tokens raw).
//
//===------------------------------------------------------------------------------------------===//
#include "tools/tern-gen-checkpoint/CheckpointWriter.h"

#include "frontends/gguf/GgufWriter.h"
#include "frontends/gguf/TernaryBlocks.h"

#include "dialects/weights/TernaryCodec.h"

#include "tern/head_q6.h"
#include "tern/head_q8.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"

#include <cmath>
#include <cstring>
#include <map>

using namespace tern;
using namespace tern::gen;
using namespace tern::gguf;
using tern::hf::TensorToWrite;

namespace {

llvm::Error fail(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

std::optional<GgmlType> projectionType(Format f) {
  switch (f) {
  case Format::GgufI2_S: return GgmlType::I2_S;
  case Format::GgufTQ1_0: return GgmlType::TQ1_0;
  case Format::GgufTQ2_0: return GgmlType::TQ2_0;
  case Format::GgufQ2_0: return GgmlType::Q2_0;
  case Format::GgufIQ1_BN: return GgmlType::IQ1_BN;
  case Format::GgufIQ2_BN: return GgmlType::IQ2_BN;
  case Format::GgufF16: return GgmlType::F16;
  case Format::GgufBF16: return GgmlType::BF16;
  default: return std::nullopt;
  }
}

std::optional<GgmlType> embeddingType(llvm::StringRef name) {
  for (GgmlType t : {GgmlType::F32, GgmlType::F16, GgmlType::BF16, GgmlType::Q8_0,
                     GgmlType::Q6_K, GgmlType::Q4_0})
    if (name.equals_insensitive(typeName(t)))
      return t;
  return std::nullopt;
}

/// The HF tensors by name, generated on demand.
class Source {
public:
  explicit Source(std::vector<TensorToWrite> tensors) {
    for (TensorToWrite &t : tensors)
      byName[t.name] = std::move(t);
  }
  const TensorToWrite *find(llvm::StringRef name) const {
    auto it = byName.find(name);
    return it == byName.end() ? nullptr : &it->second;
  }
  std::vector<uint8_t> bytes(llvm::StringRef name) const {
    const TensorToWrite &t = byName.find(name)->second;
    std::vector<uint8_t> out(t.byteSize());
    t.fill(out);
    return out;
  }
  std::vector<float> floats(llvm::StringRef name) const {
    const TensorToWrite &t = byName.find(name)->second;
    std::vector<uint8_t> raw = bytes(name);
    std::vector<float> out(raw.size() / dtypeSize(t.dtype));
    for (size_t i = 0; i < out.size(); ++i)
      out[i] = loadFloat(t.dtype, raw.data(), int64_t(i));
    return out;
  }

private:
  llvm::StringMap<TensorToWrite> byName;
};

void storeAs(GgmlType type, const std::vector<float> &values, llvm::MutableArrayRef<uint8_t> out) {
  for (size_t i = 0; i < values.size(); ++i) {
    if (type == GgmlType::F32) {
      std::memcpy(out.data() + 4 * i, &values[i], 4);
    } else {
      uint16_t h = type == GgmlType::F16 ? floatToHalf(values[i]) : floatToBF16(values[i]);
      std::memcpy(out.data() + 2 * i, &h, 2);
    }
  }
}

/// ggml's quantize_row_q4_0_ref: per 32, d = (the value of largest magnitude) / -8,
/// q = min(15, (int8)(x / d + 8.5)).
void quantizeQ4_0(const float *x, int64_t count, uint8_t *out) {
  for (int64_t b = 0; b < count / 32; ++b) {
    const float *v = x + 32 * b;
    float amax = 0, max = 0;
    for (int j = 0; j < 32; ++j)
      if (std::fabs(v[j]) > amax)
        amax = std::fabs(v[j]), max = v[j];
    float d = max / -8, id = d != 0 ? 1.0f / d : 0.0f;
    uint8_t *o = out + 18 * b;
    uint16_t h = floatToHalf(d);
    o[0] = uint8_t(h), o[1] = uint8_t(h >> 8);
    for (int j = 0; j < 16; ++j) {
      uint8_t lo = uint8_t(std::min(15, int(int8_t(v[j] * id + 8.5f))));
      uint8_t hi = uint8_t(std::min(15, int(int8_t(v[16 + j] * id + 8.5f))));
      o[2 + j] = uint8_t(lo | (hi << 4));
    }
  }
}

/// The embedding (or head) table [rows, cols] in `type`: float types converted, Q8_0 and Q6_K
/// with tern's head quantizers (whose numbers are those formats'), so a binary compiled from the
/// checkpoint with --head=q8_0 / q6_k has the same numbers, Q4_0 with ggml's quantizer.
void encodeTable(GgmlType type, const std::vector<float> &w, int64_t rows, int64_t cols,
                 llvm::MutableArrayRef<uint8_t> out) {
  if (type == GgmlType::F32 || type == GgmlType::F16 || type == GgmlType::BF16)
    return storeAs(type, w, out);
  if (type == GgmlType::Q4_0)
    return quantizeQ4_0(w.data(), rows * cols, out.data());
  bool q8 = type == GgmlType::Q8_0;
  std::vector<uint8_t> packed(q8 ? tern_q8_0_size(rows, cols) : tern_q6_k_size(rows, cols));
  int64_t rowBytes = q8 ? cols / 32 * TERN_Q8_0_GGML_BLOCK_BYTES
                        : cols / 256 * TERN_Q6_K_GGML_BLOCK_BYTES;
  if (q8)
    tern_q8_0_pack(w.data(), rows, cols, packed.data());
  else
    tern_q6_k_pack(w.data(), rows, cols, packed.data());
  for (int64_t r = 0; r < rows; ++r) {
    if (q8)
      tern_q8_0_row_ggml(packed.data(), rows, cols, r, out.data() + r * rowBytes);
    else
      tern_q6_k_row_ggml(packed.data(), rows, cols, r, out.data() + r * rowBytes);
  }
}

/// tokenizer.ggml.* from a tokenizer.json and tokenizer_config.json, as convert_hf_to_gguf's
/// get_vocab_base and SpecialVocab write them.
llvm::Error addTokenizer(GgufWriter &w, const Tokenizer &tokenizer, const CheckpointSpec &spec) {
  llvm::Expected<llvm::json::Value> json = llvm::json::parse(tokenizer.tokenizerJson);
  if (!json)
    return json.takeError();
  const llvm::json::Object *root = json->getAsObject();
  const llvm::json::Object *model = root ? root->getObject("model") : nullptr;
  const llvm::json::Object *vocab = model ? model->getObject("vocab") : nullptr;
  const llvm::json::Array *merges = model ? model->getArray("merges") : nullptr;
  if (!vocab || !merges)
    return fail("the tokenizer has no model.vocab or model.merges");
  std::vector<std::string> tokens(size_t(spec.vocab));
  std::vector<int32_t> types(size_t(spec.vocab), 5); // UNUSED: [PAD{i}]
  for (int64_t i = 0; i < spec.vocab; ++i)
    tokens[size_t(i)] = llvm::formatv("[PAD{0}]", i).str();
  for (const auto &[text, id] : *vocab)
    if (std::optional<int64_t> i = id.getAsInteger(); i && *i >= 0 && *i < spec.vocab)
      tokens[size_t(*i)] = text.str(), types[size_t(*i)] = 1; // NORMAL, byte-level text
  if (const llvm::json::Array *added = root->getArray("added_tokens"))
    for (const llvm::json::Value &a : *added)
      if (const llvm::json::Object *o = a.getAsObject()) {
        std::optional<int64_t> id = o->getInteger("id");
        std::optional<llvm::StringRef> content = o->getString("content");
        if (id && content && *id >= 0 && *id < spec.vocab) {
          tokens[size_t(*id)] = content->str();
          types[size_t(*id)] = o->getBoolean("special").value_or(false) ? 3 : 4;
        }
      }
  std::vector<std::string> mergeStrings;
  for (const llvm::json::Value &m : *merges) {
    if (std::optional<llvm::StringRef> s = m.getAsString())
      mergeStrings.push_back(s->str());
    else if (const llvm::json::Array *pair = m.getAsArray(); pair && pair->size() == 2)
      mergeStrings.push_back(((*pair)[0].getAsString().value_or("") + " " +
                              (*pair)[1].getAsString().value_or(""))
                                 .str());
  }
  w.addString("tokenizer.ggml.model", "gpt2");
  w.addString("tokenizer.ggml.pre", "llama-bpe");
  w.addStrings("tokenizer.ggml.tokens", tokens);
  w.addI32s("tokenizer.ggml.token_type", types);
  w.addStrings("tokenizer.ggml.merges", mergeStrings);
  w.addU32("tokenizer.ggml.bos_token_id", uint32_t(spec.bosTokenId.value_or(0)));
  w.addU32("tokenizer.ggml.eos_token_id", uint32_t(spec.eosTokenId.value_or(0)));
  w.addBool("tokenizer.ggml.add_bos_token", true);
  if (llvm::Expected<llvm::json::Value> config = llvm::json::parse(tokenizer.tokenizerConfigJson))
    if (const llvm::json::Object *c = config->getAsObject())
      if (std::optional<llvm::StringRef> chat = c->getString("chat_template"))
        w.addString("tokenizer.chat_template", *chat);
  return llvm::Error::success();
}

} // namespace

llvm::Error tern::gen::writeGgufModel(const CheckpointSpec &spec, const Tokenizer &tokenizer,
                                      llvm::StringRef path, const WriteProgress &progress) {
  GgmlType projection = *projectionType(spec.format);
  std::optional<GgmlType> embedding = embeddingType(spec.ggufEmbedding);
  if (!embedding)
    return fail("--gguf-embedding must be f32, f16, bf16, q8_0, q6_k or q4_0, found '" +
                spec.ggufEmbedding + "'");
  if (spec.ggufArch != "bitnet-b1.58" && spec.ggufArch != "bitnet-25" && spec.ggufArch != "bitnet")
    return fail("--gguf-arch must be bitnet-b1.58, bitnet-25 or bitnet, found '" + spec.ggufArch +
                "'");
  if (spec.linearClass != "autobitlinear")
    return fail("GGUF stores weight = code * scale: write it from an autobitlinear checkpoint "
                "(--linear-class=autobitlinear)");
  if (!spec.tieWordEmbeddings && spec.ggufArch == "bitnet")
    return fail("llama.cpp's bitnet architecture always uses the embedding table as the head: "
                "--tie-word-embeddings=false needs --gguf-arch=bitnet-b1.58 or bitnet-25");
  int64_t h = spec.hidden, i = spec.intermediate, q = spec.heads * spec.headDim();
  int64_t kv = spec.kvHeads * spec.headDim();
  const GgmlTypeInfo &pinfo = typeInfo(projection), &einfo = typeInfo(*embedding);
  for (int64_t k : {h, i, q})
    if (k % pinfo.blockElems)
      return fail(llvm::formatv("{0} stores rows in blocks of {1}: K = {2} (hidden, intermediate "
                                "and attention sizes) is not a multiple",
                                pinfo.name, pinfo.blockElems, k));
  if (h % einfo.blockElems)
    return fail(llvm::formatv("--gguf-embedding={0} stores rows in blocks of {1}: the hidden size "
                              "{2} is not a multiple",
                              einfo.name, einfo.blockElems, h));

  auto source = std::make_shared<Source>(checkpointTensors(spec));
  GgufWriter w;
  const std::string a = spec.ggufArch + ".";
  w.addString("general.architecture", spec.ggufArch);
  w.addString("general.name", ("tern-gen-checkpoint " + formatName(spec.format) + " " +
                               presetName(spec.preset))
                                  .str());
  w.addU32("general.quantization_version", 2);
  w.addU32(a + "vocab_size", uint32_t(spec.vocab));
  w.addU32(a + "context_length", uint32_t(spec.maxPositions));
  w.addU32(a + "embedding_length", uint32_t(h));
  w.addU32(a + "block_count", uint32_t(spec.layers));
  w.addU32(a + "feed_forward_length", uint32_t(i));
  w.addU32(a + "rope.dimension_count", uint32_t(spec.headDim()));
  w.addU32(a + "attention.head_count", uint32_t(spec.heads));
  w.addU32(a + "attention.head_count_kv", uint32_t(spec.kvHeads));
  w.addF32(a + "attention.layer_norm_rms_epsilon", float(spec.rmsNormEps));
  w.addF32(a + "rope.freq_base", float(spec.ropeTheta));
  if (llvm::Error e = addTokenizer(w, tokenizer, spec))
    return e;

  auto table = [&](const std::string &hfName, const std::string &name) {
    int64_t rows = spec.vocab;
    w.addTensor(name, {h, rows}, einfo.id, *tensorBytes(einfo, h, rows),
                [source, hfName, type = *embedding, rows, h](llvm::MutableArrayRef<uint8_t> out) {
                  encodeTable(type, source->floats(hfName), rows, h, out);
                });
  };
  auto norm = [&](const std::string &hfName, const std::string &name, int64_t n) {
    w.addTensor(name, {n}, 0, uint64_t(4 * n), [source, hfName](llvm::MutableArrayRef<uint8_t> out) {
      storeAs(GgmlType::F32, source->floats(hfName), out);
    });
  };
  auto linear = [&](const std::string &hfName, const std::string &name, int64_t rows,
                    int64_t cols) {
    w.addTensor(name, {cols, rows}, pinfo.id, *tensorBytes(pinfo, cols, rows),
                [source, hfName, name, projection, rows, cols](llvm::MutableArrayRef<uint8_t> out) {
                  std::vector<int8_t> codes(size_t(rows * cols));
                  decodeHFPacked(source->bytes(hfName).data(), rows, cols, codes.data());
                  std::string scaleName =
                      llvm::StringRef(hfName).drop_back(strlen("weight")).str() + "weight_scale";
                  std::vector<float> s = source->floats(scaleName);
                  // The checkpoint's scale of weight [r, c]: per tensor, per row or per group.
                  int64_t per = int64_t(s.size()) / rows, group = per ? cols / per : 0;
                  auto scaleAt = [&](int64_t r, int64_t c) {
                    return s.size() == 1 ? s[0] : s.size() == size_t(rows) ? s[size_t(r)]
                                                                          : s[size_t(r * per + c / group)];
                  };
                  if (projection == GgmlType::F16 || projection == GgmlType::BF16) {
                    std::vector<float> values(size_t(rows * cols));
                    for (int64_t r = 0; r < rows; ++r)
                      for (int64_t c = 0; c < cols; ++c)
                        values[size_t(r * cols + c)] = float(codes[size_t(r * cols + c)]) * scaleAt(r, c);
                    return storeAs(projection, values, out);
                  }
                  int64_t block = scaleBlockCols(projection, cols);
                  std::vector<float> scales;
                  if (block == 0) { // one scale: the checkpoint's must be one too
                    scales = {scaleAt(0, 0)};
                  } else {
                    for (int64_t r = 0; r < rows; ++r)
                      for (int64_t c = 0; c < cols; c += block)
                        scales.push_back(scaleAt(r, c));
                  }
                  std::vector<uint8_t> bytes =
                      encodeTernary(projection, codes.data(), scales.data(), rows, cols);
                  std::memcpy(out.data(), bytes.data(), out.size());
                });
  };
  // A checkpoint scale as coarse as the type's or coarser is repeated into it; a finer one
  // cannot be stored. Float projections hold any scale.
  bool floats = projection == GgmlType::F16 || projection == GgmlType::BF16;
  int64_t typeBlock = scaleBlockCols(projection, 0); // 0: per tensor (I2_S) or per row (BN)
  bool perRowType = projection == GgmlType::IQ1_BN || projection == GgmlType::IQ2_BN;
  bool fits = floats || (!spec.scaleGroup && !spec.rowScales) ||
              (spec.rowScales && projection != GgmlType::I2_S) ||
              (spec.scaleGroup && typeBlock > 0 && spec.scaleGroup % typeBlock == 0);
  if (!fits)
    return fail(llvm::formatv("{0} cannot hold the checkpoint's weight scales ({1}); its scales "
                              "are {2}",
                              pinfo.name,
                              spec.rowScales ? std::string("per row")
                                             : llvm::formatv("per {0} columns", spec.scaleGroup)
                                                   .str(),
                              projection == GgmlType::I2_S ? std::string("one per tensor")
                              : perRowType                 ? std::string("per row")
                                                           : llvm::formatv("per {0} columns",
                                                                           typeBlock)
                                                                 .str()));

  table("model.embed_tokens.weight", "token_embd.weight");
  norm("model.norm.weight", "output_norm.weight", h);
  if (!spec.tieWordEmbeddings)
    table("lm_head.weight", "output.weight");
  for (int64_t l = 0; l < spec.layers; ++l) {
    std::string p = "model.layers." + std::to_string(l) + ".";
    std::string b = "blk." + std::to_string(l) + ".";
    norm(p + "input_layernorm.weight", b + "attn_norm.weight", h);
    linear(p + "self_attn.q_proj.weight", b + "attn_q.weight", q, h);
    linear(p + "self_attn.k_proj.weight", b + "attn_k.weight", kv, h);
    linear(p + "self_attn.v_proj.weight", b + "attn_v.weight", kv, h);
    linear(p + "self_attn.o_proj.weight", b + "attn_output.weight", h, q);
    norm(p + "self_attn.attn_sub_norm.weight", b + "attn_sub_norm.weight", h);
    norm(p + "post_attention_layernorm.weight", b + "ffn_norm.weight", h);
    linear(p + "mlp.gate_proj.weight", b + "ffn_gate.weight", i, h);
    linear(p + "mlp.up_proj.weight", b + "ffn_up.weight", i, h);
    linear(p + "mlp.down_proj.weight", b + "ffn_down.weight", h, i);
    norm(p + "mlp.ffn_sub_norm.weight", b + "ffn_sub_norm.weight", i);
  }
  uint64_t total = w.tensorBytes();
  return w.write(path, [&](uint64_t done) {
    if (progress.onBytes)
      progress.onBytes(done, total);
  });
}
