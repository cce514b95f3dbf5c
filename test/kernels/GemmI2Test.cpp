//===- GemmI2Test.cpp - every multiply-add variant against the scalar reference ---------------===//
//
// For each compiled variant and each shape (N = 1, odd N, K not a multiple of the 16-column tile,
// the real 2B4T shapes and the 128256 x 2560 head) and token counts that exercise both the
// 4-token GEMM and the 1-token GEMV kernels: the int32 results must equal the plain reference
// on the unpacked matrix exactly. A variant the CPU cannot run is reported as SKIPPED with the
// features it lacks.
//
//===------------------------------------------------------------------------------------------===//
#include "tern/decoder_kernels.h"
#include "tern/kernels.h"
#include "test/kernels/GemmProblem.h"

#include "gtest/gtest.h"

#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace {

struct Shape {
  int64_t n, k;
};

/// The shapes of the done-when list, plus small awkward ones.
const Shape kShapes[] = {{1, 1},       {1, 16},      {3, 17},      {17, 33},      {63, 100},
                         {64, 64},     {65, 129},    {130, 48},    {2560, 2560},  {640, 2560},
                         {6912, 2560}, {2560, 6912}, {128256, 2560}};

std::string missingFeatures(tern_cpu_features_t need, tern_cpu_features_t have) {
  char buf[256];
  tern_cpu_format_features(need & ~have, buf, sizeof buf);
  return buf;
}

/// The i2 case: activation rows of round_up(K, 16) bytes, zero past K (the layout's contract).
struct Problem : tern::test::GemmProblem {
  Problem(int64_t n, int64_t k, int64_t t, uint32_t seed)
      : GemmProblem(tern_i2_packed_size, tern_i2_pack, n, k, t, seed, tern_round_up(k, 16), 0) {}
};

TEST(I2Layout, PackUnpackRoundTrip) {
  for (Shape s : kShapes) {
    if (s.n * s.k > 20000000)
      continue;
    Problem p(s.n, s.k, 1, uint32_t(s.n * 31 + s.k));
    std::vector<int8_t> back(p.w.size());
    tern_i2_unpack(p.packed.data(), s.n, s.k, back.data());
    EXPECT_EQ(back, p.w) << s.n << "x" << s.k;
    EXPECT_EQ(p.packed.size(), size_t(tern_round_up(s.n, 64) / 4 * tern_round_up(s.k, 16)));
  }
}

TEST(I2Layout, PackRejectsNonTernaryValues) {
  int8_t w[4] = {1, 0, 2, -1};
  std::vector<uint8_t> out(tern_i2_packed_size(2, 2));
  EXPECT_EQ(tern_i2_pack(w, 2, 2, out.data()), -1);
}

TEST(I2Layout, TileByteHoldsFourColumnGroupsOfOneRow) {
  // Row 5, columns 0..15 of a 16 x 16 matrix: byte 5 * 4 + c % 4 holds column c in bits
  // 2 * (c / 4); the layout documented in tern/kernels.h.
  std::vector<int8_t> w(16 * 16, 0);
  w[5 * 16 + 0] = 1;   // byte 20, bits 0..1 = 2
  w[5 * 16 + 6] = -1;  // byte 22, bits 2..3 = 0
  w[5 * 16 + 15] = 1;  // byte 23, bits 6..7 = 2
  std::vector<uint8_t> packed(tern_i2_packed_size(16, 16));
  ASSERT_EQ(tern_i2_pack(w.data(), 16, 16, packed.data()), 0);
  EXPECT_EQ(packed[20], 0x56); // 01 01 01 10
  EXPECT_EQ(packed[22], 0x51); // 01 01 00 01
  EXPECT_EQ(packed[23], 0x95); // 10 01 01 01
  EXPECT_EQ(packed[0], 0x55);
}

class GemmI2Variant : public ::testing::TestWithParam<size_t> {
protected:
  const tern_gemm_variant &variant() {
    size_t count;
    return tern_gemm_i2_variants(&count)[GetParam()];
  }
  void skipIfUnsupported() {
    tern_cpu_features_t have = tern_cpu_detect();
    if ((variant().requires & have) != variant().requires)
      GTEST_SKIP() << "SKIPPED: CPU lacks " << missingFeatures(variant().requires, have)
                   << " for the " << variant().name << " variant";
  }
};

