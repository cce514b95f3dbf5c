//===- TernaryCodec.h - ternary weights as checkpoints store them -------------------*- C++ -*-===//
//
// The two ways Hugging Face BitNet checkpoints hold ternary weights:
//
// * packed ("quantization_mode: offline"): U8 [N/4, K]. Output row r of block b = r / (N/4) keeps
//   its value w + 1 (0, 1 or 2; 3 is invalid) in bits 2b..2b+1 of packed row r mod (N/4): the four
//   blocks of N/4 rows share one byte per column (block-wise along the output dim, not interleaved).
// * latent (fp16/bf16 master weights): W is ternarized as sw = 1 / max(mean|W|, 1e-5),
//   Wt = clamp(round_half_to_even(W * sw), -1, 1), and the layer divides by sw.
//
//===------------------------------------------------------------------------------------------===//
#ifndef TERN_DIALECTS_WEIGHTS_TERNARYCODEC_H
#define TERN_DIALECTS_WEIGHTS_TERNARYCODEC_H

#include "dialects/weights/DType.h"

#include <cstdint>
#include <optional>

namespace tern {

/// Position of a weight in the logical [N, K] matrix.
struct WeightPosition {
  int64_t row, col;
};

/// The first weight whose 2-bit code is 3 (invalid), scanning packed bytes in storage order.
std::optional<WeightPosition> findInvalidHFCode(const uint8_t *packed, int64_t rows, int64_t cols);

/// Decodes a packed U8 [rows/4, cols] tensor into rows * cols values in {-1, 0, +1}.
/// `rows` must be a multiple of 4 and the codes valid (see findInvalidHFCode).
void decodeHFPacked(const uint8_t *packed, int64_t rows, int64_t cols, int8_t *out);

/// Inverse of decodeHFPacked: packs rows * cols values in {-1, 0, +1} into rows/4 * cols bytes.
void encodeHFPacked(const int8_t *values, int64_t rows, int64_t cols, uint8_t *out);

/// Counts of -1, 0 and +1 in a ternary matrix.
struct TernaryStats {
  int64_t negative = 0, zero = 0, positive = 0;
  int64_t total() const { return negative + zero + positive; }
  void add(const int8_t *values, int64_t count);
};

/// Ternarizes `count` latent weights of float type `dtype` (F16, BF16, F32) into `out` and returns
/// the scale sw = 1 / max(mean|W|, 1e-5). The mean is accumulated and W * sw rounded in double.
double ternarizeLatent(DType dtype, const uint8_t *data, int64_t count, int8_t *out);

} // namespace tern

#endif // TERN_DIALECTS_WEIGHTS_TERNARYCODEC_H
