//===- WeightBlobTest.cpp - the weights file: written by the compiler, read by the runtime ----===//
//
// The compiler's writer (codegen/blob) and the runtime's reader (runtime/src/weight_blob.c) agree
// on every byte; every way a file can be damaged is refused with a message naming the file and,
// where there is one, the tensor.
//
//===------------------------------------------------------------------------------------------===//
#include "codegen/blob/WeightBlobWriter.h"

#include "tern/weight_blob.h"

#include "gtest/gtest.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cstring>
#include <vector>

namespace {

class WeightBlobTest : public ::testing::Test {
protected:
  void SetUp() override {
    add("model.norm.weight", tern::DType::BF16, {4}, {1, 2, 3, 4, 5, 6, 7, 8});
    add("q_proj:i2", tern::DType::U8, {70}, std::vector<uint8_t>(70, 0x55));
    add("empty", tern::DType::F32, {0}, {});
    names = {"model.norm.weight", "q_proj:i2", "empty"};
  }
  void add(const std::string &name, tern::DType dtype, std::vector<int64_t> shape,
           std::vector<uint8_t> bytes) {
    tern::StoredTensor t;
    t.name = name;
    t.dtype = dtype;
    t.shape.assign(shape.begin(), shape.end());
    ASSERT_FALSE(bool(store.addDerived(std::move(t), std::move(bytes))));
  }
  std::vector<uint8_t> build() {
    auto blob = tern::codegen::buildWeightBlob(store, names, offsets);
    EXPECT_TRUE(bool(blob));
    return blob ? *blob : std::vector<uint8_t>();
  }
  std::string parseError(const std::vector<uint8_t> &bytes) {
    tern_blob blob;
    char error[256] = "";
    if (tern_blob_parse(bytes.data(), bytes.size(), "model.weights", 1, &blob, error,
                        sizeof error) == 0)
      return "";
    return error;
  }

