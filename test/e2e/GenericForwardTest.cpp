//===- GenericForwardTest.cpp - imported models on the generic kernels vs the numpy reference -===//
//
// Every checkpoint format (tiny preset): tern-gen-checkpoint's layout -> HF importer -> tern IR
// -> the runtime's kernels (interpreted op by op) -> logits, compared per position with the
// independent float64 numpy reference (test/reference). Prefill of the whole sequence and
// prefill + token-by-token decode through the KV cache must both match.
//
// Tolerance: per position, max |ours - reference| <= 1e-3 * max |reference|, and the same
// argmax. The float32 kernels and the float64 reference quantize activations the same way except
// where x * s lands within rounding error of a .5 tie; the test prints the worst position so
// such a flip stays visible.
//
//===------------------------------------------------------------------------------------------===//
#include "test/e2e/GenericInterpreter.h"

#include "frontends/hf/HFImporter.h"
#include "passes/Passes.h"
#include "tools/tern-gen-checkpoint/CheckpointWriter.h"

#include "dialects/tern/TernDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"

#include "gtest/gtest.h"

#include <cmath>
#include <cstring>
#include <string>

using namespace tern;

namespace {

/// Reads a float64 .npy file of shape [rows, cols] (what numpy.save writes).
bool readNpy(const std::string &path, std::vector<double> &data, int64_t &rows, int64_t &cols) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false);
  if (!buffer)
    return false;
  llvm::StringRef bytes = (*buffer)->getBuffer();
  if (!bytes.starts_with("\x93NUMPY") || bytes.size() < 10)
    return false;
  uint16_t headerLen = uint8_t(bytes[8]) | uint16_t(uint8_t(bytes[9]) << 8);
  llvm::StringRef header = bytes.substr(10, headerLen);
  if (!header.contains("'descr': '<f8'") || header.contains("'fortran_order': True"))
    return false;
  size_t open = header.find("'shape': (");
  if (open == llvm::StringRef::npos)
    return false;
  llvm::StringRef shape = header.substr(open + 10);
  shape = shape.substr(0, shape.find(')'));
  auto [a, b] = shape.split(',');
  if (a.trim().getAsInteger(10, rows) || b.trim().getAsInteger(10, cols))
    return false;
  llvm::StringRef body = bytes.substr(10 + headerLen);
  if (body.size() != size_t(rows * cols) * 8)
    return false;
  data.resize(size_t(rows * cols));
  std::memcpy(data.data(), body.data(), body.size());
  return true;
}

struct Comparison {
  double worstRelative = 0;
  int64_t worstPosition = -1;
  std::vector<int64_t> argmaxMismatches;
};

Comparison compare(const std::vector<float> &ours, const std::vector<double> &reference,
                   int64_t firstRow, int64_t rows, int64_t vocab) {
  Comparison c;
  for (int64_t r = 0; r < rows; ++r) {
    const float *o = ours.data() + r * vocab;
    const double *ref = reference.data() + (firstRow + r) * vocab;
    double maxRef = 0, maxErr = 0;
    int64_t argOurs = 0, argRef = 0;
    for (int64_t v = 0; v < vocab; ++v) {
      maxRef = std::max(maxRef, std::fabs(ref[v]));
      maxErr = std::max(maxErr, std::fabs(double(o[v]) - ref[v]));
      if (o[v] > o[argOurs])
        argOurs = v;
      if (ref[v] > ref[argRef])
        argRef = v;
    }
    double rel = maxErr / std::max(maxRef, 1e-30);
    if (rel > c.worstRelative)
      c.worstRelative = rel, c.worstPosition = firstRow + r;
    if (argOurs != argRef)
      c.argmaxMismatches.push_back(firstRow + r);
  }
  return c;
}

const std::vector<int32_t> kTokens = {502, 17, 42, 300, 5, 99, 250, 7, 7, 128, 64, 1};

class GenericForwardTest : public ::testing::TestWithParam<gen::Format> {
protected:
  void SetUp() override {
    llvm::SmallString<128> path;
    ASSERT_FALSE(llvm::sys::fs::createUniqueDirectory("tern-e2e", path));
    dir = std::string(path);
    gen::CheckpointSpec spec = gen::CheckpointSpec::defaults(GetParam(), gen::Preset::Tiny);
    spec.seed = 5;
    ASSERT_FALSE(bool(gen::writeCheckpoint(spec, dir)));
    ctx.loadDialect<mlir::tern::TernDialect, mlir::func::FuncDialect>();
    auto imported = hf::importCheckpoint(ctx, dir, store);
    ASSERT_TRUE(bool(imported)) << llvm::toString(imported.takeError());
    module = std::move(*imported);
    forward = module->lookupSymbol<mlir::func::FuncOp>("forward");
    ASSERT_TRUE(forward);
  }
  void TearDown() override { llvm::sys::fs::remove_directories(dir); }

