//===- DType.cpp - element types of stored tensors --------------------------------------------===//
#include "dialects/weights/DType.h"

#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/ErrorHandling.h"

#include <algorithm>
#include <cmath>

using namespace tern;

llvm::StringRef tern::dtypeName(DType t) {
  switch (t) {
  case DType::Bool: return "BOOL";
  case DType::U8: return "U8";
  case DType::I8: return "I8";
  case DType::U16: return "U16";
  case DType::I16: return "I16";
  case DType::F16: return "F16";
  case DType::BF16: return "BF16";
  case DType::U32: return "U32";
  case DType::I32: return "I32";
  case DType::F32: return "F32";
  case DType::U64: return "U64";
  case DType::I64: return "I64";
  case DType::F64: return "F64";
  case DType::F8E4M3: return "F8_E4M3";
  case DType::F8E5M2: return "F8_E5M2";
  }
  llvm_unreachable("unknown DType");
}

std::optional<DType> tern::parseDType(llvm::StringRef name) {
  return llvm::StringSwitch<std::optional<DType>>(name)
      .Case("BOOL", DType::Bool)
      .Case("U8", DType::U8)
      .Case("I8", DType::I8)
      .Case("U16", DType::U16)
      .Case("I16", DType::I16)
      .Case("F16", DType::F16)
      .Case("BF16", DType::BF16)
      .Case("U32", DType::U32)
      .Case("I32", DType::I32)
      .Case("F32", DType::F32)
      .Case("U64", DType::U64)
      .Case("I64", DType::I64)
      .Case("F64", DType::F64)
      .Case("F8_E4M3", DType::F8E4M3)
      .Case("F8_E5M2", DType::F8E5M2)
      .Default(std::nullopt);
}

unsigned tern::dtypeSize(DType t) {
  switch (t) {
  case DType::Bool:
  case DType::U8:
  case DType::I8:
  case DType::F8E4M3:
  case DType::F8E5M2:
    return 1;
  case DType::U16:
  case DType::I16:
  case DType::F16:
  case DType::BF16:
    return 2;
  case DType::U32:
  case DType::I32:
  case DType::F32:
    return 4;
  case DType::U64:
  case DType::I64:
  case DType::F64:
    return 8;
  }
  llvm_unreachable("unknown DType");
}

bool tern::isFloat(DType t) {
  return t == DType::F16 || t == DType::BF16 || t == DType::F32 || t == DType::F64 ||
         t == DType::F8E4M3 || t == DType::F8E5M2;
}

float tern::halfToFloat(uint16_t h) {
  uint32_t sign = uint32_t(h >> 15) << 31;
  uint32_t exp = (h >> 10) & 0x1f;
  uint32_t mant = h & 0x3ff;
  uint32_t bits;
  if (exp == 0x1f) { // inf / nan
    bits = sign | 0x7f800000u | (mant << 13);
  } else if (exp != 0) { // normal
    bits = sign | ((exp + 112) << 23) | (mant << 13);
  } else if (mant == 0) { // zero
    bits = sign;
  } else { // subnormal: value = mant * 2^-24
    float f = std::ldexp(float(mant), -24);
    return sign ? -f : f;
  }
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

uint16_t tern::floatToBF16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, sizeof bits);
  if ((bits & 0x7fffffffu) > 0x7f800000u) // NaN: keep it quiet
    return uint16_t((bits >> 16) | 0x40);
  uint32_t rounding = 0x7fff + ((bits >> 16) & 1);
  return uint16_t((bits + rounding) >> 16);
}

uint16_t tern::floatToHalf(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, sizeof bits);
  uint16_t sign = uint16_t((bits >> 16) & 0x8000);
  uint32_t abs = bits & 0x7fffffffu;
  if (abs > 0x7f800000u)
    return sign | 0x7e00; // NaN
  if (abs >= 0x477ff000u) // rounds to >= 65520: infinity
    return sign | 0x7c00;
  if (abs < 0x38800000u) { // below the smallest normal half (2^-14): subnormal or zero
    float a;
    std::memcpy(&a, &abs, sizeof a);
    // Subnormal halves are multiples of 2^-24; nearbyint rounds half to even.
    return sign | uint16_t(std::nearbyint(a * 16777216.0f));
  }
  uint32_t rounding = 0xfff + ((abs >> 13) & 1);
  abs += rounding;
  return sign | uint16_t(((abs >> 13) - (112u << 10)) & 0x7fff);
}

float tern::loadFloat(DType t, const uint8_t *data, int64_t i) {
  switch (t) {
  case DType::F32: {
    float f;
    std::memcpy(&f, data + 4 * i, 4);
    return f;
  }
  case DType::F64: {
    double d;
    std::memcpy(&d, data + 8 * i, 8);
    return float(d);
  }
  case DType::F16: {
    uint16_t h;
    std::memcpy(&h, data + 2 * i, 2);
    return halfToFloat(h);
  }
  case DType::BF16: {
    uint16_t b;
    std::memcpy(&b, data + 2 * i, 2);
    return bf16ToFloat(b);
  }
  default:
    llvm_unreachable("loadFloat on a non-float dtype");
  }
}

std::string tern::shapeString(llvm::ArrayRef<int64_t> shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

namespace {
/// The first element of `count` (bits of type T) whose exponent bits `mask` are all ones,
/// chunk by chunk: a branch-free scan of each chunk (which vectorizes), a search only in the
/// chunk that has one.
template <typename T>
std::optional<int64_t> firstAllOnes(const uint8_t *data, int64_t count, T mask) {
  constexpr int64_t kChunk = 4096;
  for (int64_t first = 0; first < count; first += kChunk) {
    int64_t n = std::min(kChunk, count - first);
    bool any = false;
    for (int64_t i = 0; i < n; ++i) {
      T v;
      std::memcpy(&v, data + sizeof(T) * size_t(first + i), sizeof(T));
      any |= (v & mask) == mask;
    }
    if (!any)
      continue;
    for (int64_t i = 0; i < n; ++i) {
      T v;
      std::memcpy(&v, data + sizeof(T) * size_t(first + i), sizeof(T));
      if ((v & mask) == mask)
        return first + i;
    }
  }
  return std::nullopt;
}
} // namespace

std::optional<int64_t> tern::firstNonFinite(DType t, const uint8_t *data, int64_t count) {
  switch (t) {
  case DType::F16: return firstAllOnes<uint16_t>(data, count, 0x7c00);
  case DType::BF16: return firstAllOnes<uint16_t>(data, count, 0x7f80);
  case DType::F32: return firstAllOnes<uint32_t>(data, count, 0x7f800000u);
  case DType::F64: return firstAllOnes<uint64_t>(data, count, 0x7ff0000000000000ull);
  default: return std::nullopt;
  }
}
