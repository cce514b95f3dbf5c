//===- gemm_cross_test.cpp - the GEMM families' variants on aarch64 (under qemu) --------------===//
//
// Cross-built with aarch64-linux-gnu-g++ (no GoogleTest for the target): every variant of every
// family (multiply-add i2, lookup-table tl1 and tl2) against the scalar reference on awkward and
// 2B4T shapes, bit-exact. A variant the CPU cannot run prints
// "SKIPPED: <family> <variant>: CPU lacks <features>".
//
//   gemm_cross_test [--expect-skip=<variant>] [--expect-run=<variant>]
//
// The expectations make the qemu CPU models part of the test: -cpu max must run the dotprod
// variant, -cpu cortex-a53 must skip it.
//
//===------------------------------------------------------------------------------------------===//
#include "tern/kernels.h"
#include "tern/lut_kernels.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace {

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

struct Shape {
  int64_t n, k;
};
const Shape kShapes[] = {{1, 1},       {3, 17},      {17, 33},     {65, 129},    {191, 385},
                         {2560, 2560}, {640, 2560},  {6912, 2560}, {2560, 6912}, {128256, 2560}};

bool runCase(const Family &f, const tern_gemm_variant &v, Shape s, int64_t t, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<int8_t> w(size_t(s.n * s.k));
  for (int8_t &x : w)
    x = int8_t(int(rng() % 3) - 1);
  std::vector<uint8_t> packed(f.packedSize(s.n, s.k));
  if (f.pack(w.data(), s.n, s.k, packed.data()) != 0)
    return false;
  int64_t xs = tern_round_up(s.k, 16), as = tern_round_up(s.n, TERN_I2_ROW_ALIGN);
  std::vector<int8_t> x(size_t(t * xs), 0);
  for (int64_t i = 0; i < t; ++i)
    for (int64_t c = 0; c < s.k; ++c)
      x[size_t(i * xs + c)] = int8_t(int(rng() % 256) - 128);
  std::vector<int32_t> want(size_t(t * as)), got(size_t(t * as), 0x7eadbeef);
  tern_gemm_ternary_reference(w.data(), s.n, s.k, x.data(), xs, t, want.data(), as);
  if (v.fn(packed.data(), s.n, s.k, x.data(), xs, t, got.data(), as) != 0) {
    std::printf("FAIL %s %s %lldx%lld T=%lld: kernel returned an error\n", f.name, v.name,
                (long long)s.n, (long long)s.k, (long long)t);
    return false;
  }
  for (int64_t i = 0; i < t; ++i)
    for (int64_t r = 0; r < s.n; ++r)
      if (want[size_t(i * as + r)] != got[size_t(i * as + r)]) {
        std::printf("FAIL %s %s %lldx%lld T=%lld: token %lld row %lld expected %d got %d\n",
                    f.name, v.name, (long long)s.n, (long long)s.k, (long long)t, (long long)i,
                    (long long)r, want[size_t(i * as + r)], got[size_t(i * as + r)]);
        return false;
      }
  return true;
}

} // namespace

int main(int argc, char **argv) {
  std::vector<std::string> expectSkip, expectRun; // variant names, in every family that has them
  for (int i = 1; i < argc; ++i) {
    if (!std::strncmp(argv[i], "--expect-skip=", 14))
      expectSkip.push_back(argv[i] + 14);
    else if (!std::strncmp(argv[i], "--expect-run=", 13))
      expectRun.push_back(argv[i] + 13);
  }
  auto listed = [](const std::vector<std::string> &names, const char *name) {
    return std::find(names.begin(), names.end(), name) != names.end();
  };
  tern_cpu_features_t have = tern_cpu_detect();
  char buf[256];
  tern_cpu_format_features(have, buf, sizeof buf);
  std::printf("CPU features: %s\n", buf);
  int failures = 0;
  for (const Family &f : kFamilies) {
    size_t count;
    const tern_gemm_variant *variants = f.variants(&count);
    for (size_t i = 0; i < count; ++i) {
      const tern_gemm_variant &v = variants[i];
      if ((v.requires & have) != v.requires) {
        tern_cpu_format_features(v.requires & ~have, buf, sizeof buf);
        std::printf("SKIPPED: %s %s: CPU lacks %s\n", f.name, v.name, buf);
        if (listed(expectRun, v.name)) {
          std::printf("FAIL: expected %s %s to run on this CPU\n", f.name, v.name);
          ++failures;
        }
        continue;
      }
      if (listed(expectSkip, v.name)) {
        std::printf("FAIL: expected %s %s to be skipped on this CPU\n", f.name, v.name);
        ++failures;
      }
      // The scalar kernels (the same C the native tests run on every shape) on small shapes only:
      // under emulation they would take most of the test's time.
      bool generic = !std::strcmp(v.name, "generic");
      int cases = 0;
      for (Shape s : kShapes)
        for (int64_t t : {1, 5}) {
          if ((s.n * s.k > 100000000 && t > 1) || (generic && s.n * s.k > 1000000))
            continue;
          failures += !runCase(f, v, s, t, uint32_t(s.n * 131 + s.k * 7 + t));
          ++cases;
        }
      std::printf("PASS %s %s: %d cases bit-exact\n", f.name, v.name, cases);
    }
  }
  std::printf("%s\n", failures ? "FAILED" : "OK");
  return failures ? 1 : 0;
}