  /// Logits of `tokens` from the numpy reference.
  void reference(const std::vector<int32_t> &tokens, std::vector<double> &out, int64_t &vocab) {
    std::string list;
    for (int32_t t : tokens)
      list += (list.empty() ? "" : ",") + std::to_string(t);
    std::string npy = dir + "/reference.npy";
    std::string script = std::string(TERN_SOURCE_DIR) + "/test/reference/bitnet_reference.py";
    llvm::StringRef args[] = {"/usr/bin/python3", script, dir, "--tokens", list, "--out", npy};
    std::optional<llvm::StringRef> redirects[] = {std::nullopt, llvm::StringRef(""),
                                                  std::nullopt};
    std::string message;
    int rc = llvm::sys::ExecuteAndWait("/usr/bin/python3", args, std::nullopt, redirects, 0, 0,
                                       &message);
    ASSERT_EQ(rc, 0) << "the numpy reference failed: " << message;
    int64_t rows = 0;
    ASSERT_TRUE(readNpy(npy, out, rows, vocab));
    ASSERT_EQ(rows, int64_t(tokens.size()));
  }

  /// Runs kTokens through @forward on the interpreter: the first `prefill` in one call, the
  /// rest one at a time through the KV cache. Every position must match the numpy reference
  /// (relative error <= 1e-3, the same argmax); the worst error is printed under `what`.
  void expectMatchesReference(const char *what, size_t prefill) {
    std::vector<double> ref;
    int64_t vocab = 0;
    reference(kTokens, ref, vocab);
    test::GenericInterpreter interpreter(forward, store, 64);
    ASSERT_EQ(interpreter.vocab(), vocab);
    std::vector<int32_t> first(kTokens.begin(), kTokens.begin() + prefill), positions;
    for (size_t i = 0; i < prefill; ++i)
      positions.push_back(int32_t(i));
    auto logits = interpreter.run(first, positions);
    ASSERT_TRUE(bool(logits)) << llvm::toString(logits.takeError());
    Comparison c = compare(*logits, ref, 0, int64_t(prefill), vocab);
    EXPECT_LE(c.worstRelative, 1e-3) << what << " prefill, at position " << c.worstPosition;
    EXPECT_TRUE(c.argmaxMismatches.empty())
        << what << " prefill: argmax differs at position " << c.argmaxMismatches.front();
    double worst = c.worstRelative;
    for (size_t p = prefill; p < kTokens.size(); ++p) {
      auto step = interpreter.run({kTokens[p]}, {int32_t(p)});
      ASSERT_TRUE(bool(step)) << llvm::toString(step.takeError());
      Comparison s = compare(*step, ref, int64_t(p), 1, vocab);
      worst = std::max(worst, s.worstRelative);
      EXPECT_LE(s.worstRelative, 1e-3) << what << " decode step at position " << p;
      EXPECT_TRUE(s.argmaxMismatches.empty()) << what << ": argmax differs at decode position " << p;
    }
    std::printf("%s %s (%s): worst relative error %.2e\n",
                gen::formatName(GetParam()).str().c_str(), what,
                interpreter.kernelVariants().c_str(), worst);
  }

  std::string dir;
  mlir::MLIRContext ctx;
  WeightStore store;
  mlir::OwningOpRef<mlir::ModuleOp> module;
  mlir::func::FuncOp forward;
};


TEST_P(GenericForwardTest, PrefillMatchesReference) {
  expectMatchesReference("prefill", kTokens.size());
}

TEST_P(GenericForwardTest, DecodeThroughTheKVCacheMatchesReference) {
  // Prefill 4 tokens, then decode the rest one at a time.
  expectMatchesReference("decode", 4);
}

/// The fusion passes change the graph, not the numbers: the fused @forward (one bitlinear for
/// Q/K/V and one for gate/up over stacked weights with per-row scales, tern.quant_input for
/// every norm / gated activation before a quantization) still matches the reference, prefill
/// and decode.
TEST_P(GenericForwardTest, FusedGraphMatchesReference) {
  mlir::PassManager pm(&ctx);
  mlir::tern::addOptimizePasses(pm);
  ASSERT_TRUE(mlir::succeeded(pm.run(*module)));
  // Every projection group was fused, and every quantization of a norm or a gated product.
  int fusedLinears = 0, quantInputs = 0, unfused = 0;
  forward.walk([&](mlir::Operation *op) {
    fusedLinears += llvm::isa<mlir::tern::SplitColsOp>(op);
    quantInputs += llvm::isa<mlir::tern::QuantInputOp>(op);
    if (auto quant = llvm::dyn_cast<mlir::tern::ActQuantOp>(op)) {
      mlir::Operation *producer = quant.getInput().getDefiningOp();
      unfused += producer && llvm::isa<mlir::tern::RMSNormOp, mlir::tern::MulOp>(producer);
    }
  });
  auto layers = llvm::cast<mlir::tern::KVCacheType>(forward.getArgumentTypes()[2]).getLayers();
  EXPECT_EQ(fusedLinears, 2 * layers);
  EXPECT_EQ(unfused, 0);
  EXPECT_GE(quantInputs, 2 * layers);

  expectMatchesReference("fused graph", 6);
}

