//===- PackWeights.cpp - ternary weights into the layout their kernel reads -------------------===//
#include "passes/Passes.h"

#include "dialects/weights/WeightStore.h"

#include "tern/head_q6.h"
#include "tern/head_q8.h"
#include "tern/kernels.h"
#include "tern/lut_kernels.h"
#include "tern/weight_blob.h"

#include "mlir/IR/Builders.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Parallel.h"

#include <algorithm>
#include <cstring>

namespace mlir::tern {
#define GEN_PASS_DEF_TERNPACKWEIGHTSPASS
#include "passes/Passes.h.inc"

namespace {

/// A logical ternary matrix and the name it is known by.
struct Logical {
  std::string name;
  int64_t rows = 0, cols = 0;
  std::vector<int8_t> values;
};

/// The runtime's own function: the checksum the weights file and the runtime check.
uint64_t checksumOf(ArrayRef<uint8_t> bytes) {
  return tern_blob_checksum(bytes.data(), bytes.size());
}

struct Layout {
  WeightFormat format;
  const char *suffix;
  int64_t tileN, tileK;
  size_t (*size)(int64_t, int64_t);
  int (*pack)(const int8_t *, int64_t, int64_t, uint8_t *);
};

Layout layoutOf(WeightFormat format) {
  switch (format) {
  case WeightFormat::tl1:
    return {format, "tl1", TERN_LUT_ROW_BLOCK, TERN_TL1_PAIR_COLUMNS, tern_tl1_packed_size,
            tern_tl1_pack};
  case WeightFormat::tl2:
    return {format, "tl2", TERN_LUT_ROW_BLOCK, TERN_TL2_OCTET_COLUMNS, tern_tl2_packed_size,
            tern_tl2_pack};
  case WeightFormat::i2:
  case WeightFormat::q8_0: // not ternary formats: no bitlinear selects them
  case WeightFormat::q6_k:
    return {WeightFormat::i2, "i2", TERN_I2_TILE_N, TERN_I2_TILE_K, tern_i2_packed_size,
            tern_i2_pack};
  }
  llvm_unreachable("unknown WeightFormat");
}

/// A quantized output head format (tern/head_q8.h, tern/head_q6.h) and its quantizer.
struct HeadFormat {
  WeightFormat format;
  const char *name, *description;
  int64_t tileN, tileK;
  size_t (*size)(int64_t n, int64_t k);
  void (*packRows)(const float *rows, int64_t first, int64_t count, int64_t n, int64_t k,
                   uint8_t *out);
  /// The same numbers from GGUF's blocks (block_q8_0 / block_q6_K rows), and a block's bytes.
  void (*packGgmlRows)(const uint8_t *blocks, int64_t first, int64_t count, int64_t n,
                       int64_t k, uint8_t *out);
  int64_t ggmlBlockBytes;
};

const HeadFormat kHeadFormats[] = {
    {WeightFormat::q8_0, "q8_0", "8-bit head (q8_0)", TERN_Q8_0_TILE_ROWS, TERN_Q8_0_BLOCK,
     tern_q8_0_size, tern_q8_0_pack_rows, tern_q8_0_pack_ggml_rows, TERN_Q8_0_GGML_BLOCK_BYTES},
    {WeightFormat::q6_k, "q6_k", "6.5-bit head (q6_k)", TERN_Q6_K_TILE_ROWS, TERN_Q6_K_BLOCK,
     tern_q6_k_size, tern_q6_k_pack_rows, tern_q6_k_pack_ggml_rows, TERN_Q6_K_GGML_BLOCK_BYTES},
};

struct TernPackWeightsPass : impl::TernPackWeightsPassBase<TernPackWeightsPass> {
  explicit TernPackWeightsPass(::tern::WeightStore *store) : store(store) {}
  TernPackWeightsPass(::tern::WeightStore *store, std::string head, bool shareEmbedding)
      : store(store) {
    headFormat = std::move(head);
    tiedEmbedding = shareEmbedding;
  }

