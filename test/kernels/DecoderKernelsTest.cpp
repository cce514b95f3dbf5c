//===- DecoderKernelsTest.cpp - the generated decoder kernels against the scalar ones ---------===//
//
// Every variant of the decoder kernel table, on awkward and real shapes:
// - the output head's GEMV, for f32, f16 and bf16 tables, against a double-precision dot
//   product: |out - ref| <= 1e-5 * sum_c |w x| (reassociated float sums);
// - the fused bitlinear input (activation, RMSNorm, int8 quantization) against the composition
//   of the scalar kernels: scales within 4 sqrt(k) u relative (u = 2^-24: a float sum of k
//   squares reassociated by vectorization moves by about sqrt(k) u; the scalar sum is no more
//   exact); q equal, except that q may move by one step where the reference y * s lies within
//   2e-3 of a .5 tie (127 times that scale tolerance and then some). Such flips are counted and
//   printed, so they stay visible;
// (the quantized heads are QuantizedHeadTest.cpp's).
//
//===------------------------------------------------------------------------------------------===//
#include "DecoderTestSupport.h"
#include "tern/decoder_kernels.h"
#include "tern/kernels.h"

#include "gtest/gtest.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace {

class DecoderVariant : public DecoderVariantTest {};

/// A random finite table of n x k elements of `dtype` (bit patterns with bounded exponents).
/// Past 4099 rows, rows repeat (a prime period): the kernel cannot tell, and drawing every
/// element of the 128256-row head would dominate the test under emulation.
std::vector<uint8_t> randomTable(tern_dtype_t dtype, int64_t n, int64_t k, std::mt19937 &rng) {
  size_t count = size_t(std::min<int64_t>(n, 4099) * k), element = dtype == TERN_DTYPE_F32 ? 4 : 2;
  std::vector<uint8_t> bytes(size_t(n * k) * element);
  for (size_t i = 0; i < count; ++i) {
    uint32_t sign = rng() & 1, mant = rng();
    if (dtype == TERN_DTYPE_F32) {
      uint32_t bits = sign << 31 | (118 + rng() % 12) << 23 | (mant & 0x7fffff);
      std::memcpy(&bytes[4 * i], &bits, 4);
    } else if (dtype == TERN_DTYPE_BF16) {
      uint16_t bits = uint16_t(sign << 15 | (118 + rng() % 12) << 7 | (mant & 0x7f));
      std::memcpy(&bytes[2 * i], &bits, 2);
    } else {
      // Exponents 0..19: subnormal halves too (the kernels convert them exactly).
      uint16_t bits = uint16_t(sign << 15 | (rng() % 20) << 10 | (mant & 0x3ff));
      std::memcpy(&bytes[2 * i], &bits, 2);
    }
  }
  for (size_t at = count * element; at < bytes.size(); at += count * element)
    std::memcpy(&bytes[at], bytes.data(), std::min(count * element, bytes.size() - at));
  return bytes;
}

TEST_P(DecoderVariant, HeadMatmulMatchesDoublePrecision) {
  skipIfUnsupported();
  if (IsSkipped()) // GTEST_SKIP in a helper returns from the helper only
    return;
  for (tern_dtype_t dtype : {TERN_DTYPE_F32, TERN_DTYPE_F16, TERN_DTYPE_BF16})
    for (HeadShape c : kHeadShapes) {
      bool head = c.n > 100000;
      if (head && (dtype != TERN_DTYPE_BF16 || !std::strcmp(variant().name, "generic")))
        continue; // the real head is BF16; the scalar kernel is checked on the smaller shapes
      std::mt19937 rng(uint32_t(c.n * 7 + c.k + dtype));
      std::vector<uint8_t> w = randomTable(dtype, c.n, c.k, rng);
      std::vector<float> x = normalActivations(c.t, c.k, rng);
      std::vector<float> out(size_t(c.t * c.n), NAN);
      ASSERT_EQ(variant().head_matmul(x.data(), c.t, c.k, w.data(), dtype, c.n, out.data()), 0);
      int bad = 0;
      // On the head, every 61st row and the last 64 (the scalar tail past the last multiple of
      // 64 and the last full block): the double reference of all rows would dominate the test.
      auto checked = [&](int64_t j) { return !head || j % 61 == 0 || j >= c.n - 64; };
      for (int64_t i = 0; i < c.t && bad < 5; ++i)
        for (int64_t j = 0; j < c.n && bad < 5; ++j) {
          if (!checked(j))
            continue;
          double ref = 0, mag = 0;
          for (int64_t col = 0; col < c.k; ++col) {
            double p = double(tern_load_float(w.data(), dtype, j * c.k + col)) *
                       double(x[size_t(i * c.k + col)]);
            ref += p, mag += std::fabs(p);
          }
          double got = out[size_t(i * c.n + j)];
          if (!(std::fabs(got - ref) <= 1e-5 * mag + 1e-30)) {
            ADD_FAILURE() << variant().name << " dtype " << dtype << " " << c.n << "x" << c.k
                          << " token " << i << " row " << j << ": got " << got << ", want "
                          << ref << " (sum |w x| = " << mag << ")";
            ++bad;
          }
        }
    }
}

