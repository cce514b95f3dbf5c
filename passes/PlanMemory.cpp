//===- PlanMemory.cpp - one static activation arena with liveness-based reuse -----------------===//
#include "passes/Passes.h"

#include "tern/decoder_kernels.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/Support/FormatVariadic.h"

namespace mlir::tern {
#define GEN_PASS_DEF_TERNPLANMEMORYPASS
#include "passes/Passes.h.inc"

namespace {

int64_t roundUp(int64_t v, int64_t m) { return (v + m - 1) / m * m; }

/// A buffer to place: its size and the program points between which it is live.
struct Interval {
  int64_t size = 0, begin = 0, end = 0; // live over [begin, end], op indices
  int64_t offset = -1;
};

/// Bytes of an activation for `tokens` tokens, or nullopt if `type` is not an activation.
std::optional<int64_t> activationBytes(Type type, int64_t tokens) {
  auto t = dyn_cast<RankedTensorType>(type);
  if (!t || t.getRank() < 1 || t.getRank() > 2 || !ShapedType::isDynamic(t.getDimSize(0)))
    return std::nullopt;
  int64_t width = t.getRank() == 2 ? t.getDimSize(1) : 1;
  if (ShapedType::isDynamic(width))
    return std::nullopt;
  Type element = t.getElementType();
  int64_t elementBytes = (element.getIntOrFloatBitWidth() + 7) / 8;
  if (element.isInteger(8) && t.getRank() == 2)
    width = roundUp(width, 16); // int8 rows as the kernels read them
  return tokens * width * elementBytes;
}

struct TernPlanMemoryPass : impl::TernPlanMemoryPassBase<TernPlanMemoryPass> {
  using Base::Base;

  void runOnOperation() override {
    func::FuncOp fn = getOperation();
    if (fn.isExternal())
      return;
    const int64_t align = alignment;
    if (align <= 0 || (align & (align - 1)) != 0) {
      fn.emitError() << "tern-plan-memory: alignment must be a power of two, found " << align;
      return signalPassFailure();
    }
    // The KV cache: static context required.
    int64_t kvBytes = 0, context = 0;
    for (Type t : fn.getArgumentTypes())
      if (auto kv = dyn_cast<KVCacheType>(t)) {
        if (!kv.hasStaticContext()) {
          fn.emitError() << "tern-plan-memory needs a static KV-cache context; run "
                            "tern-set-context-length (ternc --context=N) first";
          return signalPassFailure();
        }
        context = kv.getContextLength();
        int64_t element = (kv.getElementType().getIntOrFloatBitWidth() + 7) / 8;
        // The runtime's layout (tern/decoder_kernels.h) holds whole blocks of 64 positions.
        int64_t held = (context + TERN_KV_BLOCK - 1) / TERN_KV_BLOCK * TERN_KV_BLOCK;
        kvBytes += 2 * kv.getLayers() * kv.getKvHeads() * held * kv.getHeadDim() * element;
      }
    const int64_t tokens = maxTokens > 0 ? int64_t(maxTokens) : context;
    if (tokens <= 0) {
      fn.emitError() << "tern-plan-memory: pass max-tokens (the largest token count of one "
                        "call); this function has no KV cache to take it from";
      return signalPassFailure();
    }

    // Program order, and each planned value's interval.
    Block &body = fn.getBody().front();
    llvm::DenseMap<Operation *, int64_t> index;
    int64_t n = 0;
    for (Operation &op : body)
      index[&op] = n++;
    SmallVector<std::pair<Value, Interval>> values;
    SmallVector<std::pair<Operation *, Interval>> scratch;
    for (Operation &op : body) {
      if (isa<WeightOp, ConcatRowsOp, TernaryConstantOp>(op))
        continue; // weights live in the blob
      int64_t at = index[&op];
      for (Value result : op.getResults()) {
        std::optional<int64_t> bytes = activationBytes(result.getType(), tokens);
        if (!bytes)
          continue;
        Interval live{roundUp(*bytes, align), at, at};
        for (Operation *user : result.getUsers())
          live.end = std::max(live.end, index.lookup(body.findAncestorOpInBlock(*user)));
        if (isa<func::ReturnOp>(body.getTerminator()) &&
            llvm::is_contained(body.getTerminator()->getOperands(), result))
          live.end = n; // returned: live to the end
        values.push_back({result, live});
      }
      if (auto linear = dyn_cast<BitLinearOp>(op)) {
        int64_t rows = cast<TernaryWeightTypeInterface>(linear.getWeight().getType()).getRows();
        scratch.push_back({&op, Interval{roundUp(tokens * roundUp(rows, 64) * 4, align), at, at}});
      }
    }

    // First fit in definition order: a buffer takes the lowest offset that no live buffer
    // overlaps.
    SmallVector<Interval *> placed;
    int64_t peak = 0, unshared = 0;
    auto place = [&](Interval &iv) {
      SmallVector<std::pair<int64_t, int64_t>> busy; // [offset, offset + size) of live buffers
      for (Interval *p : placed)
        if (p->end >= iv.begin && p->begin <= iv.end)
          busy.push_back({p->offset, p->offset + p->size});
      llvm::sort(busy);
      int64_t offset = 0;
      for (auto [lo, hi] : busy) {
        if (offset + iv.size <= lo)
          break;
        offset = std::max(offset, hi);
      }
      iv.offset = offset;
      placed.push_back(&iv);
      peak = std::max(peak, offset + iv.size);
      unshared += iv.size;
    };
    // Interleave values and scratch in program order (scratch of op i with the results of i).
    size_t s = 0;
    for (auto &[value, iv] : values) {
      while (s < scratch.size() && scratch[s].second.begin <= iv.begin)
        place(scratch[s++].second);
      place(iv);
    }
    while (s < scratch.size())
      place(scratch[s++].second);

    // Annotate.
    Builder b(&getContext());
    llvm::DenseMap<Value, int64_t> offsetOf;
    for (auto &[value, iv] : values)
      offsetOf[value] = iv.offset;
    for (Operation &op : body) {
      if (op.getNumResults() == 0)
        continue;
      SmallVector<int64_t> offsets;
      bool any = false;
      for (Value result : op.getResults()) {
        auto it = offsetOf.find(result);
        offsets.push_back(it == offsetOf.end() ? -1 : it->second);
        any |= it != offsetOf.end();
      }
      if (any)
        op.setAttr("tern.arena", b.getDenseI64ArrayAttr(offsets));
    }
    for (auto &[op, iv] : scratch)
      op->setAttr("tern.scratch", b.getI64IntegerAttr(iv.offset));
    fn->setAttr("tern.arena_bytes", b.getI64IntegerAttr(peak));
    fn->setAttr("tern.kv_cache_bytes", b.getI64IntegerAttr(kvBytes));
    fn->setAttr("tern.max_tokens", b.getI64IntegerAttr(tokens));
    if (report)
      fn.emitRemark() << llvm::formatv(
          "activation arena {0} bytes for {1} tokens ({2} bytes without reuse), KV cache {3} "
          "bytes for {4} positions",
          peak, tokens, unshared, kvBytes, context);
  }
};

} // namespace
} // namespace mlir::tern
