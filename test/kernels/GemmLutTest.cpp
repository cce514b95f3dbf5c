//===- GemmLutTest.cpp - the lookup-table family (tl1, tl2) against the scalar reference ------===//
//
// Per layout: pack/unpack are exact inverses, documented byte positions hold, tables hold the
// documented entries; and every compiled variant, on awkward shapes (N = 1, odd N, K not a
// multiple of the 4- or 24-column unit, the 2B4T shapes and the head) and token counts 1..9,
// gives exactly the plain reference's int32 results on the unpacked matrix. The extreme case
// (all weights +-1, all activations -128) reaches the int16 table limits (256 for tl1, 384 for
// tl2) that the kernels' int16 accumulation relies on.
//
//===------------------------------------------------------------------------------------------===//
#include "tern/lut_kernels.h"
#include "test/kernels/GemmProblem.h"

#include "gtest/gtest.h"

#include <random>
#include <string>
#include <vector>

namespace {

struct Layout {
  const char *name;
  size_t (*packedSize)(int64_t, int64_t);
  int (*pack)(const int8_t *, int64_t, int64_t, uint8_t *);
  void (*unpack)(const uint8_t *, int64_t, int64_t, int8_t *);
  const tern_gemm_variant *(*variants)(size_t *);
  const tern_gemm_variant *(*select)(tern_cpu_features_t);
};

const Layout kLayouts[] = {
    {"tl1", tern_tl1_packed_size, tern_tl1_pack, tern_tl1_unpack, tern_gemm_tl1_variants,
     tern_gemm_tl1_select},
    {"tl2", tern_tl2_packed_size, tern_tl2_pack, tern_tl2_unpack, tern_gemm_tl2_variants,
     tern_gemm_tl2_select},
};

struct Shape {
  int64_t n, k;
};
const Shape kShapes[] = {{1, 1},       {1, 24},      {3, 17},       {17, 33},     {63, 100},
                         {64, 64},     {65, 129},    {130, 47},     {191, 385},   {2560, 2560},
                         {640, 2560},  {6912, 2560}, {2560, 6912},  {128256, 2560}};

/// The LUT case: activation rows of an odd stride K + 3 with garbage past K, so no kernel can
/// rely on alignment or read past K.
struct Problem : tern::test::GemmProblem {
  Problem(const Layout &layout, int64_t n, int64_t k, int64_t t, uint32_t seed, int fill = 2)
      : GemmProblem(layout.packedSize, layout.pack, n, k, t, seed, k + 3, 0x55, fill) {}
};

TEST(LutLayout, PackUnpackRoundTrip) {
  for (const Layout &layout : kLayouts)
    for (Shape s : kShapes) {
      if (s.n * s.k > 20000000)
        continue;
      Problem p(layout, s.n, s.k, 1, uint32_t(s.n * 31 + s.k));
      std::vector<int8_t> back(p.w.size());
      layout.unpack(p.packed.data(), s.n, s.k, back.data());
      EXPECT_EQ(back, p.w) << layout.name << " " << s.n << "x" << s.k;
    }
}

TEST(LutLayout, PackedSizes) {
  // tl1: 2 bits per weight of the padded matrix; tl2: 5/3 bits plus one int32 per padded row.
  EXPECT_EQ(tern_tl1_packed_size(2560, 2560), size_t(2560) * 2560 / 4);
  EXPECT_EQ(tern_tl1_packed_size(1, 5), size_t(64 * 8 / 4));
  EXPECT_EQ(tern_tl2_packed_size(6912, 2560), size_t(6912) * 107 * 5 + 6912 * 4);
  EXPECT_EQ(tern_tl2_packed_size(1, 1), size_t(320 + 64 * 4));
}

TEST(LutLayout, PackRejectsNonTernaryValues) {
  int8_t w[4] = {1, 0, -2, -1};
  for (const Layout &layout : kLayouts) {
    std::vector<uint8_t> out(layout.packedSize(2, 2));
    EXPECT_EQ(layout.pack(w, 2, 2, out.data()), -1) << layout.name;
  }
}

TEST(LutLayout, Tl1ByteHoldsTwoGroupsOfOneRow) {
  // Row 5, columns 0..3 = (1, -1, 0, 1): group 0 index 3*2+0 = 6, group 1 index 3*1+2 = 5,
  // in byte 5 of the first 64-byte pair vector (tern/lut_kernels.h).
  std::vector<int8_t> w(64 * 4, 0);
  w[5 * 4 + 0] = 1, w[5 * 4 + 1] = -1, w[5 * 4 + 3] = 1;
  std::vector<uint8_t> packed(tern_tl1_packed_size(64, 4));
  ASSERT_EQ(tern_tl1_pack(w.data(), 64, 4, packed.data()), 0);
  EXPECT_EQ(packed[5], 0x56);
  EXPECT_EQ(packed[4], 0x44); // (0, 0) pattern in both groups
}

TEST(LutLayout, Tl2StoresMagnitudeSignAndNegativeCounts) {
  // Row 2, group 1 (columns 3..5) = (-1, 1, 0): code 0*9 + 2*3 + 1 = 7 < 13, so magnitude 6 and
  // sign bit 1; group 0 = (0, 0, 1): code 14, magnitude 1, positive.
  std::vector<int8_t> w(3 * 6, 0);
  w[2 * 6 + 2] = 1, w[2 * 6 + 3] = -1, w[2 * 6 + 4] = 1;
  std::vector<uint8_t> packed(tern_tl2_packed_size(3, 6));
  ASSERT_EQ(tern_tl2_pack(w.data(), 3, 6, packed.data()), 0);
  EXPECT_EQ(packed[2], 0x61);            // index vector 0, row 2: groups 0 | 1 << 4
  EXPECT_EQ(packed[4 * 64 + 2], 0x02);   // sign vector, row 2: group 1
  const int32_t *negatives = reinterpret_cast<const int32_t *>(packed.data() + 320);
  EXPECT_EQ(negatives[2], 1);
  EXPECT_EQ(negatives[0], 0);
}

TEST(LutTables, EntriesAreDotProductsInTwoBytePlanes) {
  const int8_t x[3] = {-128, -128, 100};
  std::vector<uint8_t> t1(size_t(tern_tl1_groups(3)) * TERN_LUT_TABLE_BYTES);
  tern_tl1_tables(x, 3, t1.data());
  auto entry = [](const uint8_t *table, int e) {
    return int16_t(uint16_t(table[e] | table[16 + e] << 8));
  };
  EXPECT_EQ(entry(t1.data(), 0), 256);  // (-1, -1)
  EXPECT_EQ(entry(t1.data(), 8), -256); // (1, 1)
  EXPECT_EQ(entry(t1.data(), 4), 0);
  EXPECT_EQ(entry(t1.data() + 32, 6), 100); // (1, -1) . (100, 0): column 3 is past k
  EXPECT_EQ(entry(t1.data(), 9), 0);
  std::vector<uint8_t> t2(size_t(tern_tl2_groups(3)) * TERN_LUT_TABLE_BYTES);
  tern_tl2_tables(x, 3, t2.data());
  EXPECT_EQ(entry(t2.data(), 13), -156); // code 26 = (1, 1, 1)
  EXPECT_EQ(entry(t2.data(), 1), 100);   // code 14 = (0, 0, 1)
  EXPECT_EQ(entry(t2.data(), 14), 0);
}

struct VariantCase {
  size_t layout, variant;
};

std::vector<VariantCase> allVariants() {
  std::vector<VariantCase> cases;
  for (size_t l = 0; l < 2; ++l) {
    size_t count;
    kLayouts[l].variants(&count);
    for (size_t v = 0; v < count; ++v)
      cases.push_back({l, v});
  }
  return cases;
}

class GemmLutVariant : public ::testing::TestWithParam<VariantCase> {
protected:
  const Layout &layout() { return kLayouts[GetParam().layout]; }
  const tern_gemm_variant &variant() {
    size_t count;
    return layout().variants(&count)[GetParam().variant];
  }
  void skipIfUnsupported() {
    tern_cpu_features_t have = tern_cpu_detect();
    tern_cpu_features_t need = variant().requires;
    if ((need & have) != need) {
      char buf[256];
      tern_cpu_format_features(need & ~have, buf, sizeof buf);
      GTEST_SKIP() << "SKIPPED: CPU lacks " << buf << " for " << layout().name << " "
                   << variant().name;
    }
  }
};

TEST_P(GemmLutVariant, MatchesReferenceOnAwkwardShapes) {
  skipIfUnsupported();
  if (IsSkipped()) // GTEST_SKIP in a helper returns from the helper only
    return;
  bool generic = std::string(variant().name) == "generic";
  for (Shape s : kShapes) {
    bool big = s.n * s.k > 1000000, huge = s.n * s.k > 100000000;
    for (int64_t t : {1, 2, 5, 9}) {
      // Big shapes: decode and one GEMM (the head and the scalar kernel: decode only).
      if ((big && t != 1 && t != 5) || ((huge || generic) && big && t > 1))
        continue;
      Problem p(layout(), s.n, s.k, t, uint32_t(s.n * 131 + s.k * 7 + t));
      EXPECT_EQ(p.check(variant().fn), "")
          << layout().name << " " << variant().name << " " << s.n << "x" << s.k << " T=" << t;
    }
  }
}

TEST_P(GemmLutVariant, ExtremeActivationsReachTheInt16Limits) {
  skipIfUnsupported();
  if (IsSkipped()) // GTEST_SKIP in a helper returns from the helper only
    return;
  for (int sign : {1, -1}) {
    Problem p(layout(), 130, 4099, 3, 1, sign);
    EXPECT_EQ(p.check(variant().fn), "") << layout().name << " " << variant().name << " w=" << sign;
  }
}

INSTANTIATE_TEST_SUITE_P(AllVariants, GemmLutVariant, ::testing::ValuesIn(allVariants()),
                         [](const auto &info) {
                           size_t count;
                           const Layout &l = kLayouts[info.param.layout];
                           return std::string(l.name) + "_" +
                                  l.variants(&count)[info.param.variant].name;
                         });

TEST(GemmLutDispatch, BestSupportedVariantFirstGenericLast) {
  for (const Layout &layout : kLayouts) {
    size_t count;
    const tern_gemm_variant *v = layout.variants(&count);
    EXPECT_STREQ(v[count - 1].name, "generic");
    EXPECT_STREQ(layout.select(0)->name, "generic");
#if defined(__x86_64__)
    EXPECT_STREQ(layout.select(TERN_CPU_AVX2 | TERN_CPU_FMA | TERN_CPU_F16C)->name,
                 "x86_64_avx2");
    EXPECT_STREQ(layout.select(~tern_cpu_features_t(0))->name, "x86_64_avx512");
#endif
  }
}

} // namespace