struct QuantCase {
  int64_t t, k;
  tern_glu_t glu;
  bool norm;
};

TEST_P(DecoderVariant, QuantInputMatchesScalarComposition) {
  skipIfUnsupported();
  if (IsSkipped()) // GTEST_SKIP in a helper returns from the helper only
    return;
  std::vector<QuantCase> cases;
  for (tern_glu_t glu : {TERN_GLU_NONE, TERN_GLU_RELU2, TERN_GLU_SILU})
    for (bool norm : {false, true})
      for (auto [t, k] : {std::pair<int64_t, int64_t>{1, 1}, {1, 17}, {3, 64}, {2, 100},
                          {1, 2560}, {5, 2560}, {1, 6912}, {9, 6912}})
        cases.push_back({t, k, glu, norm});
  long flips = 0, values = 0;
  for (const QuantCase &c : cases) {
    std::mt19937 rng(uint32_t(c.t * 1000 + c.k + 10 * c.glu + c.norm));
    std::normal_distribution<float> normal(0.0f, 2.0f);
    std::vector<float> a(size_t(c.t * c.k)), b(a.size()), g(size_t(c.k));
    for (float &v : a)
      v = normal(rng);
    for (float &v : b)
      v = normal(rng);
    for (float &v : g)
      v = 0.5f + std::fabs(normal(rng));
    int64_t qs = tern_round_up(c.k, 16) + 16;
    std::vector<int8_t> q(size_t(c.t * qs), 0x5a), want(q.size(), 0x5a);
    std::vector<float> s(size_t(c.t)), wantS(size_t(c.t));
    const float *norm = c.norm ? g.data() : nullptr;
    ASSERT_EQ(tern_quant_input_generic(a.data(), b.data(), c.t, c.k, c.glu, norm, 1e-5f,
                                       want.data(), qs, wantS.data()),
              0);
    ASSERT_EQ(variant().quant_input(a.data(), b.data(), c.t, c.k, c.glu, norm, 1e-5f, q.data(),
                                    qs, s.data()),
              0);
    // The reference's y * s, to tell rounding-tie flips from errors.
    std::vector<float> y(a.size());
    if (c.glu == TERN_GLU_NONE) {
      y = a;
    } else {
      if (c.glu == TERN_GLU_RELU2)
        tern_relu2_generic(a.data(), int64_t(a.size()), y.data());
      else
        tern_silu_generic(a.data(), int64_t(a.size()), y.data());
      tern_mul_generic(y.data(), b.data(), int64_t(y.size()), y.data());
    }
    if (norm)
      tern_rms_norm_generic(y.data(), c.t, c.k, norm, 1e-5f, y.data());
    std::string where = std::string(variant().name) + " t=" + std::to_string(c.t) +
                        " k=" + std::to_string(c.k) + " glu=" + std::to_string(c.glu) +
                        " norm=" + std::to_string(c.norm);
    double scaleTol = 4.0 * std::sqrt(double(c.k)) * std::ldexp(1.0, -24);
    for (int64_t i = 0; i < c.t; ++i) {
      EXPECT_NEAR(s[size_t(i)], wantS[size_t(i)], scaleTol * wantS[size_t(i)]) << where;
      for (int64_t col = 0; col < tern_round_up(c.k, 16); ++col) {
        int got = q[size_t(i * qs + col)], ref = want[size_t(i * qs + col)];
        ++values;
        if (got == ref)
          continue;
        float scaled = col < c.k ? y[size_t(i * c.k + col)] * wantS[size_t(i)] : 0.0f;
        float tie = std::fabs(scaled - std::floor(scaled) - 0.5f);
        if (col < c.k && std::abs(got - ref) == 1 && tie < 2e-3f) {
          ++flips;
          continue;
        }
        ADD_FAILURE() << where << " token " << i << " column " << col << ": q " << got
                      << ", want " << ref << " (y * s = " << scaled << ")";
        break;
      }
      // Past the padded width the row is untouched.
      EXPECT_EQ(q[size_t(i * qs + tern_round_up(c.k, 16))], 0x5a) << where;
    }
  }
  std::printf("%s: %ld of %ld quantized values moved by one step at a rounding tie\n",
              variant().name, flips, values);
  EXPECT_LE(flips, values / 1000) << "more tie flips than float reassociation explains";
}