  ::tern::WeightStore *store;

  /// The logical matrix behind a bitlinear's weight operand.
  FailureOr<Logical> logical(Value weight) {
    Operation *def = weight.getDefiningOp();
    if (auto w = dyn_cast_or_null<WeightOp>(def)) {
      if (!store)
        return w.emitOpError() << "tern-pack-weights has no weight store to read '"
                               << w.getName() << "' from; run it from ternc, which loads the "
                               << "checkpoint";
      auto type = cast<TernaryType>(w.getType());
      Logical l{w.getName().str(), type.getRows(), type.getCols(), {}};
      l.values.resize(size_t(l.rows * l.cols));
      if (llvm::Error e = store->readTernary(w.getName(), l.values))
        return w.emitOpError() << llvm::toString(std::move(e));
      return l;
    }
    if (auto c = dyn_cast_or_null<ConcatRowsOp>(def)) {
      Logical all;
      SmallVector<std::string> names;
      for (Value input : c.getInputs()) {
        FailureOr<Logical> part = logical(input);
        if (failed(part))
          return failure();
        names.push_back(part->name);
        all.rows += part->rows;
        all.cols = part->cols;
        all.values.insert(all.values.end(), part->values.begin(), part->values.end());
      }
      all.name = llvm::join(names, "+");
      return all;
    }
    if (auto k = dyn_cast_or_null<TernaryConstantOp>(def)) {
      auto type = cast<TernaryType>(k.getType());
      Logical l{"", type.getRows(), type.getCols(), {}};
      for (APInt v : k.getValue().getValues<APInt>())
        l.values.push_back(int8_t(v.getSExtValue()));
      l.name = "constant." + llvm::utohexstr(
                                 checksumOf(ArrayRef<uint8_t>(
                                     reinterpret_cast<const uint8_t *>(l.values.data()),
                                     l.values.size())));
      return l;
    }
    return emitError(weight.getLoc())
           << "tern-pack-weights: a ternary weight must come from tern.weight, "
              "tern.concat_rows or tern.ternary_constant";
  }

  /// A tern.weight of the packed bytes of `weight` in `layout`, stored once per name.
  /// With `group` > 0 (a group-wise scale along K), the weight is packed as K / group
  /// consecutive matrices of rows x group, one per scale group, so a kernel runs on each group
  /// as on a whole matrix.
  FailureOr<Value> packed(OpBuilder &b, Value weight, const Layout &layout, int64_t group = 0) {
    FailureOr<Logical> l = logical(weight);
    if (failed(l))
      return failure();
    std::string name = l->name + ":" + layout.suffix;
    size_t size = layout.size(l->rows, l->cols);
    if (group > 0) {
      name += "/g" + std::to_string(group);
      size = size_t(l->cols / group) * layout.size(l->rows, group);
    }
    uint64_t checksum;
    if (store && store->lookup(name)) {
      checksum = checksumOf(store->lookup(name)->bytes);
    } else {
      std::vector<uint8_t> bytes(size);
      bool ok = true;
      if (group > 0) {
        size_t chunk = layout.size(l->rows, group);
        std::vector<int8_t> part(size_t(l->rows * group));
        for (int64_t g = 0; ok && g < l->cols / group; ++g) {
          for (int64_t r = 0; r < l->rows; ++r)
            std::memcpy(part.data() + r * group, l->values.data() + r * l->cols + g * group,
                        size_t(group));
          ok = layout.pack(part.data(), l->rows, group, bytes.data() + size_t(g) * chunk) == 0;
        }
      } else {
        ok = layout.pack(l->values.data(), l->rows, l->cols, bytes.data()) == 0;
      }
      if (!ok)
        return emitError(weight.getLoc()) << "tern-pack-weights: '" << l->name
                                          << "' has a value outside {-1, 0, 1}";
      checksum = checksumOf(bytes);
      if (store) {
        ::tern::StoredTensor t;
        t.name = name;
        t.dtype = ::tern::DType::U8;
        t.shape = {int64_t(size)};
        t.origin = "packed from " + l->name;
        if (llvm::Error e = store->addDerived(std::move(t), std::move(bytes)))
          return emitError(weight.getLoc()) << llvm::toString(std::move(e));
      }
    }
    MLIRContext *ctx = b.getContext();
    auto type = PackedType::get(ctx, l->rows, l->cols,
                                LayoutAttr::get(ctx, layout.format, layout.tileN, layout.tileK));
    auto op = WeightOp::create(b, weight.getLoc(), type, b.getStringAttr(name));
    op->setAttr("tern.bytes", b.getI64IntegerAttr(int64_t(size)));
    op->setAttr("tern.checksum", b.getI64IntegerAttr(int64_t(checksum)));
    return Value(op.getResult());
  }

