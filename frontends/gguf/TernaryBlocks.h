//===- TernaryBlocks.h - ggml's ternary tensor types, decoded and encoded -----------*- C++ -*-===//
//
// The ternary types of GGUF files, each an exact {-1, 0, +1} code per weight and a scale that
// multiplies it (weight = code * d):
//   TQ1_0   blocks of 256: 5 trits per byte in base 3 (qs[48], qh[4]), fp16 d     (llama.cpp)
//   TQ2_0   blocks of 256: 2 bits per weight (qs[64]), fp16 d                       (llama.cpp)
//   Q2_0    blocks of 64: fp16 d, 2 bits per weight (qs[16]); code 3 (+2 d) is not ternary
//   I2_S    2 bits per weight in blocks of 128, one float scale after all codes     (bitnet.cpp)
//   IQ1_BN  rows: fp16 row scale, blocks of 64 in 13 bytes (base 3)                 (ik_llama.cpp)
//   IQ2_BN  rows: float row scale, blocks of 64 in 16 bytes (2 bits)                (ik_llama.cpp)
// Decoding gives the codes and the scale of every block; the importer keeps the coarsest scale
// that represents them exactly. Encoding (tern-gen-checkpoint, tests) writes the same layouts.
//
//===------------------------------------------------------------------------------------------===//
#ifndef TERN_FRONTENDS_GGUF_TERNARYBLOCKS_H
#define TERN_FRONTENDS_GGUF_TERNARYBLOCKS_H

#include "frontends/gguf/GgmlType.h"

#include "llvm/ADT/ArrayRef.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tern::gguf {

/// Whether `type` is one of the ternary types above.
bool isTernaryType(GgmlType type);

/// Columns one stored scale covers: the block for TQ1_0 / TQ2_0 / Q2_0, a whole row for IQ1_BN
/// / IQ2_BN; 0 for I2_S (one scale for the whole tensor).
int64_t scaleBlockCols(GgmlType type, int64_t cols);

struct DecodedTernary {
  std::vector<int8_t> values; ///< rows * cols codes in {-1, 0, +1}
  int64_t blockCols = 0;      ///< columns per scale (cols * rows: one scale)
  std::vector<float> scales;  ///< per (row, block) in row-major order, or one
};

/// A weight that is not ternary: where, and what it held.
struct BadCode {
  int64_t row, col;
  int code;
};

/// Decodes `bytes` (a tensor of `type` with `rows` rows of `cols`) into codes and scales.
/// Returns the first code that is not ternary (a 2-bit code 3: +2 d in Q2_0, unused in the
/// others), or std::nullopt. (Every byte of the base-3 types decodes to trits.)
std::optional<BadCode> decodeTernary(GgmlType type, llvm::ArrayRef<uint8_t> bytes, int64_t rows,
                                     int64_t cols, DecodedTernary &out);

/// Encodes codes `values` [rows, cols] with `scales` (per scaleBlockCols(type) block of each row;
/// one for I2_S) into `type`'s bytes (tensorBytes() of them). Scales are rounded to the stored
/// precision (fp16 for the blocked types and IQ1_BN).
std::vector<uint8_t> encodeTernary(GgmlType type, const int8_t *values, const float *scales,
                                   int64_t rows, int64_t cols);

/// Q4_0 blocks (fp16 d, 32 nibbles q: w = d * (q - 8)) as Q8_0 blocks (fp16 d, int8 q) with the
/// same d and q - 8: the same numbers, in a type tern has a head kernel for.
std::vector<uint8_t> q4_0ToQ8_0(llvm::ArrayRef<uint8_t> q4, int64_t blocks);

} // namespace tern::gguf

#endif // TERN_FRONTENDS_GGUF_TERNARYBLOCKS_H