TEST_P(DecoderVariant, EmbeddingIsExactAndRejectsBadIds) {
  skipIfUnsupported();
  if (IsSkipped()) // GTEST_SKIP in a helper returns from the helper only
    return;
  std::mt19937 rng(5);
  for (tern_dtype_t dtype : {TERN_DTYPE_F32, TERN_DTYPE_F16, TERN_DTYPE_BF16})
    for (int64_t hidden : {1, 7, 64, 2560}) {
      const int64_t vocab = 300;
      std::vector<uint8_t> table = randomTable(dtype, vocab, hidden, rng);
      std::vector<int32_t> tokens = {0, 299, 17, 17, 128};
      std::vector<float> out(tokens.size() * size_t(hidden), NAN), want(out.size());
      ASSERT_EQ(tern_embedding_generic(table.data(), dtype, vocab, hidden, tokens.data(),
                                       int64_t(tokens.size()), want.data()),
                0);
      ASSERT_EQ(variant().embedding(table.data(), dtype, vocab, hidden, tokens.data(),
                                    int64_t(tokens.size()), out.data()),
                0);
      EXPECT_EQ(std::memcmp(out.data(), want.data(), out.size() * sizeof(float)), 0)
          << variant().name << " dtype " << dtype << " hidden " << hidden;
      tokens[3] = 300;
      EXPECT_EQ(variant().embedding(table.data(), dtype, vocab, hidden, tokens.data(),
                                    int64_t(tokens.size()), out.data()),
                -4);
    }
}

// A scaled RoPE's frequencies are the unscaled ones divided by the factors; without factors they
// are exactly the unscaled ones (so models without rope scaling compute what they always did).
TEST(RoPEFrequencies, AreTheUnscaledOnesDividedByTheFactors) {
  for (int64_t headDim : {2, 64, 128, 100}) {
    std::vector<float> factors(size_t(headDim / 2)), scaled(factors.size()), plain(factors.size());
    for (size_t i = 0; i < factors.size(); ++i)
      factors[i] = i < factors.size() / 3 ? 1.0f : 8.0f;
    tern_rope_frequencies(500000.0f, factors.data(), headDim, scaled.data());
    tern_rope_frequencies(500000.0f, nullptr, headDim, plain.data());
    for (int64_t p = 0; p < headDim / 2; ++p) {
      ASSERT_EQ(plain[size_t(p)], tern_rope_inv_freq(500000.0f, p, headDim));
      double want = std::pow(500000.0, -2.0 * double(p) / double(headDim)) / factors[size_t(p)];
      ASSERT_NEAR(scaled[size_t(p)], want, 1e-6 * want) << "head_dim " << headDim << " pair " << p;
    }
  }
}

