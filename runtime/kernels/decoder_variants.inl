/* The compiled SIMD variants of the decoder kernels, best first:
 *   TERN_DECODER_VARIANT(name, features the code needs)
 * Each is a set of Halide kernels (codegen/kernels/head_matmul_generator.cpp,
 * quant_input_generator.cpp); the generic variant is appended by decoder_variants.c. */
#if defined(__x86_64__)
TERN_DECODER_VARIANT(x86_64_avx512, TERN_CPU_AVX512F | TERN_CPU_AVX512BW | TERN_CPU_AVX512VL |
                                        TERN_CPU_AVX512DQ | TERN_CPU_AVX2 | TERN_CPU_FMA |
                                        TERN_CPU_F16C)
TERN_DECODER_VARIANT(x86_64_avx2, TERN_CPU_AVX2 | TERN_CPU_FMA | TERN_CPU_F16C)
#elif defined(__aarch64__)
TERN_DECODER_VARIANT(aarch64_neon, TERN_CPU_NEON)
#endif
