//===- GgufImporter.cpp - GGUF BitNet models to tern IR ---------------------------------------===//
//
// Maps the roles of the shared decoder (frontends/common/DecoderBuilder.h) onto llama.cpp's
// tensor names (token_embd, blk.N.attn_q, ...) and its metadata keys (<arch>.embedding_length,
// ...). What each architecture means follows the peers that define it:
//   bitnet        llama.cpp's llm_build_bitnet: sub-norms, SiLU, optional per-tensor .scale
//                 tensors, the head always the embedding table;
//   bitnet-25,    bitnet.cpp's and ik_llama.cpp's build_bitnet_158: sub-norms, relu², the head
//   bitnet-b1.58  output.weight when present, else the embedding table.
// All three rotate q and k NEOX-style (halves), as Hugging Face does, so no permutation applies.
//
//===------------------------------------------------------------------------------------------===//
#include "frontends/gguf/GgufImporter.h"

#include "frontends/common/DecoderBuilder.h"
#include "frontends/common/TernaryScales.h"
#include "frontends/gguf/DequantizeBlocks.h"
#include "frontends/gguf/GgufFile.h"
#include "frontends/gguf/GgufTokenizer.h"
#include "frontends/gguf/TernaryBlocks.h"

#include "dialects/tern/TernDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Parallel.h"

#include <cmath>
#include <cstdlib>

using namespace mlir;
using namespace mlir::tern;
using namespace ::tern;
using namespace ::tern::gguf;
using llvm::formatv;

