/* cpu.c - CPU feature detection for kernel dispatch. */
#include "tern/cpu.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(_M_X64)
#include <cpuid.h>

static uint64_t xgetbv0(void) {
  uint32_t eax, edx;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return ((uint64_t)edx << 32) | eax;
}

tern_cpu_features_t tern_cpu_detect(void) {
  tern_cpu_features_t f = 0;
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d))
    return 0;
  if (c & (1u << 19))
    f |= TERN_CPU_SSE41;
  /* AVX state must be enabled by the OS (OSXSAVE + XCR0 bits 1 and 2). */
  int osxsave = (c & (1u << 27)) != 0;
  uint64_t xcr0 = osxsave ? xgetbv0() : 0;
  int avxState = (xcr0 & 0x6) == 0x6;
  int avx512State = avxState && (xcr0 & 0xe0) == 0xe0; /* opmask, ZMM_Hi256, Hi16_ZMM */
  if (!avxState || !(c & (1u << 28)))
    return f;
  if (c & (1u << 12))
    f |= TERN_CPU_FMA;
  if (c & (1u << 29))
    f |= TERN_CPU_F16C;
  unsigned maxLeaf = __get_cpuid_max(0, NULL);
  if (maxLeaf < 7)
    return f;
  __cpuid_count(7, 0, a, b, c, d);
  if (b & (1u << 5))
    f |= TERN_CPU_AVX2;
  if (avx512State) {
    if (b & (1u << 16)) f |= TERN_CPU_AVX512F;
    if (b & (1u << 17)) f |= TERN_CPU_AVX512DQ;
    if (b & (1u << 30)) f |= TERN_CPU_AVX512BW;
    if (b & (1u << 31)) f |= TERN_CPU_AVX512VL;
    if (c & (1u << 1)) f |= TERN_CPU_AVX512VBMI;
    if (c & (1u << 11)) f |= TERN_CPU_AVX512VNNI;
  }
  unsigned subleaves = a;
  if (subleaves >= 1) {
    __cpuid_count(7, 1, a, b, c, d);
    if (a & (1u << 4))
      f |= TERN_CPU_AVXVNNI;
  }
  return f;
}

#elif defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>

tern_cpu_features_t tern_cpu_detect(void) {
  unsigned long hwcap = getauxval(AT_HWCAP), hwcap2 = getauxval(AT_HWCAP2);
  tern_cpu_features_t f = 0;
  if (hwcap & (1ul << 1)) /* HWCAP_ASIMD */
    f |= TERN_CPU_NEON;
  if (hwcap & (1ul << 20)) /* HWCAP_ASIMDDP */
    f |= TERN_CPU_DOTPROD;
  if (hwcap2 & (1ul << 13)) /* HWCAP2_I8MM */
    f |= TERN_CPU_I8MM;
  return f;
}

#else
tern_cpu_features_t tern_cpu_detect(void) { return 0; }
#endif

static const char *const kNames[64] = {
#define TERN_CPU_FEATURE(NAME, BIT, STR) [BIT] = STR,
#include "tern/cpu_features.inl"
#undef TERN_CPU_FEATURE
};

const char *tern_cpu_feature_name(int bit) {
  return bit >= 0 && bit < 64 ? kNames[bit] : NULL;
}

int tern_cpu_parse_features(const char *list, tern_cpu_features_t *out, const char **bad,
                            size_t *bad_len) {
  tern_cpu_features_t f = 0;
  const char *p = list;
  while (p && *p) {
    const char *end = strchr(p, ',');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    if (len > 0) {
      int found = 0;
      for (int bit = 0; bit < 64 && !found; ++bit)
        if (kNames[bit] && strlen(kNames[bit]) == len && strncmp(kNames[bit], p, len) == 0) {
          f |= 1ull << bit;
          found = 1;
        }
      if (!found) {
        if (bad) *bad = p;
        if (bad_len) *bad_len = len;
        return -1;
      }
    }
    p = end ? end + 1 : NULL;
  }
  *out = f;
  return 0;
}

size_t tern_cpu_format_features(tern_cpu_features_t features, char *buf, size_t size) {
  size_t n = 0;
  for (int bit = 0; bit < 64; ++bit) {
    if (!(features & (1ull << bit)) || !kNames[bit])
      continue;
    int w = snprintf(size > n ? buf + n : NULL, size > n ? size - n : 0, "%s%s", n ? "," : "",
                     kNames[bit]);
    n += (size_t)w;
  }
  if (size > 0 && n == 0)
    buf[0] = '\0';
  return n;
}

tern_cpu_features_t tern_cpu_features(void) {
  /* Computed on first use; concurrent first calls compute the same value, so relaxed atomics
   * are enough to make the race benign. Bit 63 marks "computed". */
  static uint64_t cached;
  uint64_t value = __atomic_load_n(&cached, __ATOMIC_RELAXED);
  if (value & (1ull << 63))
    return value & ~(1ull << 63);
  tern_cpu_features_t f = tern_cpu_detect(), disabled = 0;
  const char *env = getenv("TERN_CPU_DISABLE");
  const char *bad;
  size_t badLen;
  if (env && tern_cpu_parse_features(env, &disabled, &bad, &badLen) != 0)
    fprintf(stderr, "tern: TERN_CPU_DISABLE names unknown feature '%.*s'; ignoring it\n",
            (int)badLen, bad);
  f &= ~disabled;
  __atomic_store_n(&cached, f | (1ull << 63), __ATOMIC_RELAXED);
  return f;
}
