//===- HFImporter.cpp - Hugging Face BitNet checkpoints to tern IR ----------------------------===//
//
// Maps the roles of the shared decoder (frontends/common/DecoderBuilder.h) to the tensor names of
// each checkpoint family, checks each tensor's dtype and shape before it enters the store, and
// decodes or ternarizes the linear weights.
//
//===------------------------------------------------------------------------------------------===//
#include "frontends/hf/HFImporter.h"

#include "frontends/common/DecoderBuilder.h"
#include "frontends/common/TernaryScales.h"
#include "frontends/hf/Checkpoint.h"

#include "dialects/tern/TernDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"

#include "llvm/ADT/StringSet.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <algorithm>
#include <cmath>
#include <cstring>

using namespace mlir;
using namespace mlir::tern;
using namespace ::tern;
using namespace ::tern::hf;

auto ::tern::hf::latentTernaryName(llvm::StringRef name) -> std::string {
  return (name + ":ternary").str();
}
auto ::tern::hf::latentScaleName(llvm::StringRef name) -> std::string {
  return (name + ":scale").str();
}

namespace {

/// Counts the codes 0, 1, 2 (-1/0/+1) and the invalid 3 of packed bytes, one lookup per byte.
struct PackedCounter {
  uint8_t count[256][4];
  PackedCounter() {
    for (int byte = 0; byte < 256; ++byte) {
      for (int c = 0; c < 4; ++c)
        count[byte][c] = 0;
      for (int b = 0; b < 4; ++b)
        ++count[byte][(byte >> (2 * b)) & 3];
    }
  }
  /// Adds the distribution of `bytes` to `stats`; returns false (adding nothing) if any code is
  /// 3, so the one pass over the weights both validates and counts them.
  bool add(llvm::ArrayRef<uint8_t> bytes, TernaryStats &stats) const {
    int64_t c[4] = {0, 0, 0, 0};
    for (uint8_t byte : bytes)
      for (int i = 0; i < 4; ++i)
        c[i] += count[byte][i];
    if (c[3] != 0)
      return false;
    stats.negative += c[0];
    stats.zero += c[1];
    stats.positive += c[2];
    return true;
  }
};

class HFWeights : public DecoderWeights {
public:
  HFWeights(const HFConfig &config, Checkpoint &checkpoint, WeightStore &store,
            const ImportOptions &options, ImportStats &stats, std::string prefix)
      : config(config), checkpoint(checkpoint), store(store), options(options), stats(stats),
        prefix(std::move(prefix)) {}

  std::optional<std::string> error;
  llvm::StringSet<> used;

  Value dense(OpBuilder &b, WeightRole role, int64_t layer) override {
    std::string name = tensorName(role, layer);
    int64_t h = config.hiddenSize;
    SmallVector<int64_t, 2> shape;
    switch (role) {
    case WeightRole::Embedding:
    case WeightRole::Head:
      shape = {config.vocabSize, h};
      break;
    case WeightRole::FfnSubNorm:
      shape = {config.intermediateSize};
      break;
    case WeightRole::QNorm:
    case WeightRole::KNorm:
      shape = {config.headDim};
      break;
    case WeightRole::OInNorm:
      shape = {config.numHeads * config.headDim};
      break;
    case WeightRole::DownInNorm:
      shape = {config.intermediateSize};
      break;
    default:
      shape = {h};
    }
    std::optional<Checkpoint::Tensor> t = expect(name, shape, /*floatOnly=*/true);
    if (!t)
      return {};
    Type element = floatElementType(b, t->entry->dtype);
    int64_t cols = shape.back();
    if (std::optional<int64_t> bad =
            firstNonFinite(t->entry->dtype, t->bytes().data(), t->entry->numElements())) {
      fail(llvm::formatv("{0}: tensor '{1}' holds a non-finite value at element {2} (row {3}, "
                         "column {4})",
                         t->file->path(), name, *bad, *bad / cols, *bad % cols));
      return {};
    }
    if (!addOnce(name, *t, TensorEncoding::Dense, shape))
      return {};
    return WeightOp::create(b, weightLoc(b, name, *t), RankedTensorType::get(shape, element),
                            b.getStringAttr(name));
  }

