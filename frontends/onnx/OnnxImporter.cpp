//===- OnnxImporter.cpp - ONNX BitNet decoders to tern IR -------------------------------------===//
//
// Feeds the decoder DecoderRecognizer found to the shared DecoderBuilder: the roles' weights
// are the graph's initializers, decoded here. A MatMulNBits weight becomes a ternary matrix and
// the coarsest scale that represents its block scales exactly (per tensor, per row, or per group
// of 64, 128 or 256 columns).
//
//===------------------------------------------------------------------------------------------===//
#include "frontends/onnx/OnnxImporter.h"

#include "frontends/common/DecoderBuilder.h"
#include "frontends/common/TernaryScales.h"
#include "frontends/onnx/DecoderRecognizer.h"
#include "frontends/onnx/OnnxModel.h"

#include "dialects/tern/TernDialect.h"

#include "onnx/onnx_pb.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"

#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Path.h"

#include <cmath>
#include <set>

using namespace mlir;
using namespace mlir::tern;
using namespace ::tern;
using namespace ::tern::onnx;

namespace {

class OnnxWeights : public DecoderWeights {
public:
  OnnxWeights(const OnnxModel &model, const OnnxDecoder &decoder, WeightStore &store,
              const ImportOptions &options, ImportStats &stats)
      : m(model), d(decoder), store(store), options(options), stats(stats) {}

  std::optional<std::string> error;

  Value dense(OpBuilder &b, WeightRole role, int64_t layer) override {
    int64_t h = d.spec.hidden;
    switch (role) {
    case WeightRole::Embedding:
      return table(b, d.embedding, /*transposed=*/false);
    case WeightRole::Head:
      return table(b, d.head, /*transposed=*/true);
    case WeightRole::FinalNorm:
      return vector(b, d.finalNorm, h);
    case WeightRole::InputNorm:
      return vector(b, d.layers[layer].inputNorm, h);
    case WeightRole::PostAttentionNorm:
      return vector(b, d.layers[layer].postAttentionNorm, h);
    case WeightRole::AttnSubNorm:
      return vector(b, d.layers[layer].attnSubNorm, h);
    case WeightRole::FfnSubNorm:
      return vector(b, d.layers[layer].ffnSubNorm, d.spec.intermediate);
    default:
      llvm_unreachable("not a dense role");
    }
  }

  LinearWeights linear(OpBuilder &b, WeightRole role, int64_t layer) override {
    const OnnxLayer &l = d.layers[layer];
    const OnnxLinear *w = nullptr;
    int64_t h = d.spec.hidden, q = d.spec.heads * d.spec.headDim;
    int64_t kv = d.spec.kvHeads * d.spec.headDim, i = d.spec.intermediate;
    int64_t rows = 0, cols = 0;
    switch (role) {
    case WeightRole::Q: w = &l.q, rows = q, cols = h; break;
    case WeightRole::K: w = &l.k, rows = kv, cols = h; break;
    case WeightRole::V: w = &l.v, rows = kv, cols = h; break;
    case WeightRole::O: w = &l.o, rows = h, cols = q; break;
    case WeightRole::Gate: w = &l.gate, rows = i, cols = h; break;
    case WeightRole::Up: w = &l.up, rows = i, cols = h; break;
    case WeightRole::Down: w = &l.down, rows = h, cols = i; break;
    default: llvm_unreachable("not a linear role");
    }
    if (w->rows != rows || w->cols != cols) {
      fail(llvm::formatv("{0}: {1} of layer {2} is [{3}, {4}] (N, K); the decoder needs [{5}, "
                         "{6}]",
                         m.describe(*w->node), roleName(role), layer, w->rows, w->cols, rows,
                         cols));
      return {};
    }
    if (w->kind == OnnxLinear::Kind::Float)
      return floatMatMul(b, *w, role, layer);
    return w->kind == OnnxLinear::Kind::MatMulNBits ? matMulNBits(b, *w) : dense(b, *w);
  }

  Location location(OpBuilder &b, WeightRole role, int64_t layer) override {
    const OnnxLinear *w = nullptr;
    if (layer >= 0) {
      const OnnxLayer &l = d.layers[layer];
      switch (role) {
      case WeightRole::Q: w = &l.q; break;
      case WeightRole::K: w = &l.k; break;
      case WeightRole::V: w = &l.v; break;
      case WeightRole::O: w = &l.o; break;
      case WeightRole::Gate: w = &l.gate; break;
      case WeightRole::Up: w = &l.up; break;
      case WeightRole::Down: w = &l.down; break;
      default: break;
      }
    }
    if (w && !w->node->name().empty())
      return NameLoc::get(b.getStringAttr(w->node->name()));
    return NameLoc::get(b.getStringAttr(roleName(role) +
                                        (layer >= 0 ? "." + std::to_string(layer) : "")));
  }

