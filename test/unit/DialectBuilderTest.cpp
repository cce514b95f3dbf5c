//===- DialectBuilderTest.cpp - build tern IR through the C++ API -----------------------------===//
//
// Builds a BitNet b1.58 2B4T decoder (at small sizes) with the shared decoder builder and the op
// builders, as importers do, and checks that it verifies, that the builders infer the right types, that it survives a
// print/parse round trip, and that broken IR is rejected with the verifier's message.
//
//===------------------------------------------------------------------------------------------===//
#include "dialects/tern/TernDialect.h"
#include "frontends/common/DecoderBuilder.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"

#include "gtest/gtest.h"

#include <string>

using namespace mlir;
using namespace mlir::tern;

namespace {

/// Sizes of a small 2B4T-shaped model: grouped-query attention, relu2 feed-forward, sub-norms.
struct LayerShape {
  int64_t hidden = 64, intermediate = 160, heads = 4, kvHeads = 2, layers = 2, vocab = 300;
  int64_t headDim() const { return hidden / heads; }
};

/// Weights named like a 2B4T checkpoint, as tern.weight ops (per-tensor bf16 scales).
class NamedWeights : public ::tern::DecoderWeights {
public:
  explicit NamedWeights(LayerShape s) : s(s) {}

  Value dense(OpBuilder &b, ::tern::WeightRole role, int64_t layer) override {
    int64_t n = role == ::tern::WeightRole::FfnSubNorm ? s.intermediate : s.hidden;
    Type type = role == ::tern::WeightRole::Embedding
                    ? Type(RankedTensorType::get({s.vocab, s.hidden}, b.getBF16Type()))
                    : Type(RankedTensorType::get({n}, b.getBF16Type()));
    return WeightOp::create(b, b.getUnknownLoc(), type, b.getStringAttr(name(role, layer)));
  }

  ::tern::LinearWeights linear(OpBuilder &b, ::tern::WeightRole role, int64_t layer) override {
    using ::tern::WeightRole;
    int64_t kv = s.kvHeads * s.headDim();
    auto [rows, cols] = role == WeightRole::K || role == WeightRole::V
                            ? std::pair<int64_t, int64_t>{kv, s.hidden}
                        : role == WeightRole::Gate || role == WeightRole::Up
                            ? std::pair<int64_t, int64_t>{s.intermediate, s.hidden}
                        : role == WeightRole::Down
                            ? std::pair<int64_t, int64_t>{s.hidden, s.intermediate}
                            : std::pair<int64_t, int64_t>{s.hidden, s.hidden};
    ::tern::LinearWeights w;
    w.weight = WeightOp::create(b, b.getUnknownLoc(), TernaryType::get(b.getContext(), rows, cols),
                                b.getStringAttr(name(role, layer) + ".weight"));
    w.scale = WeightOp::create(b, b.getUnknownLoc(), RankedTensorType::get({1}, b.getBF16Type()),
                               b.getStringAttr(name(role, layer) + ".weight_scale"));
    return w;
  }

private:
  static std::string name(::tern::WeightRole role, int64_t layer) {
    std::string prefix = layer < 0 ? "model." : "model.layers." + std::to_string(layer) + ".";
    return prefix + ::tern::roleName(role).str();
  }
  LayerShape s;
};

::tern::DecoderSpec specFor(LayerShape s) {
  ::tern::DecoderSpec spec;
  spec.hidden = s.hidden, spec.intermediate = s.intermediate, spec.layers = s.layers;
  spec.heads = s.heads, spec.kvHeads = s.kvHeads, spec.headDim = s.headDim(), spec.vocab = s.vocab;
  spec.ropeTheta = 500000.0f;
  spec.activation = ::tern::DecoderActivation::ReLU2;
  spec.attnSubNorm = spec.ffnSubNorm = spec.tiedHead = true;
  return spec;
}

class DialectBuilderTest : public ::testing::Test {
protected:
  DialectBuilderTest() { ctx.loadDialect<TernDialect, func::FuncDialect>(); }

  OwningOpRef<ModuleOp> buildModel(LayerShape shape = {}) {
    OpBuilder b(&ctx);
    OwningOpRef<ModuleOp> module = ModuleOp::create(b.getUnknownLoc());
    b.setInsertionPointToEnd(module->getBody());
    NamedWeights weights(shape);
    EXPECT_TRUE(::tern::buildDecoder(b, b.getUnknownLoc(), "forward", specFor(shape), weights));
    return module;
  }

  /// Runs the verifier on `op` and returns every error message it emitted.
  std::string verifyErrors(Operation *op) {
    std::string messages;
    ScopedDiagnosticHandler handler(&ctx, [&](Diagnostic &d) {
      messages += d.str() + "\n";
      return success();
    });
    EXPECT_TRUE(failed(verify(op))) << "expected the verifier to fail";
    return messages;
  }

  static std::string print(Operation *op) {
    std::string s;
    llvm::raw_string_ostream os(s);
    op->print(os);
    return s;
  }

