//===- Targets.cpp - what each ternc --target means, in one table ----------------------------===//
#include "passes/Targets.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/TargetParser/Host.h"

using namespace mlir::tern;

namespace {
const tern_cpu_features_t kAvx2 = TERN_CPU_AVX2 | TERN_CPU_FMA | TERN_CPU_F16C;
const tern_cpu_features_t kAvx512 =
    kAvx2 | TERN_CPU_AVX512F | TERN_CPU_AVX512BW | TERN_CPU_AVX512VL | TERN_CPU_AVX512DQ;
#define TERN_X86 "x86_64-unknown-linux-gnu", "x86-64", "x86_64"
#define TERN_ARM "aarch64-unknown-linux-gnu", "generic", "aarch64"

// The features are those of the runtime's variant tables (gemm_i2_variants.inl,
// decoder_variants.inl) for the variants named.
// Halide's target strings must list every implied feature (codegen/kernels/CMakeLists.txt has
// the same ones for the library).
#define TERN_HALIDE_AVX2 "x86-64-linux-avx-avx2-f16c-fma-sse41"
#define TERN_HALIDE_AVX512 "x86-64-linux-avx-avx2-avx512-avx512_skylake-f16c-fma-sse41"
#define TERN_HALIDE_AVX512VNNI                                                                   \
  "x86-64-linux-avx-avx2-avx512-avx512_cannonlake-avx512_sapphirerapids-avx512_skylake-f16c-"  \
  "fma-sse41"
const TargetInfo kTargets[] = {
    {"x86-64-avx512-vnni", "x86_64_avx512vnni", "x86_64_avx512",
     kAvx512 | TERN_CPU_AVX512VNNI | TERN_CPU_AVX512VBMI, TERN_X86, TERN_HALIDE_AVX512VNNI, true,
     "", "avx512", ""},
    {"x86-64-avx512", "x86_64_avx512", "x86_64_avx512", kAvx512, TERN_X86, TERN_HALIDE_AVX512,
     true, "", "avx512", "avx512"},
    {"x86-64-avx2", "x86_64_avx2", "x86_64_avx2", kAvx2, TERN_X86, TERN_HALIDE_AVX2, true, "",
     "avx2", "avx2"},
    {"x86-64-multi", "dispatch", "dispatch", 0, TERN_X86, "x86-64-linux", false, "", "", ""},
    {"aarch64-dotprod", "aarch64_dotprod", "aarch64_neon", TERN_CPU_NEON | TERN_CPU_DOTPROD,
     TERN_ARM, "arm-64-linux-arm_dot_prod", true, "signed_weights=true", "neon", ""},
    {"aarch64", "aarch64_neon", "aarch64_neon", TERN_CPU_NEON, TERN_ARM, "arm-64-linux", true,
     "signed_weights=true", "neon", ""},
    // The scalar kernels, for the architecture ternc runs on.
#if defined(__aarch64__)
    {"generic", "generic", "generic", 0, TERN_ARM, "arm-64-linux", false, "", "", ""},
#else
    {"generic", "generic", "generic", 0, TERN_X86, "x86-64-linux", false, "", "", ""},
#endif
};
#undef TERN_X86
#undef TERN_ARM
} // namespace

const TargetInfo *mlir::tern::lookupTarget(llvm::StringRef name) {
  for (const TargetInfo &t : kTargets)
    if (t.name == name)
      return &t;
  return nullptr;
}

std::string mlir::tern::hostTargetName() {
  llvm::StringMap<bool> f = llvm::sys::getHostCPUFeatures();
  auto has = [&](llvm::StringRef name) { return f.lookup(name); };
#if defined(__x86_64__)
  bool avx512 = has("avx512f") && has("avx512bw") && has("avx512vl") && has("avx512dq") &&
                has("avx2") && has("fma") && has("f16c");
  if (avx512 && has("avx512vnni") && has("avx512vbmi"))
    return "x86-64-avx512-vnni";
  if (avx512)
    return "x86-64-avx512";
  if (has("avx2") && has("fma") && has("f16c"))
    return "x86-64-avx2";
#elif defined(__aarch64__)
  return has("dotprod") ? "aarch64-dotprod" : "aarch64";
#endif
  return "generic";
}