  void beginLayer(int64_t layer) override {
    if (options.progress)
      options.progress(layer, d.spec.layers);
  }

private:
  void fail(const llvm::Twine &message) {
    if (!error)
      error = (m.path() + ": " + message).str();
  }

  Location weightLoc(OpBuilder &b, const OnnxTensor &t) {
    return NameLoc::get(b.getStringAttr(t.name),
                        FileLineColLoc::get(b.getStringAttr(t.origin), 0, 0));
  }

  /// The store's name for `t` as addFloat stores it (a transposed copy is another tensor).
  static std::string storedName(const OnnxTensor &t, bool transposed) {
    return transposed ? t.name + ":transposed" : t.name;
  }
  /// Float tensor `t` (optionally transposed from [C, R] to [R, C]) as F32, or as BF16 or F16
  /// when every value is exactly one: an export widens a bf16 or fp16 checkpoint to float, and
  /// the narrower copy is the same numbers (and the same kernels as the checkpoint's) at half
  /// the bytes.
  std::optional<DType> addFloat(const OnnxTensor &t, llvm::ArrayRef<int64_t> shape,
                                bool transposed) {
    if (!isFloat(t.dtype) || t.dtype == DType::F64) {
      fail(llvm::formatv("tensor '{0}' has dtype {1}; expected FLOAT, FLOAT16 or BFLOAT16", t.name,
                         dtypeName(t.dtype)));
      return std::nullopt;
    }
    if (const StoredTensor *s = store.lookup(storedName(t, transposed)))
      return s->dtype;
    int64_t count = t.numElements();
    int64_t rows = shape.size() == 2 ? shape[0] : 1, cols = count / rows;
    auto source = [&](int64_t i) { // element i of the stored (maybe transposed) layout
      return transposed ? (i % cols) * rows + i / cols : i;
    };
    DType dtype = t.dtype;
    std::vector<uint8_t> bytes;
    if (t.dtype == DType::F32) {
      bool bf16 = true, f16 = true;
      for (int64_t i = 0; (bf16 || f16) && i < count; ++i) {
        float f = float(t.at(i));
        bf16 = bf16 && (bf16ToFloat(floatToBF16(f)) == f || std::isnan(f));
        f16 = f16 && (halfToFloat(floatToHalf(f)) == f || std::isnan(f));
      }
      dtype = bf16 ? DType::BF16 : f16 ? DType::F16 : DType::F32;
    }
    bytes.resize(size_t(count) * dtypeSize(dtype));
    unsigned size = dtypeSize(dtype);
    for (int64_t i = 0; i < count; ++i) {
      const uint8_t *from = t.bytes.data() + source(i) * dtypeSize(t.dtype);
      if (dtype == t.dtype) {
        std::memcpy(bytes.data() + i * size, from, size);
      } else {
        float f;
        std::memcpy(&f, from, 4);
        uint16_t bits = dtype == DType::BF16 ? floatToBF16(f) : floatToHalf(f);
        std::memcpy(bytes.data() + i * size, &bits, 2);
      }
    }
    StoredTensor s;
    s.name = storedName(t, transposed);
    s.dtype = dtype;
    s.shape.assign(shape.begin(), shape.end());
    s.origin = t.origin;
    stats.parameters += count;
    if (llvm::Error e = store.addDerived(std::move(s), std::move(bytes))) {
      fail(llvm::toString(std::move(e)));
      return std::nullopt;
    }
    return dtype;
  }


  Value table(OpBuilder &b, llvm::StringRef name, bool transposed) {
    const OnnxTensor *t = m.constant(name);
    SmallVector<int64_t, 2> shape{d.spec.vocab, d.spec.hidden};
    std::optional<DType> dtype = addFloat(*t, shape, transposed);
    if (!dtype)
      return {};
    return WeightOp::create(b, weightLoc(b, *t),
                            RankedTensorType::get(shape, floatElementType(b, *dtype)),
                            b.getStringAttr(storedName(*t, transposed)));
  }

