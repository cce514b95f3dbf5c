//===- GgufBlocksTest.cpp - ggml's block formats against llama.cpp's dequantization loops -----===//
//
// Each reference below is written the way llama.cpp / bitnet.cpp / ik_llama.cpp write their
// dequantization (the loops of ggml-quants.c's dequantize_row_*, bitnet.cpp's i2_s, ik_llama's
// iqk_quantize), sharing nothing with frontends/gguf/TernaryBlocks.cpp but the byte layout they
// describe. Random bytes in, the same values out; the encoders are checked against the same
// references, and the head layouts' GGUF repacking against Q6_K / Q8_0 dequantization.
//
//===------------------------------------------------------------------------------------------===//
#include "frontends/gguf/GgmlType.h"
#include "frontends/gguf/TernaryBlocks.h"

#include "dialects/weights/DType.h"

#include "tern/head_q6.h"
#include "tern/head_q8.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

using namespace tern;
using namespace tern::gguf;

namespace {

float half(const uint8_t *p) { return halfToFloat(uint16_t(p[0] | (p[1] << 8))); }

std::vector<uint8_t> randomBytes(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> b(n);
  for (uint8_t &x : b)
    x = uint8_t(rng());
  return b;
}

/// Bytes whose 2-bit fields are codes 0..2 only (valid ternary), at `fields` bit offsets.
void clearCode3(std::vector<uint8_t> &b, size_t from, size_t count) {
  for (size_t i = from; i < from + count; ++i)
    for (int s = 0; s < 8; s += 2)
      if (((b[i] >> s) & 3) == 3)
        b[i] = uint8_t(b[i] & ~(1 << s)); // 3 -> 2
}

void setHalf(std::vector<uint8_t> &b, size_t at, float f) {
  uint16_t h = floatToHalf(f);
  b[at] = uint8_t(h), b[at + 1] = uint8_t(h >> 8);
}

// --- references, one row of blocks at a time, as the peers' dequantize loops ---------------

std::vector<float> refTQ2_0(const uint8_t *x, int64_t k) {
  std::vector<float> y;
  for (int64_t i = 0; i < k / 256; ++i, x += 66) {
    float d = half(x + 64);
    for (int j = 0; j < 64; j += 32)
      for (int l = 0; l < 4; ++l)
        for (int m = 0; m < 32; ++m)
          y.push_back(float((int8_t((x[j + m] >> (l * 2)) & 3)) - 1) * d);
  }
  return y;
}

std::vector<float> refTQ1_0(const uint8_t *x, int64_t k) {
  static const uint8_t pow3[6] = {1, 3, 9, 27, 81, 243};
  std::vector<float> y;
  for (int64_t i = 0; i < k / 256; ++i, x += 54) {
    float d = half(x + 52);
    const uint8_t *qs = x, *qh = x + 48;
    for (int n = 0; n < 5; ++n)
      for (int m = 0; m < 32; ++m) {
        uint8_t q = uint8_t(qs[m] * pow3[n]);
        y.push_back(float(int16_t((uint16_t(q) * 3) >> 8) - 1) * d);
      }
    for (int n = 0; n < 5; ++n)
      for (int m = 0; m < 16; ++m) {
        uint8_t q = uint8_t(qs[32 + m] * pow3[n]);
        y.push_back(float(int16_t((uint16_t(q) * 3) >> 8) - 1) * d);
      }
    for (int n = 0; n < 4; ++n)
      for (int j = 0; j < 4; ++j) {
        uint8_t q = uint8_t(qh[j] * pow3[n]);
        y.push_back(float(int16_t((uint16_t(q) * 3) >> 8) - 1) * d);
      }
  }
  return y;
}

std::vector<float> refQ2_0(const uint8_t *x, int64_t k) {
  std::vector<float> y;
  for (int64_t i = 0; i < k / 64; ++i, x += 18) {
    float d = half(x);
    for (int j = 0; j < 64; ++j)
      y.push_back(float(int((x[2 + j / 4] >> (2 * (j % 4))) & 3) - 1) * d);
  }
  return y;
}

/// ik_llama.cpp's dequantize_row_ms_i2s: blocks of 128, groups of 32, group 0 in bits 7-6.
std::vector<float> refI2_S(const uint8_t *x, int64_t n) {
  float d;
  std::memcpy(&d, x + n / 4, 4);
  std::vector<float> y;
  for (int64_t b = 0; b < n / 128; ++b)
    for (int ig = 0; ig < 4; ++ig)
      for (int j = 0; j < 32; ++j) {
        int shift = 6 - 2 * ig;
        y.push_back(d * float(((x[32 * b + j] >> shift) & 3) - 1));
      }
  return y;
}

std::vector<float> refIQ2_BN(const uint8_t *row, int64_t k) {
  float d;
  std::memcpy(&d, row, 4);
  std::vector<float> y(static_cast<size_t>(k));
  for (int64_t b = 0; b < k / 64; ++b) {
    const uint8_t *qs = row + 4 + 16 * b;
    for (int kk = 0; kk < 4; ++kk)
      for (int j = 0; j < 16; ++j)
        y[size_t(64 * b + 16 * kk + j)] = d * float(((qs[j] >> (2 * kk)) & 3) - 1);
  }
  return y;
}

std::vector<float> refIQ1_BN(const uint8_t *row, int64_t k) {
  static const uint8_t kMult[5] = {81, 27, 9, 3, 1};
  float d = half(row);
  std::vector<float> y(static_cast<size_t>(k));
  for (int64_t b = 0; b < k / 64; ++b) {
    const uint8_t *ql = row + 2 + 13 * b, extra = ql[12];
    for (int g = 0; g < 4; ++g) {
      for (int kk = 0; kk < 3; ++kk)
        for (int j = 0; j < 5; ++j) {
          uint8_t v = uint8_t(ql[3 * g + kk] * kMult[j]);
          int t = (v + (v >> 1)) >> 7;
          y[size_t(64 * b + 16 * g + 5 * kk + j)] = d * float(t - 1);
        }
      uint8_t v = uint8_t(extra * kMult[g]);
      y[size_t(64 * b + 16 * g + 15)] = d * float(((v + (v >> 1)) >> 7) - 1);
    }
  }
  return y;
}

/// decodeTernary's values times their scales.
std::vector<float> decoded(GgmlType type, const std::vector<uint8_t> &bytes, int64_t rows,
                           int64_t cols) {
  DecodedTernary d;
  EXPECT_FALSE(decodeTernary(type, bytes, rows, cols, d).has_value()) << typeName(type).str();
  std::vector<float> y(size_t(rows * cols));
  int64_t perRow = (cols + std::min(d.blockCols, cols) - 1) / std::min(d.blockCols, cols);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) {
      float s = d.scales.size() == 1 ? d.scales[0]
                                     : d.scales[size_t(r * perRow + c / std::min(d.blockCols, cols))];
      y[size_t(r * cols + c)] = float(d.values[size_t(r * cols + c)]) * s;
    }
  return y;
}

