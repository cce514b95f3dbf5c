/* gemm_lut_variants.c - the variant tables of the lookup-table family, best first, generic last. */
#include "tern/lut_kernels.h"

#include "gemm_lut_variants.h"

static const tern_gemm_variant kTl1[] = {
#define TERN_GEMM_LUT_VARIANT(NAME, REQUIRES) {#NAME, REQUIRES, tern_gemm_tl1_##NAME},
#include "gemm_lut_variants.inl"
#undef TERN_GEMM_LUT_VARIANT
    {"generic", 0, tern_gemm_tl1_generic},
};

static const tern_gemm_variant kTl2[] = {
#define TERN_GEMM_LUT_VARIANT(NAME, REQUIRES) {#NAME, REQUIRES, tern_gemm_tl2_##NAME},
#include "gemm_lut_variants.inl"
#undef TERN_GEMM_LUT_VARIANT
    {"generic", 0, tern_gemm_tl2_generic},
};

const tern_gemm_variant *tern_gemm_tl1_variants(size_t *count) {
  *count = sizeof(kTl1) / sizeof(kTl1[0]);
  return kTl1;
}

const tern_gemm_variant *tern_gemm_tl2_variants(size_t *count) {
  *count = sizeof(kTl2) / sizeof(kTl2[0]);
  return kTl2;
}

const tern_gemm_variant *tern_gemm_tl1_select(tern_cpu_features_t have) {
  return tern_gemm_select_from(kTl1, sizeof(kTl1) / sizeof(kTl1[0]), have);
}

const tern_gemm_variant *tern_gemm_tl2_select(tern_cpu_features_t have) {
  return tern_gemm_select_from(kTl2, sizeof(kTl2) / sizeof(kTl2[0]), have);
}