TEST_P(GemmI2Variant, MatchesReferenceOnAwkwardShapes) {
  skipIfUnsupported();
  if (IsSkipped()) // GTEST_SKIP in a helper returns from the helper only
    return;
  for (Shape s : kShapes) {
    bool huge = s.n * s.k > 100000000;
    for (int64_t t : {1, 3, 4, 5, 9}) {
      if (huge && t > 1)
        continue; // the head: one decode token is enough
      Problem p(s.n, s.k, t, uint32_t(s.n * 131 + s.k * 7 + t));
      std::string mismatch = p.check(variant().fn);
      EXPECT_EQ(mismatch, "") << variant().name << " " << s.n << "x" << s.k << " T=" << t;
    }
  }
}

TEST_P(GemmI2Variant, ExtremeActivations) {
  skipIfUnsupported();
  if (IsSkipped()) // GTEST_SKIP in a helper returns from the helper only
    return;
  // All weights +1 or -1 with x = -128 everywhere: the largest magnitudes the int32 path sees.
  for (int8_t sign : {int8_t(1), int8_t(-1)}) {
    Problem p(64, 4096, 5, 1);
    std::fill(p.w.begin(), p.w.end(), sign);
    ASSERT_EQ(tern_i2_pack(p.w.data(), p.n, p.k, p.packed.data()), 0);
    for (int64_t i = 0; i < p.t; ++i)
      std::fill(p.x.begin() + i * p.xStride, p.x.begin() + i * p.xStride + p.k, int8_t(-128));
    tern_gemm_ternary_reference(p.w.data(), p.n, p.k, p.x.data(), p.xStride, p.t,
                                p.expected.data(), p.accStride);
    EXPECT_EQ(p.check(variant().fn), "") << variant().name;
  }
}

INSTANTIATE_TEST_SUITE_P(AllVariants, GemmI2Variant,
                         ::testing::Range(size_t(0), [] {
                           size_t count;
                           tern_gemm_i2_variants(&count);
                           return count;
                         }()),
                         [](const auto &info) {
                           size_t count;
                           return std::string(tern_gemm_i2_variants(&count)[info.param].name);
                         });

TEST(GemmI2Dispatch, BestSupportedVariantFirstGenericLast) {
  size_t count;
  const tern_gemm_variant *v = tern_gemm_i2_variants(&count);
  ASSERT_GE(count, 1u);
  EXPECT_STREQ(v[count - 1].name, "generic");
  EXPECT_EQ(v[count - 1].requires, 0u);
  EXPECT_STREQ(tern_gemm_i2_select(0)->name, "generic");
#if defined(__x86_64__)
  tern_cpu_features_t avx2 = TERN_CPU_AVX2 | TERN_CPU_FMA | TERN_CPU_F16C;
  EXPECT_STREQ(tern_gemm_i2_select(avx2)->name, "x86_64_avx2");
  EXPECT_STREQ(tern_gemm_i2_select(TERN_CPU_AVX2)->name, "generic"); // AVX2 without FMA: none
  tern_cpu_features_t all = ~tern_cpu_features_t(0);
  EXPECT_STREQ(tern_gemm_i2_select(all)->name, "x86_64_avx512vnni");
  EXPECT_STREQ(tern_gemm_i2_select(all & ~TERN_CPU_AVX512VNNI)->name, "x86_64_avx512");
#endif
}

TEST(CpuFeatures, NamesParseAndFormat) {
  tern_cpu_features_t f = 0;
  const char *bad = nullptr;
  size_t badLen = 0;
  ASSERT_EQ(tern_cpu_parse_features("avx2,avx512vnni,dotprod", &f, &bad, &badLen), 0);
  EXPECT_EQ(f, TERN_CPU_AVX2 | TERN_CPU_AVX512VNNI | TERN_CPU_DOTPROD);
  char buf[128];
  tern_cpu_format_features(f, buf, sizeof buf);
  EXPECT_STREQ(buf, "avx2,avx512vnni,dotprod");
  EXPECT_EQ(tern_cpu_parse_features("avx2,avx9", &f, &bad, &badLen), -1);
  EXPECT_EQ(std::string(bad, badLen), "avx9");
}