TEST_P(DecoderVariant, RoPEMatchesScalarWithinRounding) {
  skipIfUnsupported();
  if (IsSkipped()) // GTEST_SKIP in a helper returns from the helper only
    return;
  std::mt19937 rng(6);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (int interleaved : {0, 1})
    for (int64_t headDim : {2, 16, 128})
      for (int64_t t : {1, 5}) {
        const int64_t heads = 3;
        std::vector<float> x(size_t(t * heads * headDim));
        for (float &v : x)
          v = normal(rng);
        std::vector<int32_t> positions(static_cast<size_t>(t));
        for (int32_t &p : positions)
          p = int32_t(rng() % 4096);
        // The 5-token cases with a scaled RoPE's factors (tern.rope's freq_factors).
        std::vector<float> factors(size_t(headDim / 2)), invFreq(size_t(headDim / 2));
        for (size_t i = 0; i < factors.size(); ++i)
          factors[i] = 1.0f + float(i % 3) * 3.5f;
        tern_rope_frequencies(500000.0f, t == 5 ? factors.data() : nullptr, headDim,
                              invFreq.data());
        std::vector<float> want = x;
        tern_rope_generic(want.data(), t, heads, headDim, positions.data(), invFreq.data(),
                          interleaved);
        ASSERT_EQ(variant().rope(x.data(), t, heads, headDim, positions.data(), invFreq.data(),
                                 interleaved),
                  0);
        // Same angles, cosines and sines; a fused multiply-add may round once less.
        for (size_t i = 0; i < x.size(); ++i)
          ASSERT_NEAR(x[i], want[i], 1e-6f * (1.0f + std::fabs(want[i])))
              << variant().name << " interleaved " << interleaved << " head_dim " << headDim
              << " element " << i;
      }
}

TEST_P(DecoderVariant, AttentionMatchesScalarWithinRounding) {
  skipIfUnsupported();
  if (IsSkipped()) // GTEST_SKIP in a helper returns from the helper only
    return;
  // The caches start full of random keys and values, so a token at position p attends to p
  // earlier entries as if they had been written by earlier calls.
  struct Case {
    int64_t heads, kvHeads, headDim, context;
    std::vector<int32_t> positions;
    int causal;
  } cases[] = {
      {4, 2, 16, 64, {0, 1, 2, 3, 4, 5, 6, 7, 8}, 1},             // prefill from empty
      {4, 2, 16, 64, {9}, 1},                                      // decode after 9 tokens
      {20, 5, 128, 300, {280, 281, 282, 283, 284, 285, 286}, 1},   // 2B4T heads, long history
      {20, 5, 128, 300, {299}, 1},                                 // the last position
      {20, 5, 128, 300, {}, 1},                                    // no tokens
      {6, 6, 12, 40, {12}, 1},                                     // odd head_dim, MHA
      {4, 1, 16, 32, {3, 4, 0, 1, 2}, 0},                          // not causal, MQA, unordered
  };
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (Case &c : cases) {
    size_t cacheSize = tern_kv_cache_floats(c.kvHeads, c.context, c.headDim);
    std::vector<float> kc(cacheSize), vc(cacheSize);
    for (float &v : kc)
      v = normal(rng);
    for (float &v : vc)
      v = normal(rng);
    std::vector<float> kc2 = kc, vc2 = vc;
    int64_t t = int64_t(c.positions.size());
    std::vector<float> q(size_t(t * c.heads * c.headDim)), k(size_t(t * c.kvHeads * c.headDim)),
        v(k.size());
    for (float &x : q)
      x = normal(rng);
    for (float &x : k)
      x = normal(rng);
    for (float &x : v)
      x = normal(rng);
    float scale = 1.0f / std::sqrt(float(c.headDim));
    std::vector<float> out(q.size(), NAN), want(q.size(), NAN);
    ASSERT_EQ(tern_attention_generic(q.data(), k.data(), v.data(), t, c.heads, c.kvHeads,
                                     c.headDim, c.positions.data(), kc.data(), vc.data(),
                                     c.context, scale, c.causal, want.data()),
              0);
    ASSERT_EQ(variant().attention(q.data(), k.data(), v.data(), t, c.heads, c.kvHeads,
                                  c.headDim, c.positions.data(), kc2.data(), vc2.data(),
                                  c.context, scale, c.causal, out.data()),
              0);
    EXPECT_EQ(kc2, kc) << variant().name << ": the key cache differs";
    EXPECT_EQ(vc2, vc) << variant().name << ": the value cache differs";
    // Outputs are convex combinations of values of magnitude ~1: absolute 1e-5.
    for (size_t i = 0; i < out.size(); ++i)
      ASSERT_NEAR(out[i], want[i], 1e-5f)
          << variant().name << " heads " << c.heads << "/" << c.kvHeads << " head_dim "
          << c.headDim << " t " << t << " element " << i;
  }
  // A position outside the context is refused before anything is written.
  std::vector<float> kc(tern_kv_cache_floats(2, 8, 4), 1.0f), vc = kc, q(4 * 4), kv(2 * 4),
      out(q.size());
  int32_t bad = 8;
  EXPECT_EQ(variant().attention(q.data(), kv.data(), kv.data(), 1, 4, 2, 4, &bad, kc.data(),
                                vc.data(), 8, 0.5f, 1, out.data()),
            -1);
  EXPECT_EQ(kc, std::vector<float>(tern_kv_cache_floats(2, 8, 4), 1.0f));
}

