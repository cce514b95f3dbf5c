//===- DecoderTestSupport.h - what the decoder kernel tests share ----------------------------===//
//
// The fixture over the rows of the decoder kernel table (one test instance per variant, skipped
// with the missing CPU features named), the head shapes and the activations they draw.
//
//===------------------------------------------------------------------------------------------===//
#ifndef TERN_TEST_KERNELS_DECODERTESTSUPPORT_H
#define TERN_TEST_KERNELS_DECODERTESTSUPPORT_H

#include "tern/decoder_kernels.h"

#include "gtest/gtest.h"

#include <random>
#include <string>
#include <vector>

class DecoderVariantTest : public ::testing::TestWithParam<size_t> {
protected:
  const tern_decoder_variant &variant() {
    size_t count;
    return tern_decoder_variants(&count)[GetParam()];
  }
  void skipIfUnsupported() {
    tern_cpu_features_t have = tern_cpu_detect(), need = variant().requires;
    if ((need & have) != need) {
      char buf[256];
      tern_cpu_format_features(need & ~have, buf, sizeof buf);
      GTEST_SKIP() << "SKIPPED: CPU lacks " << buf << " for the " << variant().name
                   << " decoder kernels";
    }
  }
};

/// The output heads the head kernels are tested on: awkward shapes (a row, rows and columns
/// short of a tile, of a block or super-block, of a 64-row task) and 2B4T's real head last.
struct HeadShape {
  int64_t n, k, t;
};
inline const HeadShape kHeadShapes[] = {
    {1, 1, 1},     {15, 31, 1},     {63, 17, 2},      {64, 64, 1},      {130, 100, 3},
    {80, 700, 2},  {257, 2560, 1},  {2560, 2560, 2},  {128256, 2560, 1},
    // Batched tokens (the float heads take four at a time; a group of two or three is padded,
    // a single one takes the 1-token kernel): 4, 4 + 1, 4 + 2, 4 + 3, 4 + 4 + 1.
    {130, 100, 4}, {257, 37, 5},    {192, 33, 6},     {80, 700, 7},     {2560, 2560, 9}};

/// t rows of k standard normal activations.
inline std::vector<float> normalActivations(int64_t t, int64_t k, std::mt19937 &rng) {
  std::vector<float> x(size_t(t * k));
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (float &v : x)
    v = normal(rng);
  return x;
}

/// One instance of FIXTURE's tests per row of the decoder kernel table, named after the row.
#define TERN_INSTANTIATE_DECODER_VARIANTS(FIXTURE)                                               \
  INSTANTIATE_TEST_SUITE_P(                                                                      \
      AllVariants, FIXTURE, ::testing::Range(size_t(0),                                          \
                                             [] {                                                \
                                               size_t count;                                     \
                                               tern_decoder_variants(&count);                    \
                                               return count;                                     \
                                             }()),                                               \
      [](const auto &info) {                                                                     \
        size_t count;                                                                            \
        return std::string(tern_decoder_variants(&count)[info.param].name);                      \
      })

#endif // TERN_TEST_KERNELS_DECODERTESTSUPPORT_H