  LinearWeights linear(OpBuilder &b, WeightRole role, int64_t layer) override {
    std::string name = tensorName(role, layer);
    auto [rows, cols] = linearShape(role);
    if (config.storage == WeightStorage::Packed)
      return packed(b, name, rows, cols);
    if (config.storage == WeightStorage::Ternary)
      return ternaryFloats(b, name, rows, cols);
    return latent(b, name, rows, cols);
  }

  Location location(OpBuilder &b, WeightRole role, int64_t layer) override {
    std::string name = tensorName(role, layer);
    llvm::StringRef path(name);
    path.consume_back(".weight");
    return NameLoc::get(b.getStringAttr(path));
  }

  void beginLayer(int64_t layer) override {
    if (options.progress)
      options.progress(layer, config.numLayers);
  }

private:
  std::pair<int64_t, int64_t> linearShape(WeightRole role) const {
    int64_t h = config.hiddenSize, q = config.numHeads * config.headDim;
    int64_t kv = config.numKVHeads * config.headDim, i = config.intermediateSize;
    switch (role) {
    case WeightRole::Q: return {q, h};
    case WeightRole::K:
    case WeightRole::V: return {kv, h};
    case WeightRole::O: return {h, q};
    case WeightRole::Gate:
    case WeightRole::Up: return {i, h};
    case WeightRole::Down: return {h, i};
    default: llvm_unreachable("not a linear role");
    }
  }

  std::string tensorName(WeightRole role, int64_t layer) const {
    std::string l = prefix + "layers." + std::to_string(layer) + ".";
    bool oneBit = config.family == ModelFamily::OneBitLLM;
    switch (role) {
    case WeightRole::Embedding: return prefix + "embed_tokens.weight";
    case WeightRole::FinalNorm: return prefix + "norm.weight";
    case WeightRole::Head: return "lm_head.weight";
    case WeightRole::InputNorm: return l + "input_layernorm.weight";
    case WeightRole::PostAttentionNorm: return l + "post_attention_layernorm.weight";
    case WeightRole::AttnSubNorm:
      return l + (oneBit ? "self_attn.inner_attn_ln.weight" : "self_attn.attn_sub_norm.weight");
    case WeightRole::FfnSubNorm:
      return l + (oneBit ? "mlp.ffn_layernorm.weight" : "mlp.ffn_sub_norm.weight");
    case WeightRole::Q: return l + "self_attn.q_proj.weight";
    case WeightRole::K: return l + "self_attn.k_proj.weight";
    case WeightRole::V: return l + "self_attn.v_proj.weight";
    case WeightRole::O: return l + "self_attn.o_proj.weight";
    case WeightRole::Gate: return l + "mlp.gate_proj.weight";
    case WeightRole::Up: return l + "mlp.up_proj.weight";
    case WeightRole::Down: return l + "mlp.down_proj.weight";
    case WeightRole::QNorm: return l + "self_attn.q_norm.weight";
    case WeightRole::KNorm: return l + "self_attn.k_norm.weight";
    case WeightRole::QInNorm: return l + "self_attn.q_proj.norm.weight";
    case WeightRole::KInNorm: return l + "self_attn.k_proj.norm.weight";
    case WeightRole::VInNorm: return l + "self_attn.v_proj.norm.weight";
    case WeightRole::OInNorm: return l + "self_attn.o_proj.norm.weight";
    case WeightRole::GateInNorm: return l + "mlp.gate_proj.norm.weight";
    case WeightRole::UpInNorm: return l + "mlp.up_proj.norm.weight";
    case WeightRole::DownInNorm: return l + "mlp.down_proj.norm.weight";
    }
    llvm_unreachable("unknown role");
  }

  void fail(const llvm::Twine &message) {
    if (!error)
      error = message.str();
  }