// The KV cache layout tern/decoder_kernels.h documents: per KV head, the context rounded up to
// 64 positions; keys in blocks of 64 positions, each [head_dim][64]; values a row per position.
TEST(KVCache, AppendWritesTheDocumentedLayout) {
  const int64_t kvHeads = 3, headDim = 5, context = 70; // 2 blocks, the second part-used
  EXPECT_EQ(tern_kv_cache_positions(70), 128);
  EXPECT_EQ(tern_kv_cache_positions(64), 64);
  EXPECT_EQ(tern_kv_cache_floats(kvHeads, context, headDim), size_t(3 * 128 * 5));
  std::vector<float> kc(tern_kv_cache_floats(kvHeads, context, headDim), -1.0f), vc = kc;
  const int32_t positions[] = {0, 63, 64, 69};
  std::vector<float> k(4 * kvHeads * headDim), v(k.size());
  for (size_t i = 0; i < k.size(); ++i)
    k[i] = float(i), v[i] = float(1000 + i);
  int32_t last = -1;
  ASSERT_EQ(tern_kv_cache_append(k.data(), v.data(), 4, kvHeads, headDim, positions, kc.data(),
                                 vc.data(), context, &last),
            0);
  EXPECT_EQ(last, 69);
  size_t written = 0;
  for (int64_t i = 0; i < 4; ++i)
    for (int64_t g = 0; g < kvHeads; ++g)
      for (int64_t d = 0; d < headDim; ++d) {
        int64_t p = positions[i];
        size_t key = size_t(g * 128 * headDim + (p / 64) * 64 * headDim + d * 64 + p % 64);
        EXPECT_EQ(tern_kv_key_index(g, p, d, context, headDim), key);
        EXPECT_EQ(kc[key], k[size_t((i * kvHeads + g) * headDim + d)]) << g << " " << p << " " << d;
        EXPECT_EQ(vc[size_t((g * 128 + p) * headDim + d)],
                  v[size_t((i * kvHeads + g) * headDim + d)]);
        ++written;
      }
  // Nothing else was touched.
  EXPECT_EQ(size_t(std::count(kc.begin(), kc.end(), -1.0f)), kc.size() - written);
  EXPECT_EQ(size_t(std::count(vc.begin(), vc.end(), -1.0f)), vc.size() - written);
}

TERN_INSTANTIATE_DECODER_VARIANTS(DecoderVariant);

TEST(Softmax, MatchesDoublePrecisionAndSurvivesLargeLogits) {
  // Logits of +-1000 would overflow a naive exp; rows sum to 1.
  const float x[2 * 4] = {1.0f, 2.0f, 3.0f, 4.0f, 1000.0f, -1000.0f, 999.0f, 0.0f};
  float out[8];
  tern_softmax_generic(x, 2, 4, out);
  for (int i = 0; i < 2; ++i) {
    double top = -1e300, total = 0;
    for (int j = 0; j < 4; ++j)
      top = std::max(top, double(x[i * 4 + j]));
    for (int j = 0; j < 4; ++j)
      total += std::exp(double(x[i * 4 + j]) - top);
    for (int j = 0; j < 4; ++j)
      EXPECT_NEAR(out[i * 4 + j], std::exp(double(x[i * 4 + j]) - top) / total, 1e-7)
          << "row " << i << " column " << j;
  }
  EXPECT_FLOAT_EQ(out[5], 0.0f);
}

TEST(DecoderDispatch, BestSupportedVariantFirstGenericLast) {
  size_t count;
  const tern_decoder_variant *v = tern_decoder_variants(&count);
  EXPECT_STREQ(v[count - 1].name, "generic");
  EXPECT_STREQ(tern_decoder_select(0)->name, "generic");
#if defined(__x86_64__)
  EXPECT_STREQ(tern_decoder_select(TERN_CPU_AVX2 | TERN_CPU_FMA | TERN_CPU_F16C)->name,
               "x86_64_avx2");
  EXPECT_STREQ(tern_decoder_select(~tern_cpu_features_t(0))->name, "x86_64_avx512");
#endif
}

} // namespace
