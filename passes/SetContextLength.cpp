//===- SetContextLength.cpp - fix the context length of KV caches -----------------------------===//
#include "passes/Passes.h"

#include "dialects/tern/TernDialect.h"

#include "mlir/IR/AttrTypeSubElements.h"

namespace mlir::tern {
#define GEN_PASS_DEF_TERNSETCONTEXTLENGTHPASS
#include "passes/Passes.h.inc"

namespace {
struct TernSetContextLengthPass
    : impl::TernSetContextLengthPassBase<TernSetContextLengthPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    const int64_t length = this->length; // the option's value, not the cl::opt wrapper
    if (length <= 0) {
      module.emitError() << "tern-set-context-length: length must be positive, found " << length;
      return signalPassFailure();
    }
    // A conflicting static length is reported once per type, at the first op that uses it.
    bool conflict = false;
    module.walk([&](Operation *op) {
      auto check = [&](Type type) {
        auto cache = dyn_cast<KVCacheType>(type);
        if (cache && cache.hasStaticContext() && cache.getContextLength() != length &&
            !this->overwrite && !conflict) {
          op->emitError() << "KV cache already has context = " << cache.getContextLength()
                          << ", not " << length << "; pass overwrite=true to replace it";
          conflict = true;
        }
      };
      for (Type t : op->getResultTypes())
        check(t);
      for (Type t : op->getOperandTypes())
        check(t);
      for (Region &region : op->getRegions())
        for (Block &block : region)
          for (BlockArgument arg : block.getArguments())
            check(arg.getType());
    });
    if (conflict)
      return signalPassFailure();

    AttrTypeReplacer replacer;
    replacer.addReplacement([&](KVCacheType cache) -> Type {
      return KVCacheType::get(cache.getContext(), cache.getLayers(), cache.getKvHeads(),
                              cache.getHeadDim(), length, cache.getElementType());
    });
    replacer.recursivelyReplaceElementsIn(module, /*replaceAttrs=*/true, /*replaceLocs=*/false,
                                          /*replaceTypes=*/true);
  }
};
} // namespace
} // namespace mlir::tern