  tern::WeightStore store;
  std::vector<std::string> names;
  llvm::StringMap<uint64_t> offsets;
};

TEST_F(WeightBlobTest, RuntimeReadsWhatTheCompilerWrote) {
  std::vector<uint8_t> bytes = build();
  tern_blob blob;
  char error[256] = "";
  ASSERT_EQ(tern_blob_parse(bytes.data(), bytes.size(), "model.weights", 1, &blob, error,
                            sizeof error),
            0)
      << error;
  EXPECT_EQ(blob.header->count, 3u);
  for (const std::string &name : names) {
    const tern_blob_entry *e = tern_blob_find(&blob, name.c_str());
    ASSERT_NE(e, nullptr) << name;
    const tern::StoredTensor *t = store.lookup(name);
    EXPECT_EQ(e->offset % TERN_BLOB_ALIGN, 0u);
    EXPECT_EQ(e->offset, offsets.lookup(name));
    ASSERT_EQ(e->size, t->bytes.size());
    if (e->size > 0) // an empty tensor has no bytes (and memcmp takes no null pointer)
      EXPECT_EQ(std::memcmp(blob.data + e->offset, t->bytes.data(), e->size), 0) << name;
    EXPECT_EQ(e->dtype, uint8_t(t->dtype));
    EXPECT_EQ(e->rank, t->shape.size());
    EXPECT_EQ(e->dims[0], t->shape[0]);
  }
  EXPECT_EQ(tern_blob_find(&blob, "model.norm"), nullptr); // a prefix is not a name
}

TEST_F(WeightBlobTest, WriterRefusesAMissingTensor) {
  names.push_back("lm_head.weight");
  auto blob = tern::codegen::buildWeightBlob(store, names, offsets);
  ASSERT_FALSE(bool(blob));
  EXPECT_EQ(llvm::toString(blob.takeError()),
            "weights file: no tensor 'lm_head.weight' in the weight store");
}

TEST_F(WeightBlobTest, DamagedFilesAreRefusedByName) {
  std::vector<uint8_t> good = build();
  ASSERT_EQ(parseError(good), "");

  std::vector<uint8_t> data = good;
  data[offsets.lookup("q_proj:i2") + 3] ^= 1;
  EXPECT_EQ(parseError(data),
            "model.weights: tensor 'q_proj:i2' does not match its checksum (corrupted)");

  std::vector<uint8_t> truncated(good.begin(), good.end() - 64);
  EXPECT_EQ(parseError(truncated), "model.weights: the header says " +
                                       std::to_string(good.size()) + " bytes, the file has " +
                                       std::to_string(truncated.size()) + " (truncated?)");

  data = good;
  data[0] = 'X';
  EXPECT_EQ(parseError(data), "model.weights: not a tern weights file (bad magic)");

  data = good;
  data[8] = 1; // version 1 (FNV-1a checksums)
  EXPECT_EQ(parseError(data), "model.weights: weights format version 1; this runtime reads 2");

  data = good;
  data[sizeof(tern_blob_header) + 1] ^= 0x40; // an entry's offset
  EXPECT_EQ(parseError(data),
            "model.weights: the entry table's checksum does not match (corrupted)");

  std::vector<uint8_t> tiny(10, 0);
  EXPECT_EQ(parseError(tiny), "model.weights: 10 bytes, too short for a tern weights file");
}

TEST_F(WeightBlobTest, OpenMapsAFile) {
  llvm::SmallString<128> path;
  ASSERT_FALSE(llvm::sys::fs::createTemporaryFile("tern-blob", "weights", path));
  ASSERT_FALSE(bool(tern::codegen::writeWeightBlob(store, names, path, offsets)));
  tern_blob blob;
  char error[256] = "";
  ASSERT_EQ(tern_blob_open(path.c_str(), 1, &blob, error, sizeof error), 0) << error;
  EXPECT_NE(tern_blob_find(&blob, "q_proj:i2"), nullptr);
  tern_blob_close(&blob);
  llvm::sys::fs::remove(path);
  EXPECT_EQ(tern_blob_open(path.c_str(), 1, &blob, error, sizeof error), -1);
  EXPECT_EQ(std::string(error), std::string(path.str()) + ": cannot open the weights file");
}

// ternc reloads a file it wrote beside a .mlir: every tensor comes back with its dtype, shape,
// encoding (a checkpoint's ternary packing too) and bytes.
TEST_F(WeightBlobTest, CompilerReloadsWhatItWrote) {
  tern::StoredTensor packed;
  packed.name = "layers.0.q_proj.weight";
  packed.dtype = tern::DType::U8;
  packed.shape = {8, 4}; // the logical [N, K]; HF packs 4 rows per byte: [2, 4] bytes
  packed.encoding = tern::TensorEncoding::TernaryHFPacked;
  ASSERT_FALSE(bool(store.addDerived(std::move(packed), std::vector<uint8_t>(8, 0x9a))));
  names.push_back("layers.0.q_proj.weight");
  llvm::SmallString<128> path;
  ASSERT_FALSE(llvm::sys::fs::createTemporaryFile("tern-blob", "weights", path));
  ASSERT_FALSE(bool(tern::codegen::writeWeightBlob(store, names, path, offsets)));

  tern::WeightStore reloaded;
  llvm::Error e = tern::codegen::loadWeightBlob(path, reloaded);
  ASSERT_FALSE(bool(e)) << llvm::toString(std::move(e));
  ASSERT_EQ(reloaded.size(), names.size());
  for (const std::string &name : names) {
    const tern::StoredTensor *a = store.lookup(name), *b = reloaded.lookup(name);
    ASSERT_NE(b, nullptr) << name;
    EXPECT_EQ(a->dtype, b->dtype) << name;
    EXPECT_EQ(a->encoding, b->encoding) << name;
    EXPECT_EQ(llvm::ArrayRef<int64_t>(a->shape), llvm::ArrayRef<int64_t>(b->shape)) << name;
    EXPECT_EQ(a->bytes, b->bytes) << name;
  }
  std::vector<int8_t> ternary(32);
  e = reloaded.readTernary("layers.0.q_proj.weight", ternary);
  EXPECT_FALSE(bool(e)) << llvm::toString(std::move(e));

  // A damaged file is refused by name, as the runtime refuses it.
  {
    std::error_code ec;
    llvm::raw_fd_ostream out(path, ec, llvm::sys::fs::OF_Append);
    out << "x";
  }
  tern::WeightStore damaged;
  e = tern::codegen::loadWeightBlob(path, damaged);
  ASSERT_TRUE(bool(e));
  EXPECT_NE(llvm::toString(std::move(e)).find(std::string(path.str())), std::string::npos);
  llvm::sys::fs::remove(path);
}

} // namespace

