//===- DialectBuilderTest.cpp - build tern IR through the C++ API -----------------------------===//
//
// Builds a BitNet b1.58 2B4T decoder layer (at small sizes) with the op builders, as importers
// will, and checks that it verifies, that the builders infer the right types, that it survives a
// print/parse round trip, and that broken IR is rejected with the verifier's message.
//
//===------------------------------------------------------------------------------------------===//
#include "dialects/tern/TernDialect.h"

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

class DecoderBuilder {
public:
  DecoderBuilder(OpBuilder &b, Location loc, LayerShape s) : b(b), loc(loc), s(s) {}

  Value weight(const std::string &name, Type type) {
    return WeightOp::create(b, loc, type, b.getStringAttr(name));
  }
  Value vector(const std::string &name, int64_t n) {
    return weight(name, RankedTensorType::get({n}, b.getBF16Type()));
  }
  /// A quantized activation -> ternary projection with a per-tensor scale.
  Value project(Value xq, Value xs, const std::string &name, int64_t out, int64_t in) {
    Value w = weight(name + ".weight", TernaryType::get(b.getContext(), out, in));
    Value ws = vector(name + ".weight_scale", 1);
    return BitLinearOp::create(b, loc, xq, xs, w, ws, ScaleMode::multiply);
  }
  Value normQuantProject(Value x, const std::string &norm, int64_t width,
                         llvm::ArrayRef<std::pair<std::string, int64_t>> projections,
                         llvm::SmallVectorImpl<Value> &out) {
    Value n = RMSNormOp::create(b, loc, x, vector(norm + ".weight", width), 1e-5f);
    auto quant = ActQuantOp::create(b, loc, n);
    for (auto &[name, rows] : projections)
      out.push_back(project(quant.getQuantized(), quant.getScale(), name, rows, width));
    return n;
  }

  /// One decoder layer; returns the new hidden state and threads the KV cache through `kv`.
  Value layer(int64_t i, Value h, Value pos, Value &kv) {
    std::string p = "model.layers." + std::to_string(i) + ".";
    int64_t kvWidth = s.kvHeads * s.headDim();
    SmallVector<Value> qkv;
    normQuantProject(h, p + "input_layernorm", s.hidden,
                     {{p + "self_attn.q_proj", s.hidden},
                      {p + "self_attn.k_proj", kvWidth},
                      {p + "self_attn.v_proj", kvWidth}},
                     qkv);
    Value q = RoPEOp::create(b, loc, qkv[0], pos, s.headDim(), 500000.0f);
    Value k = RoPEOp::create(b, loc, qkv[1], pos, s.headDim(), 500000.0f);
    auto attn = AttentionOp::create(b, loc, q, k, qkv[2], kv, pos, i);
    kv = attn.getNewCache();
    SmallVector<Value> o;
    normQuantProject(attn.getOutput(), p + "self_attn.attn_sub_norm", s.hidden,
                     {{p + "self_attn.o_proj", s.hidden}}, o);
    Value h1 = AddOp::create(b, loc, h, o[0]);

    SmallVector<Value> gateUp;
    normQuantProject(h1, p + "post_attention_layernorm", s.hidden,
                     {{p + "mlp.gate_proj", s.intermediate}, {p + "mlp.up_proj", s.intermediate}},
                     gateUp);
    Value act = Relu2Op::create(b, loc, gateUp[0]);
    Value m = MulOp::create(b, loc, act, gateUp[1]);
    SmallVector<Value> down;
    normQuantProject(m, p + "mlp.ffn_sub_norm", s.intermediate,
                     {{p + "mlp.down_proj", s.hidden}}, down);
    return AddOp::create(b, loc, h1, down[0]);
  }

  /// The whole model: (tokens, positions, cache) -> (logits, cache), tied output head.
  func::FuncOp model() {
    MLIRContext *ctx = b.getContext();
    auto ids = RankedTensorType::get({ShapedType::kDynamic}, b.getI32Type());
    auto cacheType = KVCacheType::get(ctx, s.layers, s.kvHeads, s.headDim(), ShapedType::kDynamic,
                                      b.getF32Type());
    auto logits = RankedTensorType::get({ShapedType::kDynamic, s.vocab}, b.getF32Type());
    auto fn = func::FuncOp::create(b, 
        loc, "forward", b.getFunctionType({ids, ids, cacheType}, {logits, cacheType}));
    Block *entry = fn.addEntryBlock();
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(entry);
    Value table = weight("model.embed_tokens.weight",
                         RankedTensorType::get({s.vocab, s.hidden}, b.getBF16Type()));
    Value h = EmbeddingOp::create(b, loc, table, entry->getArgument(0));
    Value kv = entry->getArgument(2);
    for (int64_t i = 0; i < s.layers; ++i)
      h = layer(i, h, entry->getArgument(1), kv);
    Value n = RMSNormOp::create(b, loc, h, vector("model.norm.weight", s.hidden), 1e-5f);
    Value out = MatMulOp::create(b, loc, n, table);
    func::ReturnOp::create(b, loc, ValueRange{out, kv});
    return fn;
  }

private:
  OpBuilder &b;
  Location loc;
  LayerShape s;
};

class DialectBuilderTest : public ::testing::Test {
protected:
  DialectBuilderTest() { ctx.loadDialect<TernDialect, func::FuncDialect>(); }

  OwningOpRef<ModuleOp> buildModel(LayerShape shape = {}) {
    OpBuilder b(&ctx);
    OwningOpRef<ModuleOp> module = ModuleOp::create(b.getUnknownLoc());
    b.setInsertionPointToEnd(module->getBody());
    DecoderBuilder(b, b.getUnknownLoc(), shape).model();
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