  /// One stored tensor for row-stacked scales (each input broadcast to its rows).
  FailureOr<Value> stacked(OpBuilder &b, ConcatRowsOp concat) {
    if (!store)
      return concat.emitOpError() << "tern-pack-weights has no weight store to stack into";
    SmallVector<std::string> names;
    std::vector<uint8_t> bytes;
    for (auto [input, rows] : llvm::zip(concat.getInputs(), concat.getRows())) {
      auto w = input.getDefiningOp<WeightOp>();
      const ::tern::StoredTensor *t = w ? store->lookup(w.getName()) : nullptr;
      if (!t)
        return concat.emitOpError() << "can only stack tern.weight tensors of the store";
      size_t rowBytes = t->bytes.size() / size_t(std::max<int64_t>(1, t->shape[0]));
      for (int64_t r = 0; r < rows; ++r) {
        size_t from = t->shape[0] == 1 ? 0 : size_t(r) * rowBytes;
        bytes.insert(bytes.end(), t->bytes.begin() + from, t->bytes.begin() + from + rowBytes);
      }
      names.push_back(w.getName().str());
    }
    std::string name = llvm::join(names, "+") + ":rows";
    const ::tern::StoredTensor *first =
        store->lookup(concat.getInputs().front().getDefiningOp<WeightOp>().getName());
    if (!store->lookup(name)) {
      ::tern::StoredTensor t;
      t.name = name;
      t.dtype = first->dtype;
      auto type = cast<RankedTensorType>(concat.getType());
      t.shape.assign(type.getShape().begin(), type.getShape().end());
      t.origin = "stacked rows of " + llvm::join(names, ", ");
      if (llvm::Error e = store->addDerived(std::move(t), std::move(bytes)))
        return concat.emitOpError() << llvm::toString(std::move(e));
    }
    auto op = WeightOp::create(b, concat.getLoc(), concat.getType(), b.getStringAttr(name));
    return Value(op.getResult());
  }


  /// A tern.weight of `weight` as f32 (reciprocals with `reciprocal`): the form the runtime's
  /// kernels read norm weights and scales in, so nothing converts them per call.
  FailureOr<Value> asF32(OpBuilder &b, Value weight, bool reciprocal) {
    auto w = weight.getDefiningOp<WeightOp>();
    auto type = dyn_cast<RankedTensorType>(weight.getType());
    if (!w || !type || (type.getElementType().isF32() && !reciprocal) || !store)
      return weight;
    const ::tern::StoredTensor *t = store->lookup(w.getName());
    if (!t)
      return w.emitOpError() << "no tensor '" << w.getName() << "' in the weight store";
    if (t->encoding != ::tern::TensorEncoding::Dense)
      return w.emitOpError() << "'" << w.getName() << "' is not a plain float tensor in the "
                             << "weight store";
    std::string name = (w.getName() + (reciprocal ? ":recip_f32" : ":f32")).str();
    if (!store->lookup(name)) {
      int64_t n = t->numElements();
      std::vector<uint8_t> bytes(size_t(n) * sizeof(float));
      for (int64_t i = 0; i < n; ++i) {
        float v = ::tern::loadFloat(t->dtype, t->bytes.data(), i);
        // In float, as the runtime would compute it: 1.0f / v rounds once.
        if (reciprocal)
          v = 1.0f / v;
        std::memcpy(bytes.data() + size_t(i) * sizeof(float), &v, sizeof(float));
      }
      ::tern::StoredTensor f;
      f.name = name;
      f.dtype = ::tern::DType::F32;
      f.shape = t->shape;
      f.origin = (reciprocal ? "f32 reciprocals of " : "f32 copy of ") + w.getName().str();
      if (llvm::Error e = store->addDerived(std::move(f), std::move(bytes)))
        return w.emitOpError() << llvm::toString(std::move(e));
    }
    auto op = WeightOp::create(b, w.getLoc(), RankedTensorType::get(type.getShape(),
                                                                    b.getF32Type()),
                               b.getStringAttr(name));
    return Value(op.getResult());
  }

