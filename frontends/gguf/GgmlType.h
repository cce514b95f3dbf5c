//===- GgmlType.h - ggml tensor type ids and their block sizes ----------------------*- C++ -*-===//
//
// The tensor types a GGUF file names by number, with the size of a block of elements, so the
// reader can check every tensor's size without knowing how to decode it. Ids follow mainline
// ggml; bitnet.cpp's I2_S and ik_llama.cpp's IQ1_BN / IQ2_BN reuse numbers mainline retired or
// gave to other types, so those are told apart per file (see typeForFile).
//
//===------------------------------------------------------------------------------------------===//
#ifndef TERN_FRONTENDS_GGUF_GGMLTYPE_H
#define TERN_FRONTENDS_GGUF_GGMLTYPE_H

#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <optional>

namespace tern::gguf {

/// The types tern names. Values are tern's own; `id` is the number in the file (typeForId).
enum class GgmlType : uint8_t {
  F32, F16, BF16, F64, I8, I16, I32, I64,
  Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1,
  Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, Q8_K,
  IQ2_XXS, IQ2_XS, IQ3_XXS, IQ1_S, IQ4_NL, IQ3_S, IQ2_S, IQ4_XS, IQ1_M, MXFP4,
  TQ1_0, TQ2_0, Q1_0, Q2_0,
  I2_S,   ///< bitnet.cpp: 2-bit codes, one float scale after them
  IQ1_BN, ///< ik_llama.cpp: 1.625 bits, base-3 codes in blocks of 64
  IQ2_BN, ///< ik_llama.cpp: 2 bits, blocks of 64, a float scale per row
};

struct GgmlTypeInfo {
  GgmlType type;
  uint32_t id;          ///< the number in a GGUF file
  const char *name;     ///< as llama.cpp prints it ("q6_K", "tq2_0", "i2_s")
  int64_t blockElems;   ///< elements per block (1 for plain types)
  int64_t blockBytes;   ///< bytes per block
  /// Bytes a row carries besides its blocks (IQ2_BN / IQ1_BN: the row's float scale).
  int64_t rowPrefixBytes = 0;
  /// Bytes the tensor carries after all rows (I2_S: the scale, padded to 32).
  int64_t tensorSuffixBytes = 0;
};

/// The type file id `id` stands for, or null for an id tern does not know.
const GgmlTypeInfo *typeForId(uint32_t id);
/// The info of `type`.
const GgmlTypeInfo &typeInfo(GgmlType type);
llvm::StringRef typeName(GgmlType type);

/// Bytes of a tensor with `rows` rows of `rowElems` elements, or std::nullopt when rowElems is
/// not a whole number of blocks or the size overflows.
std::optional<uint64_t> tensorBytes(const GgmlTypeInfo &info, int64_t rowElems, int64_t rows);

} // namespace tern::gguf

#endif // TERN_FRONTENDS_GGUF_GGMLTYPE_H