// The checksum the runtime computes piece by piece on every thread is the one the compiler
// computed in one call, for sizes around the piece size and the hash's 32-byte step.
TEST(BlobChecksum, PiecesFoldToTheWholeChecksum) {
  const uint64_t piece = TERN_BLOB_PIECE;
  std::vector<uint8_t> bytes(3 * piece + 100);
  uint64_t state = 0x9e3779b97f4a7c15ull;
  for (uint8_t &b : bytes) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    b = uint8_t(state >> 56);
  }
  for (uint64_t size : {uint64_t(0), uint64_t(1), uint64_t(7), uint64_t(31), uint64_t(32),
                        uint64_t(33), uint64_t(100), piece - 1, piece, piece + 1,
                        2 * piece + 31, 3 * piece + 100}) {
    std::vector<uint64_t> hashes(tern_blob_pieces(size) + 1);
    for (uint64_t i = 0; i < tern_blob_pieces(size); ++i)
      hashes[i] = tern_blob_piece_hash(bytes.data(), size, i);
    EXPECT_EQ(tern_blob_checksum_of_pieces(hashes.data(), size),
              tern_blob_checksum(bytes.data(), size))
        << "size " << size;
  }
  EXPECT_EQ(tern_blob_pieces(0), 0u);
  EXPECT_EQ(tern_blob_pieces(piece), 1u);
  EXPECT_EQ(tern_blob_pieces(piece + 1), 2u);
}

// Any one flipped bit, anywhere (first byte, the 32-byte lanes, the 8-, 4- and 1-byte tails, a
// piece boundary, the last byte), and two swapped pieces, change the checksum.
TEST(BlobChecksum, DetectsEveryFlippedBitAndSwappedPieces) {
  const uint64_t piece = TERN_BLOB_PIECE;
  const uint64_t size = 2 * piece + 45; // the last piece: one 32-byte step, 8, 4 and 1 bytes
  std::vector<uint8_t> bytes(size);
  for (uint64_t i = 0; i < size; ++i)
    bytes[i] = uint8_t(i * 131 + (i >> 9) + (i >> 20) * 37); // pieces differ
  const uint64_t good = tern_blob_checksum(bytes.data(), size);
  for (uint64_t at : {uint64_t(0), uint64_t(9), uint64_t(31), uint64_t(32), piece - 1, piece,
                      2 * piece, 2 * piece + 33, 2 * piece + 40, 2 * piece + 44}) {
    for (int bit = 0; bit < 8; ++bit) {
      bytes[at] ^= uint8_t(1 << bit);
      EXPECT_NE(tern_blob_checksum(bytes.data(), size), good) << "byte " << at << " bit " << bit;
      bytes[at] ^= uint8_t(1 << bit);
    }
  }
  std::vector<uint8_t> swapped(bytes);
  std::swap_ranges(swapped.begin(), swapped.begin() + piece, swapped.begin() + piece);
  ASSERT_NE(swapped, bytes);
  EXPECT_NE(tern_blob_checksum(swapped.data(), size), good);
  // The size takes part: a zero byte appended is another checksum.
  bytes.push_back(0);
  EXPECT_NE(tern_blob_checksum(bytes.data(), size + 1), good);
}