  /// Looks up `name` and checks its shape (and that it is float when `floatOnly`).
  std::optional<Checkpoint::Tensor> expect(llvm::StringRef name, llvm::ArrayRef<int64_t> shape,
                                           bool floatOnly, llvm::StringRef what = "") {
    std::optional<Checkpoint::Tensor> t = checkpoint.find(name);
    if (!t) {
      fail(llvm::formatv("{0}: checkpoint has no tensor '{1}' (expected {2} {3})",
                         checkpoint.directory(), name, what.empty() ? "a float tensor" : what,
                         shapeString(shape)));
      return std::nullopt;
    }
    llvm::StringRef file = t->file->path();
    DType dtype = t->entry->dtype;
    if (floatOnly && dtype != DType::BF16 && dtype != DType::F16 && dtype != DType::F32) {
      fail(llvm::formatv("{0}: tensor '{1}' has dtype {2}; expected BF16, F16 or F32", file, name,
                         dtypeName(dtype)));
      return std::nullopt;
    }
    if (llvm::ArrayRef<int64_t>(t->entry->shape) != shape) {
      fail(llvm::formatv("{0}: tensor '{1}' has shape {2}; expected {3}", file, name,
                         shapeString(t->entry->shape), shapeString(shape)));
      return std::nullopt;
    }
    return t;
  }


  Location weightLoc(OpBuilder &b, llvm::StringRef name, const Checkpoint::Tensor &t) {
    return NameLoc::get(b.getStringAttr(name),
                        FileLineColLoc::get(b.getStringAttr(t.file->path()), 0, 0));
  }

  /// Adds a checkpoint tensor to the store the first time it is used (the tied head reuses the
  /// embedding). Returns false after an error.
  bool addOnce(llvm::StringRef name, const Checkpoint::Tensor &t, TensorEncoding encoding,
               llvm::ArrayRef<int64_t> logicalShape) {
    if (!used.insert(name).second)
      return true;
    StoredTensor s;
    s.name = name.str();
    s.dtype = t.entry->dtype;
    s.shape.assign(logicalShape.begin(), logicalShape.end());
    s.encoding = encoding;
    s.bytes = t.bytes();
    s.origin = t.file->path().str();
    stats.parameters += encoding == TensorEncoding::Dense ? t.entry->numElements()
                                                          : logicalShape[0] * logicalShape[1];
    if (llvm::Error e = store.add(std::move(s))) {
      fail(llvm::toString(std::move(e)));
      return false;
    }
    return true;
  }

  /// A projection stored as U8 [N/4, K] plus `<proj>.weight_scale`.
  LinearWeights packed(OpBuilder &b, llvm::StringRef name, int64_t rows, int64_t cols) {
    if (rows % 4 != 0) {
      fail(llvm::formatv("tensor '{0}': {1} output rows cannot be packed 4 per byte", name, rows));
      return {};
    }
    std::optional<Checkpoint::Tensor> t =
        expect(name, {rows / 4, cols}, /*floatOnly=*/false, "U8 (4 ternary values per byte)");
    if (!t)
      return {};
    llvm::StringRef file = t->file->path();
    if (t->entry->dtype != DType::U8) {
      fail(llvm::formatv("{0}: tensor '{1}' has dtype {2}; expected U8 (4 ternary values per "
                         "byte)",
                         file, name, dtypeName(t->entry->dtype)));
      return {};
    }
    // One pass validates and counts; only a bad tensor is scanned again, to name the weight.
    std::optional<WeightPosition> bad;
    if (!counter.add(t->bytes(), stats.ternary))
      bad = findInvalidHFCode(t->bytes().data(), rows, cols);
    if (bad) {
      int64_t blockRows = rows / 4;
      fail(llvm::formatv("{0}: tensor '{1}' holds the invalid 2-bit code 3 at weight [{2}, {3}] "
                         "(packed row {4}, column {3}, bits {5}..{6}); codes are w + 1 in "
                         "{{0, 1, 2}",
                         file, name, bad->row, bad->col, bad->row % blockRows,
                         2 * (bad->row / blockRows), 2 * (bad->row / blockRows) + 1));
      return {};
    }
    if (!addOnce(name, *t, TensorEncoding::TernaryHFPacked, {rows, cols}))
      return {};

    std::string scaleName = llvm::StringRef(name).drop_back(strlen("weight")).str() +
                            "weight_scale";
    std::optional<Checkpoint::Tensor> s = checkpoint.find(scaleName);
    // Per tensor [1], per row [N], or group-wise along K [N, K / G] with G = 64, 128 or 256
    // (the form of Ternary-Bonsai and llama.cpp's Q2_0).
    int64_t groups = s && s->entry->shape.size() == 2 ? s->entry->shape[1] : 0;
    int64_t group = groups > 0 && cols % groups == 0 ? cols / groups : 0;
    if (s && s->entry->shape.size() == 2 && (group == 64 || group == 128 || group == 256))
      s = expect(scaleName, {rows, groups}, /*floatOnly=*/true,
                 "a group-wise float weight scale");
    else if (s && s->entry->shape.size() == 2)
      return fail(llvm::formatv("{0}: tensor '{1}' has shape {2}; a group-wise weight scale is "
                                "[{3}, K / G] with G = 64, 128 or 256 dividing K = {4}",
                                s->file->path(), scaleName, shapeString(s->entry->shape), rows,
                                cols)),
             LinearWeights{};
    else if (s && s->entry->shape.size() == 1 && s->entry->shape[0] == rows && rows != 1)
      s = expect(scaleName, {rows}, /*floatOnly=*/true);
    else
      s = expect(scaleName, {1}, /*floatOnly=*/true, "a float weight scale");
    if (!s)
      return {};
    llvm::SmallVector<int64_t, 2> scaleShape(s->entry->shape.begin(), s->entry->shape.end());
    // One group per row (G = K) is a per-row scale: the same numbers, and the form every
    // importer gives it (an ONNX model's block scales recover it as per row).
    if (scaleShape.size() == 2 && scaleShape[1] == 1)
      scaleShape = {rows};
    if (!addOnce(scaleName, *s, TensorEncoding::Dense, scaleShape))
      return {};
    LinearWeights w;
    w.weight = WeightOp::create(b, weightLoc(b, name, *t), TernaryType::get(b.getContext(), rows,
                                                                            cols),
                                b.getStringAttr(name));
    w.scale = WeightOp::create(b, weightLoc(b, scaleName, *s),
                               RankedTensorType::get(scaleShape,
                                                     floatElementType(b, s->entry->dtype)),
                               b.getStringAttr(scaleName));
    w.mode = config.scaleMultiplies ? ScaleMode::multiply : ScaleMode::divide;
    return w;
  }

