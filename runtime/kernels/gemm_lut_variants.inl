/* The compiled SIMD variants of the lookup-table family, best first, for both layouts:
 *   TERN_GEMM_LUT_VARIANT(name, features the code needs)
 * Each is a micro-kernel generated through MLIR (codegen/ukernels/GemvLut.cpp) for tl1 and tl2;
 * the generic variants are appended by gemm_lut_variants.c. */
#if defined(__x86_64__)
TERN_GEMM_LUT_VARIANT(x86_64_avx512, TERN_CPU_AVX512F | TERN_CPU_AVX512BW | TERN_CPU_AVX512VL |
                                         TERN_CPU_AVX512DQ | TERN_CPU_AVX2 | TERN_CPU_FMA |
                                         TERN_CPU_F16C)
TERN_GEMM_LUT_VARIANT(x86_64_avx2, TERN_CPU_AVX2 | TERN_CPU_FMA | TERN_CPU_F16C)
#elif defined(__aarch64__)
TERN_GEMM_LUT_VARIANT(aarch64_neon, TERN_CPU_NEON)
#endif
