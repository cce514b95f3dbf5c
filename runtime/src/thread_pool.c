/* thread_pool.c - the runtime's thread pool (tern/thread_pool.h).
 *
 * One loop runs at a time. Its description (fn, closure, bounds) is published under a sequence
 * number: odd while the caller rewrites it, even when it is ready. A worker takes part in a loop
 * only after announcing itself (`active`) and re-reading the same even sequence number, and the
 * caller rewrites the description only when no worker is announced, so no worker ever reads a
 * half-written loop.
 *
 * The iterations are cut into one contiguous range per participant (the caller is participant
 * 0, worker i is i + 1). Each takes its own range's iterations in order from that range's atomic
 * counter, then helps with the others' ranges from the same counters. A kernel's tasks are
 * consecutive rows, so each thread streams one contiguous part of a weight matrix: on the 2-vCPU
 * Zen 5 VM, two threads read 66-77 GB/s in contiguous 4 MiB runs and 30-56 GB/s when they take
 * turns every 4-64 KiB, which is what one shared counter made of a GEMV's 40 KB tasks
 * (docs/performance.md). */
#define _GNU_SOURCE
#include "tern/thread_pool.h"

#include <HalideRuntime.h>

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__)
#include <immintrin.h>
#define CPU_RELAX() _mm_pause()
#elif defined(__aarch64__)
#define CPU_RELAX() __asm__ __volatile__("yield")
#else
#define CPU_RELAX() ((void)0)
#endif

/* Spin this long after the last loop before sleeping: longer than the gap between two kernel
 * calls of a decode step, far shorter than the gap between two user requests. */
#define TERN_POOL_SPIN_US 500

#define MAX_THREADS 256

/* One participant's share of the loop, on its own cache line. */
typedef struct {
  _Alignas(64) atomic_int next;
  int end;
} range;

static struct {
  /* The loop. */
  tern_task_fn fn;
  void *user_context;
  uint8_t *closure;
  int parts; /* participants the iterations are divided among */
  range ranges[MAX_THREADS];
  _Alignas(64) atomic_int done;
  atomic_int error;
  atomic_uint sequence; /* odd: being written; even: ready */
  atomic_int active;    /* workers inside the current loop */
  atomic_flag busy;     /* a loop is running */
  /* The workers. */
  int threads; /* including the caller; 0 = not decided yet */
  int started; /* workers running */
  unsigned spawn_sequence; /* the sequence number when they were started */
  pthread_t workers[MAX_THREADS];
  atomic_bool stop;
  atomic_int sleeping;
  pthread_mutex_t mutex;
  pthread_cond_t wake;
} pool = {.busy = ATOMIC_FLAG_INIT,
          .mutex = PTHREAD_MUTEX_INITIALIZER,
          .wake = PTHREAD_COND_INITIALIZER};

static _Thread_local bool in_worker;
static _Thread_local int participant; /* 0: the caller; worker i: i + 1 */

static double now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* Takes iterations until none are left: its own range first, then the others'. */
static void run_iterations(int self) {
  int parts = pool.parts;
  for (int k = 0; k < parts; ++k) {
    range *r = &pool.ranges[(self + k) % parts];
    int i;
    while (atomic_load_explicit(&r->next, memory_order_relaxed) < r->end &&
           (i = atomic_fetch_add(&r->next, 1)) < r->end) {
      int status = pool.fn(pool.user_context, i, pool.closure);
      if (status != 0) {
        int expected = 0;
        atomic_compare_exchange_strong(&pool.error, &expected, status);
      }
      atomic_fetch_add(&pool.done, 1);
    }
  }
}

static void *worker_main(void *arg) {
  in_worker = true;
  participant = (int)(intptr_t)arg;
  /* The sequence when the caller started the workers, not when this thread got to run: the
   * loop the caller publishes right after is new to a worker however late it starts. */
  unsigned seen = pool.spawn_sequence;
  for (;;) {
    unsigned seq = atomic_load(&pool.sequence);
    if (atomic_load(&pool.stop))
      return NULL;
    if (seq == seen || (seq & 1)) {
      /* Nothing new: spin a while, then sleep until a loop is published. */
      double start = now_us();
      int spins = 0;
      while ((seq = atomic_load(&pool.sequence)) == seen || (seq & 1)) {
        if (atomic_load(&pool.stop))
          return NULL;
        CPU_RELAX();
        if (++spins % 64 == 0 && now_us() - start > TERN_POOL_SPIN_US) {
          pthread_mutex_lock(&pool.mutex);
          atomic_fetch_add(&pool.sleeping, 1);
          while (((seq = atomic_load(&pool.sequence)) == seen || (seq & 1)) &&
                 !atomic_load(&pool.stop))
            pthread_cond_wait(&pool.wake, &pool.mutex);
          atomic_fetch_sub(&pool.sleeping, 1);
          pthread_mutex_unlock(&pool.mutex);
          start = now_us();
        }
      }
      continue;
    }
    atomic_fetch_add(&pool.active, 1);
    if (atomic_load(&pool.sequence) == seq)
      run_iterations(participant < pool.parts ? participant : 0);
    atomic_fetch_sub(&pool.active, 1);
    seen = seq;
  }
}