  /// A projection stored as floats that are ternary already (Ternary-Bonsai's unpacked form):
  /// every 64 columns of a row hold -s, 0 or +s for one s, checked exactly; kept as ternary
  /// codes with the coarsest exact scale (per tensor, row, or 64, 128 or 256 columns), y = acc
  /// * s. A float that is not so is refused, naming the weight.
  LinearWeights ternaryFloats(OpBuilder &b, llvm::StringRef name, int64_t rows, int64_t cols) {
    std::optional<Checkpoint::Tensor> t =
        expect(name, {rows, cols}, /*floatOnly=*/true, "float ternary weights");
    if (!t)
      return {};
    llvm::StringRef file = t->file->path();
    const int64_t block = 64;
    if (cols % block != 0) {
      fail(llvm::formatv("{0}: tensor '{1}' has {2} columns; ternary float weights are read in "
                         "groups of {3} columns",
                         file, name, cols, block));
      return {};
    }
    if (!addOnce(name, *t, TensorEncoding::Dense, {rows, cols}))
      return {};
    DType dtype = t->entry->dtype;
    const uint8_t *data = t->bytes().data();
    auto at = [&](int64_t i) -> float {
      if (dtype == DType::F32) {
        float f;
        std::memcpy(&f, data + 4 * i, 4);
        return f;
      }
      uint16_t h;
      std::memcpy(&h, data + 2 * i, 2);
      return dtype == DType::BF16 ? bf16ToFloat(h) : halfToFloat(h);
    };
    int64_t perRow = cols / block;
    std::vector<int8_t> values(size_t(rows * cols));
    std::vector<float> scales(size_t(rows * perRow));
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t g = 0; g < perRow; ++g) {
        float s = 0;
        for (int64_t c = g * block; c < (g + 1) * block; ++c)
          s = std::max(s, std::fabs(at(r * cols + c)));
        if (!std::isfinite(s)) {
          fail(llvm::formatv("{0}: tensor '{1}' holds a non-finite value in row {2}, columns "
                             "{3}..{4}",
                             file, name, r, g * block, (g + 1) * block - 1));
          return {};
        }
        scales[size_t(r * perRow + g)] = s;
        for (int64_t c = g * block; c < (g + 1) * block; ++c) {
          float w = at(r * cols + c);
          if (w != 0 && std::fabs(w) != s) {
            fail(llvm::formatv("{0}: tensor '{1}' is not ternary: weight [{2}, {3}] is {4}, but "
                               "its group of {5} columns (from {6}) holds +-{7}; a {8} without "
                               "a bitnet quantization_config must store -s, 0 or +s per group "
                               "(Ternary-Bonsai's unpacked form)",
                               file, name, r, c, llvm::format("%.9g", w), block, g * block,
                               llvm::format("%.9g", s), config.architecture));
            return {};
          }
          values[size_t(r * cols + c)] = w == 0 ? 0 : w > 0 ? 1 : -1;
        }
      }
    stats.ternary.add(values.data(), rows * cols);
    std::optional<CoarsestScale> scale =
        coarsestScale(values.data(), rows, cols, block,
                      [&](int64_t r, int64_t g) { return scales[size_t(r * perRow + g)]; });
    if (!scale) {
      fail(llvm::formatv("{0}: the group scales of '{1}' vary within every group tern supports "
                         "(per tensor, per row, or per 64, 128 or 256 columns dividing K = {2})",
                         file, name, cols));
      return {};
    }
    llvm::Expected<LinearWeights> w =
        ternaryLinear(b, weightLoc(b, name, *t), store, latentTernaryName(name),
                      latentScaleName(name), "'" + name.str() + "'", values.data(), rows, cols,
                      *scale);
    if (!w) {
      fail(llvm::toString(w.takeError()));
      return {};
    }
    return *w;
  }

