//===- HFRoundTripTest.cpp - generate -> import -> re-pack, for every format and preset -------===//
//
// tern-gen-checkpoint writes each published layout; the importer reads it into the weight store;
// re-packing every ternary matrix the store decodes must give the checkpoint's bytes back. With
// --values=ramp the decoded matrices must equal the ramp formula, which checks the decoder
// against the published rule without trusting the encoder. Presets above tiny keep their layer
// shapes but use 1 layer and a 1024-token vocabulary to bound the test's size.
//
//===------------------------------------------------------------------------------------------===//
#include "frontends/hf/HFImporter.h"
#include "frontends/hf/Safetensors.h"
#include "tools/tern-gen-checkpoint/CheckpointWriter.h"

#include "dialects/tern/TernDialect.h"
#include "dialects/weights/TernaryCodec.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include "gtest/gtest.h"

#include <string>
#include <tuple>

using namespace tern;
using namespace tern::gen;

namespace {

std::string testName(Format f, Preset p) {
  std::string s = (formatName(f) + "_" + presetName(p)).str();
  for (char &c : s)
    if (!isalnum((unsigned char)c))
      c = '_';
  return s;
}

class TempDir {
public:
  TempDir() {
    llvm::SmallString<128> path;
    EXPECT_FALSE(llvm::sys::fs::createUniqueDirectory("tern-roundtrip", path));
    dir = std::string(path);
  }
  ~TempDir() { llvm::sys::fs::remove_directories(dir); }
  std::string dir;
};

CheckpointSpec specFor(Format f, Preset p, Values values) {
  CheckpointSpec spec = CheckpointSpec::defaults(f, p);
  if (p != Preset::Tiny) {
    spec.layers = 1;
    spec.vocab = 1024;
  }
  spec.values = values;
  spec.seed = 11;
  return spec;
}

/// Reads every tensor of the (single-file) checkpoint in `dir` with a fresh reader.
std::unique_ptr<hf::SafetensorsFile> openCheckpointFile(const std::string &dir) {
  llvm::SmallString<256> path(dir);
  llvm::sys::path::append(path, "model.safetensors");
  auto file = hf::SafetensorsFile::open(path);
  if (!file) {
    ADD_FAILURE() << llvm::toString(file.takeError());
    return nullptr;
  }
  return std::move(*file);
}

class HFRoundTripTest : public ::testing::TestWithParam<std::tuple<Format, Preset>> {
protected:
  HFRoundTripTest() { ctx.loadDialect<mlir::tern::TernDialect>(); }
  mlir::MLIRContext ctx;
};

TEST_P(HFRoundTripTest, RepackGivesTheCheckpointBytes) {
  auto [format, preset] = GetParam();
  TempDir tmp;
  ASSERT_FALSE(bool(writeCheckpoint(specFor(format, preset, Values::Random), tmp.dir)));
  WeightStore store;
  hf::ImportStats stats;
  auto module = hf::importCheckpoint(ctx, tmp.dir, store, {}, &stats);
  ASSERT_TRUE(bool(module)) << llvm::toString(module.takeError());
  ASSERT_TRUE(mlir::succeeded(mlir::verify(**module)));
  EXPECT_EQ(stats.unusedTensors, 0);
  EXPECT_GT(stats.ternary.total(), 0);

  std::unique_ptr<hf::SafetensorsFile> file = openCheckpointFile(tmp.dir);
  ASSERT_TRUE(file);
  int ternaryTensors = 0;
  for (const hf::SafetensorsEntry &entry : file->entries()) {
    llvm::ArrayRef<uint8_t> original = file->bytes(entry);
    const StoredTensor *stored = store.lookup(entry.name);
    ASSERT_TRUE(stored) << entry.name << " was not imported";
    if (stored->encoding == TensorEncoding::Dense) {
      EXPECT_EQ(stored->bytes, original) << entry.name;
      continue;
    }
    // A packed checkpoint tensor: decode, re-pack, compare.
    ++ternaryTensors;
    int64_t rows = stored->shape[0], cols = stored->shape[1];
    std::vector<int8_t> values(size_t(rows * cols));
    ASSERT_FALSE(bool(store.readTernary(entry.name, values)));
    std::vector<uint8_t> repacked(size_t(rows / 4 * cols));
    encodeHFPacked(values.data(), rows, cols, repacked.data());
    EXPECT_TRUE(llvm::ArrayRef<uint8_t>(repacked) == original) << entry.name;
  }
  if (format != Format::OneBitLLM)
    EXPECT_EQ(ternaryTensors, 7 * specFor(format, preset, Values::Random).layers);
}

TEST_P(HFRoundTripTest, RampWeightsDecodeToTheFormula) {
  auto [format, preset] = GetParam();
  TempDir tmp;
  CheckpointSpec spec = specFor(format, preset, Values::Ramp);
  ASSERT_FALSE(bool(writeCheckpoint(spec, tmp.dir)));
  WeightStore store;
  auto module = hf::importCheckpoint(ctx, tmp.dir, store);
  ASSERT_TRUE(bool(module)) << llvm::toString(module.takeError());
  int checked = 0;
  for (const std::string &name : store.names()) {
    const StoredTensor *t = store.lookup(name);
    if (!t->isTernary())
      continue;
    int64_t rows = t->shape[0], cols = t->shape[1];
    std::vector<int8_t> values(size_t(rows * cols));
    ASSERT_FALSE(bool(store.readTernary(name, values)));
    for (int64_t n = 0; n < rows; ++n)
      for (int64_t k = 0; k < cols; ++k)
        if (values[n * cols + k] != int8_t((n + 2 * k) % 3 - 1)) {
          FAIL() << name << " [" << n << ", " << k << "] = " << int(values[n * cols + k]);
        }
    ++checked;
  }
  EXPECT_EQ(checked, 7 * spec.layers);
}

INSTANTIATE_TEST_SUITE_P(
    AllFormatsAndPresets, HFRoundTripTest,
    ::testing::Combine(::testing::Values(Format::BitNet2B4T, Format::OneBitLLM,
                                         Format::LlamaBitNet),
                       ::testing::Values(Preset::Tiny, Preset::B2B4T, Preset::Large, Preset::B3,
                                         Preset::B8)),
    [](const auto &info) {
      return testName(std::get<0>(info.param), std::get<1>(info.param));
    });

} // namespace
