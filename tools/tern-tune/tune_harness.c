/* tune_harness.c - the process tern-tune times kernel candidates in.
 *
 * tern-tune links this file with the runtime archive, the candidate objects it generated and a
 * table naming them (tern_tune_candidates), then runs it once per search round. Every candidate
 * runs on the runtime's own thread pool and buffer wrappers, exactly as in a compiled model.
 *
 *   harness --rows N --cols K --tokens T --reps R --max-ms M NAME...
 *
 * NAME is gen:<symbol> (a generated kernel of the table: a gemm_i2 or gemm_lut pipeline, run as
 * a compiled model's bucket runs it, its weights in its layout), or i2:<variant>, tl1:<variant>, tl2:<variant> (a library variant, its
 * weights packed in its family's layout). Weights are random ternary values, activations random
 * int8. A decode call reads its weights from memory, not from a cache warmed by the previous
 * call: the harness rotates through enough copies to exceed the last-level cache (as a model
 * does, whose weights are far larger than any cache).
 *
 * For each NAME, one line:  NAME median_us q1_us q3_us reps
 * Timings are per call; reps grows (to --max-ms per candidate) while the interquartile spread
 * is over 10 % of the median (the noise guard), at most twice. */
#include "tern/generated_kernels.h"
#include "tern/kernels.h"
#include "tern/lut_kernels.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

typedef struct {
  const char *name;
  tern_halide_gemm_fn fn;
  int64_t token_group;
  int layout; /* 0: i2 (gemm_i2), 1: tl1, 2: tl2 (gemm_lut) */
} tern_tune_candidate;
extern const tern_tune_candidate tern_tune_candidates[];
extern const int tern_tune_candidate_count;

