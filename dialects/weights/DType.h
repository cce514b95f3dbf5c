//===- DType.h - element types of stored tensors ------------------------------------*- C++ -*-===//
//
// The element types a checkpoint tensor can have, named as safetensors names them, with sizes,
// conversions of the 16-bit float formats, and how messages print shapes.
//
//===------------------------------------------------------------------------------------------===//
#ifndef TERN_DIALECTS_WEIGHTS_DTYPE_H
#define TERN_DIALECTS_WEIGHTS_DTYPE_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>

namespace tern {

enum class DType : uint8_t {
  Bool, U8, I8, U16, I16, F16, BF16, U32, I32, F32, U64, I64, F64, F8E4M3, F8E5M2,
};

/// The safetensors name ("BF16", "U8", ...).
llvm::StringRef dtypeName(DType t);
/// Parses a safetensors dtype name; std::nullopt for an unknown name.
std::optional<DType> parseDType(llvm::StringRef name);
/// Bytes per element.
unsigned dtypeSize(DType t);
bool isFloat(DType t);

/// IEEE half and bfloat16 to float (exact). Little-endian storage.
float halfToFloat(uint16_t h);
inline float bf16ToFloat(uint16_t b) {
  uint32_t bits = uint32_t(b) << 16;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}
/// float to bfloat16 / half, rounding to nearest even (NaN stays NaN).
uint16_t floatToBF16(float f);
uint16_t floatToHalf(float f);

/// "[2560, 640]": a shape as messages print it.
std::string shapeString(llvm::ArrayRef<int64_t> shape);

/// The index of the first infinity or NaN among `count` elements of a float tensor of type `t`
/// (F16, BF16, F32, F64), or std::nullopt. Importers refuse such tables: the kernels that read
/// them assume finite values (a NaN weight would turn every logit into NaN silently).
std::optional<int64_t> firstNonFinite(DType t, const uint8_t *data, int64_t count);

/// Reads element `i` of a float tensor of type `t` (F32, F16, BF16, F64) as float.
float loadFloat(DType t, const uint8_t *data, int64_t i);

} // namespace tern

#endif // TERN_DIALECTS_WEIGHTS_DTYPE_H
