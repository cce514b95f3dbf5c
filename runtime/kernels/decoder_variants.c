/* decoder_variants.c - the variant table of the decoder kernels, best first, generic last. */
#include "tern/decoder_kernels.h"

#define TERN_DECODER_VARIANT(NAME, REQUIRES)                                                       \
  int tern_quant_input_##NAME(const float *, const float *, int64_t, int64_t, tern_glu_t,          \
                              const float *, float, int8_t *, int64_t, float *);                   \
  int tern_head_matmul_##NAME(const float *, int64_t, int64_t, const void *, tern_dtype_t,         \
                              int64_t, float *);                                                   \
  int tern_attention_##NAME(const float *, const float *, const float *, int64_t, int64_t,         \
                            int64_t, int64_t, const int32_t *, float *, float *, int64_t, float,   \
                            int, float *);                                                         \
  int tern_rope_##NAME(float *, int64_t, int64_t, int64_t, const int32_t *, const float *, int);           \
  int64_t tern_embedding_##NAME(const void *, tern_dtype_t, int64_t, int64_t, const int32_t *,     \
                                int64_t, float *);
#include "decoder_variants.inl"
#undef TERN_DECODER_VARIANT

static const tern_decoder_variant kVariants[] = {
#define TERN_DECODER_VARIANT(NAME, REQUIRES)                                                       \
  {#NAME, REQUIRES, tern_quant_input_##NAME, tern_head_matmul_##NAME,                             \
   tern_attention_##NAME, tern_rope_##NAME, tern_embedding_##NAME},
#include "decoder_variants.inl"
#undef TERN_DECODER_VARIANT
    {"generic", 0, tern_quant_input_generic, tern_head_matmul_generic, tern_attention_generic,
     tern_rope_variant_generic, tern_embedding_generic},
};

const tern_decoder_variant *tern_decoder_variants(size_t *count) {
  *count = sizeof(kVariants) / sizeof(kVariants[0]);
  return kVariants;
}

const tern_decoder_variant *tern_decoder_select(tern_cpu_features_t have) {
  size_t count;
  const tern_decoder_variant *v = tern_decoder_variants(&count);
  for (size_t i = 0; i < count; ++i)
    if ((v[i].requires & have) == v[i].requires)
      return &v[i];
  return &v[count - 1];
}