static double now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int compare(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* The kernel under test as a tern_gemm_fn over one of `copies` weight copies. */
typedef struct {
  tern_gemm_fn library;
  tern_gemm_bucket table[2];
  int64_t buckets;
  int lut; /* a gemm_lut pipeline: 1 tl1, 2 tl2 */
} runner;

static int run(const runner *r, const uint8_t *w, int64_t n, int64_t k, const int8_t *x,
               int64_t xs, int64_t t, int32_t *acc, int64_t as) {
  if (r->library)
    return r->library(w, n, k, x, xs, t, acc, as);
  if (r->lut)
    return tern_gemm_lut_buckets(r->table, r->buckets, r->lut == 2, w, n, k, x, xs, t, acc, as);
  return tern_gemm_i2_buckets(r->table, r->buckets, w, n, k, x, xs, t, acc, as);
}

static const tern_gemm_variant *find_variant(const tern_gemm_variant *table, size_t count,
                                             const char *name) {
  for (size_t i = 0; i < count; ++i)
    if (strcmp(table[i].name, name) == 0)
      return &table[i];
  return NULL;
}

static int usage(const char *message) {
  fprintf(stderr, "tern-tune harness: %s\n", message);
  return 2;
}

int main(int argc, char **argv) {
  int64_t n = 0, k = 0, t = 0, reps = 5;
  double max_ms = 2000;
  int first = argc;
  for (int i = 1; i < argc; ++i) {
    if (i + 1 < argc && strcmp(argv[i], "--rows") == 0)
      n = atoll(argv[++i]);
    else if (i + 1 < argc && strcmp(argv[i], "--cols") == 0)
      k = atoll(argv[++i]);
    else if (i + 1 < argc && strcmp(argv[i], "--tokens") == 0)
      t = atoll(argv[++i]);
    else if (i + 1 < argc && strcmp(argv[i], "--reps") == 0)
      reps = atoll(argv[++i]);
    else if (i + 1 < argc && strcmp(argv[i], "--max-ms") == 0)
      max_ms = atof(argv[++i]);
    else {
      first = i;
      break;
    }
  }
  if (n <= 0 || k <= 0 || t <= 0 || reps <= 0 || first >= argc)
    return usage("expected --rows N --cols K --tokens T [--reps R] [--max-ms M] NAME...");

  /* Logical weights and activations. */
  srand(1);
  int8_t *w = malloc((size_t)(n * k));
  int64_t xs = tern_round_up(k, 64);
  int8_t *x = calloc((size_t)(t * xs), 1);
  int32_t *acc = malloc((size_t)(t * tern_round_up(n, 64)) * sizeof(int32_t));
  if (!w || !x || !acc)
    return usage("out of memory");
  for (int64_t i = 0; i < n * k; ++i)
    w[i] = (int8_t)(rand() % 3 - 1);
  for (int64_t i = 0; i < t; ++i)
    for (int64_t c = 0; c < k; ++c)
      x[i * xs + c] = (int8_t)(rand() % 256 - 128);

  /* One buffer of weight copies for every candidate, filled again only when the packing
   * changes: first-touch page faults are slow on some hypervisors (seconds per 256 MB), so it
   * is mapped once, populated up front, with transparent huge pages where the kernel has them. */
  size_t largest = tern_i2_packed_size(n, k);
  if (tern_tl1_packed_size(n, k) > largest)
    largest = tern_tl1_packed_size(n, k);
  if (tern_tl2_packed_size(n, k) > largest)
    largest = tern_tl2_packed_size(n, k);
  size_t span = (size_t)128 << 20;
  int64_t copies = (int64_t)(span / largest) + 1;
  if (copies > 256)
    copies = 256;
  size_t mapped = largest * (size_t)copies;
  uint8_t *packed = mmap(NULL, mapped, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
  if (packed == MAP_FAILED)
    return usage("cannot map the weight copies");
#ifdef MADV_HUGEPAGE
  madvise(packed, mapped, MADV_HUGEPAGE);
#endif
  const char *layout = ""; /* the packing the copies hold */
  /* The next copy to read, across candidates: every call reads the copy read longest ago, so
   * a candidate never finds its weights in a cache the previous one warmed. */
  int64_t copy = 0;

  size_t i2_count, tl1_count, tl2_count;
  const tern_gemm_variant *i2 = tern_gemm_i2_variants(&i2_count);
  const tern_gemm_variant *tl1 = tern_gemm_tl1_variants(&tl1_count);
  const tern_gemm_variant *tl2 = tern_gemm_tl2_variants(&tl2_count);

  for (int a = first; a < argc; ++a) {
    const char *name = argv[a];
    runner r;
    memset(&r, 0, sizeof r);
    size_t (*packed_size)(int64_t, int64_t) = tern_i2_packed_size;
    int (*pack)(const int8_t *, int64_t, int64_t, uint8_t *) = tern_i2_pack;
    const char *family = "i2";
    if (strncmp(name, "gen:", 4) == 0) {
      const tern_tune_candidate *c = NULL;
      for (int j = 0; j < tern_tune_candidate_count; ++j)
        if (strcmp(tern_tune_candidates[j].name, name + 4) == 0)
          c = &tern_tune_candidates[j];
      if (!c)
        return usage("no candidate of that name linked in");
      /* One table entry for decode kernels; a grouped kernel behind an unused decode entry (T
       * is a multiple of its group). */
      r.table[0] = (tern_gemm_bucket){c->token_group > 1 ? 0 : 1, 1, c->fn};
      r.table[1] = (tern_gemm_bucket){t, c->token_group, c->fn};
      r.buckets = c->token_group > 1 ? 2 : 1;
      r.lut = c->layout;
      if (c->layout == 1)
        packed_size = tern_tl1_packed_size, pack = tern_tl1_pack, family = "tl1";
      else if (c->layout == 2)
        packed_size = tern_tl2_packed_size, pack = tern_tl2_pack, family = "tl2";
    } else {
      const tern_gemm_variant *v = NULL;
      if (strncmp(name, "i2:", 3) == 0)
        v = find_variant(i2, i2_count, name + 3);
      else if (strncmp(name, "tl1:", 4) == 0)
        v = find_variant(tl1, tl1_count, name + 4), packed_size = tern_tl1_packed_size,
        pack = tern_tl1_pack, family = "tl1";
      else if (strncmp(name, "tl2:", 4) == 0)
        v = find_variant(tl2, tl2_count, name + 4), packed_size = tern_tl2_packed_size,
        pack = tern_tl2_pack, family = "tl2";
      if (!v)
        return usage("unknown candidate (expected gen:, i2:, tl1: or tl2: and a name)");
      r.library = v->fn;
    }
    /* Enough weight copies to stream from memory (128 MB), in this candidate's packing. */
    size_t bytes = packed_size(n, k);
    if (strcmp(layout, family) != 0) {
      if (pack(w, n, k, packed) != 0)
        return usage("packing failed");
      for (int64_t c = 1; c < copies; ++c)
        memcpy(packed + (size_t)c * bytes, packed, bytes);
      layout = family;
      copy = 0;
    }

    int64_t count = reps;
    double *times = NULL;
    for (int attempt = 0; attempt < 3; ++attempt) {
      free(times);
      times = malloc((size_t)count * sizeof(double));
      for (int warm = 0; warm < 2; ++warm) {
        if (run(&r, packed + (size_t)copy * bytes, n, k, x, xs, t, acc, tern_round_up(n, 64)) !=
            0)
          return usage("a kernel failed");
        copy = (copy + 1) % copies;
      }
      double spent = 0;
      int64_t done = 0;
      for (; done < count && (done < 3 || spent < max_ms * 1e3); ++done) {
        const uint8_t *wc = packed + (size_t)copy * bytes;
        copy = (copy + 1) % copies;
        double start = now_us();
        int status = run(&r, wc, n, k, x, xs, t, acc, tern_round_up(n, 64));
        times[done] = now_us() - start;
        if (status != 0) /* a failed call is not a fast one */
          return usage("a kernel failed");
        spent += times[done];
      }
      qsort(times, (size_t)done, sizeof(double), compare);
      double med = times[done / 2], q1 = times[done / 4], q3 = times[(3 * done) / 4];
      if ((q3 - q1) <= 0.1 * med || spent >= max_ms * 1e3 || attempt == 2) {
        printf("%s %.3f %.3f %.3f %lld\n", name, med, q1, q3, (long long)done);
        fflush(stdout);
        break;
      }
      count *= 2; /* noisy: measure again, longer */
    }
    free(times);
  }
  munmap(packed, mapped);
  free(w);
  free(x);
  free(acc);
  return 0;
}
