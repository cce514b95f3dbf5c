//===- KernelBench.cpp - the GEMM kernels against the machine's limits ------------------------===//
//
// Per family (multiply-add i2, lookup-table tl1 / tl2), kernel, shape, variant and thread count: time, GB/s of packed weight bytes, int8 GOP/s, and
// the fraction of the limit measured in the same process: the memory read bandwidth for decode
// GEMV (T = 1), the int8 dot-product peak for prefill GEMM (T = 128). Weights rotate through
// copies totalling more than the last-level cache, so decode reads them from memory as a real
// model's decode does.
//
//   tern-bench-kernels [--threads=N] [--benchmark_filter=...]      (see docs/kernels.md)
//
// Kernels run on the runtime's thread pool (tern/thread_pool.h) with --threads threads.
//
//===------------------------------------------------------------------------------------------===//
#include "tern/bandwidth.h"
#include "tern/decoder_kernels.h"
#include "tern/head_q6.h"
#include "tern/head_q8.h"
#include "tern/kernels.h"
#include "tern/thread_pool.h"
#include "tern/lut_kernels.h"

#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <sys/mman.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace {

/// A byte range (std::span before C++20).
struct ByteRange {
  uint8_t *ptr;
  size_t n;
  uint8_t *begin() { return ptr; }
  uint8_t *end() { return ptr + n; }
  uint8_t *data() { return ptr; }
};

constexpr size_t kColdBytes = size_t(512) << 20; // well past any L3 of a laptop or server part

/// Best-of-5 read bandwidth in GB/s with `threads` threads streaming a 1 GiB buffer (the
/// runtime's probe, which the compiled executable's --bench uses too).
double measureReadBandwidth(int threads) {
  int previous = tern_set_num_threads(threads);
  double gbs = tern_measure_read_bandwidth(size_t(1) << 30, 5);
  tern_set_num_threads(previous);
  return gbs;
}

#if defined(__x86_64__)
/// Int8 multiply-accumulate peak (GOP/s, 2 ops per MAC) of one core with vpdpbusd on zmm.
__attribute__((target("avx512f,avx512vnni"))) double measureVnniPeakOneCore() {
  __m512i acc[12];
  for (int i = 0; i < 12; ++i)
    acc[i] = _mm512_set1_epi32(i);
  __m512i a = _mm512_set1_epi8(3), b = _mm512_set1_epi8(-2);
  const long iters = 20000000;
  auto start = std::chrono::steady_clock::now();
  for (long it = 0; it < iters; ++it)
    for (int i = 0; i < 12; ++i)
      acc[i] = _mm512_dpbusd_epi32(acc[i], a, b);
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  __m512i sum = acc[0];
  for (int i = 1; i < 12; ++i)
    sum = _mm512_add_epi32(sum, acc[i]);
  benchmark::DoNotOptimize(sum);
  return double(iters) * 12 * 64 * 2 / s / 1e9;
}
#endif

struct Limits {
  int threads = 1;
  double readGBs = 0;      // with `threads` threads
  double vnniPeakGops = 0; // with `threads` cores (0 without AVX-512 VNNI)
};

Limits gLimits;

void measureLimits(int threads) {
  gLimits.threads = threads;
  gLimits.readGBs = measureReadBandwidth(threads);
#if defined(__x86_64__)
  if (tern_cpu_detect() & TERN_CPU_AVX512VNNI)
    gLimits.vnniPeakGops = measureVnniPeakOneCore() * threads;
#endif
  std::fprintf(stderr,
               "limits measured in this process with %d thread(s): read bandwidth %.1f GB/s, "
               "int8 vpdpbusd peak %.0f GOP/s\n",
               threads, gLimits.readGBs, gLimits.vnniPeakGops);
}

struct Case {
  int64_t n, k;
};

struct Family {
  const char *name;
  size_t (*packedSize)(int64_t, int64_t);
  int (*pack)(const int8_t *, int64_t, int64_t, uint8_t *);
  const tern_gemm_variant *(*variants)(size_t *);
};
const Family kFamilies[] = {
    {"i2", tern_i2_packed_size, tern_i2_pack, tern_gemm_i2_variants},
    {"tl1", tern_tl1_packed_size, tern_tl1_pack, tern_gemm_tl1_variants},
    {"tl2", tern_tl2_packed_size, tern_tl2_pack, tern_gemm_tl2_variants},
};
const Case kShapes[] = {{2560, 2560}, {640, 2560}, {6912, 2560}, {2560, 6912}};