  Value vector(OpBuilder &b, llvm::StringRef name, int64_t size) {
    const OnnxTensor *t = m.constant(name);
    if (t->numElements() != size || t->shape.size() != 1) {
      fail(llvm::formatv("norm weight '{0}' has shape {1}; expected [{2}]", name,
                         shapeString(t->shape), size));
      return {};
    }
    std::optional<DType> dtype = addFloat(*t, {size}, false);
    if (!dtype)
      return {};
    return WeightOp::create(b, weightLoc(b, *t),
                            RankedTensorType::get({size}, floatElementType(b, *dtype)),
                            b.getStringAttr(name));
  }

  static std::string number(double v) { return llvm::formatv("{0}", llvm::format("%g", v)); }

  /// MatMulNBits (bits = 2): B uint8 [N, blocks, block / 4], 4 codes per byte from the least
  /// significant bits, w = code - zero_point, scaled by its block's scale.
  LinearWeights matMulNBits(OpBuilder &b, const OnnxLinear &w) {
    const OnnxTensor *bt = m.constant(w.weight), *st = m.constant(w.scales);
    const OnnxTensor *zt = w.zeroPoints.empty() ? nullptr : m.constant(w.zeroPoints);
    int64_t n = w.rows, k = w.cols, block = w.blockSize, blocks = (k + block - 1) / block;
    int64_t blob = block / 4;
    std::string node = m.describe(*w.node);
    if (bt->dtype != DType::U8 || bt->shape != llvm::ArrayRef<int64_t>{n, blocks, blob}) {
      fail(llvm::formatv("{0}: B '{1}' has type {2} and shape {3}; expected uint8 [{4}, {5}, "
                         "{6}] (N, ceil(K / block_size), block_size / 4)",
                         node, bt->name, dtypeName(bt->dtype), shapeString(bt->shape), n, blocks,
                         blob));
      return {};
    }
    if (!isFloat(st->dtype) || st->numElements() != n * blocks) {
      fail(llvm::formatv("{0}: scales '{1}' has type {2} and shape {3}; expected {4} floats (N "
                         "x blocks)",
                         node, st->name, dtypeName(st->dtype), shapeString(st->shape),
                         n * blocks));
      return {};
    }
    int64_t zpRow = (blocks * 2 + 7) / 8; // packed 2-bit zero points per row
    if (zt && !((zt->dtype == DType::U8 && zt->numElements() == n * zpRow) ||
                (isFloat(zt->dtype) && zt->numElements() == n * blocks))) {
      fail(llvm::formatv("{0}: zero_points '{1}' has type {2} and shape {3}; expected uint8 "
                         "with {4} bytes (2 bits per block, each row padded to a byte) or {5} "
                         "floats",
                         node, zt->name, dtypeName(zt->dtype), shapeString(zt->shape), n * zpRow,
                         n * blocks));
      return {};
    }
    auto zeroPoint = [&](int64_t r, int64_t blk) -> double {
      if (!zt)
        return 2.0; // MatMulNBits' default: 2^(bits - 1)
      if (zt->dtype == DType::U8)
        return double((zt->bytes[r * zpRow + blk / 4] >> (2 * (blk % 4))) & 3);
      return zt->at(r * blocks + blk);
    };
    std::vector<int8_t> values(size_t(n * k));
    for (int64_t r = 0; r < n; ++r)
      for (int64_t blk = 0; blk < blocks; ++blk) {
        double zp = zeroPoint(r, blk);
        // A zero point in 1..3 makes code - zp ternary for some codes; the codes are checked
        // in integers (one pass over the bytes of a 2B model is billions of weights).
        int izp = zp >= 1 && zp <= 3 && zp == std::floor(zp) ? int(zp) : -8;
        const uint8_t *bytes = bt->bytes.data() + (r * blocks + blk) * blob;
        int8_t *out = values.data() + r * k + blk * block;
        int64_t len = std::min(block, k - blk * block);
        // Whole bytes first: a byte's four codes are all ternary iff each is in izp - 1 ..
        // izp + 1 (izp - 2 is the only code out of range for izp 1..3).
        int64_t j = 0;
        if (izp > 0)
          for (; j + 4 <= len; j += 4) {
            uint8_t byte = bytes[j / 4];
            int c0 = byte & 3, c1 = (byte >> 2) & 3, c2 = (byte >> 4) & 3, c3 = byte >> 6;
            if (std::abs(c0 - izp) > 1 || std::abs(c1 - izp) > 1 || std::abs(c2 - izp) > 1 ||
                std::abs(c3 - izp) > 1)
              break; // the element loop below names the weight
            out[j] = int8_t(c0 - izp), out[j + 1] = int8_t(c1 - izp);
            out[j + 2] = int8_t(c2 - izp), out[j + 3] = int8_t(c3 - izp);
          }
        for (; j < len; ++j) {
          int code = (bytes[j / 4] >> (2 * (j % 4))) & 3;
          int v = code - izp;
          if (v < -1 || v > 1) {
            fail(llvm::formatv("{0}: weight '{1}' is not ternary: element [{2}, {3}] is {4} "
                               "(code {5} - zero point {6}); expected -1, 0 or +1",
                               node, bt->name, r, blk * block + j, number(double(code) - zp),
                               code, number(zp)));
            return {};
          }
          out[j] = int8_t(v);
        }
      }
    return ternary(b, w, *bt, *st, std::move(values), block,
                   [&](int64_t r, int64_t blk) { return float(st->at(r * blocks + blk)); });
  }

