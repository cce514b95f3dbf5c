/* tern/bandwidth.h - the memory read bandwidth of this machine, measured in process.
 *
 * Decoding a ternary model streams every weight once per token, so the read bandwidth is its
 * physical limit; the benchmarks and the compiled executable's --bench report how close they
 * come, measured in the same run. */
#ifndef TERN_BANDWIDTH_H
#define TERN_BANDWIDTH_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Best of `repetitions` passes, in GB/s, of the pool's threads (tern_get_num_threads()) summing
 * a `bytes` buffer (make it far larger than the last-level cache). Returns 0 when the buffer
 * cannot be allocated. */
double tern_measure_read_bandwidth(size_t bytes, int repetitions);

#ifdef __cplusplus
}
#endif

#endif /* TERN_BANDWIDTH_H */
