//===- SelectKernels.cpp - choose each op's runtime kernel for a target CPU -------------------===//
#include "passes/GeneratedKernels.h"
#include "passes/Passes.h"
#include "passes/Targets.h"
#include "passes/TuningDatabase.h"


namespace mlir::tern {
#define GEN_PASS_DEF_TERNSELECTKERNELSPASS
#include "passes/Passes.h.inc"

namespace {

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

/// Whether a database entry is about `op`.
bool matches(const TuningEntry &e, Operation *op) {
  if (e.op != op->getName().getStringRef())
    return false;
  std::optional<std::pair<int64_t, int64_t>> shape = weightShape(op);
  return !((e.rows && (!shape || shape->first != *e.rows)) ||
           (e.cols && (!shape || shape->second != *e.cols)));
}

struct TernSelectKernelsPass : impl::TernSelectKernelsPassBase<TernSelectKernelsPass> {
  using Base::Base;

  /// Reads the tuning database and checks it was measured for this target on this CPU.
  FailureOr<TuningDatabase> loadTuning(StringRef target) {
    ModuleOp module = getOperation();
    llvm::Expected<TuningDatabase> db = TuningDatabase::load(tuning);
    if (!db) {
      module.emitError() << llvm::toString(db.takeError());
      return failure();
    }
    if (db->target != target) {
      module.emitError() << "tuning database " << tuning << ": tuned for target '" << db->target
                         << "', not '" << target << "'";
      return failure();
    }
    std::string here = CpuSignature::host().key(), there = db->cpu.key();
    if (here != there && !forceTuning) {
      module.emitError() << "tuning database " << tuning << ": measured on CPU '" << there
                         << "', but this CPU is '" << here
                         << "' (tune on this CPU with tern-tune, or use it anyway with --force)";
      return failure();
    }
    return std::move(*db);
  }

  /// The kernel the database's entries for `op` give, or null if none matches. Errors (a
  /// parameter out of range) are reported on the module.
  FailureOr<KernelAttr> tuned(Operation *op, const TuningDatabase &db, const TargetInfo &target) {
    ModuleOp module = getOperation();
    MLIRContext *ctx = module.getContext();
    auto diag = [&]() { return module.emitError() << "tuning database " << tuning << ": "; };
    auto dict = [&](const std::map<std::string, int64_t> &params) {
      SmallVector<NamedAttribute> attrs;
      for (const auto &[k, v] : params)
        attrs.emplace_back(StringAttr::get(ctx, k),
                           IntegerAttr::get(IntegerType::get(ctx, 64), v));
      return DictionaryAttr::get(ctx, attrs);
    };
    // Generated schedules, per bucket, of one family: the decode bucket's (else the first
    // entry's); the family's heuristics fill missing buckets. Not with kernels=library, which
    // asks for the prebuilt kernels only.
    std::map<int64_t, DictionaryAttr> buckets;
    std::string family;
    auto generatedFor = [&](const TuningEntry &e) {
      return e.source == "generated" && kernels == "generated" && isa<BitLinearOp>(op) &&
             matches(e, op);
    };
    for (const TuningEntry &e : db.kernels)
      if (generatedFor(e) && (family.empty() || e.bucket == 1))
        family = e.family;
    for (const TuningEntry &e : db.kernels)
      if (generatedFor(e) && e.family == family)
        buckets.emplace(*e.bucket, dict(e.params));
    if (!buckets.empty()) {
      bool lut = family != "mad_i2";
      if (lut && (target.lutIsa.empty() || cast<BitLinearOp>(op).getScaleGroup())) {
        diag() << "generated " << family << " kernels for " << op->getName() << " "
               << cast<BitLinearOp>(op).getWeight().getType() << ": target '" << target.name
               << "' has no generated lookup-table tiles"
               << (target.lutIsa.empty() ? "" : " for group-wise scales");
        return failure();
      }
      SmallVector<NamedAttribute> attrs;
      for (int64_t bucket : kBatchBuckets) {
        auto it = buckets.find(bucket);
        DictionaryAttr fallback = lut ? LutSchedule::heuristic(bucket).toAttr(ctx)
                                      : MadSchedule::heuristic(bucket, target).toAttr(ctx);
        attrs.emplace_back(StringAttr::get(ctx, bucketName(bucket)),
                           it != buckets.end() ? it->second : fallback);
      }
      KernelAttr k = KernelAttr::getChecked(
          diag, ctx, StringAttr::get(ctx, family),
          StringAttr::get(ctx, lut ? target.decoderVariant : target.madVariant),
          DictionaryAttr::get(ctx, attrs));
      if (!k)
        return failure();
      return k;
    }
    for (const TuningEntry &e : db.kernels) {
      if (e.source != "library" || !matches(e, op))
        continue;
      KernelAttr k = KernelAttr::getChecked(diag, ctx, StringAttr::get(ctx, e.family),
                                            StringAttr::get(ctx, e.variant), dict(e.params));
      if (!k)
        return failure();
      return k;
    }
    return KernelAttr();
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
    std::optional<TuningDatabase> db;
    if (!tuning.empty()) {
      FailureOr<TuningDatabase> loaded = loadTuning(resolved);
      if (failed(loaded))
        return signalPassFailure();
      db = std::move(*loaded);
    }
    module->setAttr("tern.target", StringAttr::get(ctx, resolved));

    auto kernel = [&](StringRef family, StringRef variant,
                      ArrayRef<NamedAttribute> params = {}) {
      return KernelAttr::get(ctx, StringAttr::get(ctx, family), StringAttr::get(ctx, variant),
                             DictionaryAttr::get(ctx, params));
    };
    bool failed_ = false;
    module.walk([&](Operation *op) -> WalkResult {
      KernelAttr chosen;
      if (isa<BitLinearOp>(op)) {
        chosen = kernel("mad_i2", variants->madVariant);
        if (generate(*variants)) {
          // One schedule per batch bucket; ternc generates a kernel per distinct one.
          SmallVector<NamedAttribute> buckets;
          for (int64_t bucket : kBatchBuckets)
            buckets.emplace_back(StringAttr::get(ctx, bucketName(bucket)),
                                 MadSchedule::heuristic(bucket, *variants).toAttr(ctx));
          chosen = kernel("mad_i2", variants->madVariant, buckets);
        }
      } else if (auto m = dyn_cast<MatMulOp>(op)) {
        bool int8 = cast<RankedTensorType>(m.getInput().getType()).getElementType().isInteger(8);
        chosen = int8 ? kernel("generic", "generic") : kernel("decoder", variants->decoderVariant);
      } else if (isa<AttentionOp, RoPEOp, EmbeddingOp, QuantInputOp>(op)) {
        chosen = kernel("decoder", variants->decoderVariant);
      } else if (isa<RMSNormOp, ActQuantOp, Relu2Op, SiLUOp, MulOp, AddOp>(op)) {
        chosen = kernel("generic", "generic");
      } else {
        return WalkResult::advance();
      }
      if (db) {
        FailureOr<KernelAttr> fromDb = tuned(op, *db, *variants);
        if (failed(fromDb)) {
          failed_ = true;
          return WalkResult::interrupt();
        }
        if (*fromDb)
          chosen = *fromDb;
      }
      op->setAttr("tern.kernel", chosen);
      return WalkResult::advance();
    });
    if (failed_)
      return signalPassFailure();
  }
};

} // namespace
} // namespace mlir::tern