  /// A MatMul / MatMulInteger weight ([K, N], or [N, K] under a Transpose): {-s, 0, +s} with the
  /// scale folded in (per tensor, row or group), or {-1, 0, +1} times the scale initializer.
  LinearWeights dense(OpBuilder &b, const OnnxLinear &w) {
    const OnnxTensor *t = m.constant(w.weight);
    int64_t n = w.rows, k = w.cols;
    std::string node = m.describe(*w.node);
    bool integer = w.kind == OnnxLinear::Kind::Integer;
    if (integer ? t->dtype != DType::I8 : !isFloat(t->dtype)) {
      fail(llvm::formatv("{0}: weight '{1}' has type {2}; expected {3}", node, t->name,
                         dtypeName(t->dtype), integer ? "int8" : "a float type"));
      return {};
    }
    auto at = [&](int64_t r, int64_t c) { // W[r, c] of the logical [N, K] matrix
      return w.transposed ? t->at(r * k + c) : t->at(c * n + r);
    };
    std::vector<int8_t> values(size_t(n * k));
    std::vector<float> magnitude(size_t(n * k), 0.0f);
    for (int64_t r = 0; r < n; ++r)
      for (int64_t c = 0; c < k; ++c) {
        double v = at(r, c);
        if (!std::isfinite(v)) {
          fail(llvm::formatv("{0}: weight '{1}' is not ternary: element [{2}, {3}] is {4}", node,
                             t->name, r, c, number(v)));
          return {};
        }
        if (!w.scale.empty() && v != -1.0 && v != 0.0 && v != 1.0) {
          fail(llvm::formatv("{0}: weight '{1}' is not ternary: element [{2}, {3}] (row {2} of "
                             "the [{4}, {5}] matrix) is {6}; with a separate weight scale the "
                             "values must be -1, 0 or +1",
                             node, t->name, r, c, n, k, number(v)));
          return {};
        }
        values[size_t(r * k + c)] = int8_t(v > 0 ? 1 : v < 0 ? -1 : 0);
        magnitude[size_t(r * k + c)] = float(std::fabs(v));
      }
    if (!w.scale.empty()) {
      const OnnxTensor *st = m.constant(w.scale);
      float s = float(st->at(0));
      return ternary(b, w, *t, *st, std::move(values), k, [=](int64_t, int64_t) { return s; });
    }
    // The scale is in the weight: the magnitudes of each group must agree. If they do not,
    // the first row whose nonzero magnitudes differ is what the message shows (no scale per
    // row fits, so there is one).
    auto whyNot = [&]() -> std::string {
      for (int64_t r = 0; r < n; ++r) {
        std::set<float> distinct, magnitudes;
        for (int64_t c = 0; c < k; ++c) {
          if (distinct.size() < 8)
            distinct.insert(float(at(r, c)));
          if (at(r, c) != 0)
            magnitudes.insert(magnitude[size_t(r * k + c)]);
        }
        if (magnitudes.size() < 2)
          continue;
        std::string found;
        for (float v : distinct)
          found += (found.empty() ? "" : ", ") + number(v);
        return llvm::formatv("{0}: weight '{1}' is not ternary: row {2} holds the distinct values "
                             "{{{3}{4}}; expected -s, 0 and +s (one scale per tensor, row, or "
                             "group of 64, 128 or 256 columns)",
                             node, t->name, r, found, distinct.size() == 8 ? ", ..." : "");
      }
      return "";
    };
    LinearWeights out = ternary(
        b, w, *t, *t, std::move(values), 1,
        [&](int64_t r, int64_t c) { return magnitude[size_t(r * k + c)]; }, whyNot);
    return out;
  }