  /// A projection stored as float master weights: ternarized now, y = acc / sw.
  LinearWeights latent(OpBuilder &b, llvm::StringRef name, int64_t rows, int64_t cols) {
    std::optional<Checkpoint::Tensor> t =
        expect(name, {rows, cols}, /*floatOnly=*/true, "float latent weights");
    if (!t)
      return {};
    if (!addOnce(name, *t, TensorEncoding::Dense, {rows, cols}))
      return {};
    std::vector<int8_t> values(size_t(rows * cols));
    double scale = ternarizeLatent(t->entry->dtype, t->bytes().data(), rows * cols,
                                   values.data());
    stats.ternary.add(values.data(), rows * cols);

    StoredTensor ternary;
    ternary.name = latentTernaryName(name);
    ternary.shape = {rows, cols};
    ternary.origin = "ternarized from '" + name.str() + "'";
    std::vector<uint8_t> bytes;
    if (rows % 4 == 0) { // store 2 bits per weight, like packed checkpoints
      ternary.dtype = DType::U8;
      ternary.encoding = TensorEncoding::TernaryHFPacked;
      bytes.resize(size_t(rows / 4 * cols));
      encodeHFPacked(values.data(), rows, cols, bytes.data());
    } else {
      ternary.dtype = DType::I8;
      ternary.encoding = TensorEncoding::TernaryI8;
      bytes.assign(values.begin(), values.end());
    }
    StoredTensor scaleTensor;
    scaleTensor.name = latentScaleName(name);
    scaleTensor.dtype = DType::F32;
    scaleTensor.shape = {1};
    scaleTensor.origin = "1 / max(mean|W|, 1e-5) of '" + name.str() + "'";
    float scale32 = float(scale);
    std::vector<uint8_t> scaleBytes(4);
    std::memcpy(scaleBytes.data(), &scale32, 4);
    std::string ternaryName = ternary.name, scaleName = scaleTensor.name;
    if (llvm::Error e = store.addDerived(std::move(ternary), std::move(bytes))) {
      fail(llvm::toString(std::move(e)));
      return {};
    }
    if (llvm::Error e = store.addDerived(std::move(scaleTensor), std::move(scaleBytes))) {
      fail(llvm::toString(std::move(e)));
      return {};
    }
    Location loc = weightLoc(b, name, *t);
    LinearWeights w;
    w.weight = WeightOp::create(b, loc, TernaryType::get(b.getContext(), rows, cols),
                                b.getStringAttr(ternaryName));
    w.scale = WeightOp::create(b, loc, RankedTensorType::get({1}, b.getF32Type()),
                               b.getStringAttr(scaleName));
    w.mode = ScaleMode::divide;
    return w;
  }

