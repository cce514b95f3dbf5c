//===- SamplerTest.cpp - the runtime's sampler against an independent reference ---------------===//
//
// The reference below applies llama.cpp's chain (penalties, top-k, top-p, min-p, temperature,
// draw) from the definitions, written differently from runtime/src/sampler.c: full sorts,
// explicit probabilities, min-p compared as probabilities rather than as a logit threshold. On
// random logits, parameters and histories both must keep the same candidates in the same order
// and pick the same token for the same uniform number. Cases where a value sits within rounding
// of a cut (a probability at the min-p or top-p boundary, u at a cumulative boundary) may
// legitimately differ; they are counted, printed, and must stay rare.
//
//===------------------------------------------------------------------------------------------===//
#include "tern/sampler.h"

#include "gtest/gtest.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <vector>

namespace {

struct Reference {
  std::vector<int32_t> kept;
  int32_t token = -1;
  bool ambiguous = false; // a value within rounding of a cut
};

Reference reference(const tern_sampler_params &p, std::vector<float> logits,
                    const std::vector<int32_t> &history, double u) {
  Reference r;
  const int64_t vocab = int64_t(logits.size());
  // Penalties over the window, once per distinct token.
  if (p.repeat_last_n != 0 && !history.empty()) {
    size_t from = p.repeat_last_n < 0 || size_t(p.repeat_last_n) >= history.size()
                      ? 0
                      : history.size() - size_t(p.repeat_last_n);
    std::map<int32_t, int> count;
    for (size_t i = from; i < history.size(); ++i)
      if (history[i] >= 0 && history[i] < vocab)
        ++count[history[i]];
    for (auto [t, c] : count) {
      float &l = logits[size_t(t)];
      l = l > 0.0f ? l / p.repeat_penalty : l * p.repeat_penalty;
      l -= float(c) * p.frequency_penalty + p.presence_penalty;
    }
  }
  std::vector<int32_t> order(static_cast<size_t>(vocab));
  for (int32_t i = 0; i < vocab; ++i)
    order[size_t(i)] = i;
  std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
    return logits[size_t(a)] != logits[size_t(b)] ? logits[size_t(a)] > logits[size_t(b)] : a < b;
  });
  if (p.temperature <= 0.0f) {
    r.kept = {order[0]};
    r.token = order[0];
    return r;
  }
  if (p.top_k > 0 && p.top_k < vocab)
    order.resize(size_t(p.top_k));
  auto probabilities = [&]() {
    std::vector<double> prob;
    double sum = 0;
    for (int32_t t : order)
      sum += std::exp(double(logits[size_t(t)]) - double(logits[size_t(order[0])]));
    for (int32_t t : order)
      prob.push_back(std::exp(double(logits[size_t(t)]) - double(logits[size_t(order[0])])) /
                     sum);
    return prob;
  };
  if (p.top_p < 1.0f) {
    std::vector<double> prob = probabilities();
    double cum = 0;
    size_t keep = order.size();
    for (size_t i = 0; i < order.size(); ++i) {
      cum += prob[i];
      if (std::fabs(cum - double(p.top_p)) < 1e-6)
        r.ambiguous = true;
      if (cum >= double(p.top_p)) {
        keep = i + 1;
        break;
      }
    }
    order.resize(keep);
  }
  if (p.min_p > 0.0f) {
    std::vector<double> prob = probabilities();
    size_t keep = 1;
    for (size_t i = 1; i < order.size(); ++i) {
      double ratio = prob[i] / prob[0];
      if (std::fabs(ratio - double(p.min_p)) < 1e-5 * double(p.min_p))
        r.ambiguous = true;
      if (ratio >= double(p.min_p))
        keep = i + 1;
    }
    order.resize(keep);
  }
  for (int32_t t : order)
    logits[size_t(t)] /= p.temperature;
  r.kept = order;
  std::vector<double> prob = probabilities();
  double cum = 0;
  r.token = order.back();
  for (size_t i = 0; i < order.size(); ++i) {
    cum += prob[i];
    if (std::fabs(cum - u) < 1e-9)
      r.ambiguous = true;
    if (u < cum) {
      r.token = order[i];
      break;
    }
  }
  return r;
}