// Awkward shapes: one row, an odd number of rows, several blocks per row.
const int64_t kRows[] = {1, 3, 5};

TEST(GgufBlocks, TQ2_0MatchesLlamaCpp) {
  for (int64_t rows : kRows) {
    int64_t cols = 512;
    std::vector<uint8_t> b = randomBytes(size_t(rows * 2 * 66), unsigned(rows));
    for (int64_t blk = 0; blk < rows * 2; ++blk) {
      clearCode3(b, size_t(blk * 66), 64);
      setHalf(b, size_t(blk * 66 + 64), 0.01f * float(blk + 1));
    }
    std::vector<float> want;
    for (int64_t r = 0; r < rows; ++r) {
      std::vector<float> row = refTQ2_0(b.data() + r * 2 * 66, cols);
      want.insert(want.end(), row.begin(), row.end());
    }
    EXPECT_EQ(decoded(GgmlType::TQ2_0, b, rows, cols), want);
  }
}

TEST(GgufBlocks, TQ1_0MatchesLlamaCppOnEveryByte) {
  // Any byte decodes to trits: random bytes throughout.
  for (int64_t rows : kRows) {
    int64_t cols = 256;
    std::vector<uint8_t> b = randomBytes(size_t(rows * 54), unsigned(10 + rows));
    for (int64_t blk = 0; blk < rows; ++blk)
      setHalf(b, size_t(blk * 54 + 52), 0.5f + float(blk));
    std::vector<float> want;
    for (int64_t r = 0; r < rows; ++r) {
      std::vector<float> row = refTQ1_0(b.data() + r * 54, cols);
      want.insert(want.end(), row.begin(), row.end());
    }
    EXPECT_EQ(decoded(GgmlType::TQ1_0, b, rows, cols), want);
  }
}