namespace {

/// A number as messages print it: the shortest decimal that reads back as the same float (the
/// metadata's and the weights' numbers are floats), e.g. 1e-05, 0.0869141.
std::string number(double v) {
  for (int digits = 6; digits < 9; ++digits) {
    std::string s = llvm::formatv("{0}", llvm::format("%.*g", digits, v)).str();
    if (float(std::strtod(s.c_str(), nullptr)) == float(v))
      return s;
  }
  return llvm::formatv("{0}", llvm::format("%.9g", v)).str();
}

/// The hyperparameters of a BitNet GGUF, read from `<arch>.*`.
struct Hyper {
  int64_t hidden = 0, intermediate = 0, layers = 0, heads = 0, kvHeads = 0, headDim = 0;
  int64_t vocab = 0, context = 0;
  double eps = 0, ropeTheta = 10000;
};

llvm::Expected<Hyper> readHyper(const GgufFile &f, llvm::StringRef arch) {
  Hyper h;
  std::string p = (arch + ".").str();
  auto need = [&](llvm::StringRef key, int64_t &out) -> llvm::Error {
    llvm::Expected<uint64_t> v = f.getUInt(p + key.str());
    if (!v)
      return v.takeError();
    if (*v == 0 || *v > (1u << 24))
      return f.error(formatv("{0}{1} is {2}; expected a positive size", p, key, *v));
    out = int64_t(*v);
    return llvm::Error::success();
  };
  if (llvm::Error e = need("embedding_length", h.hidden))
    return std::move(e);
  if (llvm::Error e = need("block_count", h.layers))
    return std::move(e);
  if (llvm::Error e = need("attention.head_count", h.heads))
    return std::move(e);
  // feed_forward_length is a number, or one per layer (all equal in the BitNet family).
  std::string ffKey = p + "feed_forward_length";
  if (const MetaValue *ff = f.find(ffKey); ff && ff->type == ValueType::Array) {
    llvm::Expected<const MetaValue *> a = f.getArray(ffKey, ValueType::I64);
    if (!a)
      return a.takeError();
    if ((*a)->count != uint64_t(h.layers))
      return f.error(formatv("{0} has {1} entries for {2} layers", ffKey, (*a)->count, h.layers));
    h.intermediate = (*a)->intAt(0);
    if (h.intermediate <= 0 || h.intermediate > (1 << 24))
      return f.error(formatv("{0} is {1}; expected a positive size", ffKey, h.intermediate));
    for (uint64_t i = 1; i < (*a)->count; ++i)
      if ((*a)->intAt(i) != h.intermediate)
        return f.error(formatv("{0}: layer {1} has {2}, layer 0 {3}; tern builds layers of one "
                               "size",
                               ffKey, i, (*a)->intAt(i), h.intermediate));
  } else if (llvm::Error e = need("feed_forward_length", h.intermediate)) {
    return std::move(e);
  }
  auto optional = [&](llvm::StringRef key, int64_t &out) -> llvm::Error {
    llvm::Expected<std::optional<uint64_t>> v = f.getOptionalUInt(p + key.str());
    if (!v)
      return v.takeError();
    if (*v) {
      if (**v == 0 || **v > (1u << 24))
        return f.error(formatv("{0}{1} is {2}; expected a positive size", p, key, **v));
      out = int64_t(**v);
    }
    return llvm::Error::success();
  };
  h.kvHeads = h.heads;
  if (llvm::Error e = optional("attention.head_count_kv", h.kvHeads))
    return std::move(e);
  if (h.hidden % h.heads)
    return f.error(formatv("{0}embedding_length {1} is not a multiple of attention.head_count {2}",
                           p, h.hidden, h.heads));
  h.headDim = h.hidden / h.heads;
  int64_t keyLength = h.headDim, valueLength = h.headDim, rot = h.headDim;
  if (llvm::Error e = optional("attention.key_length", keyLength))
    return std::move(e);
  if (llvm::Error e = optional("attention.value_length", valueLength))
    return std::move(e);
  if (llvm::Error e = optional("rope.dimension_count", rot))
    return std::move(e);
  if (keyLength != h.headDim || valueLength != h.headDim)
    return f.error(formatv("{0}attention.key_length / value_length are {1} / {2}; tern's BitNet "
                           "graph has head_dim = embedding_length / head_count = {3}",
                           p, keyLength, valueLength, h.headDim));
  if (rot != h.headDim)
    return f.error(formatv("{0}rope.dimension_count is {1}; tern rotates whole heads ({2})", p,
                           rot, h.headDim));
  if (h.heads % h.kvHeads)
    return f.error(formatv("{0}attention.head_count {1} is not a multiple of head_count_kv {2}",
                           p, h.heads, h.kvHeads));
  if (llvm::Error e = optional("context_length", h.context))
    return std::move(e);
  llvm::Expected<std::optional<double>> eps =
      f.getOptionalFloat(p + "attention.layer_norm_rms_epsilon");
  if (!eps)
    return eps.takeError();
  if (!*eps)
    return f.error(formatv("missing metadata key '{0}attention.layer_norm_rms_epsilon' (a "
                           "number)",
                           p));
  if (!(**eps > 0) || **eps > 1)
    return f.error(formatv("{0}attention.layer_norm_rms_epsilon is {1}; expected a small "
                           "positive number",
                           p, number(**eps)));
  h.eps = **eps;
  llvm::Expected<std::optional<double>> theta = f.getOptionalFloat(p + "rope.freq_base");
  if (!theta)
    return theta.takeError();
  if (*theta) {
    if (!(**theta > 0) || !std::isfinite(**theta))
      return f.error(formatv("{0}rope.freq_base is {1}; expected a positive number", p,
                             number(**theta)));
    h.ropeTheta = **theta;
  }
  llvm::Expected<std::optional<llvm::StringRef>> scaling =
      f.getOptionalString(p + "rope.scaling.type");
  if (!scaling)
    return scaling.takeError();
  llvm::Expected<std::optional<double>> factor = f.getOptionalFloat(p + "rope.scaling.factor");
  if (!factor)
    return factor.takeError();
  bool plain = (!*scaling || **scaling == "none" || **scaling == "linear") &&
               (!*factor || **factor == 0 || **factor == 1);
  if (!plain)
    return f.error(formatv("{0}rope.scaling.type '{1}' with factor {2}: tern's RoPE has no "
                           "scaling",
                           p, scaling->value_or("linear"), number(factor->value_or(1))));
  return h;
}

/// ggml's shape [ne0, ne1] of a matrix with `rows` rows of `cols`, as llama.cpp prints it.
std::string ggmlShape(int64_t rows, int64_t cols) {
  return formatv("[{0}, {1}]", cols, rows).str();
}

bool isFloatType(GgmlType t) {
  return t == GgmlType::F32 || t == GgmlType::F16 || t == GgmlType::BF16;
}
DType floatDType(GgmlType t) {
  return t == GgmlType::F16 ? DType::F16 : t == GgmlType::BF16 ? DType::BF16 : DType::F32;
}

class GgufWeights : public DecoderWeights {
public:
  GgufWeights(GgufFile &file, const Hyper &h, bool tiedHead, WeightStore &store,
              const ImportOptions &options, ImportStats &stats)
      : file(file), h(h), tiedHead(tiedHead), store(store), options(options), stats(stats) {}