/// Packing writes the bytes the kernels read: after fusion, kernel selection and packing, every
/// bitlinear reads a `tern.weight` of packed i2 bytes from the store (Q/K/V and gate/up stacked,
/// their scales stacked per row), and the logits still match the reference.
TEST_P(GenericForwardTest, PackedGraphMatchesReference) {
  mlir::PassManager pm(&ctx);
  mlir::tern::addOptimizePasses(pm);
  pm.addPass(mlir::tern::createTernSelectKernelsPass(
      mlir::tern::TernSelectKernelsPassOptions{"x86-64-avx2", ""}));
  pm.addPass(mlir::tern::createTernPackWeightsPass(store));
  ASSERT_TRUE(mlir::succeeded(pm.run(*module)));
  int packed = 0, logical = 0;
  forward.walk([&](mlir::tern::BitLinearOp op) {
    packed += llvm::isa<mlir::tern::PackedType>(op.getWeight().getType());
    logical += llvm::isa<mlir::tern::TernaryType>(op.getWeight().getType());
  });
  EXPECT_GT(packed, 0);
  EXPECT_EQ(logical, 0);

  expectMatchesReference("packed graph", kTokens.size());
}

/// Memory planning on the fused model: checked independently of the pass, no two buffers whose
/// lifetimes overlap share a byte, every buffer fits the reported arena, and reuse made the
/// arena smaller than the sum of the buffers.
TEST_P(GenericForwardTest, PlannedArenaHasNoOverlaps) {
  mlir::PassManager pm(&ctx);
  mlir::tern::addOptimizePasses(pm);
  mlir::tern::addPlanPasses(pm, /*context=*/128, /*maxTokens=*/128);
  ASSERT_TRUE(mlir::succeeded(pm.run(*module)));
  int64_t arena = forward->getAttrOfType<mlir::IntegerAttr>("tern.arena_bytes").getInt();
  struct Buffer {
    int64_t offset, size, begin, end;
  };
  std::vector<Buffer> buffers;
  llvm::DenseMap<mlir::Operation *, int64_t> index;
  int64_t n = 0;
  for (mlir::Operation &op : forward.getBody().front())
    index[&op] = n++;
  int64_t total = 0;
  for (mlir::Operation &op : forward.getBody().front()) {
    auto offsets = op.getAttrOfType<mlir::DenseI64ArrayAttr>("tern.arena");
    if (!offsets)
      continue;
    for (auto [result, offset] : llvm::zip(op.getResults(), offsets.asArrayRef())) {
      if (offset < 0)
        continue;
      auto type = llvm::cast<mlir::RankedTensorType>(result.getType());
      int64_t width = type.getRank() == 2 ? type.getDimSize(1) : 1;
      int64_t element = (type.getElementType().getIntOrFloatBitWidth() + 7) / 8;
      if (element == 1 && type.getRank() == 2)
        width = (width + 15) / 16 * 16;
      Buffer b{offset, 128 * width * element, index[&op], index[&op]};
      for (mlir::Operation *user : result.getUsers())
        b.end = std::max(b.end, index[user]);
      buffers.push_back(b);
      total += b.size;
    }
    if (auto scratch = op.getAttrOfType<mlir::IntegerAttr>("tern.scratch")) {
      auto linear = llvm::cast<mlir::tern::BitLinearOp>(op);
      int64_t rows =
          llvm::cast<mlir::tern::TernaryWeightTypeInterface>(linear.getWeight().getType())
              .getRows();
      buffers.push_back({scratch.getInt(), 128 * ((rows + 63) / 64 * 64) * 4, index[&op],
                         index[&op]});
      total += buffers.back().size;
    }
  }
  ASSERT_GT(buffers.size(), 10u);
  for (size_t i = 0; i < buffers.size(); ++i) {
    const Buffer &a = buffers[i];
    EXPECT_LE(a.offset + a.size, arena);
    EXPECT_EQ(a.offset % 64, 0);
    for (size_t j = i + 1; j < buffers.size(); ++j) {
      const Buffer &b = buffers[j];
      bool liveTogether = a.begin <= b.end && b.begin <= a.end;
      bool shareBytes = a.offset < b.offset + b.size && b.offset < a.offset + a.size;
      EXPECT_FALSE(liveTogether && shareBytes) << "buffers " << i << " and " << j;
    }
  }
  EXPECT_LT(arena, total);
  std::printf("%s: activation arena %lld bytes for 128 tokens, %lld without reuse\n",
              gen::formatName(GetParam()).str().c_str(), (long long)arena, (long long)total);
}

INSTANTIATE_TEST_SUITE_P(AllFormats, GenericForwardTest,
                         ::testing::Values(gen::Format::BitNet2B4T, gen::Format::OneBitLLM,
                                           gen::Format::LlamaBitNet),
                         [](const auto &info) {
                           std::string s = gen::formatName(info.param).str();
                           for (char &c : s)
                             if (!isalnum((unsigned char)c))
                               c = '_';
                           return s;
                         });

} // namespace