void BM_Gemm(benchmark::State &state, const Family *family, const tern_gemm_variant *variant,
             Case shape, int64_t tokens, int threads) {
  tern_cpu_features_t have = tern_cpu_detect();
  if ((variant->requires & have) != variant->requires) {
    state.SkipWithError("SKIPPED: CPU lacks this variant's features");
    return;
  }
  size_t packedBytes = family->packedSize(shape.n, shape.k);
  size_t copies = tokens == 1 ? std::max<size_t>(1, kColdBytes / packedBytes) : 1;
  // 2 MiB-aligned and advised for transparent huge pages, as the runtime maps model weights.
  size_t total = (packedBytes * copies + (size_t(2) << 20) - 1) & ~((size_t(2) << 20) - 1);
  std::unique_ptr<uint8_t, void (*)(void *)> storage(
      static_cast<uint8_t *>(std::aligned_alloc(size_t(2) << 20, total)), std::free);
  madvise(storage.get(), total, MADV_HUGEPAGE);
  ByteRange weights{storage.get(), packedBytes * copies};
  std::mt19937 rng(1);
  {
    std::vector<int8_t> logical(size_t(shape.n * shape.k));
    for (int8_t &v : logical)
      v = int8_t(int(rng() % 3) - 1);
    if (family->pack(logical.data(), shape.n, shape.k, weights.data()) != 0) {
      state.SkipWithError("packing failed");
      return;
    }
    for (size_t c = 1; c < copies; ++c)
      std::memcpy(weights.data() + c * packedBytes, weights.data(), packedBytes);
  }
  int64_t xStride = tern_round_up(shape.k, 16), accStride = tern_round_up(shape.n, 64);
  std::vector<int8_t> x(size_t(tokens * xStride));
  for (int8_t &v : x)
    v = int8_t(int(rng() % 256) - 128);
  std::vector<int32_t> acc(size_t(tokens * accStride));
  size_t copy = 0;
  auto start = std::chrono::steady_clock::now();
  for (auto _ : state) {
    const uint8_t *w = weights.data() + packedBytes * copy;
    copy = (copy + 1) % copies;
    if (variant->fn(w, shape.n, shape.k, x.data(), xStride, tokens, acc.data(), accStride)) {
      state.SkipWithError("kernel failed");
      return;
    }
    benchmark::DoNotOptimize(acc.data());
  }
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() /
      double(state.iterations());
  double gbs = double(packedBytes) / seconds / 1e9;
  double gops = 2.0 * double(shape.n) * double(shape.k) * double(tokens) / seconds / 1e9;
  state.counters["GB/s"] = gbs;
  state.counters["GOP/s"] = gops;
  state.counters["threads"] = threads;
  // Decode is bound by reading the weights; prefill by the int8 dot products.
  if (tokens == 1)
    state.counters["%read_BW"] = 100.0 * gbs / gLimits.readGBs;
  else if (gLimits.vnniPeakGops > 0)
    state.counters["%vnni_peak"] = 100.0 * gops / gLimits.vnniPeakGops;
}

/// The output head for `tokens` tokens (1: a decoded token; 4: a batched call's four sessions):
/// a 128256 x 2560 table in BF16 (656 MB), q8_0 (349 MB) or q6_k (269 MB), past any cache. A
/// kernel that reads it once per call is limited by the read bandwidth; GB/s counts the table
/// once per call, so a kernel re-reading it per token shows a fraction of the bandwidth.
/// The quantized tables are random bytes with finite scales (the speed does not depend on the
/// numbers).
void BM_Head(benchmark::State &state, const tern_decoder_variant *variant, tern_dtype_t dtype,
             int64_t tokens, int threads) {
  tern_cpu_features_t have = tern_cpu_detect();
  if ((variant->requires & have) != variant->requires) {
    state.SkipWithError("SKIPPED: CPU lacks this variant's features");
    return;
  }
  const int64_t n = 128256, k = 2560;
  size_t bytes = dtype == TERN_DTYPE_Q8_0   ? tern_q8_0_size(n, k)
                 : dtype == TERN_DTYPE_Q6_K ? tern_q6_k_size(n, k)
                                            : size_t(n * k) * 2;
  size_t scales = dtype == TERN_DTYPE_Q8_0   ? tern_q8_0_codes_size(n, k)
                  : dtype == TERN_DTYPE_Q6_K ? tern_q6_k_scales_offset(n, k)
                                             : 0;
  std::vector<uint16_t> table((bytes + 1) / 2);
  std::mt19937 rng(3);
  for (size_t i = 0; i < table.size(); ++i) // BF16 or half values of magnitude ~2^-8 .. 2^-1
    table[i] = i * 2 < scales ? uint16_t(rng())
               : dtype == TERN_DTYPE_BF16
                   ? uint16_t((rng() & 1) << 15 | (119 + rng() % 7) << 7 | (rng() & 0x7f))
                   : uint16_t((rng() & 1) << 15 | (7 + rng() % 7) << 10 | (rng() & 0x3ff));
  std::vector<float> x(size_t(tokens * k), 0.5f);
  std::vector<float> out(static_cast<size_t>(tokens * n));
  auto start = std::chrono::steady_clock::now();
  for (auto _ : state) {
    if (variant->head_matmul(x.data(), tokens, k, table.data(), dtype, n, out.data())) {
      state.SkipWithError("kernel failed");
      return;
    }
    benchmark::DoNotOptimize(out.data());
  }
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() /
      double(state.iterations());
  double gbs = double(bytes) / seconds / 1e9;
  state.counters["GB/s"] = gbs;
  state.counters["threads"] = threads;
  state.counters["%read_BW"] = 100.0 * gbs / gLimits.readGBs;
}

