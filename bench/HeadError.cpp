//===- HeadError.cpp - the output head's representations against float32 ---------------------===//
//
// The tied 128256 x 2560 head of BitNet b1.58 2B4T is stored in BF16 (656 MB): more bytes per
// decoded token than all ternary weights together (521 MB). This measures what cheaper
// representations cost in accuracy, on the head of any checkpoint (a generated one, or a real
// download):
//   bf16   the stored table, exact (the reference: float32 arithmetic on it)
//   f16    the table rounded to IEEE half (656 MB)
//   q8_0   ternc --head=q8_0: GGUF's Q8_0 numbers x int8 activations per 32 (349 MB)
//   q6_k   ternc --head=q6_k: GGUF's Q6_K numbers x int8 activations per 256 (269 MB)
// for hidden states drawn like the output of model.norm (unit RMS times its weight). Reported
// per representation: the worst and mean relative error per position (against max |logit|) and
// how often the argmax and the top-5 set agree with float32. The quantized heads are packed by
// ternc's own quantizers and run by this CPU's best decoder kernels (bit-exact with the scalar
// ones).
//
//   tern-bench-head <checkpoint dir> [samples]
//
//===------------------------------------------------------------------------------------------===//
#include "frontends/hf/Checkpoint.h"

#include "tern/decoder_kernels.h"
#include "tern/head_q6.h"
#include "tern/head_q8.h"
#include "tern/kernels.h"

#include "llvm/Support/Parallel.h"

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

  // The quantized heads, packed 16 rows at a time in parallel as ternc packs them.
  size_t variants;
  const tern_decoder_variant &best = tern_decoder_variants(&variants)[0];
  auto quantized = [&](tern_dtype_t format, size_t bytes,
                       void (*packRows)(const float *, int64_t, int64_t, int64_t, int64_t,
                                        uint8_t *)) {
    std::vector<uint8_t> packed(bytes);
    llvm::parallelFor(0, size_t((n + 15) / 16), [&](size_t tile) {
      int64_t first = int64_t(tile) * 16, count = std::min<int64_t>(16, n - first);
      std::vector<float> rows(size_t(count * k));
      for (int64_t i = 0; i < count * k; ++i)
        rows[size_t(i)] = tern_load_float(table, dtype, first * k + i);
      packRows(rows.data(), first, count, n, k, packed.data());
    });
    Score s;
    if (best.head_matmul(x.data(), samples, k, packed.data(), format, n, got.data()) != 0) {
      std::fprintf(stderr, "tern-bench-head: the %s head kernel failed\n", best.name);
      std::exit(1);
    }
    for (int i = 0; i < samples; ++i)
      score(s, &ref[size_t(i * n)], &got[size_t(i * n)], n);
    return s;
  };
  Score q8 = quantized(TERN_DTYPE_Q8_0, tern_q8_0_size(n, k), tern_q8_0_pack_rows);
  Score q6 = quantized(TERN_DTYPE_Q6_K, tern_q6_k_size(n, k), tern_q6_k_pack_rows);

  std::printf("%-6s %10s %12s %14s %14s %s\n", "repr", "MB", "worst rel", "mean rel",
              "argmax agree", "top-5 agree");
  auto row = [&](const char *name, double mb, const Score &s) {
    std::printf("%-6s %10.1f %12.2e %14.2e %11d/%d %9d/%d\n", name, mb, s.worst,
                s.sumRelative / s.samples, s.argmaxAgree, s.samples, s.top5Agree, s.samples);
  };
  row("f16", double(n * k) * 2 / 1e6, f16);
  row("q8_0", double(tern_q8_0_size(n, k)) / 1e6, q8);
  row("q6_k", double(tern_q6_k_size(n, k)) / 1e6, q6);
  return 0;
}