TEST(GgufBlocks, Q2_0MatchesLlamaCpp) {
  for (int64_t rows : kRows) {
    int64_t cols = 192;
    std::vector<uint8_t> b = randomBytes(size_t(rows * 3 * 18), unsigned(20 + rows));
    for (int64_t blk = 0; blk < rows * 3; ++blk) {
      setHalf(b, size_t(blk * 18), -0.25f * float(blk + 1));
      clearCode3(b, size_t(blk * 18 + 2), 16);
    }
    std::vector<float> want;
    for (int64_t r = 0; r < rows; ++r) {
      std::vector<float> row = refQ2_0(b.data() + r * 3 * 18, cols);
      want.insert(want.end(), row.begin(), row.end());
    }
    EXPECT_EQ(decoded(GgmlType::Q2_0, b, rows, cols), want);
  }
}

TEST(GgufBlocks, I2_SMatchesBitnetCpp) {
  for (int64_t rows : kRows) {
    int64_t cols = 384, n = rows * cols;
    std::vector<uint8_t> b = randomBytes(size_t(n / 4 + 32), unsigned(30 + rows));
    clearCode3(b, 0, size_t(n / 4));
    float scale = 0.0371f;
    std::memcpy(b.data() + n / 4, &scale, 4);
    EXPECT_EQ(decoded(GgmlType::I2_S, b, rows, cols), refI2_S(b.data(), n));
  }
}

TEST(GgufBlocks, IQ2_BNAndIQ1_BNMatchIkLlama) {
  for (int64_t rows : kRows) {
    int64_t cols = 128;
    std::vector<uint8_t> b2 = randomBytes(size_t(rows * (4 + 32)), unsigned(40 + rows));
    std::vector<uint8_t> b1 = randomBytes(size_t(rows * (2 + 26)), unsigned(50 + rows));
    std::vector<float> want2, want1;
    for (int64_t r = 0; r < rows; ++r) {
      float d = 0.125f * float(r + 1);
      std::memcpy(b2.data() + r * 36, &d, 4);
      clearCode3(b2, size_t(r * 36 + 4), 32);
      setHalf(b1, size_t(r * 28), d);
      std::vector<float> row2 = refIQ2_BN(b2.data() + r * 36, cols);
      std::vector<float> row1 = refIQ1_BN(b1.data() + r * 28, cols);
      want2.insert(want2.end(), row2.begin(), row2.end());
      want1.insert(want1.end(), row1.begin(), row1.end());
    }
    EXPECT_EQ(decoded(GgmlType::IQ2_BN, b2, rows, cols), want2);
    EXPECT_EQ(decoded(GgmlType::IQ1_BN, b1, rows, cols), want1);
  }
}