  /// A MatMul of unquantized activations by a float weight: tern.matmul when asked to keep it.
  LinearWeights floatMatMul(OpBuilder &b, const OnnxLinear &w, WeightRole role, int64_t layer) {
    const OnnxTensor *t = m.constant(w.weight);
    if (!options.keepFloatMatMul) {
      fail(llvm::formatv("{0}: {1} of layer {2} is a float projection: its activations '{3}' "
                         "are not quantized (Abs, ReduceMax, Clip, Div, Mul, Round, Clip) and "
                         "its weight '{4}' is {5}; BitNet's projections are ternary with int8 "
                         "activations. ternc --float-matmul=keep keeps it as tern.matmul",
                         m.describe(*w.node), roleName(role), layer, w.input, t->name,
                         dtypeName(t->dtype)));
      return {};
    }
    std::optional<DType> dtype = addFloat(*t, {w.rows, w.cols}, !w.transposed);
    if (!dtype)
      return {};
    ++stats.floatMatMuls;
    LinearWeights out;
    out.weight = WeightOp::create(
        b, weightLoc(b, *t),
        RankedTensorType::get({w.rows, w.cols}, floatElementType(b, *dtype)),
        b.getStringAttr(storedName(*t, !w.transposed)));
    return out;
  }

  /// Stores a ternary [N, K] matrix and the coarsest scale that gives every block of
  /// `blockCols` columns holding a nonzero weight its scale `scaleAt(row, block)` exactly: one
  /// per tensor, per row, or per group of 64, 128 or 256 columns.
  /// `whyNot`, if given, explains a weight no scale fits (else the message is about scales).
  LinearWeights ternary(OpBuilder &b, const OnnxLinear &w, const OnnxTensor &weight,
                        const OnnxTensor &scaleSource, std::vector<int8_t> values,
                        int64_t blockCols, llvm::function_ref<float(int64_t, int64_t)> scaleAt,
                        llvm::function_ref<std::string()> whyNot = nullptr) {
    int64_t n = w.rows, k = w.cols;
    stats.ternary.add(values.data(), n * k);
    stats.parameters += n * k;
    std::optional<CoarsestScale> scale = coarsestScale(values.data(), n, k, blockCols, scaleAt);
    if (!scale) {
      if (std::string why = whyNot ? whyNot() : ""; !why.empty()) {
        fail(why);
        return {};
      }
      fail(llvm::formatv("{0}: the scales of '{1}' vary within every group tern supports: "
                         "tern's weight scales are per tensor, per row, or per 64, 128 or "
                         "256 columns of a row dividing K = {2}{3}",
                         m.describe(*w.node), scaleSource.name, k,
                         blockCols > 1 ? llvm::formatv(" (block_size is {0})", blockCols).str()
                                       : std::string()));
      return {};
    }
    for (float f : scale->values)
      if (!std::isfinite(f) || (w.divide && f == 0.0f)) {
        fail(llvm::formatv("{0}: the weight scale of '{1}' is {2}; expected a finite{3} number",
                           m.describe(*w.node), scaleSource.name, number(f),
                           w.divide ? ", nonzero" : ""));
        return {};
      }
    std::string ternaryName = weight.name + ":ternary", scaleName = scaleSource.name + ":scale";
    auto [tensor, bytes] = ternaryTensor(ternaryName, "the ternary values of '" + weight.name + "'",
                                         values.data(), n, k);
    auto [scaleStored, scaleBytes] =
        scaleTensor(scaleName, "the weight scales of '" + scaleSource.name + "'", *scale);
    Type scaleType = scaleStored.dtype == DType::BF16 ? Type(b.getBF16Type()) : b.getF32Type();
    // Two projections may share an initializer (an exporter merges equal constants): the same
    // derived tensor serves both; a different one is named after its node.
    auto add = [&](StoredTensor t, std::vector<uint8_t> data, std::string &name) {
      if (const StoredTensor *have = store.lookup(name)) {
        if (have->dtype == t.dtype && have->shape == t.shape && have->encoding == t.encoding &&
            llvm::ArrayRef<uint8_t>(data) == have->bytes)
          return true;
        name = t.name = name + "@" + w.node->name() + "#" + std::to_string(store.size());
      }
      if (llvm::Error e = store.addDerived(std::move(t), std::move(data))) {
        fail(llvm::toString(std::move(e)));
        return false;
      }
      return true;
    };
    if (!add(std::move(tensor), std::move(bytes), ternaryName) ||
        !add(std::move(scaleStored), std::move(scaleBytes), scaleName))
      return {};
    LinearWeights out;
    out.weight = WeightOp::create(b, weightLoc(b, weight), TernaryType::get(b.getContext(), n, k),
                                  b.getStringAttr(ternaryName));
    out.scale = WeightOp::create(
        b, weightLoc(b, scaleSource),
        RankedTensorType::get(scale->shape, scaleType),
        b.getStringAttr(scaleName));
    out.mode = w.divide ? ScaleMode::divide : ScaleMode::multiply;
    return out;
  }