  std::optional<std::string> error;
  llvm::StringSet<> used;
  llvm::SmallVector<std::string, 4> projectionTypes;

  Value dense(OpBuilder &b, WeightRole role, int64_t layer) override {
    if (role == WeightRole::Head && tiedHead)
      role = WeightRole::Embedding;
    std::string name = tensorName(role, layer);
    bool table = role == WeightRole::Embedding || role == WeightRole::Head;
    int64_t rows = table ? h.vocab : 1;
    int64_t cols = role == WeightRole::FfnSubNorm ? h.intermediate : h.hidden;
    const GgufTensor *t = expect(name, rows, cols, table);
    if (!t)
      return {};
    SmallVector<int64_t, 2> shape;
    if (table)
      shape = {rows, cols};
    else
      shape = {cols};
    GgmlType type = t->type->type;
    if (table && (type == GgmlType::Q4_0 || type == GgmlType::Q8_0 || type == GgmlType::Q6_K)) {
      // Kept as blocks: their fp16 scales must be finite (the kernels assume it).
      const GgmlTypeInfo &info = *t->type;
      int64_t at = type == GgmlType::Q6_K ? 208 : 0; // d's offset in the block
      int64_t blocks = int64_t(t->size) / info.blockBytes;
      for (int64_t i = 0; i < blocks; ++i) {
        const uint8_t *d = t->bytes.data() + i * info.blockBytes + at;
        if (firstNonFinite(DType::F16, d, 1)) {
          int64_t perRow = cols / info.blockElems;
          fail(formatv("{0}: tensor '{1}' ({2}) has a non-finite scale in block {3} of row {4}",
                       file.path(), name, info.name, i % perRow, i / perRow));
          return {};
        }
      }
    }
    if (table && type == GgmlType::Q4_0) {
      // The same numbers as Q8_0 blocks: d kept, q - 8 in [-8, 7].
      int64_t blocks = rows * cols / 32;
      if (!addOnce(name + ":q8_0", *t, DType::U8, shape, TensorEncoding::GgmlQ8_0,
                   q4_0ToQ8_0(t->bytes, blocks), "the q4_0 blocks of '" + name + "' as q8_0"))
        return {};
      return weight(b, name + ":q8_0", RankedTensorType::get(shape, b.getF32Type()), *t);
    }
    if (table && canDequantize(type)) {
      // No kernel reads this type: the float32 values llama.cpp computes from it, exactly.
      std::vector<uint8_t> bytes(size_t(rows * cols) * sizeof(float));
      int64_t rowBytes = int64_t(t->size) / rows;
      llvm::parallelFor(0, size_t(rows), [&](size_t r) {
        dequantize(type, t->bytes.data() + int64_t(r) * rowBytes, cols,
                   reinterpret_cast<float *>(bytes.data()) + int64_t(r) * cols);
      });
      if (std::optional<int64_t> bad = firstNonFinite(DType::F32, bytes.data(), rows * cols)) {
        fail(formatv("{0}: tensor '{1}' ({2}) holds a non-finite value at element {3} (row {4}, "
                     "column {5})",
                     file.path(), name, t->type->name, *bad, *bad / cols, *bad % cols));
        return {};
      }
      std::string stored = name + ":f32";
      if (!addOnce(stored, *t, DType::F32, shape, TensorEncoding::Dense, std::move(bytes),
                   "the " + std::string(t->type->name) + " blocks of '" + name +
                       "' dequantized to f32"))
        return {};
      return weight(b, stored, RankedTensorType::get(shape, b.getF32Type()), *t);
    }
    if (table && (type == GgmlType::Q8_0 || type == GgmlType::Q6_K)) {
      TensorEncoding encoding =
          type == GgmlType::Q8_0 ? TensorEncoding::GgmlQ8_0 : TensorEncoding::GgmlQ6_K;
      if (!addOnce(name, *t, DType::U8, shape, encoding))
        return {};
      return weight(b, name, RankedTensorType::get(shape, b.getF32Type()), *t);
    }
    if (!isFloatType(type)) {
      fail(formatv("{0}: tensor '{1}' is {2}; tern reads {3}", file.path(), name, t->type->name,
                   table ? "f32, f16, bf16, q8_0, q6_K, q4_0, q4_1, q5_0, q5_1, q4_K and q5_K "
                           "tables"
                         : "f32, f16 and bf16 norm weights"));
      return {};
    }
    if (std::optional<int64_t> bad =
            firstNonFinite(floatDType(type), t->bytes.data(), t->numElements())) {
      fail(formatv("{0}: tensor '{1}' holds a non-finite value at element {2} (row {3}, column "
                   "{4})",
                   file.path(), name, *bad, *bad / cols, *bad % cols));
      return {};
    }
    if (!addOnce(name, *t, floatDType(type), shape, TensorEncoding::Dense))
      return {};
    return weight(b, name, RankedTensorType::get(shape, floatElementType(b, floatDType(type))), *t);
  }

