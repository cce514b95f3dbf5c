//===- HeadError.cpp - the output head's representations against float32 ---------------------===//
//
// The tied 128256 x 2560 head of BitNet b1.58 2B4T is stored in BF16 (656 MB): more bytes per
// decoded token than all ternary weights together (521 MB). This measures what cheaper
// representations cost in accuracy, on the head of any checkpoint (a generated one, or a real
// download):
//   bf16   the stored table, exact (the reference: float32 arithmetic on it)
//   f16    the table rounded to IEEE half (656 MB)
//   int8   per-row absmax int8 weights x per-token int8 activations (328 MB)
// for hidden states drawn like the output of model.norm (unit RMS times its weight). Reported
// per representation: the worst and mean relative error per position (against max |logit|) and
// how often the argmax and the top-5 set agree with float32.
//
//   tern-bench-head <checkpoint dir> [samples]
//
//===------------------------------------------------------------------------------------------===//
#include "frontends/hf/Checkpoint.h"

#include "tern/decoder_kernels.h"
#include "tern/kernels.h"

#include "dialects/weights/DType.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

namespace {

struct Score {
  double worst = 0, sumRelative = 0;
  int argmaxAgree = 0, top5Agree = 0, samples = 0;
};

std::vector<int64_t> topK(const float *row, int64_t n, int k) {
  std::vector<int64_t> idx(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i)
    idx[size_t(i)] = i;
  std::partial_sort(idx.begin(), idx.begin() + k, idx.end(),
                    [&](int64_t a, int64_t b) { return row[a] > row[b]; });
  idx.resize(size_t(k));
  std::sort(idx.begin(), idx.end());
  return idx;
}

void score(Score &s, const float *ref, const float *got, int64_t n) {
  double maxRef = 0, maxErr = 0;
  for (int64_t i = 0; i < n; ++i) {
    maxRef = std::max(maxRef, double(std::fabs(ref[i])));
    maxErr = std::max(maxErr, double(std::fabs(ref[i] - got[i])));
  }
  double rel = maxErr / std::max(maxRef, 1e-30);
  s.worst = std::max(s.worst, rel);
  s.sumRelative += rel;
  s.argmaxAgree += topK(ref, n, 1) == topK(got, n, 1);
  s.top5Agree += topK(ref, n, 5) == topK(got, n, 5);
  ++s.samples;
}

} // namespace

int main(int argc, char **argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: tern-bench-head <checkpoint dir> [samples]\n");
    return 1;
  }
  int samples = argc > 2 ? std::atoi(argv[2]) : 32;
  auto checkpoint = tern::hf::Checkpoint::open(argv[1]);
  if (!checkpoint) {
    std::fprintf(stderr, "tern-bench-head: %s\n", llvm::toString(checkpoint.takeError()).c_str());
    return 1;
  }
  auto head = (*checkpoint)->find("lm_head.weight");
  if (!head)
    head = (*checkpoint)->find("model.embed_tokens.weight");
  auto norm = (*checkpoint)->find("model.norm.weight");
  if (!head || !norm || head->entry->shape.size() != 2) {
    std::fprintf(stderr, "tern-bench-head: %s has no output head and model.norm.weight\n", argv[1]);
    return 1;
  }
  tern_dtype_t dtype = head->entry->dtype == tern::DType::BF16  ? TERN_DTYPE_BF16
                       : head->entry->dtype == tern::DType::F16 ? TERN_DTYPE_F16
                                                                : TERN_DTYPE_F32;
  int64_t n = head->entry->shape[0], k = head->entry->shape[1];
  const uint8_t *table = head->bytes().data();
  std::printf("head %s: %lld x %lld %s\n", head->entry->name.c_str(), (long long)n,
              (long long)k, tern::dtypeName(head->entry->dtype).str().c_str());

  // Hidden states like model.norm's output: unit RMS, times the norm weight.
  std::mt19937 rng(7);
  std::normal_distribution<float> gauss;
  std::vector<float> x(size_t(samples * k));
  for (int s = 0; s < samples; ++s)
    for (int64_t c = 0; c < k; ++c)
      x[size_t(s * k + c)] =
          gauss(rng) * tern::loadFloat(norm->entry->dtype, norm->bytes().data(), c);

  std::vector<float> ref(size_t(samples * n)), got(size_t(samples * n));
  tern_matmul_generic(x.data(), samples, k, table, dtype, n, ref.data());

  // f16: round the table to half.
  std::vector<uint16_t> half(size_t(n * k));
  for (int64_t i = 0; i < n * k; ++i)
    half[size_t(i)] = tern::floatToHalf(tern_load_float(table, dtype, i));
  Score f16;
  tern_matmul_generic(x.data(), samples, k, half.data(), TERN_DTYPE_F16, n, got.data());
  for (int s = 0; s < samples; ++s)
    score(f16, &ref[size_t(s * n)], &got[size_t(s * n)], n);

  // int8 rows x int8 tokens.
  std::vector<int8_t> wq(size_t(n * k)), xq(size_t(samples * tern_round_up(k, 16)));
  std::vector<float> wScale(static_cast<size_t>(n)), xScale(static_cast<size_t>(samples));
  tern_quantize_rows_q8(table, dtype, n, k, wq.data(), wScale.data());
  tern_act_quant_generic(x.data(), k, samples, k, 8, xq.data(), tern_round_up(k, 16),
                         xScale.data());
  Score q8;
  tern_matmul_q8_generic(xq.data(), tern_round_up(k, 16), xScale.data(), samples, k, wq.data(),
                         wScale.data(), n, got.data());
  for (int s = 0; s < samples; ++s)
    score(q8, &ref[size_t(s * n)], &got[size_t(s * n)], n);

  std::printf("%-6s %10s %12s %14s %14s %s\n", "repr", "MB", "worst rel", "mean rel",
              "argmax agree", "top-5 agree");
  auto row = [&](const char *name, double mb, const Score &s) {
    std::printf("%-6s %10.1f %12.2e %14.2e %11d/%d %9d/%d\n", name, mb, s.worst,
                s.sumRelative / s.samples, s.argmaxAgree, s.samples, s.top5Agree, s.samples);
  };
  row("f16", double(n * k) * 2 / 1e6, f16);
  row("int8", double(n * k) / 1e6 + double(n) * 4 / 1e6, q8);
  return 0;
}
