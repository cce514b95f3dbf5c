//===- GeneratedLutTest.cpp - generated lookup-table kernels against the scalar reference -----===//
//
// A lookup-table bitlinear ternc generates is a gemm_lut pipeline (tables stage, parallel split
// and token groups scheduled by Halide) calling a tile tern-ukernel-gen specialized for the
// shape (the MLIR micro-kernel behind Halide's extern-stage ABI, answering its bounds queries).
// test/kernels/CMakeLists.txt generates cases for both layouts and every ISA: N = 1 with K = 17
// (one row, K not a multiple of a group pair or an octet), 333 x 100 (odd N, a partial last row
// block; 6 blocks in tasks of 4 + 2 and of 5 + 1, so the last task is short and the tile's
// 2- or 4-block step leaves a remainder), and the 2B4T down projection 2560 x 6912; each with a
// decode schedule and a prefill schedule whose token group leaves a remainder. Run as a compiled model runs them (tern_gemm_lut_buckets), each must equal the
// reference exactly for token counts around its group.
//
//===------------------------------------------------------------------------------------------===//
#include "tern/generated_kernels.h"
#include "tern/lut_kernels.h"
#include "test/kernels/GemmProblem.h"

#include "gtest/gtest.h"

#include <string>

extern "C" {
#define LUT_CASE(ISA, LAYOUT, NAME, ROWS, COLS, GROUP, DECODE, PREFILL)                           \
  int DECODE(struct halide_buffer_t *, struct halide_buffer_t *, struct halide_buffer_t *);        \
  int PREFILL(struct halide_buffer_t *, struct halide_buffer_t *, struct halide_buffer_t *);
#include "generated_lut_cases.inl"
#undef LUT_CASE
}

namespace {

struct Case {
  const char *isa, *layout, *name;
  int64_t rows, cols, group;
  tern_halide_gemm_fn decode, prefill;
};

const Case kCases[] = {
#define LUT_CASE(ISA, LAYOUT, NAME, ROWS, COLS, GROUP, DECODE, PREFILL)                           \
  {#ISA, #LAYOUT, #NAME, ROWS, COLS, GROUP, DECODE, PREFILL},
#include "generated_lut_cases.inl"
#undef LUT_CASE
};

tern_cpu_features_t required(const std::string &isa) {
  const tern_cpu_features_t avx2 = TERN_CPU_AVX2 | TERN_CPU_FMA | TERN_CPU_F16C;
  if (isa == "avx512")
    return avx2 | TERN_CPU_AVX512F | TERN_CPU_AVX512BW | TERN_CPU_AVX512VL | TERN_CPU_AVX512DQ;
  if (isa == "avx2")
    return avx2;
  return TERN_CPU_NEON;
}

/// The bucket table under test, for the tern_gemm_fn the problems call.
const tern_gemm_bucket *gTable;
bool gTl2;
int viaBuckets(const uint8_t *w, int64_t n, int64_t k, const int8_t *x, int64_t x_stride,
               int64_t t, int32_t *acc, int64_t acc_stride) {
  return tern_gemm_lut_buckets(gTable, 2, gTl2, w, n, k, x, x_stride, t, acc, acc_stride);
}

class GeneratedLut : public ::testing::TestWithParam<size_t> {};

TEST_P(GeneratedLut, MatchesReference) {
  const Case &c = kCases[GetParam()];
  tern_cpu_features_t need = required(c.isa), have = tern_cpu_detect();
  if ((need & have) != need) {
    char missing[256];
    tern_cpu_format_features(need & ~have, missing, sizeof missing);
    GTEST_SKIP() << "SKIPPED: CPU lacks " << missing << " for the " << c.isa << " variant";
  }
  // Decode calls (1 token) take the first bucket, every other count the prefill pipeline.
  const tern_gemm_bucket table[2] = {{1, 1, c.decode}, {512, 1, c.prefill}};
  gTable = table;
  gTl2 = std::string(c.layout) == "tl2";
  auto packedSize = gTl2 ? tern_tl2_packed_size : tern_tl1_packed_size;
  auto pack = gTl2 ? tern_tl2_pack : tern_tl1_pack;
  for (int64_t t : {int64_t(1), int64_t(2), c.group, c.group + 1, 2 * c.group + 3}) {
    tern::test::GemmProblem p(packedSize, pack, c.rows, c.cols, t,
                              uint32_t(c.rows * 131 + c.cols * 7 + t), tern_round_up(c.cols, 16),
                              0);
    EXPECT_EQ(p.check(viaBuckets), "")
        << c.isa << " " << c.layout << " " << c.name << ": T=" << t;
  }
  // The extremes of the tables' int16 range: every weight and activation at its bound.
  for (int fill : {-1, 1}) {
    tern::test::GemmProblem p(packedSize, pack, c.rows, c.cols, c.group + 1, 5,
                              tern_round_up(c.cols, 16), 0, fill);
    EXPECT_EQ(p.check(viaBuckets), "") << c.isa << " " << c.layout << " " << c.name
                                       << ": all weights " << fill << ", activations -128";
  }
}

TEST(GeneratedLut, EmptyTablesAreRefused) {
  int32_t acc[64];
  int8_t x[16] = {};
  uint8_t w[256] = {};
  EXPECT_NE(tern_gemm_lut_buckets(nullptr, 0, false, w, 1, 1, x, 16, 1, acc, 64), 0);
}

INSTANTIATE_TEST_SUITE_P(AllCases, GeneratedLut,
                         ::testing::Range(size_t(0), sizeof kCases / sizeof kCases[0]),
                         [](const auto &info) {
                           const Case &c = kCases[info.param];
                           return std::string(c.isa) + "_" + c.layout + "_" + c.name;
                         });

} // namespace