/// One decode step of one 2B4T layer's attention at `position` (20 query heads, 5 KV heads of
/// 128): it reads 2 * 5 * (position + 1) * 128 floats of cache, so its limit is the read
/// bandwidth once the cache outgrows the caches.
void BM_AttentionDecode(benchmark::State &state, const tern_decoder_variant *variant,
                        int32_t position, int threads) {
  tern_cpu_features_t have = tern_cpu_detect();
  if ((variant->requires & have) != variant->requires) {
    state.SkipWithError("SKIPPED: CPU lacks this variant's features");
    return;
  }
  const int64_t heads = 20, kvHeads = 5, headDim = 128, context = position + 1;
  // Copies of the layer's cache, rotated like the weights so each call reads from memory.
  size_t layer = tern_kv_cache_floats(kvHeads, context, headDim);
  size_t copies = std::max<size_t>(1, kColdBytes / (2 * layer * sizeof(float)));
  std::vector<float> kc(layer * copies, 0.01f), vc(layer * copies, 0.02f);
  std::vector<float> q(size_t(heads * headDim), 0.1f), k(size_t(kvHeads * headDim), 0.1f),
      v(k.size(), 0.1f), out(q.size());
  size_t copy = 0;
  auto start = std::chrono::steady_clock::now();
  for (auto _ : state) {
    if (variant->attention(q.data(), k.data(), v.data(), 1, heads, kvHeads, headDim, &position,
                           kc.data() + copy * layer, vc.data() + copy * layer, context,
                           0.0884f, 1, out.data())) {
      state.SkipWithError("kernel failed");
      return;
    }
    copy = (copy + 1) % copies;
    benchmark::DoNotOptimize(out.data());
  }
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() /
      double(state.iterations());
  double gbs = double(2 * layer * sizeof(float)) / seconds / 1e9;
  state.counters["GB/s"] = gbs;
  state.counters["threads"] = threads;
  state.counters["%read_BW"] = 100.0 * gbs / gLimits.readGBs;
}

void registerAll(int threads) {
  size_t decoderCount;
  const tern_decoder_variant *decoder = tern_decoder_variants(&decoderCount);
  for (size_t v = 0; v < decoderCount; ++v) {
    for (auto [dtype, format] : {std::pair{TERN_DTYPE_BF16, "bf16"}, {TERN_DTYPE_Q8_0, "q8_0"},
                                 {TERN_DTYPE_Q6_K, "q6_k"}}) {
      for (int64_t tokens : {1, 4}) {
        std::string name = std::string("head_") + format + "/" + decoder[v].name +
                           "/128256x2560/T" + std::to_string(tokens) +
                           "/threads:" + std::to_string(threads);
        benchmark::RegisterBenchmark(name.c_str(), BM_Head, &decoder[v], dtype, tokens, threads)
            ->Unit(benchmark::kMillisecond)
            ->UseRealTime()
            ->MinTime(0.5);
      }
    }
    for (int32_t position : {511, 4095}) {
      std::string attention = std::string("attention_decode/") + decoder[v].name + "/pos" +
                              std::to_string(position) + "/T1/threads:" + std::to_string(threads);
      benchmark::RegisterBenchmark(attention.c_str(), BM_AttentionDecode, &decoder[v], position,
                                   threads)
          ->Unit(benchmark::kMicrosecond)
          ->UseRealTime()
          ->MinTime(0.2);
    }
  }
  for (const Family &family : kFamilies) {
    size_t count;
    const tern_gemm_variant *variants = family.variants(&count);
    for (size_t v = 0; v < count; ++v)
      for (Case shape : kShapes)
        for (int64_t tokens : {int64_t(1), int64_t(128)}) {
          if (std::string(variants[v].name) == "generic" && tokens > 1)
            continue; // the scalar fallback (single-threaded): decode only
          std::string name = std::string(tokens == 1 ? "gemv_" : "gemm_") + family.name + "/" +
                             variants[v].name + "/" + std::to_string(shape.n) + "x" +
                             std::to_string(shape.k) + "/T" + std::to_string(tokens) +
                             "/threads:" + std::to_string(threads);
          benchmark::RegisterBenchmark(name.c_str(), BM_Gemm, &family, &variants[v], shape,
                                       tokens, threads)
              ->Unit(benchmark::kMicrosecond)
              ->UseRealTime()
              ->MinTime(0.2);
        }
  }
}

} // namespace

int main(int argc, char **argv) {
  int threads = int(std::thread::hardware_concurrency());
  for (int i = 1; i < argc; ++i)
    if (std::strncmp(argv[i], "--threads=", 10) == 0) {
      threads = std::atoi(argv[i] + 10);
      std::memmove(argv + i, argv + i + 1, sizeof(char *) * size_t(argc - i));
      --argc;
      break;
    }
  if (threads < 1) {
    std::fprintf(stderr, "tern-bench-kernels: --threads must be at least 1\n");
    return 1;
  }
  tern_set_num_threads(threads);
  benchmark::Initialize(&argc, argv);
  measureLimits(threads);
  registerAll(threads);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
