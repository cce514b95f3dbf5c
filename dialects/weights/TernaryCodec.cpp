//===- TernaryCodec.cpp - ternary weights as checkpoints store them ---------------------------===//
#include "dialects/weights/TernaryCodec.h"

#include <algorithm>
#include <cassert>
#include <cmath>

using namespace tern;

std::optional<WeightPosition> tern::findInvalidHFCode(const uint8_t *packed, int64_t rows,
                                                      int64_t cols) {
  int64_t blockRows = rows / 4;
  for (int64_t p = 0; p < blockRows; ++p) {
    const uint8_t *line = packed + p * cols;
    for (int64_t k = 0; k < cols; ++k) {
      uint8_t byte = line[k];
      // A code is 3 exactly when both of its bits are set.
      uint8_t bad = byte & (byte >> 1) & 0x55;
      if (bad == 0)
        continue;
      int block = __builtin_ctz(bad) / 2;
      return WeightPosition{block * blockRows + p, k};
    }
  }
  return std::nullopt;
}

void tern::decodeHFPacked(const uint8_t *packed, int64_t rows, int64_t cols, int8_t *out) {
  assert(rows % 4 == 0 && "packed ternary rows must be a multiple of 4");
  int64_t blockRows = rows / 4;
  for (int b = 0; b < 4; ++b)
    for (int64_t p = 0; p < blockRows; ++p) {
      const uint8_t *line = packed + p * cols;
      int8_t *dst = out + (b * blockRows + p) * cols;
      for (int64_t k = 0; k < cols; ++k)
        dst[k] = int8_t(((line[k] >> (2 * b)) & 3) - 1);
    }
}

void tern::encodeHFPacked(const int8_t *values, int64_t rows, int64_t cols, uint8_t *out) {
  assert(rows % 4 == 0 && "packed ternary rows must be a multiple of 4");
  int64_t blockRows = rows / 4;
  std::fill(out, out + blockRows * cols, 0);
  for (int b = 0; b < 4; ++b)
    for (int64_t p = 0; p < blockRows; ++p) {
      const int8_t *src = values + (b * blockRows + p) * cols;
      uint8_t *line = out + p * cols;
      for (int64_t k = 0; k < cols; ++k)
        line[k] |= uint8_t((src[k] + 1) << (2 * b));
    }
}

void TernaryStats::add(const int8_t *values, int64_t count) {
  // Local counters: the members may alias `values` (int8_t), which would keep the loop scalar.
  int64_t neg = 0, zer = 0, pos = 0;
  for (int64_t i = 0; i < count; ++i) {
    neg += values[i] < 0;
    zer += values[i] == 0;
    pos += values[i] > 0;
  }
  negative += neg, zero += zer, positive += pos;
}

double tern::ternarizeLatent(DType dtype, const uint8_t *data, int64_t count, int8_t *out) {
  double sum = 0.0;
  for (int64_t i = 0; i < count; ++i)
    sum += std::fabs(double(loadFloat(dtype, data, i)));
  double mean = count ? sum / double(count) : 0.0;
  double scale = 1.0 / std::max(mean, 1e-5);
  for (int64_t i = 0; i < count; ++i) {
    // nearbyint rounds half to even in the default rounding mode, like torch.round.
    double q = std::nearbyint(double(loadFloat(dtype, data, i)) * scale);
    out[i] = int8_t(std::clamp(q, -1.0, 1.0));
  }
  return scale;
}
