//===- GeneratedGemmTest.cpp - generated multiply-add kernels against the scalar reference ----===//
//
// The kernels ternc generates per model are gemm_i2 pipelines with a model's shape and a
// schedule from #tern.kernel (docs/tuning.md). test/kernels/CMakeLists.txt generates cases with
// schedules away from the library's defaults (1, 2 or 4 row tiles, several tiles per task,
// token groups of 3 to 8, unrolling, prefetching), for every ISA, shape-specialized (N = 1 with
// K = 17, 67 x 100, the 2B4T down projection 2560 x 6912) and shape-generic. Each case runs as
// the bucket table a compiled model uses (a decode kernel, a GEMM kernel taking multiples of its
// token group, the rest back to the decode kernel), and must equal the reference exactly for
// token counts around its group.
//
//===------------------------------------------------------------------------------------------===//
#include "tern/generated_kernels.h"
#include "tern/kernels.h"
#include "test/kernels/GemmProblem.h"

#include "gtest/gtest.h"

#include <string>
#include <vector>

extern "C" {
#define GENERATED_CASE(ISA, NAME, ROWS, COLS, GROUP, DECODE, GEMM)                                 \
  int DECODE(struct halide_buffer_t *, struct halide_buffer_t *, struct halide_buffer_t *);        \
  int GEMM(struct halide_buffer_t *, struct halide_buffer_t *, struct halide_buffer_t *);
#include "generated_gemm_cases.inl"
#undef GENERATED_CASE
}

namespace {

struct Case {
  const char *isa, *name;
  int64_t rows, cols, group;
  tern_halide_gemm_fn decode, gemm;
};

const Case kCases[] = {
#define GENERATED_CASE(ISA, NAME, ROWS, COLS, GROUP, DECODE, GEMM)                                 \
  {#ISA, #NAME, ROWS, COLS, GROUP, DECODE, GEMM},
#include "generated_gemm_cases.inl"
#undef GENERATED_CASE
};

/// What each ISA's code needs (the same sets as the runtime's variant tables).
tern_cpu_features_t required(const std::string &isa) {
  const tern_cpu_features_t avx2 = TERN_CPU_AVX2 | TERN_CPU_FMA | TERN_CPU_F16C;
  const tern_cpu_features_t avx512 =
      avx2 | TERN_CPU_AVX512F | TERN_CPU_AVX512BW | TERN_CPU_AVX512VL | TERN_CPU_AVX512DQ;
  if (isa == "x86_64_avx512vnni")
    return avx512 | TERN_CPU_AVX512VNNI;
  if (isa == "x86_64_avx512")
    return avx512;
  if (isa == "x86_64_avx2")
    return avx2;
  if (isa == "aarch64_dotprod")
    return TERN_CPU_NEON | TERN_CPU_DOTPROD;
  return TERN_CPU_NEON;
}

/// The bucket table under test, for the tern_gemm_fn the problems call.
const tern_gemm_bucket *gTable;
int viaBuckets(const uint8_t *w, int64_t n, int64_t k, const int8_t *x, int64_t x_stride,
               int64_t t, int32_t *acc, int64_t acc_stride) {
  return tern_gemm_i2_buckets(gTable, 2, w, n, k, x, x_stride, t, acc, acc_stride);
}

class GeneratedGemm : public ::testing::TestWithParam<size_t> {};

TEST_P(GeneratedGemm, MatchesReference) {
  const Case &c = kCases[GetParam()];
  tern_cpu_features_t need = required(c.isa), have = tern_cpu_detect();
  if ((need & have) != need) {
    char missing[256];
    tern_cpu_format_features(need & ~have, missing, sizeof missing);
    GTEST_SKIP() << "SKIPPED: CPU lacks " << missing << " for the " << c.isa << " variant";
  }
  const tern_gemm_bucket table[2] = {{1, 1, c.decode}, {512, c.group, c.gemm}};
  gTable = table;
  std::vector<std::pair<int64_t, int64_t>> shapes;
  if (c.rows > 0)
    shapes = {{c.rows, c.cols}};
  else
    shapes = {{1, 1}, {3, 17}, {65, 129}, {130, 48}, {2560, 2560}};
  for (auto [n, k] : shapes)
    for (int64_t t : {int64_t(1), int64_t(2), c.group, c.group + 1, 2 * c.group + 3}) {
      tern::test::GemmProblem p(tern_i2_packed_size, tern_i2_pack, n, k, t,
                                uint32_t(n * 131 + k * 7 + t), tern_round_up(k, 16), 0);
      EXPECT_EQ(p.check(viaBuckets), "")
          << c.isa << " " << c.name << ": " << n << "x" << k << " T=" << t;
    }
}

TEST(GeneratedGemm, MalformedTablesAreRefused) {
  // The first bucket must be the decode kernel (token group 1): the others hand it their rest.
  const tern_gemm_bucket bad[1] = {{8, 4, nullptr}};
  int32_t acc[64];
  int8_t x[16] = {};
  uint8_t w[256] = {};
  EXPECT_NE(tern_gemm_i2_buckets(bad, 1, w, 1, 1, x, 16, 1, acc, 64), 0);
  EXPECT_NE(tern_gemm_i2_buckets(bad, 0, w, 1, 1, x, 16, 1, acc, 64), 0);
}

INSTANTIATE_TEST_SUITE_P(AllCases, GeneratedGemm,
                         ::testing::Range(size_t(0), sizeof kCases / sizeof kCases[0]),
                         [](const auto &info) {
                           const Case &c = kCases[info.param];
                           return std::string(c.isa) + "_" + c.name;
                         });

} // namespace