  LinearWeights linear(OpBuilder &b, WeightRole role, int64_t layer) override {
    std::string name = tensorName(role, layer);
    auto [rows, cols] = linearShape(role);
    const GgufTensor *t = expect(name, rows, cols, /*table=*/false);
    if (!t)
      return {};
    GgmlType type = t->type->type;
    if (!llvm::is_contained(projectionTypes, t->type->name))
      projectionTypes.push_back(t->type->name);
    DecodedTernary d;
    if (isTernaryType(type)) {
      if (std::optional<BadCode> bad = decodeTernary(type, t->bytes, rows, cols, d)) {
        int64_t block = bad->col / t->type->blockElems; // the storage block within the row
        fail(formatv("{0}: tensor '{1}' ({2}) holds the code {3} at weight [{4}, {5}] (row {4}, "
                     "block {6}); a ternary weight's code is 0, 1 or 2 (-1, 0, +1)",
                     file.path(), name, t->type->name, bad->code, bad->row, bad->col, block));
        return {};
      }
    } else if (isFloatType(type)) {
      if (!floatTernary(name, *t, rows, cols, d))
        return {};
    } else {
      fail(formatv("{0}: tensor '{1}' is {2}; a BitNet projection is ternary: tq1_0, tq2_0, "
                   "q2_0, i2_s, iq1_bn, iq2_bn, or f32 / f16 / bf16 holding a scale times -1, 0 "
                   "or +1",
                   file.path(), name, t->type->name));
      return {};
    }
    // llama.cpp's bitnet graph multiplies a projection by its optional [1] `.scale` tensor.
    std::string scaleName = llvm::StringRef(name).drop_back(strlen("weight")).str() + "scale";
    if (const GgufTensor *s = file.findTensor(scaleName)) {
      if (s->type->type != GgmlType::F32 || s->numElements() != 1) {
        fail(formatv("{0}: tensor '{1}' is {2} {3}; a projection's scale is one f32",
                     file.path(), scaleName, s->type->name, s->shapeString()));
        return {};
      }
      float factor;
      std::memcpy(&factor, s->bytes.data(), 4);
      for (float &x : d.scales)
        x *= factor;
      used.insert(scaleName);
    }
    for (float x : d.scales)
      if (!std::isfinite(x)) {
        fail(formatv("{0}: tensor '{1}' has the scale {2}; expected a finite number", file.path(),
                     name, number(x)));
        return {};
      }
    used.insert(name);
    stats.parameters += rows * cols;
    addStats(d.values.data(), rows * cols);
    int64_t blockCols = std::min(d.blockCols, cols);
    int64_t perRow = (cols + blockCols - 1) / blockCols;
    bool one = d.scales.size() == 1;
    std::optional<CoarsestScale> scale =
        coarsestScale(d.values.data(), rows, cols, blockCols, [&](int64_t r, int64_t blk) {
          return one ? d.scales[0] : d.scales[size_t(r * perRow + blk)];
        });
    if (!scale) {
      fail(formatv("{0}: the block scales of '{1}' vary within every group tern supports (per "
                   "tensor, per row, or per 64, 128 or 256 columns dividing K = {2})",
                   file.path(), name, cols));
      return {};
    }
    llvm::Expected<LinearWeights> w =
        ternaryLinear(b, loc(b, name, *t), store, name + ":ternary", name + ":scale",
                      "'" + name + "' (" + t->type->name + ")", d.values.data(), rows, cols,
                      *scale);
    if (!w) {
      fail(llvm::toString(w.takeError()));
      return {};
    }
    return *w;
  }

