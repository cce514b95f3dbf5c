//===- FuseProjections.cpp - one bitlinear for the projections of one quantized input ---------===//
#include "passes/Passes.h"

#include "mlir/IR/Builders.h"

#include "llvm/ADT/MapVector.h"

namespace mlir::tern {
#define GEN_PASS_DEF_TERNFUSEPROJECTIONSPASS
#include "passes/Passes.h.inc"

namespace {

/// Whether every user of the group's results comes after `last` in its block, so the fused op
/// can stand where `last` stands.
bool usersFollow(ArrayRef<BitLinearOp> group, Operation *last) {
  for (BitLinearOp op : group)
    for (Operation *user : op.getResult().getUsers())
      if (user->getBlock() != last->getBlock() || !last->isBeforeInBlock(user))
        return false;
  return true;
}

void fuse(ArrayRef<BitLinearOp> group) {
  Operation *last = group.back();
  OpBuilder b(last);
  SmallVector<Value> weights, scales;
  SmallVector<int64_t> rows;
  SmallVector<Type> resultTypes;
  int64_t totalRows = 0;
  for (BitLinearOp op : group) {
    auto w = cast<TernaryType>(op.getWeight().getType());
    weights.push_back(op.getWeight());
    scales.push_back(op.getWeightScale());
    rows.push_back(w.getRows());
    totalRows += w.getRows();
    resultTypes.push_back(op.getResult().getType());
  }
  BitLinearOp first = group.front();
  Location loc = b.getFusedLoc(llvm::map_to_vector(group, [](BitLinearOp op) {
    return op.getLoc();
  }));
  auto weightType = TernaryType::get(b.getContext(), totalRows,
                                     cast<TernaryType>(first.getWeight().getType()).getCols());
  Type scaleElement = cast<RankedTensorType>(first.getWeightScale().getType()).getElementType();
  auto scaleType = RankedTensorType::get({totalRows}, scaleElement);
  auto rowsAttr = b.getDenseI64ArrayAttr(rows);
  Value weight = ConcatRowsOp::create(b, loc, weightType, weights, rowsAttr);
  Value scale = ConcatRowsOp::create(b, loc, scaleType, scales, rowsAttr);
  auto fused = BitLinearOp::create(b, loc, first.getXQ(), first.getXScale(), weight, scale,
                                   first.getScaleMode());
  auto split = SplitColsOp::create(b, loc, resultTypes, fused.getResult());
  for (auto [op, part] : llvm::zip(group, split.getOutputs()))
    BitLinearOp(op).getResult().replaceAllUsesWith(part);
  for (BitLinearOp op : group)
    op.erase();
}

struct TernFuseProjectionsPass : impl::TernFuseProjectionsPassBase<TernFuseProjectionsPass> {
  using Base::Base;

  void runOnOperation() override {
    // Groups keyed by what must be shared (input, input scale, scale mode, scale element type,
    // block), in the order they first appear.
    using Key = std::tuple<Value, Value, unsigned, Type, Block *>;
    llvm::MapVector<Key, SmallVector<BitLinearOp>> groups;
    getOperation().walk([&](BitLinearOp op) {
      if (!isa<TernaryType>(op.getWeight().getType()))
        return; // packed weights are past fusion
      auto scale = cast<RankedTensorType>(op.getWeightScale().getType());
      if (scale.getRank() != 1)
        return;
      groups[Key(op.getXQ(), op.getXScale(), unsigned(op.getScaleMode()), scale.getElementType(),
                 op->getBlock())]
          .push_back(op);
    });
    for (auto &entry : groups) {
      SmallVector<BitLinearOp> &group = entry.second;
      if (group.size() < 2)
        continue;
      llvm::sort(group, [](BitLinearOp a, BitLinearOp b) {
        return a->isBeforeInBlock(b);
      });
      if (!usersFollow(group, group.back()))
        continue;
      fuse(group);
    }
  }
};

} // namespace
} // namespace mlir::tern