  /// The table `w` in `format`'s layout as the store tensor `name` (filled by `fillRows(first
  /// row, row count, out)` for each tile of rows, in parallel, unless an earlier op packed it
  /// already), and a tern.weight of it after `w`.
  FailureOr<WeightOp> packedTable(WeightOp w, const HeadFormat &format, const std::string &name,
                                  llvm::function_ref<void(int64_t, int64_t, uint8_t *)> fillRows,
                                  const std::string &origin) {
    auto type = cast<RankedTensorType>(w.getType());
    int64_t n = type.getDimSize(0), k = type.getDimSize(1);
    size_t size = format.size(n, k);
    uint64_t checksum;
    if (const ::tern::StoredTensor *done = store->lookup(name)) {
      checksum = checksumOf(done->bytes);
    } else {
      // A tile's bytes belong to its rows alone.
      std::vector<uint8_t> bytes(size);
      int64_t tiles = (n + format.tileN - 1) / format.tileN;
      llvm::parallelFor(0, size_t(tiles), [&](size_t tile) {
        int64_t first = int64_t(tile) * format.tileN;
        fillRows(first, std::min<int64_t>(format.tileN, n - first), bytes.data());
      });
      checksum = checksumOf(bytes);
      ::tern::StoredTensor q;
      q.name = name;
      q.dtype = ::tern::DType::U8;
      q.shape = {int64_t(size)};
      q.origin = origin;
      if (llvm::Error e = store->addDerived(std::move(q), std::move(bytes)))
        return w.emitOpError() << llvm::toString(std::move(e));
    }
    OpBuilder b(w);
    b.setInsertionPointAfter(w);
    MLIRContext *ctx = b.getContext();
    auto quantized = RankedTensorType::get(
        {n, k}, b.getF32Type(), LayoutAttr::get(ctx, format.format, format.tileN, format.tileK));
    auto op = WeightOp::create(b, w.getLoc(), quantized, b.getStringAttr(name));
    op->setAttr("tern.bytes", b.getI64IntegerAttr(int64_t(size)));
    op->setAttr("tern.checksum", b.getI64IntegerAttr(int64_t(checksum)));
    return op;
  }

