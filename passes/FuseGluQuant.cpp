//===- FuseGluQuant.cpp - a gated activation into the quantization after it -------------------===//
#include "passes/Passes.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::tern {
#define GEN_PASS_DEF_TERNFUSEGLUQUANTPASS
#include "passes/Passes.h.inc"

namespace {

/// The parts of `mul(relu2|silu(gate), up)` when the activation and the product have one use
/// each.
struct GatedProduct {
  MulOp mul;
  Operation *activation;
  Value gate, up;
  Glu glu;
};

std::optional<GatedProduct> matchGatedProduct(Value v) {
  auto mul = v.getDefiningOp<MulOp>();
  if (!mul || !mul->hasOneUse())
    return std::nullopt;
  for (auto [act, up] : {std::pair(mul.getLhs(), mul.getRhs()), {mul.getRhs(), mul.getLhs()}}) {
    Operation *op = act.getDefiningOp();
    if (!op || !op->hasOneUse())
      continue;
    if (auto relu2 = dyn_cast<Relu2Op>(op))
      return GatedProduct{mul, op, relu2.getInput(), up, Glu::relu2};
    if (auto silu = dyn_cast<SiLUOp>(op))
      return GatedProduct{mul, op, silu.getInput(), up, Glu::silu};
  }
  return std::nullopt;
}

void eraseProduct(const GatedProduct &g, PatternRewriter &rewriter) {
  rewriter.eraseOp(g.mul);
  rewriter.eraseOp(g.activation);
}

/// act_quant(mul(act(gate), up)) or act_quant(rms_norm(mul(act(gate), up), g))
///   -> quant_input(gate, up, [norm g], glu).
struct GluIntoActQuant : OpRewritePattern<ActQuantOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ActQuantOp quant, PatternRewriter &rewriter) const override {
    Value input = quant.getInput();
    auto norm = input.getDefiningOp<RMSNormOp>();
    if (norm && norm->hasOneUse() && !norm.getGroupSize())
      input = norm.getInput();
    else
      norm = nullptr;
    std::optional<GatedProduct> g = matchGatedProduct(input);
    if (!g)
      return rewriter.notifyMatchFailure(quant, "input is not a single-use gated product");
    rewriter.replaceOpWithNewOp<QuantInputOp>(
        quant, quant.getQuantized().getType(), quant.getScale().getType(), g->gate, g->up,
        norm ? norm.getWeight() : Value(), g->glu, norm ? norm.getEpsAttr() : FloatAttr(),
        quant.getBits());
    if (norm)
      rewriter.eraseOp(norm);
    eraseProduct(*g, rewriter);
    return success();
  }
};

/// quant_input(mul(act(gate), up)) with glu = none (after tern-fuse-norm-quant)
///   -> quant_input(gate, up, same norm, glu).
struct GluIntoQuantInput : OpRewritePattern<QuantInputOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(QuantInputOp quant, PatternRewriter &rewriter) const override {
    if (quant.getGlu() != Glu::none)
      return rewriter.notifyMatchFailure(quant, "already gated");
    std::optional<GatedProduct> g = matchGatedProduct(quant.getInput());
    if (!g)
      return rewriter.notifyMatchFailure(quant, "input is not a single-use gated product");
    rewriter.replaceOpWithNewOp<QuantInputOp>(
        quant, quant.getQuantized().getType(), quant.getScale().getType(), g->gate, g->up,
        quant.getNormWeight(), g->glu, quant.getEpsAttr(), quant.getBits());
    eraseProduct(*g, rewriter);
    return success();
  }
};

struct TernFuseGluQuantPass : impl::TernFuseGluQuantPassBase<TernFuseGluQuantPass> {
  using Base::Base;
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<GluIntoActQuant, GluIntoQuantInput>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
} // namespace mlir::tern