TEST(Sampler, MatchesTheReferenceOnRandomCases) {
  std::mt19937 rng(42);
  int ambiguous = 0, cases = 0;
  for (int c = 0; c < 3000; ++c) {
    int64_t vocab = std::uniform_int_distribution<int64_t>(1, 700)(rng);
    std::vector<float> logits(static_cast<size_t>(vocab));
    std::normal_distribution<float> normal(0.0f, std::uniform_real_distribution<float>(0.2f, 6)(rng));
    for (float &l : logits)
      l = normal(rng);
    if (vocab > 3 && c % 5 == 0) // equal logits: the lower id must win everywhere
      logits[1] = logits[2] = logits[0];
    tern_sampler_params p = tern_sampler_default_params(uint64_t(c));
    const float temps[] = {0.0f, 0.3f, 0.8f, 1.0f, 1.7f};
    p.temperature = temps[c % 5];
    p.top_k = std::uniform_int_distribution<int>(-1, 80)(rng);
    p.top_p = c % 3 == 0 ? 1.0f : std::uniform_real_distribution<float>(0.05f, 1.0f)(rng);
    p.min_p = c % 4 == 0 ? 0.0f : std::uniform_real_distribution<float>(0.0f, 0.5f)(rng);
    p.repeat_penalty = c % 2 ? 1.0f : std::uniform_real_distribution<float>(1.0f, 1.5f)(rng);
    p.repeat_last_n = std::uniform_int_distribution<int>(-1, 30)(rng);
    p.frequency_penalty = c % 7 == 0 ? 0.3f : 0.0f;
    p.presence_penalty = c % 11 == 0 ? 0.5f : 0.0f;
    std::vector<int32_t> history(size_t(std::uniform_int_distribution<int>(0, 50)(rng)));
    for (int32_t &t : history)
      t = std::uniform_int_distribution<int32_t>(0, int32_t(vocab) - 1)(rng);
    double u = std::uniform_real_distribution<double>(0.0, 1.0)(rng);

    Reference want = reference(p, logits, history, u);
    tern_sampler *s = tern_sampler_create(&p, vocab, NULL);
    ASSERT_NE(s, nullptr);
    std::vector<int32_t> kept(static_cast<size_t>(vocab));
    int64_t keptN = 0;
    int32_t got = tern_sampler_sample_with(s, logits.data(), history.data(),
                                           int64_t(history.size()), u, kept.data(), &keptN);
    tern_sampler_free(s);
    kept.resize(size_t(keptN));
    ++cases;
    if (want.ambiguous && (got != want.token || kept != want.kept)) {
      ++ambiguous;
      std::printf("case %d: within rounding of a cut: token %d vs reference %d, %lld vs %zu "
                  "kept\n",
                  c, got, want.token, (long long)keptN, want.kept.size());
      continue;
    }
    ASSERT_EQ(kept, want.kept) << "case " << c;
    ASSERT_EQ(got, want.token) << "case " << c;
  }
  std::printf("%d cases, %d differing within rounding of a cut\n", cases, ambiguous);
  EXPECT_LE(ambiguous, cases / 100);
}

// Greedy is the argmax (lowest id among equal logits), and top-k = 1 is greedy at any
// temperature.
TEST(Sampler, GreedyIsTheArgmax) {
  std::vector<float> logits = {0.5f, 2.0f, -1.0f, 2.0f, 1.9f};
  tern_sampler_params p = tern_sampler_default_params(1);
  p.temperature = 0.0f;
  tern_sampler *s = tern_sampler_create(&p, 5, NULL);
  for (int i = 0; i < 10; ++i)
    EXPECT_EQ(tern_sampler_sample(s, logits.data(), nullptr, 0), 1);
  tern_sampler_free(s);
  p = tern_sampler_default_params(1);
  p.temperature = 5.0f;
  p.top_k = 1;
  s = tern_sampler_create(&p, 5, NULL);
  for (int i = 0; i < 10; ++i)
    EXPECT_EQ(tern_sampler_sample(s, logits.data(), nullptr, 0), 1);
  tern_sampler_free(s);
}

