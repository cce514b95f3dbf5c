/* tern/cpu.h - CPU feature detection for kernel dispatch.
 *
 * Detection checks what the CPU has AND what the OS saves on context switch (XGETBV on x86), and
 * reads getauxval(AT_HWCAP) on Linux/aarch64. Halide's runtime is not trusted for this: it does not
 * detect ARM dotprod. */
#ifndef TERN_CPU_H
#define TERN_CPU_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef uint64_t tern_cpu_features_t;

enum {
#define TERN_CPU_FEATURE(NAME, BIT, STR) TERN_CPU_##NAME##_BIT = BIT,
#include "tern/cpu_features.inl"
#undef TERN_CPU_FEATURE
};
#define TERN_CPU_FEATURE(NAME, BIT, STR) static const tern_cpu_features_t TERN_CPU_##NAME = 1ull << BIT;
#include "tern/cpu_features.inl"
#undef TERN_CPU_FEATURE

/* What this CPU and OS support (not cached, no environment). */
tern_cpu_features_t tern_cpu_detect(void);

/* tern_cpu_detect() minus the features named in the TERN_CPU_DISABLE environment variable (a
 * comma-separated list such as "avx512f,avx512vnni"), which forces dispatch to lesser variants.
 * Computed once. */
tern_cpu_features_t tern_cpu_features(void);

/* The name of feature `bit` ("avx512vnni"), or NULL. */
const char *tern_cpu_feature_name(int bit);

/* Parses a comma-separated list of feature names into *out. Returns 0, or -1 naming the first
 * unknown name in *bad (pointing into `list`, length *bad_len). */
int tern_cpu_parse_features(const char *list, tern_cpu_features_t *out, const char **bad,
                            size_t *bad_len);

/* Writes "avx2,fma,..." into buf (always NUL-terminated when size > 0); returns the full length. */
size_t tern_cpu_format_features(tern_cpu_features_t features, char *buf, size_t size);

#ifdef __cplusplus
}
#endif

#endif /* TERN_CPU_H */