  /// The float head `m` reads, quantized into `format`; with tied-embedding, an embedding lookup
  /// of the same table (tied weights) reads the quantized rows too, so the table is stored once.
  LogicalResult quantizeHead(MatMulOp m, const HeadFormat &format) {
    auto w = m.getWeight().getDefiningOp<WeightOp>();
    auto type = cast<RankedTensorType>(m.getWeight().getType());
    if (!w || type.getEncoding() || !isa<FloatType>(type.getElementType()) ||
        !isa<FloatType>(cast<RankedTensorType>(m.getInput().getType()).getElementType()))
      return success(); // not a float head from the store, or quantized already
    if (!store)
      return m.emitOpError() << "tern-pack-weights has no weight store to quantize '"
                             << w.getName() << "' from; run it from ternc";
    const ::tern::StoredTensor *t = store->lookup(w.getName());
    if (!t)
      return w.emitOpError() << "no tensor '" << w.getName() << "' in the weight store";
    int64_t n = type.getDimSize(0), k = type.getDimSize(1);
    FailureOr<WeightOp> op = packedTable(
        w, format, (w.getName() + ":" + format.name).str(),
        [&](int64_t first, int64_t count, uint8_t *out) {
          // Each tile converted to float on its own (the whole 2B4T head in float would be
          // 1.3 GB).
          std::vector<float> rows(size_t(count * k));
          for (int64_t i = 0; i < count * k; ++i)
            rows[size_t(i)] = ::tern::loadFloat(t->dtype, t->bytes.data(), first * k + i);
          format.packRows(rows.data(), first, count, n, k, out);
        },
        std::string(format.description) + " of " + w.getName().str());
    if (failed(op))
      return failure();
    m.getWeightMutable().assign(op->getResult());
    if (tiedEmbedding)
      for (OpOperand &use : llvm::make_early_inc_range(w.getResult().getUses()))
        if (auto e = dyn_cast<EmbeddingOp>(use.getOwner()); e && use.get() == e.getTable())
          use.set(op->getResult());
    if (w.getResult().use_empty())
      w.erase();
    return success();
  }

  /// Tables a frontend kept in GGUF's block formats (a Q8_0 or Q6_K embedding or head),
  /// repacked bit for bit into the head layout of the same numbers, whatever --head says: every
  /// op reading the table reads the packed one (the lookup dequantizes rows, the head runs the
  /// int8 kernels).
  LogicalResult repackGgmlTables() {
    if (!store)
      return success();
    SmallVector<WeightOp> tables;
    getOperation().walk([&](WeightOp w) {
      if (const ::tern::StoredTensor *t = store->lookup(w.getName()); t && t->isGgmlBlocks())
        tables.push_back(w);
    });
    for (WeightOp w : tables) {
      const ::tern::StoredTensor *t = store->lookup(w.getName());
      const HeadFormat &format =
          kHeadFormats[t->encoding == ::tern::TensorEncoding::GgmlQ8_0 ? 0 : 1];
      auto type = dyn_cast<RankedTensorType>(w.getType());
      if (!type || type.getRank() != 2 || type.getShape() != ArrayRef<int64_t>(t->shape) ||
          type.getDimSize(1) % format.tileK)
        return w.emitOpError() << "tern-pack-weights: '" << w.getName() << "' is stored in GGUF's "
                               << format.name << " blocks and must be read as a [N, K] table "
                               << "with K a multiple of " << format.tileK;
      int64_t n = type.getDimSize(0), k = type.getDimSize(1);
      int64_t rowBytes = k / format.tileK * format.ggmlBlockBytes;
      if (int64_t(t->bytes.size()) != n * rowBytes)
        return w.emitOpError() << "tern-pack-weights: '" << w.getName() << "' holds "
                               << t->bytes.size() << " bytes; " << n << " rows of " << k
                               << " in " << format.name << " blocks are " << n * rowBytes;
      FailureOr<WeightOp> op = packedTable(
          w, format, (w.getName() + ":" + format.name).str(),
          [&](int64_t first, int64_t count, uint8_t *out) {
            format.packGgmlRows(t->bytes.data() + first * rowBytes, first, count, n, k, out);
          },
          std::string(format.description) + ", the GGUF blocks of " + w.getName().str());
      if (failed(op))
        return failure();
      w.getResult().replaceAllUsesWith(op->getResult());
      w.erase();
    }
    return success();
  }