  Location location(OpBuilder &b, WeightRole role, int64_t layer) override {
    std::string name = tensorName(role, layer);
    return NameLoc::get(b.getStringAttr(llvm::StringRef(name).drop_back(strlen(".weight"))));
  }

  void beginLayer(int64_t layer) override {
    if (options.progress)
      options.progress(layer, h.layers);
  }

private:
  std::pair<int64_t, int64_t> linearShape(WeightRole role) const {
    int64_t q = h.heads * h.headDim, kv = h.kvHeads * h.headDim;
    switch (role) {
    case WeightRole::Q: return {q, h.hidden};
    case WeightRole::K:
    case WeightRole::V: return {kv, h.hidden};
    case WeightRole::O: return {h.hidden, q};
    case WeightRole::Gate:
    case WeightRole::Up: return {h.intermediate, h.hidden};
    case WeightRole::Down: return {h.hidden, h.intermediate};
    default: llvm_unreachable("not a linear role");
    }
  }

  static std::string tensorName(WeightRole role, int64_t layer) {
    std::string l = "blk." + std::to_string(layer) + ".";
    switch (role) {
    case WeightRole::Embedding: return "token_embd.weight";
    case WeightRole::FinalNorm: return "output_norm.weight";
    case WeightRole::Head: return "output.weight";
    case WeightRole::InputNorm: return l + "attn_norm.weight";
    case WeightRole::PostAttentionNorm: return l + "ffn_norm.weight";
    case WeightRole::AttnSubNorm: return l + "attn_sub_norm.weight";
    case WeightRole::FfnSubNorm: return l + "ffn_sub_norm.weight";
    case WeightRole::Q: return l + "attn_q.weight";
    case WeightRole::K: return l + "attn_k.weight";
    case WeightRole::V: return l + "attn_v.weight";
    case WeightRole::O: return l + "attn_output.weight";
    case WeightRole::Gate: return l + "ffn_gate.weight";
    case WeightRole::Up: return l + "ffn_up.weight";
    case WeightRole::Down: return l + "ffn_down.weight";
    default: break; // no GGUF architecture tern imports has the others
    }
    llvm_unreachable("unknown role");
  }

  void fail(const llvm::Twine &message) {
    if (!error)
      error = message.str();
  }

  /// The distribution of `count` codes, counted in parallel (2B4T has 2.1 G of them).
  void addStats(const int8_t *values, int64_t count) {
    constexpr int64_t kChunk = 1 << 22;
    int64_t chunks = (count + kChunk - 1) / kChunk;
    std::vector<TernaryStats> parts(static_cast<size_t>(chunks));
    llvm::parallelFor(0, size_t(chunks), [&](size_t c) {
      int64_t first = int64_t(c) * kChunk;
      parts[c].add(values + first, std::min(kChunk, count - first));
    });
    for (const TernaryStats &p : parts) {
      stats.ternary.negative += p.negative;
      stats.ternary.zero += p.zero;
      stats.ternary.positive += p.positive;
    }
  }