static int default_threads(void) {
  const char *env = getenv("TERN_NUM_THREADS");
  int n = env ? atoi(env) : 0;
  if (n <= 0) {
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    n = cpus > 0 ? (int)cpus : 1;
  }
  return n > MAX_THREADS ? MAX_THREADS : n;
}

static void stop_workers(void) {
  if (pool.started == 0)
    return;
  pthread_mutex_lock(&pool.mutex);
  atomic_store(&pool.stop, true);
  pthread_cond_broadcast(&pool.wake);
  pthread_mutex_unlock(&pool.mutex);
  for (int i = 0; i < pool.started; ++i)
    pthread_join(pool.workers[i], NULL);
  pool.started = 0;
  atomic_store(&pool.stop, false);
}

static void start_workers(void) {
  if (pool.threads == 0)
    pool.threads = default_threads();
  /* Workers take no signals: they inherit this mask, and a process-directed signal then goes to
   * one of the program's own threads, which may be waiting for it (the server's sigwait on
   * SIGTERM; the pool may start while the model loads, before the program sets its mask). */
  pool.spawn_sequence = atomic_load(&pool.sequence);
  sigset_t all, previous;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &previous);
  while (pool.started < pool.threads - 1 &&
         pthread_create(&pool.workers[pool.started], NULL, worker_main,
                        (void *)(intptr_t)(pool.started + 1)) == 0)
    ++pool.started;
  pthread_sigmask(SIG_SETMASK, &previous, NULL);
}

static int run_serially(void *user_context, tern_task_fn fn, int min, int size,
                        uint8_t *closure) {
  for (int i = min; i < min + size; ++i) {
    int status = fn(user_context, i, closure);
    if (status != 0)
      return status;
  }
  return 0;
}

int tern_parallel_for(void *user_context, tern_task_fn fn, int min, int size, uint8_t *closure) {
  if (size <= 0)
    return 0;
  if (size == 1 || in_worker || atomic_flag_test_and_set(&pool.busy))
    return run_serially(user_context, fn, min, size, closure);
  if (pool.started == 0)
    start_workers();
  if (pool.started == 0) { /* one thread, or no thread could start */
    atomic_flag_clear(&pool.busy);
    return run_serially(user_context, fn, min, size, closure);
  }
  /* Retire the previous loop: mark the description as being written, wait for stragglers. */
  atomic_fetch_add(&pool.sequence, 1);
  while (atomic_load(&pool.active) != 0)
    CPU_RELAX();
  pool.fn = fn, pool.user_context = user_context, pool.closure = closure;
  int parts = pool.started + 1 < size ? pool.started + 1 : size;
  pool.parts = parts;
  for (int p = 0; p < parts; ++p) {
    atomic_store(&pool.ranges[p].next, min + (int)((long long)size * p / parts));
    pool.ranges[p].end = min + (int)((long long)size * (p + 1) / parts);
  }
  atomic_store(&pool.done, 0);
  atomic_store(&pool.error, 0);
  atomic_fetch_add(&pool.sequence, 1); /* published */
  if (atomic_load(&pool.sleeping) > 0) {
    pthread_mutex_lock(&pool.mutex);
    pthread_cond_broadcast(&pool.wake);
    pthread_mutex_unlock(&pool.mutex);
  }
  run_iterations(0);
  while (atomic_load(&pool.done) < size)
    CPU_RELAX();
  int status = atomic_load(&pool.error);
  atomic_flag_clear(&pool.busy);
  return status;
}

int tern_set_num_threads(int threads) {
  int previous = tern_get_num_threads();
  if (threads < 1)
    threads = 1;
  if (threads > MAX_THREADS)
    threads = MAX_THREADS;
  stop_workers();
  pool.threads = threads;
  return previous;
}

int tern_get_num_threads(void) {
  if (pool.threads == 0)
    pool.threads = default_threads();
  return pool.threads;
}

static int halide_par_for(void *user_context, halide_task_t fn, int min, int size,
                          uint8_t *closure) {
  return tern_parallel_for(user_context, (tern_task_fn)fn, min, size, closure);
}

void tern_thread_pool_adopt_halide(void) {
  static atomic_bool installed;
  if (!atomic_load_explicit(&installed, memory_order_acquire)) {
    halide_set_custom_do_par_for(halide_par_for);
    atomic_store_explicit(&installed, true, memory_order_release);
  }
}