  const HFConfig &config;
  Checkpoint &checkpoint;
  WeightStore &store;
  const ImportOptions &options;
  ImportStats &stats;
  /// "model." before every tensor name, or "" (a Qwen3Model saved alone, as embedding models
  /// are)
  std::string prefix;
  PackedCounter counter;
};

/// How an embedding model's vectors are made from its last hidden states.
struct Pooling {
  std::string mode = "last"; ///< "last" (token), "mean" or "cls" (the first token)
  bool normalize = true;     ///< to unit length (L2)
};

/// sentence-transformers' files beside the checkpoint: 1_Pooling/config.json's
/// pooling_mode_* and a Normalize module in modules.json. Without them: the last token,
/// normalized (Qwen3-Embedding's and the BitNet embedding models' pooling).
llvm::Expected<Pooling> readPooling(llvm::StringRef dir) {
  Pooling p;
  llvm::SmallString<256> modulesPath(dir);
  llvm::sys::path::append(modulesPath, "modules.json");
  auto modules = llvm::MemoryBuffer::getFile(modulesPath);
  if (!modules)
    return p;
  auto fail = [&](llvm::StringRef path, const llvm::Twine &message) {
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   (path + ": " + message).str().c_str());
  };
  llvm::Expected<llvm::json::Value> list = llvm::json::parse((*modules)->getBuffer());
  if (!list || !list->getAsArray())
    return fail(modulesPath, list ? llvm::Twine("expected a list of modules")
                                  : "not JSON: " + llvm::toString(list.takeError()));
  p.normalize = false;
  std::string poolingDir;
  for (const llvm::json::Value &m : *list->getAsArray()) {
    const llvm::json::Object *o = m.getAsObject();
    llvm::StringRef type = o ? o->getString("type").value_or("") : "";
    if (type.ends_with(".Normalize"))
      p.normalize = true;
    else if (type.ends_with(".Pooling"))
      poolingDir = o->getString("path").value_or("").str();
    else if (!type.ends_with(".Transformer"))
      return fail(modulesPath, "module '" + type +
                                   "' is not supported; tern runs Transformer, Pooling and "
                                   "Normalize");
  }
  if (poolingDir.empty())
    return fail(modulesPath, "no Pooling module: an embedding needs one");
  llvm::SmallString<256> poolingPath(dir);
  llvm::sys::path::append(poolingPath, poolingDir, "config.json");
  auto pooling = llvm::MemoryBuffer::getFile(poolingPath);
  if (!pooling)
    return fail(poolingPath, "cannot read: " + pooling.getError().message());
  llvm::Expected<llvm::json::Value> config = llvm::json::parse((*pooling)->getBuffer());
  const llvm::json::Object *c = config ? config->getAsObject() : nullptr;
  if (!c)
    return fail(poolingPath, config ? llvm::Twine("expected an object")
                                    : "not JSON: " + llvm::toString(config.takeError()));
  std::vector<std::string> modes;
  for (auto [key, mode] : {std::pair{"pooling_mode_lasttoken", "last"},
                           std::pair{"pooling_mode_mean_tokens", "mean"},
                           std::pair{"pooling_mode_cls_token", "cls"}})
    if (c->getBoolean(key).value_or(false))
      modes.push_back(mode);
  for (const char *key : {"pooling_mode_max_tokens", "pooling_mode_mean_sqrt_len_tokens",
                          "pooling_mode_weightedmean_tokens"})
    if (c->getBoolean(key).value_or(false))
      return fail(poolingPath, llvm::Twine(key) + " is not supported; tern pools the last "
                                                  "token, the mean or the first token");
  if (modes.size() != 1)
    return fail(poolingPath, "expected exactly one of pooling_mode_lasttoken, "
                             "pooling_mode_mean_tokens and pooling_mode_cls_token");
  p.mode = modes.front();
  return p;
}

} // namespace