  /// The tensor `name`, checked to be a [rows, cols] matrix (ggml [cols, rows]) or, for rows =
  /// 1 outside tables, a vector of cols.
  const GgufTensor *expect(const std::string &name, int64_t rows, int64_t cols, bool table) {
    const GgufTensor *t = file.findTensor(name);
    bool vector = rows == 1 && !table;
    std::string want = vector ? formatv("[{0}]", cols).str() : ggmlShape(rows, cols);
    if (!t) {
      fail(formatv("{0}: no tensor '{1}' (expected {2})", file.path(), name, want));
      return nullptr;
    }
    bool ok = vector ? t->ne.size() == 1 && t->ne[0] == cols
                     : t->ne.size() == 2 && t->ne[0] == cols && t->ne[1] == rows;
    if (!ok) {
      fail(formatv("{0}: tensor '{1}' has shape {2}; expected {3}", file.path(), name,
                   t->shapeString(), want));
      return nullptr;
    }
    return t;
  }

  Location loc(OpBuilder &b, llvm::StringRef name, const GgufTensor &) {
    return NameLoc::get(b.getStringAttr(name),
                        FileLineColLoc::get(b.getStringAttr(file.path()), 0, 0));
  }

  Value weight(OpBuilder &b, llvm::StringRef stored, Type type, const GgufTensor &t) {
    auto op = WeightOp::create(b, loc(b, t.name, t), type, b.getStringAttr(stored));
    if (!isFloatType(t.type->type)) // what the file stores, for whoever reads the IR
      op->setAttr("tern.gguf_type", b.getStringAttr(t.type->name));
    return op;
  }

  /// Adds the store tensor `name` for file tensor `t` the first time `t` is read (a tied head
  /// reuses the embedding's): a view of the file's bytes, or `derived` bytes the store owns.
  bool addOnce(const std::string &name, const GgufTensor &t, DType dtype,
               llvm::ArrayRef<int64_t> shape, TensorEncoding encoding,
               std::optional<std::vector<uint8_t>> derived = std::nullopt,
               std::string origin = "") {
    if (!used.insert(t.name).second)
      return true;
    StoredTensor s;
    s.name = name;
    s.dtype = dtype;
    s.shape.assign(shape.begin(), shape.end());
    s.encoding = encoding;
    s.origin = origin.empty() ? file.path().str() : std::move(origin);
    stats.parameters += t.numElements();
    llvm::Error e = llvm::Error::success();
    if (derived) {
      e = store.addDerived(std::move(s), std::move(*derived));
    } else {
      s.bytes = t.bytes;
      e = store.add(std::move(s));
    }
    if (e) {
      fail(llvm::toString(std::move(e)));
      return false;
    }
    return true;
  }

  /// A float projection holding ternary values times one scale per row (llama.cpp's converter
  /// writes BitNet weights so): codes and per-row scales, or an error naming the row.
  bool floatTernary(const std::string &name, const GgufTensor &t, int64_t rows, int64_t cols,
                    DecodedTernary &d) {
    DType dtype = floatDType(t.type->type);
    if (std::optional<int64_t> bad = firstNonFinite(dtype, t.bytes.data(), rows * cols)) {
      fail(formatv("{0}: tensor '{1}' holds a non-finite value in row {2}", file.path(), name,
                   *bad / cols));
      return false;
    }
    d.values.assign(size_t(rows * cols), 0);
    d.blockCols = cols;
    d.scales.assign(size_t(rows), 1.0f);
    for (int64_t r = 0; r < rows; ++r) {
      float m = 0;
      for (int64_t c = 0; c < cols; ++c)
        m = std::max(m, std::fabs(loadFloat(dtype, t.bytes.data(), r * cols + c)));
      for (int64_t c = 0; c < cols && m > 0; ++c) {
        float v = loadFloat(dtype, t.bytes.data(), r * cols + c);
        if (v != 0 && std::fabs(v) != m) {
          fail(formatv("{0}: tensor '{1}' ({2}) is not ternary: row {3} holds {4} and {5}; a "
                       "BitNet projection stored as floats holds -s, 0 and +s",
                       file.path(), name, t.type->name, r, number(m), number(v)));
          return false;
        }
        d.values[size_t(r * cols + c)] = int8_t(v > 0 ? 1 : v < 0 ? -1 : 0);
      }
      if (m > 0)
        d.scales[size_t(r)] = m;
    }
    return true;
  }