TEST(GgufBlocks, EncodersWriteWhatThePeersRead) {
  int64_t rows = 3, cols = 512;
  std::mt19937 rng(7);
  std::vector<int8_t> codes(size_t(rows * cols));
  for (int8_t &c : codes)
    c = int8_t(int(rng() % 3) - 1);
  auto expect = [&](GgmlType type, const std::vector<float> &scales, auto reference) {
    std::vector<uint8_t> bytes = encodeTernary(type, codes.data(), scales.data(), rows, cols);
    ASSERT_EQ(bytes.size(), *tensorBytes(typeInfo(type), cols, rows)) << typeName(type).str();
    std::vector<float> got = reference(bytes);
    int64_t block = scaleBlockCols(type, cols), perRow = block ? cols / block : 0;
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < cols; ++c) {
        float s = block ? scales[size_t(r * perRow + c / block)] : scales[0];
        ASSERT_EQ(got[size_t(r * cols + c)], float(codes[size_t(r * cols + c)]) * s)
            << typeName(type).str() << " [" << r << ", " << c << "]";
      }
  };
  auto rowsOf = [&](auto ref, int64_t rowBytes) {
    return [=](const std::vector<uint8_t> &bytes) {
      std::vector<float> y;
      for (int64_t r = 0; r < rows; ++r) {
        std::vector<float> row = ref(bytes.data() + r * rowBytes, cols);
        y.insert(y.end(), row.begin(), row.end());
      }
      return y;
    };
  };
  std::vector<float> perBlock256, perBlock64, perRow;
  for (int i = 0; i < rows * 2; ++i)
    perBlock256.push_back(0.0625f * float(i + 1));
  for (int i = 0; i < rows * 8; ++i)
    perBlock64.push_back(0.03125f * float(i + 1));
  for (int i = 0; i < rows; ++i)
    perRow.push_back(0.5f * float(i + 1));
  expect(GgmlType::TQ1_0, perBlock256, rowsOf(refTQ1_0, 2 * 54));
  expect(GgmlType::TQ2_0, perBlock256, rowsOf(refTQ2_0, 2 * 66));
  expect(GgmlType::Q2_0, perBlock64, rowsOf(refQ2_0, 8 * 18));
  expect(GgmlType::IQ2_BN, perRow, rowsOf(refIQ2_BN, 4 + 8 * 16));
  expect(GgmlType::IQ1_BN, perRow, rowsOf(refIQ1_BN, 2 + 8 * 13));
  expect(GgmlType::I2_S, {0.75f},
         [&](const std::vector<uint8_t> &bytes) { return refI2_S(bytes.data(), rows * cols); });
}

TEST(GgufBlocks, CodeThreeIsNamed) {
  int64_t rows = 2, cols = 256;
  std::vector<uint8_t> b(size_t(rows * 66), 0x55); // every code 1 (a zero weight)
  b[66 + 5] = uint8_t((b[66 + 5] & ~(3 << 4)) | (3 << 4)); // row 1, byte 5, bits 4-5
  DecodedTernary d;
  std::optional<BadCode> bad = decodeTernary(GgmlType::TQ2_0, b, rows, cols, d);
  ASSERT_TRUE(bad.has_value());
  EXPECT_EQ(bad->row, 1);
  EXPECT_EQ(bad->col, 2 * 32 + 5); // chunk 0, group n = 2, m = 5
  EXPECT_EQ(bad->code, 3);
}

TEST(GgufBlocks, Q4_0BecomesQ8_0OfTheSameNumbers) {
  std::vector<uint8_t> q4 = randomBytes(5 * 18, 60);
  for (int b = 0; b < 5; ++b)
    setHalf(q4, size_t(b * 18), -0.0371f * float(b + 1));
  std::vector<uint8_t> q8 = q4_0ToQ8_0(q4, 5);
  for (int b = 0; b < 5; ++b)
    for (int j = 0; j < 32; ++j) {
      // dequantize_row_q4_0: low nibbles are elements 0..15, high nibbles 16..31.
      uint8_t byte = q4[size_t(b * 18 + 2 + j % 16)];
      int nibble = j < 16 ? byte & 0xf : byte >> 4;
      float want = float(nibble - 8) * half(q4.data() + b * 18);
      float got = float(int8_t(q8[size_t(b * 34 + 2 + j)])) * half(q8.data() + b * 34);
      ASSERT_EQ(got, want) << "block " << b << " element " << j;
    }
}

