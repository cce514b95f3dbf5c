//===- FuseNormQuant.cpp - RMSNorm into the quantization that follows it ----------------------===//
#include "passes/Passes.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::tern {
#define GEN_PASS_DEF_TERNFUSENORMQUANTPASS
#include "passes/Passes.h.inc"

namespace {

/// act_quant(rms_norm(x, g)) -> quant_input(x, norm g).
struct NormIntoActQuant : OpRewritePattern<ActQuantOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ActQuantOp quant, PatternRewriter &rewriter) const override {
    auto norm = quant.getInput().getDefiningOp<RMSNormOp>();
    if (!norm || !norm->hasOneUse() || norm.getGroupSize())
      return rewriter.notifyMatchFailure(quant, "input is not a whole-row RMSNorm used only here");
    rewriter.replaceOpWithNewOp<QuantInputOp>(
        quant, quant.getQuantized().getType(), quant.getScale().getType(), norm.getInput(),
        /*up=*/Value(), norm.getWeight(), Glu::none, norm.getEpsAttr(), quant.getBits());
    rewriter.eraseOp(norm);
    return success();
  }
};

/// quant_input(rms_norm(x, g)) without a norm of its own -> quant_input(x, norm g), which is
/// only possible when there is no gated activation (the norm applies to its product).
struct NormIntoQuantInput : OpRewritePattern<QuantInputOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(QuantInputOp quant, PatternRewriter &rewriter) const override {
    auto norm = quant.getInput().getDefiningOp<RMSNormOp>();
    if (!norm || !norm->hasOneUse() || norm.getGroupSize() || quant.getNormWeight() ||
        quant.getGlu() != Glu::none)
      return rewriter.notifyMatchFailure(quant, "no ungated, unnormalized RMSNorm input");
    rewriter.replaceOpWithNewOp<QuantInputOp>(
        quant, quant.getQuantized().getType(), quant.getScale().getType(), norm.getInput(),
        /*up=*/Value(), norm.getWeight(), Glu::none, norm.getEpsAttr(), quant.getBits());
    rewriter.eraseOp(norm);
    return success();
  }
};

struct TernFuseNormQuantPass : impl::TernFuseNormQuantPassBase<TernFuseNormQuantPass> {
  using Base::Base;
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<NormIntoActQuant, NormIntoQuantInput>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
} // namespace mlir::tern