TEST(CpuFeatures, DetectionIsConsistent) {
  tern_cpu_features_t f = tern_cpu_detect();
  // Implications every real CPU and OS obey.
  if (f & TERN_CPU_AVX512VNNI)
    EXPECT_TRUE(f & TERN_CPU_AVX512F);
  if (f & TERN_CPU_AVX512F)
    EXPECT_TRUE(f & TERN_CPU_AVX2);
  if (f & TERN_CPU_DOTPROD)
    EXPECT_TRUE(f & TERN_CPU_NEON);
  char buf[256];
  tern_cpu_format_features(f, buf, sizeof buf);
  std::printf("detected CPU features: %s\n", buf);
}

TEST(ActQuant, RoundsHalfToEvenAndPadsWithZeros) {
  // max |x| = 127 gives scale 1: x * s lands exactly on the .5 ties.
  const float x[5] = {0.5f, 1.5f, 2.5f, -2.5f, 127.0f};
  int8_t q[16];
  std::memset(q, 0x7f, sizeof q);
  float scale;
  tern_act_quant_generic(x, 5, 1, 5, 8, q, 16, &scale);
  EXPECT_EQ(scale, 1.0f);
  const int8_t want[16] = {0, 2, 2, -2, 127, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  EXPECT_EQ(std::memcmp(q, want, 16), 0);
  // 4 bits: qmax 7, clamp to [-8, 7].
  const float y[2] = {-1.0f, 0.5f};
  tern_act_quant_generic(y, 2, 1, 2, 4, q, 16, &scale);
  EXPECT_EQ(scale, 7.0f);
  EXPECT_EQ(q[0], -7);
  EXPECT_EQ(q[1], 4); // 3.5 -> 4 (even)
}

TEST(BitlinearEpilogue, PerTensorAndPerRowScales) {
  const int32_t acc[2 * 64] = {254, -127};
  const float xs[2] = {127.0f, 2.0f};
  const float w1[1] = {0.5f};
  float y[2];
  tern_bitlinear_epilogue(acc, 64, 1, 2, xs, w1, 0, y, 2);
  EXPECT_FLOAT_EQ(y[0], 1.0f);
  EXPECT_FLOAT_EQ(y[1], -0.5f);
  const float wr[2] = {2.0f, 4.0f};
  tern_bitlinear_epilogue(acc, 64, 1, 2, xs, wr, 1, y, 2);
  EXPECT_FLOAT_EQ(y[0], 4.0f);
  EXPECT_FLOAT_EQ(y[1], -4.0f);
}

} // namespace

namespace {

TEST(HeadQ8, QuantizedMatmulMatchesHandComputation) {
  // Two rows: scales 2/127 and 1/127; the int8 product is exact before the epilogue.
  const float w[2 * 3] = {2.0f, -1.0f, 0.0f, 0.5f, 1.0f, -0.25f};
  int8_t wq[6];
  float ws[2];
  tern_quantize_rows_q8(w, TERN_DTYPE_F32, 2, 3, wq, ws);
  EXPECT_FLOAT_EQ(ws[0], 2.0f / 127.0f);
  EXPECT_FLOAT_EQ(ws[1], 1.0f / 127.0f);
  const int8_t wantQ[6] = {127, -64, 0, 64, 127, -32}; // -63.5 and 63.5 round to even
  EXPECT_EQ(std::memcmp(wq, wantQ, 6), 0);
  const float x[3] = {1.0f, 2.0f, -1.0f};
  int8_t xq[16];
  float xs;
  tern_act_quant_generic(x, 3, 1, 3, 8, xq, 16, &xs);
  float out[2];
  tern_matmul_q8_generic(xq, 16, &xs, 1, 3, wq, ws, 2, out);
  // Exact float result: [0, 2.75]; int8 rounding error stays within 1 %.
  EXPECT_NEAR(out[0], 0.0f, 0.02f);
  EXPECT_NEAR(out[1], 2.75f, 0.0275f);
  int32_t acc1 = 0;
  for (int c = 0; c < 3; ++c)
    acc1 += int32_t(xq[c]) * int32_t(wq[3 + c]);
  EXPECT_FLOAT_EQ(out[1], float(acc1) / xs * ws[1]);
}

} // namespace
