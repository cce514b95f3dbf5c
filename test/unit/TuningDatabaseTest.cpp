//===- TuningDatabaseTest.cpp - tern-tune's database: round trip and the CPU signature --------===//
//
// What tern-tune writes, tern-select-kernels reads back unchanged (every field, both sources,
// per-bucket and whole-op entries); the host's signature survives JSON and compares equal to
// itself and unequal to a changed one. Schema errors are checked by message in
// test/passes/tern-select-kernels.mlir.
//
//===------------------------------------------------------------------------------------------===//
#include "passes/CpuSignature.h"
#include "passes/TuningDatabase.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"

#include "gtest/gtest.h"

using namespace mlir::tern;

namespace {

std::string tempPath() {
  llvm::SmallString<128> path;
  EXPECT_FALSE(llvm::sys::fs::createTemporaryFile("tuning", "json", path));
  return std::string(path);
}

TEST(TuningDatabase, RoundTripKeepsEveryField) {
  TuningDatabase db;
  db.cpu = CpuSignature::host();
  db.target = "x86-64-avx512-vnni";
  TuningEntry generated;
  generated.op = "tern.bitlinear";
  generated.rows = 2560, generated.cols = 6912, generated.bucket = 128;
  generated.family = "mad_i2", generated.variant = "x86_64_avx512vnni";
  generated.source = "generated";
  generated.params = {{"row_tiles", 2}, {"blocks_per_task", 1}, {"token_group", 8},
                      {"unroll", 2}, {"prefetch", 8}};
  generated.timeUs = 2424.75, generated.defaultUs = 2844.5, generated.candidates = 36;
  TuningEntry lut;
  lut.op = "tern.bitlinear";
  lut.rows = 6912, lut.cols = 2560, lut.bucket = 1;
  lut.family = "lut_tl1", lut.variant = "x86_64_avx512", lut.source = "generated";
  lut.params = {{"row_blocks", 4}, {"blocks_per_task", 8}, {"token_group", 1}};
  TuningEntry library;
  library.op = "tern.attention";
  library.family = "generic", library.variant = "generic";
  db.kernels = {generated, lut, library};

  std::string path = tempPath();
  ASSERT_FALSE(bool(db.save(path)));
  llvm::Expected<TuningDatabase> back = TuningDatabase::load(path);
  ASSERT_TRUE(bool(back)) << llvm::toString(back.takeError());
  EXPECT_EQ(back->cpu.key(), db.cpu.key());
  EXPECT_EQ(back->cpu.name, db.cpu.name);
  EXPECT_EQ(back->target, db.target);
  ASSERT_EQ(back->kernels.size(), 3u);
  const TuningEntry &g = back->kernels[0];
  EXPECT_EQ(g.op, "tern.bitlinear");
  EXPECT_EQ(g.rows, generated.rows);
  EXPECT_EQ(g.cols, generated.cols);
  EXPECT_EQ(g.bucket, generated.bucket);
  EXPECT_EQ(g.source, "generated");
  EXPECT_EQ(g.params, generated.params);
  EXPECT_EQ(g.timeUs, generated.timeUs);
  EXPECT_EQ(g.defaultUs, generated.defaultUs);
  EXPECT_EQ(g.candidates, generated.candidates);
  const TuningEntry &t = back->kernels[1];
  EXPECT_EQ(t.family, "lut_tl1");
  EXPECT_EQ(t.source, "generated");
  EXPECT_EQ(t.bucket, lut.bucket);
  EXPECT_EQ(t.params, lut.params);
  const TuningEntry &l = back->kernels[2];
  EXPECT_EQ(l.op, "tern.attention");
  EXPECT_EQ(l.source, "library");
  EXPECT_FALSE(l.rows || l.cols || l.bucket || l.timeUs);
  // Saving what was loaded gives the same file.
  std::string again = tempPath();
  ASSERT_FALSE(bool(back->save(again)));
  auto a = llvm::MemoryBuffer::getFile(path), b = llvm::MemoryBuffer::getFile(again);
  ASSERT_TRUE(a && b);
  EXPECT_EQ((*a)->getBuffer(), (*b)->getBuffer());
  llvm::sys::fs::remove(path);
  llvm::sys::fs::remove(again);
}

TEST(CpuSignature, HostSurvivesJSONAndDiffersFromAnother) {
  CpuSignature host = CpuSignature::host();
  EXPECT_FALSE(host.vendor.empty());
  llvm::Expected<CpuSignature> back = CpuSignature::fromJSON(host.toJSON());
  ASSERT_TRUE(bool(back)) << llvm::toString(back.takeError());
  EXPECT_EQ(back->key(), host.key());
  CpuSignature other = host;
  other.features.push_back("sve2");
  EXPECT_NE(other.key(), host.key());
  other = host;
  other.l2 += 1024;
  EXPECT_NE(other.key(), host.key());
}

TEST(CpuSignature, MalformedObjectsAreRefusedByField) {
  llvm::Expected<CpuSignature> s = CpuSignature::fromJSON(llvm::json::Object{{"vendor", 3}});
  ASSERT_FALSE(bool(s));
  EXPECT_EQ(llvm::toString(s.takeError()),
            "cpu: needs \"vendor\" (a string), \"family\" and \"model\" (integers) and "
            "\"features\" (an array of strings)");
}

} // namespace
