//===- DialectTypesTest.cpp - tern types, attributes and a pass through the C++ API -----------===//
#include "dialects/tern/TernDialect.h"
#include "passes/Passes.h"

#include "mlir/AsmParser/AsmParser.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"

#include "gtest/gtest.h"

#include <string>

using namespace mlir;
using namespace mlir::tern;

namespace {

class DialectTypesTest : public ::testing::Test {
protected:
  DialectTypesTest() { ctx.loadDialect<TernDialect, func::FuncDialect>(); }

  /// Collects the diagnostics emitted while `fn` runs.
  template <typename Fn> std::string diagnosticsOf(Fn fn) {
    std::string messages;
    ScopedDiagnosticHandler handler(&ctx, [&](Diagnostic &d) {
      messages += d.str() + "\n";
      return success();
    });
    fn();
    return messages;
  }

  Location loc() { return UnknownLoc::get(&ctx); }

  MLIRContext ctx;
};

TEST_F(DialectTypesTest, TernaryAndPackedShareTheWeightInterface) {
  auto layout = LayoutAttr::get(&ctx, WeightFormat::i2, 16, 4);
  Type types[] = {TernaryType::get(&ctx, 640, 2560), PackedType::get(&ctx, 640, 2560, layout)};
  for (Type t : types) {
    auto w = dyn_cast<TernaryWeightTypeInterface>(t);
    ASSERT_TRUE(w) << "type does not implement TernaryWeightTypeInterface";
    EXPECT_EQ(w.getRows(), 640);
    EXPECT_EQ(w.getCols(), 2560);
  }
  EXPECT_FALSE(isa<TernaryWeightTypeInterface>(Float32Type::get(&ctx)));
}

TEST_F(DialectTypesTest, LayoutGroupSizesAndBitsPerWeight) {
  EXPECT_EQ(LayoutAttr::get(&ctx, WeightFormat::i2, 16, 4).getGroupSize(), 1);
  EXPECT_EQ(LayoutAttr::get(&ctx, WeightFormat::tl1, 16, 4).getGroupSize(), 2);
  EXPECT_EQ(LayoutAttr::get(&ctx, WeightFormat::tl2, 16, 6).getGroupSize(), 3);
  EXPECT_DOUBLE_EQ(LayoutAttr::get(&ctx, WeightFormat::i2, 16, 4).getBitsPerWeight(), 2.0);
  EXPECT_DOUBLE_EQ(LayoutAttr::get(&ctx, WeightFormat::tl2, 16, 6).getBitsPerWeight(), 5.0 / 3.0);
}

TEST_F(DialectTypesTest, GetCheckedReportsInvalidParameters) {
  // int64_t arguments select the generated getChecked overloads (plain ints would pick the
  // header template, which needs the storage class).
  const int64_t zero = 0, two = 2, four = 4, sixteen = 16, sixtyFour = 64, context = 128;
  auto emit = [&] { return emitError(loc()); };
  std::string errors = diagnosticsOf([&] {
    EXPECT_FALSE(LayoutAttr::getChecked(emit, &ctx, WeightFormat::tl2, sixteen, four));
    EXPECT_FALSE(TernaryType::getChecked(emit, &ctx, zero, four));
    EXPECT_FALSE(PackedType::getChecked(emit, &ctx, four, four, LayoutAttr()));
    EXPECT_FALSE(KVCacheType::getChecked(emit, &ctx, two, two, sixtyFour, context,
                                         Type(Float64Type::get(&ctx))));
  });
  EXPECT_NE(errors.find("tile_k of a tl2 layout must be a multiple of its group size 3, found 4"),
            std::string::npos)
      << errors;
  EXPECT_NE(errors.find("!tern.ternary dimensions must be positive, found 0x4"), std::string::npos)
      << errors;
  EXPECT_NE(errors.find("!tern.packed needs a #tern.layout"), std::string::npos) << errors;
  EXPECT_NE(errors.find("element type must be f32, f16, bf16 or i8, found 'f64'"), std::string::npos)
      << errors;
}

TEST_F(DialectTypesTest, KVCacheAccessors) {
  auto cache = KVCacheType::get(&ctx, 30, 5, 128, ShapedType::kDynamic, Float16Type::get(&ctx));
  EXPECT_FALSE(cache.hasStaticContext());
  EXPECT_EQ(cache.getKVWidth(), 640);
  std::string text;
  llvm::raw_string_ostream(text) << Type(cache);
  EXPECT_EQ(text, "!tern.kv_cache<layers = 30, kv_heads = 5, head_dim = 128, context = ?, f16>");
  EXPECT_EQ(parseType(text, &ctx), Type(cache));
}

TEST_F(DialectTypesTest, SetContextLengthPassRewritesSignatureAndOps) {
  const char *source = R"mlir(
    func.func @f(%q: tensor<?x64xf32>, %k: tensor<?x32xf32>, %v: tensor<?x32xf32>, %p: tensor<?xi32>,
                 %kv: !tern.kv_cache<layers = 1, kv_heads = 2, head_dim = 16, context = ?, f32>)
        -> !tern.kv_cache<layers = 1, kv_heads = 2, head_dim = 16, context = ?, f32> {
      %o, %kv1 = tern.attention %q, %k, %v, %kv[0] at %p {causal}
          : tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32>,
            !tern.kv_cache<layers = 1, kv_heads = 2, head_dim = 16, context = ?, f32>, tensor<?xi32>
            -> tensor<?x64xf32>
      return %kv1 : !tern.kv_cache<layers = 1, kv_heads = 2, head_dim = 16, context = ?, f32>
    })mlir";
  OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(source, &ctx);
  ASSERT_TRUE(module);
  PassManager pm(&ctx);
  TernSetContextLengthPassOptions options;
  options.length = 512;
  pm.addPass(createTernSetContextLengthPass(options));
  ASSERT_TRUE(succeeded(pm.run(*module)));

  auto fn = cast<func::FuncOp>(module->getBody()->front());
  auto expected = KVCacheType::get(&ctx, 1, 2, 16, 512, Float32Type::get(&ctx));
  EXPECT_EQ(fn.getArgumentTypes()[4], expected);
  EXPECT_EQ(fn.getResultTypes()[0], expected);
  EXPECT_EQ(fn.getArgument(4).getType(), expected);
  fn.walk([&](AttentionOp op) { EXPECT_EQ(op.getNewCache().getType(), expected); });
}

} // namespace