  const OnnxModel &m;
  const OnnxDecoder &d;
  WeightStore &store;
  const ImportOptions &options;
  ImportStats &stats;
};

/// bos/eos token ids from a config.json or genai_config.json beside the model, if any.
void readTokenIds(llvm::StringRef dir, ModuleOp module) {
  OpBuilder b(module.getContext());
  for (llvm::StringRef file : {"genai_config.json", "config.json"}) {
    llvm::SmallString<256> path(dir);
    llvm::sys::path::append(path, file);
    auto buffer = llvm::MemoryBuffer::getFile(path);
    if (!buffer)
      continue;
    llvm::Expected<llvm::json::Value> json = llvm::json::parse((*buffer)->getBuffer());
    if (!json) {
      llvm::consumeError(json.takeError());
      continue;
    }
    const llvm::json::Object *o = json->getAsObject();
    if (o && o->getObject("model"))
      o = o->getObject("model");
    if (!o)
      continue;
    for (auto [key, attr] : {std::pair{"bos_token_id", "tern.bos_token_id"},
                             std::pair{"eos_token_id", "tern.eos_token_id"}}) {
      std::optional<int64_t> id = o->getInteger(key);
      if (const llvm::json::Array *list = o->getArray(key); list && !list->empty())
        id = (*list)[0].getAsInteger();
      if (id && !module->hasAttr(attr))
        module->setAttr(attr, b.getI64IntegerAttr(*id));
    }
  }
}

} // namespace

auto ::tern::onnx::importOnnx(MLIRContext &ctx, llvm::StringRef path, WeightStore &store,
                              const ImportOptions &options, ImportStats *statsOut)
    -> llvm::Expected<OwningOpRef<ModuleOp>> {
  ctx.loadDialect<TernDialect, func::FuncDialect>();
  llvm::Expected<std::unique_ptr<OnnxModel>> model = OnnxModel::open(path);
  if (!model)
    return model.takeError();
  llvm::Expected<OnnxDecoder> decoder = recognizeDecoder(**model);
  if (!decoder)
    return decoder.takeError();

  llvm::Expected<GraphShapes> shapes = resolveShapes(**model, *decoder, options.shapes);
  if (!shapes)
    return shapes.takeError();

  ImportStats stats;
  stats.shapes = *shapes;
  stats.nodes = decoder->nodes;
  stats.deadNodes = decoder->deadNodes;
  for (const ::onnx::TensorProto &t : (*model)->graph().initializer())
    if (const OnnxTensor *c = (*model)->constant(t.name()))
      stats.modelBytes += c->bytes.size();

  OpBuilder b(&ctx);
  Location loc = FileLineColLoc::get(b.getStringAttr(path), 0, 0);
  OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
  module->getOperation()->setAttr("tern.architecture", b.getStringAttr("onnx"));
  module->getOperation()->setAttr("tern.family", b.getStringAttr("onnx"));
  if (decoder->maxPositions > 0) // the rotary caches' rows (the genai form)
    module->getOperation()->setAttr("tern.max_position_embeddings",
                                    b.getI64IntegerAttr(decoder->maxPositions));
  llvm::SmallString<256> dir(path);
  llvm::sys::path::remove_filename(dir);
  readTokenIds(dir.empty() ? "." : dir.str(), *module);
  b.setInsertionPointToEnd(module->getBody());

  OnnxWeights weights(**model, *decoder, store, options, stats);
  func::FuncOp fn = buildDecoder(b, loc, "forward", decoder->spec, weights);
  if (!fn || weights.error)
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   weights.error.value_or("import failed"));
  if (options.progress)
    options.progress(decoder->spec.layers, decoder->spec.layers);
  if (statsOut)
    *statsOut = stats;
  return std::move(module);
}