/// dequantize_row_q6_K: halves of 128, quarters of 32 sharing ql / qh bytes.
std::vector<float> refQ6_K(const uint8_t *x, int64_t k) {
  std::vector<float> y(static_cast<size_t>(k));
  for (int64_t i = 0; i < k / 256; ++i, x += 210) {
    float d = half(x + 208);
    const uint8_t *ql = x, *qh = x + 128;
    const int8_t *sc = reinterpret_cast<const int8_t *>(x + 192);
    float *out = y.data() + 256 * i;
    for (int n = 0; n < 256; n += 128) {
      for (int l = 0; l < 32; ++l) {
        int is = l / 16;
        int q1 = int((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
        int q2 = int((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
        int q3 = int((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
        int q4 = int((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
        out[l] = d * float(sc[is + 0]) * float(q1);
        out[l + 32] = d * float(sc[is + 2]) * float(q2);
        out[l + 64] = d * float(sc[is + 4]) * float(q3);
        out[l + 96] = d * float(sc[is + 6]) * float(q4);
      }
      out += 128, ql += 64, qh += 32, sc += 8;
    }
  }
  return y;
}

TEST(GgufBlocks, Q6_KTableRepacksBitForBit) {
  for (int64_t n : {1, 17, 33}) { // a partial tile of 16 rows, one row, several tiles
    int64_t k = 512, rowBytes = 2 * TERN_Q6_K_GGML_BLOCK_BYTES;
    std::vector<uint8_t> blocks = randomBytes(size_t(n * rowBytes), unsigned(70 + n));
    for (int64_t b = 0; b < n * 2; ++b)
      setHalf(blocks, size_t(b * 210 + 208), 0.001f * float(b % 7 + 1));
    std::vector<uint8_t> packed(tern_q6_k_size(n, k));
    // Two calls, as tern-pack-weights packs tiles in parallel.
    int64_t split = n > 16 ? 16 : n;
    tern_q6_k_pack_ggml_rows(blocks.data(), 0, split, n, k, packed.data());
    if (split < n)
      tern_q6_k_pack_ggml_rows(blocks.data() + split * rowBytes, split, n - split, n, k,
                               packed.data());
    std::vector<float> row(static_cast<size_t>(k));
    std::vector<uint8_t> back(static_cast<size_t>(rowBytes));
    for (int64_t r = 0; r < n; ++r) {
      tern_q6_k_row(packed.data(), n, k, r, row.data());
      EXPECT_EQ(row, refQ6_K(blocks.data() + r * rowBytes, k)) << "row " << r;
      tern_q6_k_row_ggml(packed.data(), n, k, r, back.data());
      EXPECT_TRUE(std::equal(back.begin(), back.end(), blocks.begin() + r * rowBytes))
          << "row " << r << " does not write back to its GGUF blocks";
    }
  }
}

TEST(GgufBlocks, Q8_0TableRepacksBitForBit) {
  for (int64_t n : {1, 17}) {
    int64_t k = 96, rowBytes = 3 * TERN_Q8_0_GGML_BLOCK_BYTES;
    std::vector<uint8_t> blocks = randomBytes(size_t(n * rowBytes), unsigned(80 + n));
    for (int64_t b = 0; b < n * 3; ++b)
      setHalf(blocks, size_t(b * 34), 0.002f * float(b % 5 + 1));
    std::vector<uint8_t> packed(tern_q8_0_size(n, k));
    tern_q8_0_pack_ggml_rows(blocks.data(), 0, n, n, k, packed.data());
    std::vector<float> row(static_cast<size_t>(k));
    std::vector<uint8_t> back(static_cast<size_t>(rowBytes));
    for (int64_t r = 0; r < n; ++r) {
      tern_q8_0_row(packed.data(), n, k, r, row.data());
      for (int64_t c = 0; c < k; ++c) {
        const uint8_t *blk = blocks.data() + r * rowBytes + (c / 32) * 34;
        ASSERT_EQ(row[size_t(c)], float(int8_t(blk[2 + c % 32])) * half(blk))
            << "row " << r << " column " << c;
      }
      tern_q8_0_row_ggml(packed.data(), n, k, r, back.data());
      EXPECT_TRUE(std::equal(back.begin(), back.end(), blocks.begin() + r * rowBytes));
    }
  }
}

} // namespace
