//===- GemmProblem.h - one ternary GEMM test case and its exact reference ------------*- C++ -*-===//
//
// A random ternary N x K matrix packed by a family's packer, T rows of int8 activations over
// the full range (including -128), and the reference's int32 results on the logical matrix:
// what every family's variants are checked against, bit for bit (GemmI2Test, GemmLutTest).
//
//===------------------------------------------------------------------------------------------===//
#ifndef TERN_TEST_KERNELS_GEMMPROBLEM_H
#define TERN_TEST_KERNELS_GEMMPROBLEM_H

#include "tern/kernels.h"

#include "gtest/gtest.h"

#include <random>
#include <string>
#include <vector>

namespace tern::test {

struct GemmProblem {
  using PackedSize = size_t (*)(int64_t, int64_t);
  using Pack = int (*)(const int8_t *, int64_t, int64_t, uint8_t *);

  int64_t n, k, t;
  std::vector<int8_t> w;       // logical [n, k]
  std::vector<uint8_t> packed; // the family's layout
  std::vector<int8_t> x;       // [t, xStride], `pad` past k
  int64_t xStride;
  std::vector<int32_t> expected; // [t, round_up(n, 64)]
  int64_t accStride;

  /// `fill` = 2 draws weights and activations at random; -1 or 1 sets every weight to it and
  /// every activation to -128 (the largest magnitudes a kernel's sums see).
  GemmProblem(PackedSize packedSize, Pack pack, int64_t n, int64_t k, int64_t t, uint32_t seed,
              int64_t xStride, int8_t pad, int fill = 2)
      : n(n), k(k), t(t), w(size_t(n * k)), packed(packedSize(n, k)), xStride(xStride),
        accStride(tern_round_up(n, 64)) {
    std::mt19937 rng(seed);
    for (int8_t &v : w)
      v = fill == 2 ? int8_t(int(rng() % 3) - 1) : int8_t(fill);
    x.assign(size_t(t * xStride), pad);
    for (int64_t i = 0; i < t; ++i)
      for (int64_t c = 0; c < k; ++c)
        x[size_t(i * xStride + c)] = fill == 2 ? int8_t(int(rng() % 256) - 128) : int8_t(-128);
    EXPECT_EQ(pack(w.data(), n, k, packed.data()), 0);
    expected.assign(size_t(t * accStride), 0);
    tern_gemm_ternary_reference(w.data(), n, k, x.data(), xStride, t, expected.data(),
                                accStride);
  }

  /// Runs `fn` and returns the first mismatching (token, row), or an empty string.
  std::string check(tern_gemm_fn fn) const {
    std::vector<int32_t> acc(size_t(t * accStride), 0x7eadbeef);
    if (int status = fn(packed.data(), n, k, x.data(), xStride, t, acc.data(), accStride))
      return "kernel returned status " + std::to_string(status);
    for (int64_t i = 0; i < t; ++i)
      for (int64_t row = 0; row < n; ++row) {
        int32_t want = expected[size_t(i * accStride + row)];
        int32_t got = acc[size_t(i * accStride + row)];
        if (want != got)
          return "token " + std::to_string(i) + " row " + std::to_string(row) + ": expected " +
                 std::to_string(want) + ", got " + std::to_string(got);
      }
    return "";
  }
};

} // namespace tern::test

#endif
