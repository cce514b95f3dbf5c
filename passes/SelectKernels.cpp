//===- SelectKernels.cpp - choose each op's runtime kernel for a target CPU -------------------===//
#include "passes/GeneratedKernels.h"
#include "passes/Passes.h"
#include "passes/Targets.h"

#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"

namespace mlir::tern {
#define GEN_PASS_DEF_TERNSELECTKERNELSPASS
#include "passes/Passes.h.inc"

namespace {

/// One tuning-database entry: which ops it matches and the kernel it gives them.
struct TuningEntry {
  std::string op;
  std::optional<int64_t> rows, cols;
  KernelAttr kernel;
};

/// The weight shape an op's entry matches on (linear layers), if any.
std::optional<std::pair<int64_t, int64_t>> weightShape(Operation *op) {
  if (auto b = dyn_cast<BitLinearOp>(op)) {
    auto w = cast<TernaryWeightTypeInterface>(b.getWeight().getType());
    return std::pair(w.getRows(), w.getCols());
  }
  if (auto m = dyn_cast<MatMulOp>(op)) {
    auto w = cast<RankedTensorType>(m.getWeight().getType());
    return std::pair(w.getDimSize(0), w.getDimSize(1));
  }
  return std::nullopt;
}

struct TernSelectKernelsPass : impl::TernSelectKernelsPassBase<TernSelectKernelsPass> {
  using Base::Base;

  /// Reads the tuning database; errors name the file and the entry.
  LogicalResult loadTuning(StringRef target, SmallVectorImpl<TuningEntry> &entries) {
    ModuleOp module = getOperation();
    MLIRContext *ctx = module.getContext();
    auto fail = [&](const Twine &message) {
      return module.emitError() << "tuning database " << tuning << ": " << message;
    };
    auto buffer = llvm::MemoryBuffer::getFile(tuning);
    if (!buffer)
      return fail("cannot read: " + buffer.getError().message());
    llvm::Expected<llvm::json::Value> json = llvm::json::parse((*buffer)->getBuffer());
    if (!json)
      return fail("not JSON: " + llvm::toString(json.takeError()));
    const llvm::json::Object *root = json->getAsObject();
    if (!root)
      return fail("expected an object with \"target\" and \"kernels\"");
    std::optional<StringRef> dbTarget = root->getString("target");
    if (!dbTarget || *dbTarget != target)
      return fail("tuned for target '" + (dbTarget ? *dbTarget : StringRef("?")) +
                  "', not '" + target + "'");
    const llvm::json::Array *kernels = root->getArray("kernels");
    if (!kernels)
      return fail("expected a \"kernels\" array");
    for (auto [i, value] : llvm::enumerate(*kernels)) {
      const llvm::json::Object *e = value.getAsObject();
      std::optional<StringRef> op = e ? e->getString("op") : std::nullopt;
      std::optional<StringRef> family = e ? e->getString("family") : std::nullopt;
      std::optional<StringRef> variant = e ? e->getString("variant") : std::nullopt;
      if (!op || !family || !variant)
        return fail("kernels[" + Twine(i) + "] needs \"op\", \"family\" and \"variant\"");
      SmallVector<NamedAttribute> params;
      if (const llvm::json::Object *p = e->getObject("params"))
        for (const auto &[key, v] : *p) {
          std::optional<int64_t> n = v.getAsInteger();
          if (!n)
            return fail("kernels[" + Twine(i) + "].params." + StringRef(key) +
                        " must be an integer");
          params.emplace_back(StringAttr::get(ctx, StringRef(key)),
                              IntegerAttr::get(IntegerType::get(ctx, 64), *n));
        }
      auto diag = [&]() { return module.emitError() << "tuning database " << tuning << ": "; };
      KernelAttr kernel = KernelAttr::getChecked(diag, ctx, StringAttr::get(ctx, *family),
                                                 StringAttr::get(ctx, *variant),
                                                 DictionaryAttr::get(ctx, params));
      if (!kernel)
        return failure();
      entries.push_back({op->str(), e->getInteger("rows"), e->getInteger("cols"), kernel});
    }
    return success();
  }

  /// Whether bitlinears get kernels generated for their shapes by default.
  bool generate(const TargetInfo &target) {
    return kernels == "generated" && target.generatesMad;
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (kernels != "generated" && kernels != "library") {
      module.emitError() << "kernels=" << kernels << ": expected generated or library";
      return signalPassFailure();
    }
    MLIRContext *ctx = module.getContext();
    std::string resolved = target == "host" ? hostTargetName() : std::string(target);
    const TargetInfo *variants = lookupTarget(resolved);
    if (!variants) {
      module.emitError() << "unknown target '" << target
                         << "'; expected host, x86-64-avx2, x86-64-avx512, x86-64-avx512-vnni, "
                            "x86-64-multi, aarch64, aarch64-dotprod or generic";
      return signalPassFailure();
    }
    SmallVector<TuningEntry> entries;
    if (!tuning.empty() && failed(loadTuning(resolved, entries)))
      return signalPassFailure();
    module->setAttr("tern.target", StringAttr::get(ctx, resolved));

    auto kernel = [&](StringRef family, StringRef variant,
                      ArrayRef<std::pair<StringRef, int64_t>> params = {}) {
      SmallVector<NamedAttribute> attrs;
      for (auto [k, v] : params)
        attrs.emplace_back(StringAttr::get(ctx, k), IntegerAttr::get(IntegerType::get(ctx, 64), v));
      return KernelAttr::get(ctx, StringAttr::get(ctx, family), StringAttr::get(ctx, variant),
                             DictionaryAttr::get(ctx, attrs));
    };
    module.walk([&](Operation *op) {
      KernelAttr chosen;
      if (isa<BitLinearOp>(op)) {
        chosen = kernel("mad_i2", variants->madVariant);
        if (generate(*variants)) {
          // One schedule per batch bucket; ternc generates a kernel per distinct one.
          SmallVector<NamedAttribute> buckets;
          for (int64_t bucket : kBatchBuckets)
            buckets.emplace_back(StringAttr::get(ctx, bucketName(bucket)),
                                 MadSchedule::heuristic(bucket).toAttr(ctx));
          chosen = KernelAttr::get(ctx, StringAttr::get(ctx, "mad_i2"),
                                   StringAttr::get(ctx, variants->madVariant),
                                   DictionaryAttr::get(ctx, buckets));
        }
      } else if (auto m = dyn_cast<MatMulOp>(op)) {
        bool int8 = cast<RankedTensorType>(m.getInput().getType()).getElementType().isInteger(8);
        chosen = int8 ? kernel("generic", "generic") : kernel("decoder", variants->decoderVariant);
      } else if (isa<AttentionOp, RoPEOp, EmbeddingOp, QuantInputOp>(op)) {
        chosen = kernel("decoder", variants->decoderVariant);
      } else if (isa<RMSNormOp, ActQuantOp, Relu2Op, SiLUOp, MulOp, AddOp>(op)) {
        chosen = kernel("generic", "generic");
      } else {
        return;
      }
      std::optional<std::pair<int64_t, int64_t>> shape = weightShape(op);
      for (const TuningEntry &e : entries) {
        if (e.op != op->getName().getStringRef())
          continue;
        if ((e.rows && (!shape || shape->first != *e.rows)) ||
            (e.cols && (!shape || shape->second != *e.cols)))
          continue;
        chosen = e.kernel;
        break;
      }
      op->setAttr("tern.kernel", chosen);
    });
  }
};

} // namespace
} // namespace mlir::tern
