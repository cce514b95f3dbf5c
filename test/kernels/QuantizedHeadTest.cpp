//===- QuantizedHeadTest.cpp - the 8-bit and ~6.5-bit output heads ----------------------------===//
//
// For each quantized head format (q8_0: tern/head_q8.h, q6_k: tern/head_q6.h):
// - every variant of the decoder kernel table bit for bit against the scalar kernel (the same
//   integer block sums, the same float roundings in the same order), on heads quantized from
//   normal weights and on packed bytes drawn at random (any code, any sub-scale -128 included,
//   any finite scale: what a GGUF file may hold);
// - the scalar kernel against the format's numbers decoded here from the documented layout and
//   multiplied in double precision; the quantizer's numbers against their definition.
//
//===------------------------------------------------------------------------------------------===//
#include "DecoderTestSupport.h"
#include "tern/decoder_kernels.h"
#include "tern/head_q6.h"
#include "tern/head_q8.h"

#include "gtest/gtest.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <tuple>
#include <random>
#include <string>
#include <vector>

namespace {

/// What the tests need to know of a format: its dtype, sizes and regions (each a run of
/// per-tile records), its quantizer and its scalar kernel's parts.
struct Format {
  const char *name;
  tern_dtype_t dtype;
  int64_t block, sums_per_block;
  size_t (*size)(int64_t n, int64_t k);
  /// The region boundaries after the codes (the last region holds the IEEE half scales).
  std::vector<size_t> (*regions)(int64_t n, int64_t k);
  void (*pack)(const float *w, int64_t n, int64_t k, uint8_t *out);
  void (*quantize_x)(const float *x, int64_t k, int8_t *q, float *d, int32_t *sum);
  void (*rows)(const int8_t *q, const float *d, const int32_t *sum, int64_t k, const uint8_t *w,
               int64_t n, int64_t row_begin, int64_t row_end, float *out);
};

const Format kQ8 = {"q8_0", TERN_DTYPE_Q8_0, TERN_Q8_0_BLOCK, 1, tern_q8_0_size,
                    [](int64_t n, int64_t k) {
                      return std::vector<size_t>{0, tern_q8_0_codes_size(n, k),
                                                 tern_q8_0_size(n, k)};
                    },
                    tern_q8_0_pack, tern_q8_0_quantize_x, tern_head_q8_0_rows_generic};
const Format kQ6 = {"q6_k", TERN_DTYPE_Q6_K, TERN_Q6_K_BLOCK, TERN_Q6_K_BLOCK / TERN_Q6_K_SUB,
                    tern_q6_k_size,
                    [](int64_t n, int64_t k) {
                      return std::vector<size_t>{0, tern_q6_k_codes_size(n, k),
                                                 tern_q6_k_scales_offset(n, k),
                                                 tern_q6_k_size(n, k)};
                    },
                    tern_q6_k_pack, tern_q6_k_quantize_x, tern_head_q6_k_rows_generic};
const Format *const kFormats[] = {&kQ8, &kQ6};

/// A packed head of n rows built from one of `distinct` rows (a multiple of 16): past them, each
/// region's per-tile records repeat, so the 128256-row head costs a 4096-row one to draw.
std::vector<uint8_t> repeatRows(const Format &f, const std::vector<uint8_t> &small,
                                int64_t distinct, int64_t n, int64_t k) {
  if (distinct == n)
    return small;
  std::vector<size_t> from = f.regions(distinct, k), to = f.regions(n, k);
  std::vector<uint8_t> packed(f.size(n, k));
  for (size_t r = 0; r + 1 < to.size(); ++r) {
    size_t length = from[r + 1] - from[r];
    for (size_t at = to[r]; at < to[r + 1]; at += length)
      std::memcpy(&packed[at], &small[from[r]], std::min(length, to[r + 1] - at));
  }
  return packed;
}

/// A head [n][k] of normal floats quantized into format f, with a zero and an all-zero block;
/// *w holds the distinct rows.
std::vector<uint8_t> quantizedHead(const Format &f, int64_t n, int64_t k, std::mt19937 &rng,
                                   std::vector<float> *w) {
  std::normal_distribution<float> normal(0.0f, 0.02f);
  int64_t distinct = std::min<int64_t>(n, 4096);
  w->resize(size_t(distinct * k));
  for (float &v : *w)
    v = normal(rng);
  if (n * k > 0)
    (*w)[0] = 0.0f;
  if (n > 1 && k >= 2 * f.block)
    std::fill(w->begin() + k + f.block, w->begin() + k + 2 * f.block, 0.0f);
  std::vector<uint8_t> small(f.size(distinct, k));
  f.pack(w->data(), distinct, k, small.data());
  return repeatRows(f, small, distinct, n, k);
}

/// Packed bytes drawn at random: every code and sub-scale any byte, every scale a finite half
/// of moderate size (an overflow to infinity would make the comparison meaningless).
std::vector<uint8_t> randomBytesHead(const Format &f, int64_t n, int64_t k, std::mt19937 &rng) {
  int64_t distinct = std::min<int64_t>(n, 4096);
  std::vector<uint8_t> small(f.size(distinct, k));
  for (uint8_t &b : small)
    b = uint8_t(rng());
  std::vector<size_t> regions = f.regions(distinct, k);
  for (size_t at = regions[regions.size() - 2]; at < small.size(); at += 2) {
    uint16_t half = uint16_t((rng() & 0x8000u) | (4u + rng() % 8) << 10 | (rng() & 0x3ffu));
    std::memcpy(&small[at], &half, 2);
  }
  return repeatRows(f, small, distinct, n, k);
}

/// The heads of IsBitExactAgainstScalar, drawn once for all variants (quantizing the 2B4T-sized
/// head takes a while under emulation).
const std::vector<uint8_t> &testHead(const Format &f, HeadShape c, bool randomBytes) {
  static std::map<std::tuple<const Format *, int64_t, int64_t, bool>, std::vector<uint8_t>> heads;
  std::vector<uint8_t> &head = heads[{&f, c.n, c.k, randomBytes}];
  if (head.empty()) {
    std::mt19937 rng(uint32_t(c.n * 13 + c.k + randomBytes));
    std::vector<float> w;
    head = randomBytes ? randomBytesHead(f, c.n, c.k, rng) : quantizedHead(f, c.n, c.k, rng, &w);
  }
  return head;
}

class QuantizedHead : public DecoderVariantTest {};

TEST_P(QuantizedHead, IsBitExactAgainstScalar) {
  skipIfUnsupported();
  if (IsSkipped()) // GTEST_SKIP in a helper returns from the helper only
    return;
  for (const Format *f : kFormats)
    for (bool randomBytes : {false, true})
      for (HeadShape c : kHeadShapes) {
        bool head = c.n > 100000;
        if (head && (randomBytes || !std::strcmp(variant().name, "generic")))
          continue;
        const std::vector<uint8_t> &packed = testHead(*f, c, randomBytes);
        std::mt19937 rng(uint32_t(c.n * 17 + c.k));
        std::vector<float> x = normalActivations(c.t, c.k, rng);
        std::vector<float> got(size_t(c.t * c.n), NAN), want(got.size(), NAN);
        ASSERT_EQ(variant().head_matmul(x.data(), c.t, c.k, packed.data(), f->dtype, c.n,
                                        got.data()),
                  0);
        // The scalar rows: all of them, or on the real head every 61st 16-row tile and the
        // last 128 rows (the scalar tail past the last multiple of 64, and the last tasks).
        int64_t blocks = (c.k + f->block - 1) / f->block;
        std::vector<int8_t> q(size_t(blocks * f->block));
        std::vector<float> d(static_cast<size_t>(blocks));
        std::vector<int32_t> sum(size_t(blocks * f->sums_per_block));
        std::vector<size_t> checked;
        for (int64_t i = 0; i < c.t; ++i) {
          f->quantize_x(&x[size_t(i * c.k)], c.k, q.data(), d.data(), sum.data());
          for (int64_t row = 0; row < c.n; row += 16) {
            if (head && (row / 16) % 61 != 0 && row < c.n - 128)
              continue;
            int64_t end = std::min(row + 16, c.n);
            f->rows(q.data(), d.data(), sum.data(), c.k, packed.data(), c.n, row, end,
                    &want[size_t(i * c.n)]);
            for (int64_t j = row; j < end; ++j)
              checked.push_back(size_t(i * c.n + j));
          }
        }
        int bad = 0;
        for (size_t i : checked)
          if (bad < 5 && std::memcmp(&got[i], &want[i], sizeof(float)) != 0) {
            ADD_FAILURE() << variant().name << " " << f->name
                          << (randomBytes ? " (random bytes) " : " ") << c.n << "x" << c.k
                          << " t=" << c.t << " token " << int64_t(i) / c.n << " row "
                          << int64_t(i) % c.n << ": got " << got[i] << ", scalar " << want[i];
            ++bad;
          }
      }
}

TERN_INSTANTIATE_DECODER_VARIANTS(QuantizedHead);

/// The dot product of dequantized weights wq [k] with the activations x [k] quantized per
/// `block` from their definition (d = max |x| / 127 as float, q = roundf(x / d)), in double;
/// *mag gets the sum of the products' magnitudes.
double blockQuantizedDot(const std::vector<double> &wq, const float *x, int64_t k, int64_t block,
                         double *mag) {
  double ref = 0;
  *mag = 0;
  for (int64_t b = 0; b < k; b += block) {
    int64_t count = std::min<int64_t>(block, k - b);
    float amax = 0;
    for (int64_t j = 0; j < count; ++j)
      amax = std::max(amax, std::fabs(x[b + j]));
    float d = amax / 127.0f, id = d != 0 ? 1.0f / d : 0.0f;
    for (int64_t j = 0; j < count; ++j) {
      double p = wq[size_t(b + j)] * double(std::roundf(x[b + j] * id)) * double(d);
      ref += p, *mag += std::fabs(p);
    }
  }
  return ref;
}

/// The table w [n][k] packed some rows at a time, in any order, as ternc converts a tile of rows
/// of the stored table at a time: rows 32.., then 0..4, then 5..31.
std::vector<uint8_t> packedInPieces(void (*packRows)(const float *, int64_t, int64_t, int64_t,
                                                     int64_t, uint8_t *),
                                    const std::vector<float> &w, int64_t n, int64_t k,
                                    size_t size) {
  std::vector<uint8_t> pieces(size, 0xEE);
  for (int64_t first : {int64_t(32), int64_t(0), int64_t(5)}) {
    int64_t count = first == 32 ? n - 32 : first == 0 ? 5 : 27;
    packRows(&w[size_t(first * k)], first, count, n, k, pieces.data());
  }
  return pieces;
}

// The scalar 8-bit head against Q8_0 computed here from its definition (ggml's): per row and
// block of 32, d = max|w| / 127 rounded to half, q = roundf(w / d) with the float d; the
// activations the same per token; the dot product of the dequantized values in double.
TEST(HeadQ8, ScalarKernelComputesQ8_0) {
  const int64_t n = 37, k = 100, t = 2;
  std::mt19937 rng(7);
  std::vector<float> w;
  std::vector<uint8_t> packed = quantizedHead(kQ8, n, k, rng, &w);
  std::vector<float> x = normalActivations(t, k, rng);
  auto quantize = [](const float *v, int64_t count, std::vector<double> &deq) {
    float amax = 0;
    for (int64_t i = 0; i < count; ++i)
      amax = std::max(amax, std::fabs(v[i]));
    float d = amax / 127.0f, id = d != 0 ? 1.0f / d : 0.0f;
    double dh = tern_f16_to_float(tern_f16_from_float(d));
    for (int64_t i = 0; i < count; ++i)
      deq.push_back(double(std::roundf(v[i] * id)) * dh);
  };
  std::vector<float> out(size_t(t * n));
  ASSERT_EQ(tern_head_q8_0_generic(x.data(), t, k, packed.data(), n, out.data()), 0);
  ASSERT_LE(n, 4096); // every row drawn
  std::vector<float> row_values(static_cast<size_t>(k));
  for (int64_t row = 0; row < n; ++row) {
    std::vector<double> wq;
    for (int64_t b = 0; b < k; b += 32)
      quantize(&w[size_t(row * k + b)], std::min<int64_t>(32, k - b), wq);
    tern_q8_0_row(packed.data(), n, k, row, row_values.data());
    for (int64_t col = 0; col < k; ++col) // the packed layout holds the same numbers
      ASSERT_EQ(double(row_values[size_t(col)]), wq[size_t(col)]) << "row " << row << " col " << col;
    for (int64_t i = 0; i < t; ++i) {
      // Activations: the same blocks, but their d is used as float, not rounded to half.
      double mag, ref = blockQuantizedDot(wq, &x[size_t(i * k)], k, 32, &mag);
      EXPECT_NEAR(out[size_t(i * n + row)], ref, 1e-6 * mag + 1e-30) << "row " << row;
    }
  }
  // Packing some rows at a time, in any order (as ternc does, converting a tile of rows of the
  // stored table at a time), gives the same bytes as packing the table whole.
  EXPECT_EQ(packedInPieces(tern_q8_0_pack_rows, w, n, k, packed.size()), packed);
  // Half conversion: exact on halves, round to nearest even in between, overflow to infinity.
  EXPECT_EQ(tern_f16_from_float(1.0f), 0x3c00);
  EXPECT_EQ(tern_f16_from_float(1.0f + 1.0f / 2048), 0x3c00); // tie: to even
  EXPECT_EQ(tern_f16_from_float(1.0f + 3.0f / 2048), 0x3c02); // tie: to even
  EXPECT_EQ(tern_f16_from_float(65520.0f), 0x7c00);
  EXPECT_EQ(tern_f16_from_float(5.9604645e-08f), 0x0001); // the smallest subnormal
  EXPECT_EQ(tern_f16_to_float(0x0001), 5.9604645e-08f);
  EXPECT_EQ(tern_f16_to_float(0xc000), -2.0f);
}

/// Q6_K numbers of (row, column) read from a packed head by the layout tern/head_q6.h
/// documents (independently of q6_layout.c's addressing).
struct Q6Numbers {
  float d;
  int sc, q;
};
Q6Numbers q6Numbers(const std::vector<uint8_t> &packed, int64_t n, int64_t k, int64_t row,
                    int64_t col) {
  int64_t blocks = (k + 255) / 256, tiles = (n + 15) / 16;
  int64_t tile = (row / 16) * blocks + col / 256, r = row % 16, c = col % 256;
  int64_t group = c / 4, j = group / 4, i = group % 4, byte = c % 4 + 4 * r;
  const uint8_t *codes = &packed[size_t(tile * 3072 + 192 * j)];
  int low = (codes[64 * (i / 2) + byte] >> (4 * (i % 2))) & 15;
  int high = (codes[128 + byte] >> (2 * i)) & 3;
  size_t sub_scales = size_t(tiles * blocks * 3072), scales = sub_scales + size_t(tiles * blocks * 256);
  uint16_t half;
  std::memcpy(&half, &packed[scales + size_t(2 * (tile * 16 + r))], 2);
  return {tern_f16_to_float(half), int(int8_t(packed[sub_scales + size_t(tile * 256 + 16 * j + r)])),
          (low | high << 4) - 32};
}

// The ~6.5-bit head's quantizer and scalar kernel against the numbers' definition: the packed
// numbers decoded here reproduce tern_q6_k_row; every q is clamp(round(w / (d sc))) of its weight
// (the codes agree with the scales); a non-zero block's largest |sc| is 127; the weights' total
// squared error is below that of scaling each 16 by its largest magnitude (what the scale search
// improves on); and the kernel is the double-precision dot product of the dequantized weights
// with the activations quantized per 256 (d = max|x| / 127 as float).
TEST(HeadQ6, ScalarKernelComputesQ6_K) {
  const int64_t n = 37, k = 600, t = 2;
  std::mt19937 rng(11);
  std::vector<float> w;
  std::vector<uint8_t> packed = quantizedHead(kQ6, n, k, rng, &w);
  std::vector<float> x = normalActivations(t, k, rng);
  std::vector<float> out(size_t(t * n));
  ASSERT_EQ(tern_head_q6_k_generic(x.data(), t, k, packed.data(), n, out.data()), 0);
  ASSERT_LE(n, 4096); // every row drawn
  double error = 0, plain_error = 0;
  std::vector<float> row_values(static_cast<size_t>(k));
  for (int64_t row = 0; row < n; ++row) {
    tern_q6_k_row(packed.data(), n, k, row, row_values.data());
    std::vector<double> wq(static_cast<size_t>(k));
    for (int64_t col = 0; col < k; ++col) {
      Q6Numbers v = q6Numbers(packed, n, k, row, col);
      float step = v.d * float(v.sc), weight = w[size_t(row * k + col)];
      ASSERT_EQ(row_values[size_t(col)], step * float(v.q)) << "row " << row << " col " << col;
      float expect = step != 0 ? std::roundf(weight / step) : 0;
      ASSERT_EQ(v.q, int(std::clamp(expect, -32.0f, 31.0f))) << "row " << row << " col " << col;
      ASSERT_LE(std::abs(v.sc), 127);
      wq[size_t(col)] = double(row_values[size_t(col)]);
      error += (double(weight) - wq[size_t(col)]) * (double(weight) - wq[size_t(col)]);
    }
    for (int64_t b = 0; b < k; b += 256) {
      int largest = 0;
      for (int64_t col = b; col < std::min(k, b + 256); col += 16)
        largest = std::max(largest, std::abs(q6Numbers(packed, n, k, row, col).sc));
      bool zero = std::all_of(&w[size_t(row * k + b)], &w[size_t(row * k + std::min(k, b + 256))],
                              [](float v) { return v == 0; });
      EXPECT_EQ(largest, zero ? 0 : 127) << "row " << row << " block " << b / 256;
    }
    for (int64_t s = 0; s < k; s += 16) {
      double m = 0;
      for (int64_t col = s; col < std::min(k, s + 16); ++col)
        m = std::max(m, std::fabs(double(w[size_t(row * k + col)])));
      for (int64_t col = s; col < std::min(k, s + 16); ++col) {
        double v = w[size_t(row * k + col)], step = m / 32;
        double e = step != 0 ? v - step * std::clamp(std::round(v / step), -32.0, 31.0) : v;
        plain_error += e * e;
      }
    }
    for (int64_t i = 0; i < t; ++i) {
      double mag, ref = blockQuantizedDot(wq, &x[size_t(i * k)], k, 256, &mag);
      EXPECT_NEAR(out[size_t(i * n + row)], ref, 1e-6 * mag + 1e-30) << "row " << row;
    }
  }
  EXPECT_LT(error, plain_error);
  std::printf("q6_k: squared error %.4g of the weights' %.4g; largest-magnitude scaling: %.4g\n",
              error, [&] {
                double s = 0;
                for (float v : w)
                  s += double(v) * v;
                return s;
              }(),
              plain_error);
  // Packing some rows at a time, in any order, gives the same bytes as packing the table whole.
  EXPECT_EQ(packedInPieces(tern_q6_k_pack_rows, w, n, k, packed.size()), packed);
}

} // namespace
