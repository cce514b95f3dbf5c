/* The CPU features tern's kernels are specialized for: ONE definition, included by the runtime
 * (detection, dispatch), the compiler (target descriptions) and the tests.
 *
 *   TERN_CPU_FEATURE(ENUM_NAME, bit, "name as users spell it")
 *
 * Bits are stable: they are stored in compiled binaries' variant tables. */
TERN_CPU_FEATURE(SSE41, 0, "sse4.1")
TERN_CPU_FEATURE(AVX2, 1, "avx2")
TERN_CPU_FEATURE(FMA, 2, "fma")
TERN_CPU_FEATURE(F16C, 3, "f16c")
TERN_CPU_FEATURE(AVX512F, 4, "avx512f")
TERN_CPU_FEATURE(AVX512BW, 5, "avx512bw")
TERN_CPU_FEATURE(AVX512VL, 6, "avx512vl")
TERN_CPU_FEATURE(AVX512DQ, 7, "avx512dq")
TERN_CPU_FEATURE(AVX512VNNI, 8, "avx512vnni")
TERN_CPU_FEATURE(AVX512VBMI, 9, "avx512vbmi")
TERN_CPU_FEATURE(AVXVNNI, 10, "avxvnni")
TERN_CPU_FEATURE(NEON, 32, "neon")
TERN_CPU_FEATURE(DOTPROD, 33, "dotprod")
TERN_CPU_FEATURE(I8MM, 34, "i8mm")
