/* tern/thread_pool.h - the one thread pool every kernel runs on.
 *
 * Generated Halide kernels call halide_do_par_for; the runtime's wrappers install
 * tern_parallel_for as Halide's handler (halide_set_custom_do_par_for) before they run one, and
 * the MLIR micro-kernels' drivers call it directly, so Halide's own pool never starts. A decoded token is some 200
 * kernel calls of 10-200 us each, so the pool is built for dispatch latency: workers spin for a
 * while (TERN_POOL_SPIN_US) after their last task before they sleep, and the calling thread
 * takes iterations too. */
#ifndef TERN_THREAD_POOL_H
#define TERN_THREAD_POOL_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Halide's task signature: returns 0, or an error that the parallel loop reports. */
typedef int (*tern_task_fn)(void *user_context, int index, uint8_t *closure);

/* Runs fn(user_context, i, closure) for i in [min, min + size) on the pool and returns 0 or the
 * first non-zero result. Called from inside a task, or while another thread's loop runs, it
 * runs the loop serially on the calling thread (never deadlocks). */
int tern_parallel_for(void *user_context, tern_task_fn fn, int min, int size, uint8_t *closure);

/* Threads used by parallel loops, including the caller: default the online CPU count, or
 * TERN_NUM_THREADS from the environment. Setting it stops the workers; the next loop starts the
 * new number. Returns the previous value. Not to be called while a loop runs. */
int tern_set_num_threads(int threads);
int tern_get_num_threads(void);

/* Routes Halide's parallel loops to this pool. Idempotent and cheap: every wrapper that runs a
 * generated Halide kernel calls it first. */
void tern_thread_pool_adopt_halide(void);

#ifdef __cplusplus
}
#endif

#endif /* TERN_THREAD_POOL_H */