  void runOnOperation() override {
    if (failed(repackGgmlTables()))
      return signalPassFailure();
    if (!headFormat.empty()) {
      const HeadFormat *format = nullptr;
      for (const HeadFormat &f : kHeadFormats)
        if (headFormat == f.name)
          format = &f;
      if (!format) {
        getOperation().emitError()
            << "tern-pack-weights: unknown head-format '" << headFormat
            << "'; expected q8_0 or q6_k (or nothing, to keep the head as it is)";
        return signalPassFailure();
      }
      // The output head: the tern.matmul whose result the function returns (a float projection
      // an importer kept is not a head).
      SmallVector<MatMulOp> heads;
      getOperation().walk([&](MatMulOp op) {
        if (llvm::any_of(op->getUsers(), [](Operation *u) { return isa<func::ReturnOp>(u); }))
          heads.push_back(op);
      });
      for (MatMulOp m : heads)
        if (failed(quantizeHead(m, *format)))
          return signalPassFailure();
    }
    SmallVector<BitLinearOp> linears;
    getOperation().walk([&](BitLinearOp op) { linears.push_back(op); });
    for (BitLinearOp op : linears) {
      auto kernel = op->getAttrOfType<KernelAttr>("tern.kernel");
      std::optional<WeightFormat> format = kernel ? kernel.getWeightFormat() : std::nullopt;
      if (!format || isa<PackedType>(op.getWeight().getType()))
        continue;
      OpBuilder b(op);
      int64_t group = op.getScaleGroup();
      if (group > 0 && *format != WeightFormat::i2) {
        op.emitOpError() << "tern-pack-weights: a group-wise weight_scale needs the mad_i2 "
                            "family (its kernels run per group of "
                         << group << " columns), not " << kernel.getFamily().getValue();
        return signalPassFailure();
      }
      FailureOr<Value> weight = packed(b, op.getWeight(), layoutOf(*format), group);
      if (failed(weight))
        return signalPassFailure();
      op.getWeightMutable().assign(*weight);
      if (auto concat = op.getWeightScale().getDefiningOp<ConcatRowsOp>()) {
        FailureOr<Value> scale = stacked(b, concat);
        if (failed(scale))
          return signalPassFailure();
        op.getWeightScaleMutable().assign(*scale);
      }
      // The epilogue multiplies by f32 scales: a divide convention stores reciprocals.
      bool divide = op.getScaleMode() == ScaleMode::divide;
      FailureOr<Value> scale = asF32(b, op.getWeightScale(), divide);
      if (failed(scale))
        return signalPassFailure();
      if (*scale != op.getWeightScale()) {
        op.getWeightScaleMutable().assign(*scale);
        if (divide)
          op.setScaleMode(ScaleMode::multiply);
      }
    }
    // Norm weights, which the kernels read as f32.
    SmallVector<Operation *> norms;
    getOperation().walk([&](Operation *op) {
      if (isa<RMSNormOp, QuantInputOp>(op) && op->hasAttr("tern.kernel"))
        norms.push_back(op);
    });
    for (Operation *op : norms) {
      OpOperand *gamma = nullptr;
      if (auto n = dyn_cast<RMSNormOp>(op))
        gamma = &n.getWeightMutable();
      else if (auto q = cast<QuantInputOp>(op); q.getNormWeight())
        gamma = &q.getNormWeightMutable()[0];
      if (!gamma)
        continue;
      OpBuilder b(op);
      FailureOr<Value> f = asF32(b, gamma->get(), /*reciprocal=*/false);
      if (failed(f))
        return signalPassFailure();
      gamma->set(*f);
    }
    // The logical weights and stacks nothing reads any more.
    bool erased = true;
    while (erased) {
      erased = false;
      getOperation().walk([&](Operation *op) {
        if (isa<WeightOp, ConcatRowsOp, TernaryConstantOp>(op) && op->use_empty()) {
          op->erase();
          erased = true;
        }
      });
    }
  }
};

} // namespace

std::unique_ptr<Pass> createTernPackWeightsPass() {
  return std::make_unique<TernPackWeightsPass>(nullptr);
}

std::unique_ptr<Pass> createTernPackWeightsPass(::tern::WeightStore &store,
                                                const std::string &headFormat,
                                                bool tiedEmbedding) {
  return std::make_unique<TernPackWeightsPass>(&store, headFormat, tiedEmbedding);
}

} // namespace mlir::tern