  MLIRContext ctx;
};

TEST_F(DialectBuilderTest, DecoderModelVerifies) {
  OwningOpRef<ModuleOp> module = buildModel();
  ASSERT_TRUE(succeeded(verify(*module))) << print(*module);

  int bitlinears = 0, attentions = 0, norms = 0, quants = 0;
  module->walk([&](Operation *op) {
    bitlinears += isa<BitLinearOp>(op);
    attentions += isa<AttentionOp>(op);
    norms += isa<RMSNormOp>(op);
    quants += isa<ActQuantOp>(op);
  });
  // Per layer: q, k, v, o, gate, up, down; four norms (input, attn_sub, post_attention,
  // ffn_sub), each followed by one quantization; plus the final norm.
  EXPECT_EQ(bitlinears, 7 * 2);
  EXPECT_EQ(attentions, 2);
  EXPECT_EQ(norms, 4 * 2 + 1);
  EXPECT_EQ(quants, 4 * 2);
}

TEST_F(DialectBuilderTest, BuildersInferResultTypes) {
  OwningOpRef<ModuleOp> module = buildModel();
  LayerShape s;
  module->walk([&](BitLinearOp op) {
    auto result = op.getResult().getType();
    EXPECT_TRUE(result.isDynamicDim(0));
    EXPECT_EQ(result.getDimSize(1), op.getWeight().getType().getRows());
    EXPECT_TRUE(result.getElementType().isF32());
  });
  module->walk([&](ActQuantOp op) {
    EXPECT_EQ(op.getBits(), 8u);
    EXPECT_TRUE(op.getQuantized().getType().getElementType().isInteger(8));
    EXPECT_EQ(op.getQuantized().getType().getShape(), op.getInput().getType().getShape());
    EXPECT_EQ(op.getScale().getType().getRank(), 1);
  });
  module->walk([&](AttentionOp op) {
    EXPECT_EQ(op.getNumHeads(), s.heads);
    EXPECT_FLOAT_EQ(op.getScaleOrDefault(), 1.0f / 4.0f); // head_dim 16
    EXPECT_TRUE(op.getCausal());
    EXPECT_EQ(op.getNewCache().getType(), op.getCache().getType());
  });
  module->walk([&](MatMulOp op) {
    EXPECT_EQ(op.getResult().getType().getDimSize(1), s.vocab);
    EXPECT_FALSE(op.getInputScale());
  });
}

TEST_F(DialectBuilderTest, PrintParseRoundTrip) {
  OwningOpRef<ModuleOp> module = buildModel();
  std::string text = print(*module);
  OwningOpRef<ModuleOp> reparsed = parseSourceString<ModuleOp>(text, &ctx);
  ASSERT_TRUE(reparsed) << text;
  EXPECT_EQ(print(*reparsed), text);
  // The default scale mode and bit width are elided; the tied head reads the embedding table.
  EXPECT_EQ(text.find("scale_mode"), std::string::npos);
  EXPECT_EQ(text.find("bits ="), std::string::npos);
  EXPECT_NE(text.find("tern.matmul"), std::string::npos);
}

TEST_F(DialectBuilderTest, VerifierRejectsMismatchedProjection) {
  OwningOpRef<ModuleOp> module = buildModel();
  // Give the first o_proj a weight with the wrong K: the verifier must name both K values.
  BitLinearOp target;
  module->walk([&](BitLinearOp op) {
    auto name = op.getWeight().getDefiningOp<WeightOp>().getName();
    if (!target && name.ends_with("o_proj.weight"))
      target = op;
  });
  ASSERT_TRUE(target);
  OpBuilder b(target);
  Value bad = WeightOp::create(b, target.getLoc(), TernaryType::get(&ctx, 64, 48),
                                 b.getStringAttr("bad.weight"));
  target.getWeightMutable().assign(bad);
  std::string errors = verifyErrors(*module);
  EXPECT_NE(errors.find("input has K = 64 columns but the weight has K = 48"), std::string::npos)
      << errors;
}

TEST_F(DialectBuilderTest, VerifierRejectsAttentionLayerOutsideCache) {
  OwningOpRef<ModuleOp> module = buildModel();
  AttentionOp last;
  module->walk([&](AttentionOp op) { last = op; });
  ASSERT_TRUE(last);
  last.setLayer(7);
  std::string errors = verifyErrors(*module);
  EXPECT_NE(errors.find("layer 7 is out of range for a cache of 2 layers"), std::string::npos)
      << errors;
}

TEST_F(DialectBuilderTest, BitLinearAcceptsPackedWeights) {
  OpBuilder b(&ctx);
  OwningOpRef<ModuleOp> module = ModuleOp::create(b.getUnknownLoc());
  b.setInsertionPointToEnd(module->getBody());
  auto x = RankedTensorType::get({3, 96}, b.getI8Type());
  auto s = RankedTensorType::get({3}, b.getF32Type());
  auto fn = func::FuncOp::create(b, b.getUnknownLoc(), "f", b.getFunctionType({x, s}, {}));
  b.setInsertionPointToStart(fn.addEntryBlock());
  auto layout = LayoutAttr::get(&ctx, WeightFormat::tl2, 32, 96);
  Value w = WeightOp::create(b, b.getUnknownLoc(), PackedType::get(&ctx, 40, 96, layout),
                               b.getStringAttr("w"));
  Value ws = WeightOp::create(b, b.getUnknownLoc(), RankedTensorType::get({40}, b.getF32Type()),
                                b.getStringAttr("w_scale"));
  auto op = BitLinearOp::create(b, b.getUnknownLoc(), fn.getArgument(0), fn.getArgument(1), w, ws,
                                  ScaleMode::divide);
  func::ReturnOp::create(b, b.getUnknownLoc());
  ASSERT_TRUE(succeeded(verify(*module)));
  EXPECT_EQ(op.getResult().getType(), RankedTensorType::get({3, 40}, b.getF32Type()));
  EXPECT_EQ(op.getScaleMode(), ScaleMode::divide);
}

} // namespace
