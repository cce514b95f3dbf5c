//===- WeightLoadTest.cpp - loading a weights blob: checked and copied in parallel ------------===//
//
// runtime/src/weight_load.c copies a model's blob into memory and checks every tensor's
// checksum in the same pass, piece by piece on the thread pool, reading either the mapping or
// the file behind it. Whatever the path and the thread count, the copy is the blob's bytes and
// a damaged tensor is named.
//
//===------------------------------------------------------------------------------------------===//
#include "codegen/blob/WeightBlobWriter.h"

#include "tern/thread_pool.h"
#include "tern/weight_blob.h"
#include "weight_load.h"

#include "gtest/gtest.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"

#include <cstring>
#include <fcntl.h>
#include <unistd.h>
#include <vector>

namespace {

class WeightLoadTest : public ::testing::TestWithParam<int> {
protected:
  void SetUp() override {
    tern_set_num_threads(GetParam());
    // A multi-piece tensor whose last piece is short, a small one and an empty one.
    add("big", 2 * TERN_BLOB_PIECE + 4097);
    add("small", 70);
    add("empty", 0);
    auto blob = tern::codegen::buildWeightBlob(store, names, offsets);
    ASSERT_TRUE(bool(blob));
    bytes = *blob;
  }
  void TearDown() override { tern_set_num_threads(2); }
  void add(const std::string &name, size_t size) {
    std::vector<uint8_t> data(size);
    for (size_t i = 0; i < size; ++i)
      data[i] = uint8_t(i * 7 + name.size() + (i >> 12));
    tern::StoredTensor t;
    t.name = name;
    t.dtype = tern::DType::U8;
    t.shape = {int64_t(size)};
    ASSERT_FALSE(bool(store.addDerived(std::move(t), std::move(data))));
    names.push_back(name);
  }
  /// Parses `data`, then checks and copies it (from `fd` when >= 0); the error, "" on success.
  std::string load(const std::vector<uint8_t> &data, std::vector<uint8_t> &copy, int fd = -1) {
    tern_blob blob;
    char error[256] = "";
    if (tern_blob_parse(data.data(), data.size(), "model.weights", 0, &blob, error,
                        sizeof error) != 0)
      return error;
    copy.assign(data.size(), 0xEE);
    if (tern_blob_check_and_copy(&blob, "model.weights", 1, copy.data(), 0, fd, 0, nullptr,
                                 error, sizeof error) != 0)
      return error;
    return "";
  }
  /// The blob's bytes that a copy must reproduce: all but the padding between tensors.
  void expectSameTensors(const std::vector<uint8_t> &copy) {
    tern_blob blob;
    char error[256] = "";
    ASSERT_EQ(tern_blob_parse(copy.data(), copy.size(), "copy", 1, &blob, error, sizeof error), 0)
        << error;
    for (const std::string &name : names) {
      uint64_t at = offsets.lookup(name);
      const tern::StoredTensor *t = store.lookup(name);
      if (!t->bytes.empty())
        EXPECT_EQ(std::memcmp(copy.data() + at, t->bytes.data(), t->bytes.size()), 0) << name;
    }
  }

  tern::WeightStore store;
  std::vector<std::string> names;
  llvm::StringMap<uint64_t> offsets;
  std::vector<uint8_t> bytes;
};

TEST_P(WeightLoadTest, CopiesFromTheMapping) {
  std::vector<uint8_t> copy;
  ASSERT_EQ(load(bytes, copy), "");
  expectSameTensors(copy);
}

TEST_P(WeightLoadTest, CopiesFromTheFile) {
  llvm::SmallString<128> path;
  ASSERT_FALSE(llvm::sys::fs::createTemporaryFile("tern-load", "weights", path));
  FILE *f = fopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(fwrite(bytes.data(), 1, bytes.size(), f), bytes.size());
  fclose(f);
  int fd = open(path.c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  std::vector<uint8_t> copy;
  EXPECT_EQ(load(bytes, copy, fd), "");
  expectSameTensors(copy);
  // A file that ends early: the pieces it lacks come from the mapping.
  ASSERT_EQ(truncate(path.c_str(), off_t(offsets.lookup("big") + TERN_BLOB_PIECE + 5)), 0);
  EXPECT_EQ(load(bytes, copy, fd), "");
  expectSameTensors(copy);
  close(fd);
  llvm::sys::fs::remove(path);
}

TEST_P(WeightLoadTest, NamesTheDamagedTensor) {
  std::vector<uint8_t> copy;
  for (uint64_t at : {uint64_t(0), TERN_BLOB_PIECE + 3, 2 * TERN_BLOB_PIECE + 4096}) {
    std::vector<uint8_t> damaged = bytes;
    damaged[offsets.lookup("big") + at] ^= 0x10;
    EXPECT_EQ(load(damaged, copy),
              "model.weights: tensor 'big' does not match its checksum (corrupted)")
        << "byte " << at;
  }
  std::vector<uint8_t> damaged = bytes;
  damaged[offsets.lookup("small") + 69] ^= 1;
  EXPECT_EQ(load(damaged, copy),
            "model.weights: tensor 'small' does not match its checksum (corrupted)");
}

INSTANTIATE_TEST_SUITE_P(Threads, WeightLoadTest, ::testing::Values(1, 2, 3),
                         [](const auto &info) { return std::to_string(info.param) + "threads"; });

// The executable's embedded weights are read from its own file: the file behind an address of
// this program's image holds the same bytes at the offset found.
const char kInImage[] = "bytes that live in the test program's read-only data";

TEST(ImageFile, FindsTheBytesOfThisProgram) {
  uint64_t offset = 0;
  int fd = tern_open_image_file(kInImage, sizeof kInImage, &offset);
  ASSERT_GE(fd, 0);
  char read[sizeof kInImage];
  ASSERT_EQ(pread(fd, read, sizeof read, off_t(offset)), ssize_t(sizeof read));
  EXPECT_EQ(std::memcmp(read, kInImage, sizeof read), 0);
  close(fd);
  std::vector<char> heap(64, 'x');
  EXPECT_EQ(tern_open_image_file(heap.data(), heap.size(), &offset), -1); // not in any image
}

} // namespace
