/* gemm_i2_variants.c - the variant table of the multiply-add GEMM, best first, generic last.
 * The SIMD variants are Halide AOT kernels (codegen/kernels/), present when the build made them. */
#include "tern/kernels.h"

#include "gemm_i2_variants.h"

static const tern_gemm_variant kVariants[] = {
#define TERN_GEMM_I2_VARIANT(NAME, REQUIRES) {#NAME, REQUIRES, tern_gemm_i2_##NAME},
#include "gemm_i2_variants.inl"
#undef TERN_GEMM_I2_VARIANT
    {"generic", 0, tern_gemm_i2_generic},
};

const tern_gemm_variant *tern_gemm_i2_variants(size_t *count) {
  *count = sizeof(kVariants) / sizeof(kVariants[0]);
  return kVariants;
}

const tern_gemm_variant *tern_gemm_select_from(const tern_gemm_variant *table, size_t count,
                                               tern_cpu_features_t have) {
  for (size_t i = 0; i < count; ++i)
    if ((table[i].requires & have) == table[i].requires)
      return &table[i];
  return &table[count - 1];
}

const tern_gemm_variant *tern_gemm_i2_select(tern_cpu_features_t have) {
  return tern_gemm_select_from(kVariants, sizeof(kVariants) / sizeof(kVariants[0]), have);
}