// A repeated token is penalized: greedy moves off it once the penalty outweighs the margin.
TEST(Sampler, RepeatPenaltyMovesGreedyOffARepeatedToken) {
  std::vector<float> logits = {3.0f, 2.5f, -1.0f};
  std::vector<int32_t> history = {0, 0, 2};
  tern_sampler_params p = tern_sampler_default_params(1);
  p.temperature = 0.0f;
  p.repeat_penalty = 1.1f; // 3.0 / 1.1 = 2.73 > 2.5: still 0
  tern_sampler *s = tern_sampler_create(&p, 3, NULL);
  EXPECT_EQ(tern_sampler_sample(s, logits.data(), history.data(), 3), 0);
  tern_sampler_free(s);
  p.repeat_penalty = 1.3f; // 3.0 / 1.3 = 2.31 < 2.5: 1
  s = tern_sampler_create(&p, 3, NULL);
  EXPECT_EQ(tern_sampler_sample(s, logits.data(), history.data(), 3), 1);
  tern_sampler_free(s);
  p.repeat_last_n = 1; // only token 2 is in the window
  s = tern_sampler_create(&p, 3, NULL);
  EXPECT_EQ(tern_sampler_sample(s, logits.data(), history.data(), 3), 0);
  tern_sampler_free(s);
}

// Draws follow softmax(logits / T): 40000 draws land within 4 standard deviations of each
// token's probability; the same seed gives the same draws, another seed others.
TEST(Sampler, DrawsFollowTheTemperedDistribution) {
  std::vector<float> logits = {1.0f, 0.0f, -0.5f, 2.0f, 0.3f};
  tern_sampler_params p = tern_sampler_default_params(7);
  p.temperature = 0.7f;
  p.top_k = 0;
  p.top_p = 1.0f;
  p.min_p = 0.0f;
  std::vector<double> prob(5);
  double sum = 0;
  for (size_t i = 0; i < 5; ++i)
    sum += prob[i] = std::exp(double(logits[i]) / 0.7);
  tern_sampler *s = tern_sampler_create(&p, 5, NULL);
  const int draws = 40000;
  std::vector<int> seen(5);
  std::vector<int32_t> first;
  for (int i = 0; i < draws; ++i) {
    int32_t t = tern_sampler_sample(s, logits.data(), nullptr, 0);
    ++seen[size_t(t)];
    if (i < 64)
      first.push_back(t);
  }
  tern_sampler_free(s);
  for (size_t i = 0; i < 5; ++i) {
    double q = prob[i] / sum, sd = std::sqrt(q * (1 - q) / draws);
    EXPECT_NEAR(double(seen[i]) / draws, q, 4 * sd) << "token " << i;
  }
  auto firstDraws = [&](uint64_t seed) {
    tern_sampler_params q = p;
    q.seed = seed;
    tern_sampler *t = tern_sampler_create(&q, 5, NULL);
    std::vector<int32_t> out;
    for (int i = 0; i < 64; ++i)
      out.push_back(tern_sampler_sample(t, logits.data(), nullptr, 0));
    tern_sampler_free(t);
    return out;
  };
  EXPECT_EQ(firstDraws(7), first);
  EXPECT_NE(firstDraws(8), first);
}

TEST(Sampler, BadParametersAreNamed) {
  char error[128];
  tern_sampler_params p = tern_sampler_default_params(0);
  EXPECT_EQ(tern_sampler_check_params(&p, error, sizeof error), 0);
  p.top_p = 1.5f;
  EXPECT_EQ(tern_sampler_check_params(&p, error, sizeof error), -1);
  EXPECT_STREQ(error, "top-p must be in [0, 1], found 1.5");
  p = tern_sampler_default_params(0);
  p.repeat_penalty = 0.0f;
  EXPECT_EQ(tern_sampler_check_params(&p, error, sizeof error), -1);
  EXPECT_STREQ(error, "the repeat penalty must be positive, found 0");
  p = tern_sampler_default_params(0);
  p.temperature = NAN;
  EXPECT_EQ(tern_sampler_check_params(&p, error, sizeof error), -1);
  EXPECT_STREQ(error, "temperature must be a number, found nan");
  p = tern_sampler_default_params(0);
  p.repeat_last_n = -2;
  EXPECT_EQ(tern_sampler_check_params(&p, error, sizeof error), -1);
  EXPECT_STREQ(error, "repeat-last-n must be -1 (all), 0 (off) or positive, found -2");
}

} // namespace