  GgufFile &file;
  const Hyper &h;
  bool tiedHead;
  WeightStore &store;
  const ImportOptions &options;
  ImportStats &stats;
};

/// Whether the model has BitNet b1.58 2B4T's sizes (whose definition is relu²).
bool is2B4TShape(const Hyper &h) {
  return h.hidden == 2560 && h.intermediate == 6912 && h.layers == 30 && h.heads == 20 &&
         h.kvHeads == 5 && h.vocab == 128256;
}

} // namespace

auto ::tern::gguf::importGguf(MLIRContext &ctx, llvm::StringRef path, WeightStore &store,
                             const ImportOptions &options, ImportStats *statsOut)
    -> llvm::Expected<OwningOpRef<ModuleOp>> {
  ctx.loadDialect<TernDialect, func::FuncDialect>();
  llvm::Expected<std::unique_ptr<GgufFile>> opened = GgufFile::open(path);
  if (!opened)
    return opened.takeError();
  GgufFile &file = **opened;
  llvm::Expected<std::optional<llvm::StringRef>> archKey =
      file.getOptionalString("general.architecture");
  if (!archKey)
    return archKey.takeError();
  if (!*archKey)
    return file.error("missing metadata key 'general.architecture'");
  std::string arch = archKey->value().str();
  if (arch != "bitnet" && arch != "bitnet-25" && arch != "bitnet-b1.58")
    return file.error(formatv("general.architecture is '{0}'; tern imports the BitNet "
                              "architectures bitnet, bitnet-25 and bitnet-b1.58",
                              arch));
  llvm::Expected<Hyper> hyper = readHyper(file, arch);
  if (!hyper)
    return hyper.takeError();
  const GgufTensor *embedding = file.findTensor("token_embd.weight");
  if (!embedding || embedding->ne.size() != 2 || embedding->ne[0] != hyper->hidden)
    return file.error(formatv("{0} tensor 'token_embd.weight' (expected [{1}, vocabulary])",
                              embedding ? "a malformed" : "no", hyper->hidden));
  hyper->vocab = embedding->ne[1];
  if (llvm::Expected<std::optional<uint64_t>> v = file.getOptionalUInt(arch + ".vocab_size"); !v)
    return v.takeError();
  else if (*v && int64_t(**v) != hyper->vocab)
    return file.error(formatv("{0}.vocab_size is {1}; token_embd.weight has {2} rows", arch, **v,
                              hyper->vocab));
  for (const GgufTensor &t : file.tensors())
    if (llvm::StringRef(t.name).ends_with(".bias") || t.name == "rope_freqs.weight")
      return file.error(formatv("tensor '{0}': tern's BitNet graph has no {1}", t.name,
                                t.name == "rope_freqs.weight" ? "RoPE frequency factors"
                                                              : "projection biases"));

  ImportStats stats;
  stats.architecture = arch;
  stats.fileBytes = file.dataBytes();
  // The head: llama.cpp's bitnet graph always multiplies by the embedding table; bitnet.cpp and
  // ik_llama.cpp's bitnet-25 / bitnet-b1.58 read output.weight when the file has one.
  bool tied = arch == "bitnet" || !file.findTensor("output.weight");

  DecoderSpec spec;
  spec.hidden = hyper->hidden;
  spec.intermediate = hyper->intermediate;
  spec.layers = hyper->layers;
  spec.heads = hyper->heads;
  spec.kvHeads = hyper->kvHeads;
  spec.headDim = hyper->headDim;
  spec.vocab = hyper->vocab;
  spec.rmsNormEps = float(hyper->eps);
  spec.ropeTheta = float(hyper->ropeTheta);
  spec.attnSubNorm = spec.ffnSubNorm = true;
  spec.tiedHead = tied;
  // The FFN activation: the flag; else what the architecture's graph runs, except that a model
  // with BitNet b1.58 2B4T's sizes in llama.cpp's bitnet architecture (whose stock graph runs
  // SiLU, the known cause of its wrong output) is 2B4T, which is relu².
  llvm::Expected<std::optional<llvm::StringRef>> act =
      file.getOptionalString(arch + ".hidden_activation");
  if (!act)
    return act.takeError();
  if (options.ffnActivation) {
    stats.activation = *options.ffnActivation;
    stats.activationReason = "--ffn-act";
  } else if (*act) {
    if (**act == "relu2" || **act == "relu_squared" || **act == "relu_sqr")
      stats.activation = FfnActivation::ReLU2;
    else if (**act == "silu" || **act == "swish")
      stats.activation = FfnActivation::SiLU;
    else
      return file.error(formatv("{0}.hidden_activation is '{1}'; expected relu2 or silu", arch,
                                **act));
    stats.activationReason = arch + ".hidden_activation";
  } else if (arch != "bitnet") {
    stats.activation = FfnActivation::ReLU2;
    stats.activationReason = arch + "'s graph";
  } else if (is2B4TShape(*hyper)) {
    stats.activation = FfnActivation::ReLU2;
    stats.activationReason = "BitNet b1.58 2B4T's definition (its sizes; llama.cpp's stock "
                             "bitnet graph would run SiLU)";
  } else {
    stats.activation = FfnActivation::SiLU;
    stats.activationReason = "llama.cpp's bitnet graph (--ffn-act=relu2 for a 2B4T-style model)";
  }
  spec.activation = stats.activation == FfnActivation::ReLU2 ? DecoderActivation::ReLU2
                                                             : DecoderActivation::SiLU;

  OpBuilder b(&ctx);
  Location loc = FileLineColLoc::get(b.getStringAttr(path), 0, 0);
  OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
  Operation *m = module->getOperation();
  m->setAttr("tern.architecture", b.getStringAttr("gguf:" + arch));
  m->setAttr("tern.family", b.getStringAttr("BitNet"));
  if (hyper->context)
    m->setAttr("tern.max_position_embeddings", b.getI64IntegerAttr(hyper->context));
  for (auto [key, attr] : {std::pair{"tokenizer.ggml.bos_token_id", "tern.bos_token_id"},
                           std::pair{"tokenizer.ggml.eos_token_id", "tern.eos_token_id"}}) {
    llvm::Expected<std::optional<uint64_t>> id = file.getOptionalUInt(key);
    if (!id)
      return id.takeError();
    if (*id && **id >= uint64_t(hyper->vocab))
      return file.error(formatv("{0} is {1}; the vocabulary has {2} tokens", key, **id,
                                hyper->vocab));
    if (*id)
      m->setAttr(attr, b.getI64IntegerAttr(int64_t(**id)));
  }
  b.setInsertionPointToEnd(module->getBody());

  GgufWeights weights(file, *hyper, tied, store, options, stats);
  func::FuncOp fn = buildDecoder(b, loc, "forward", spec, weights);
  if (!fn || weights.error)
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   weights.error.value_or("import failed"));
  if (options.progress)
    options.progress(hyper->layers, hyper->layers);
  // A tokenizer of another kind (SentencePiece's 'llama', which llama.cpp's converter gives
  // 1bitLLM models) leaves the model usable with token ids: the weights map exactly, and the
  // binary says it has no tokenizer when given text.
  llvm::Expected<std::optional<llvm::StringRef>> kind =
      file.getOptionalString("tokenizer.ggml.model");
  if (!kind)
    return kind.takeError();
  if (!*kind) {
    stats.tokenizerNote = "no tokenizer in the metadata";
  } else if (**kind != "gpt2") {
    stats.tokenizerNote = ("tokenizer.ggml.model is '" + **kind +
                           "': tern reads byte-level BPE tokenizers ('gpt2') only, so the binary "
                           "takes token ids (--tokens)")
                              .str();
  } else {
    llvm::Expected<bool> tokenizer = importTokenizer(file, store, options.chatTemplate);
    if (!tokenizer)
      return tokenizer.takeError();
  }
  for (const GgufTensor &t : file.tensors())
    stats.unusedTensors += !weights.used.contains(t.name);
  stats.projectionTypes = llvm::join(weights.projectionTypes, ", ");
  const GgufTensor *head = tied ? embedding : file.findTensor("output.weight");
  stats.headType = formatv("{0} ({1})", head->type->name,
                           tied ? "tied to token_embd.weight" : "output.weight").str();
  store.retain(file.takeBuffer());
  if (statsOut)
    *statsOut = stats;
  return std::move(module);
}
