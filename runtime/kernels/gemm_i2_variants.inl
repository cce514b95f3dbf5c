/* The compiled SIMD variants of the multiply-add GEMM, best first:
 *   TERN_GEMM_I2_VARIANT(name, features the code needs)
 * The generic variant is appended by gemm_i2_variants.c. The AVX-512 VNNI kernels are generated
 * for Halide's avx512_sapphirerapids target, whose code may use the Cannon Lake extensions (VBMI). */
#if defined(__x86_64__)
/* Where VNNI exists, Halide's VNNI GEMM and GEMV. Without it, decode runs the MLIR AVX2 GEMV
 * micro-kernel, which beats Halide's AVX-512 and AVX2 GEMV, and prefill (groups of 4 tokens)
 * the MLIR AVX2 GEMM on AVX2 and Halide's AVX-512 GEMM on AVX-512, as the benchmark decided
 * (docs/kernels.md). x86_64_avx2_halide_only keeps Halide's AVX2 kernels measurable and tested. */
TERN_GEMM_I2_VARIANT(x86_64_avx512vnni,
                     TERN_CPU_AVX512F | TERN_CPU_AVX512BW | TERN_CPU_AVX512VL | TERN_CPU_AVX512DQ |
                         TERN_CPU_AVX512VNNI | TERN_CPU_AVX512VBMI | TERN_CPU_AVX2 | TERN_CPU_FMA |
                         TERN_CPU_F16C)
TERN_GEMM_I2_VARIANT(x86_64_avx512, TERN_CPU_AVX512F | TERN_CPU_AVX512BW | TERN_CPU_AVX512VL |
                                        TERN_CPU_AVX512DQ | TERN_CPU_AVX2 | TERN_CPU_FMA |
                                        TERN_CPU_F16C)
TERN_GEMM_I2_VARIANT(x86_64_avx2, TERN_CPU_AVX2 | TERN_CPU_FMA | TERN_CPU_F16C)
TERN_GEMM_I2_VARIANT(x86_64_avx2_halide_only, TERN_CPU_AVX2 | TERN_CPU_FMA | TERN_CPU_F16C)
#elif defined(__aarch64__)
TERN_GEMM_I2_VARIANT(aarch64_dotprod, TERN_CPU_NEON | TERN_CPU_DOTPROD)
TERN_GEMM_I2_VARIANT(aarch64_neon, TERN_CPU_NEON)
#endif