auto ::tern::hf::importCheckpoint(MLIRContext &ctx, llvm::StringRef dir, WeightStore &store,
                                 const ImportOptions &options, ImportStats *statsOut)
    -> llvm::Expected<OwningOpRef<ModuleOp>> {
  ctx.loadDialect<TernDialect, func::FuncDialect>();
  llvm::SmallString<256> configPath(dir);
  llvm::sys::path::append(configPath, "config.json");
  llvm::Expected<HFConfig> config = HFConfig::load(configPath);
  if (!config)
    return config.takeError();
  llvm::Expected<std::unique_ptr<Checkpoint>> checkpoint = Checkpoint::open(dir);
  if (!checkpoint)
    return checkpoint.takeError();

  ImportStats stats;
  stats.checkpointBytes = (*checkpoint)->totalBytes();
  DecoderSpec spec;
  spec.hidden = config->hiddenSize;
  spec.intermediate = config->intermediateSize;
  spec.layers = config->numLayers;
  spec.heads = config->numHeads;
  spec.kvHeads = config->numKVHeads;
  spec.headDim = config->headDim;
  spec.vocab = config->vocabSize;
  spec.rmsNormEps = float(config->rmsNormEps);
  spec.activationBits = config->activationBits;
  spec.ropeTheta = float(config->ropeTheta);
  spec.ropeFreqFactors = config->ropeFreqFactors;
  spec.activation = config->activation == Activation::ReLU2 ? DecoderActivation::ReLU2
                                                            : DecoderActivation::SiLU;
  spec.attnSubNorm = spec.ffnSubNorm = config->hasSubNorms();
  spec.qkNorm = config->hasQKNorm();
  // The head is the embedding table when there is no lm_head.weight (2B4T, 1bitLLM).
  spec.tiedHead = !(*checkpoint)->find("lm_head.weight").has_value();
  spec.embeddingOutput = config->embedding;
  // A Qwen3Model saved alone (an embedding model) names its tensors without "model.".
  std::string prefix = "model.";
  if (config->embedding && !(*checkpoint)->find("model.embed_tokens.weight") &&
      (*checkpoint)->find("embed_tokens.weight"))
    prefix = "";
  // BitNet embedding models: an RMSNorm inside every projection, float master weights.
  if (config->family == ModelFamily::Qwen3 &&
      (*checkpoint)->find(prefix + "layers.0.self_attn.q_proj.norm.weight")) {
    spec.projectionNorms = true;
    if (config->storage == WeightStorage::Ternary)
      config->storage = WeightStorage::Latent;
  }

  OpBuilder b(&ctx);
  Location loc = FileLineColLoc::get(b.getStringAttr(configPath), 0, 0);
  OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
  module->getOperation()->setAttr("tern.architecture", b.getStringAttr(config->architecture));
  module->getOperation()->setAttr("tern.family", b.getStringAttr(config->familyName()));
  module->getOperation()->setAttr("tern.max_position_embeddings",
                                  b.getI64IntegerAttr(config->maxPositions));
  if (config->bosTokenId)
    module->getOperation()->setAttr("tern.bos_token_id", b.getI64IntegerAttr(*config->bosTokenId));
  if (config->eosTokenId)
    module->getOperation()->setAttr("tern.eos_token_id", b.getI64IntegerAttr(*config->eosTokenId));
  b.setInsertionPointToEnd(module->getBody());

  if (config->embedding) {
    llvm::Expected<Pooling> pooling = readPooling(dir);
    if (!pooling)
      return pooling.takeError();
    module->getOperation()->setAttr("tern.pooling", b.getStringAttr(pooling->mode));
    module->getOperation()->setAttr("tern.normalize", b.getBoolAttr(pooling->normalize));
  }
  HFWeights weights(*config, **checkpoint, store, options, stats, prefix);
  func::FuncOp fn = buildDecoder(b, loc, "forward", spec, weights);
  if (!fn || weights.error)
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   weights.error.value_or("import failed"));
  if (options.progress)
    options.progress(config->numLayers, config->numLayers);
  for (const auto &file : (*checkpoint)->files())
    for (const SafetensorsEntry &entry : file->entries())
      stats.unusedTensors += !weights.used.contains(entry.name);
  (*checkpoint)->retainFilesIn(store);
  if (statsOut)
    *statsOut = stats;
  return std::move(module);
}
