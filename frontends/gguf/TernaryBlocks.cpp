//===- TernaryBlocks.cpp - ggml's ternary tensor types, decoded and encoded -------------------===//
//
// Element orders as ggml-quants.c (TQ1_0, TQ2_0, Q2_0), bitnet.cpp's quantize_i2_s and
// ik_llama.cpp's iqk_quantize.cpp write them; see TernaryBlocks.h.
//
//===------------------------------------------------------------------------------------------===//
#include "frontends/gguf/TernaryBlocks.h"

#include "dialects/weights/DType.h"

#include "llvm/Support/Parallel.h"

#include <atomic>
#include <cstring>

using namespace tern;
using namespace tern::gguf;

namespace {

constexpr int64_t kQK = 256; // TQ1_0 / TQ2_0 block
constexpr int64_t kQ2 = 64;  // Q2_0 block
constexpr int64_t kI2 = 128; // I2_S block
constexpr int64_t kBN = 64;  // IQ1_BN / IQ2_BN block

float loadHalf(const uint8_t *p) { return halfToFloat(uint16_t(p[0] | (p[1] << 8))); }
void storeHalf(uint8_t *p, float f) {
  uint16_t h = floatToHalf(f);
  p[0] = uint8_t(h), p[1] = uint8_t(h >> 8);
}
float loadF32(const uint8_t *p) {
  float f;
  std::memcpy(&f, p, 4);
  return f;
}

/// Trit `n` (0 = most significant of 5) of a base-3 byte: ggml's multiply-and-wrap decoding.
int trit(uint8_t byte, int n) {
  static const uint8_t pow3[5] = {1, 3, 9, 27, 81};
  uint8_t q = uint8_t(byte * pow3[n]);
  return (uint16_t(q) * 3) >> 8;
}
/// The byte of a 5-trit value v (0..242): ceil(v * 256 / 243).
uint8_t tritByte(int v) { return uint8_t((v * 256 + 242) / 243); }

/// Position of TQ1_0 element e (0..255): byte index in the 52 code bytes and trit (0 = MSB).
void tq1Position(int e, int &byte, int &n) {
  if (e < 160)
    byte = e % 32, n = e / 32;
  else if (e < 240)
    byte = 32 + (e - 160) % 16, n = (e - 160) / 16;
  else
    byte = 48 + (e - 240) % 4, n = (e - 240) / 4;
}
/// TQ2_0 element e: byte and shift.
void tq2Position(int e, int &byte, int &shift) {
  byte = 32 * (e / 128) + e % 32;
  shift = 2 * ((e % 128) / 32);
}
/// I2_S element e of a 128 block: byte and shift (group 0 in the top bits).
void i2Position(int e, int &byte, int &shift) {
  byte = e % 32;
  shift = 6 - 2 * (e / 32);
}
/// IQ1_BN element e (0..63) of a block: byte (0..12) and trit (0 = MSB of 5, as trit() counts).
void iq1Position(int e, int &byte, int &n) {
  int g = e / 16, r = e % 16;
  if (r == 15) // the "extra" byte holds element 16 g + 15 at base-3 digit g
    byte = 12, n = 4 - g;
  else
    byte = 3 * g + r / 5, n = 4 - r % 5;
}

/// The four 2-bit codes of a byte as weights (bits 2i..2i+1 -> entry i; code 3 -> 0), and
/// whether the byte holds a code 3: one lookup per byte for the 2-bit types.
struct TwoBitTable {
  int8_t value[256][4];
  bool three[256];
  TwoBitTable() {
    for (int b = 0; b < 256; ++b) {
      three[b] = false;
      for (int i = 0; i < 4; ++i) {
        int code = (b >> (2 * i)) & 3;
        value[b][i] = int8_t(code == 3 ? 0 : code - 1);
        three[b] = three[b] || code == 3;
      }
    }
  }
};
const TwoBitTable &twoBit() {
  static const TwoBitTable table;
  return table;
}

/// I2_S's and TQ2_0's codes a whole 32-byte group at a time (the layouts whose element order is
/// "byte p, field i -> element base + 32 i' + p"), in parallel over groups. `fieldOf` maps the
/// element group g (0..3) to the bit field holding it. Returns whether any byte held a code 3.
bool decodeGroups(const uint8_t *codes, int64_t groups, int64_t groupStride, int8_t *out,
                  int64_t outStride, const int fieldOf[4]) {
  const TwoBitTable &t = twoBit();
  std::atomic<bool> three{false};
  llvm::parallelFor(0, size_t((groups + 4095) / 4096), [&](size_t chunk) {
    bool local = false;
    int64_t end = std::min(groups, int64_t(chunk + 1) * 4096);
    for (int64_t g = int64_t(chunk) * 4096; g < end; ++g) {
      const uint8_t *src = codes + g * groupStride;
      int8_t *dst = out + g * outStride;
      for (int p = 0; p < 32; ++p) {
        uint8_t b = src[p];
        for (int e = 0; e < 4; ++e)
          dst[32 * e + p] = t.value[b][fieldOf[e]];
        local |= t.three[b];
      }
    }
    if (local)
      three = true;
  });
  return three;
}

} // namespace

bool tern::gguf::isTernaryType(GgmlType type) {
  switch (type) {
  case GgmlType::TQ1_0: case GgmlType::TQ2_0: case GgmlType::Q2_0: case GgmlType::I2_S:
  case GgmlType::IQ1_BN: case GgmlType::IQ2_BN:
    return true;
  default:
    return false;
  }
}

int64_t tern::gguf::scaleBlockCols(GgmlType type, int64_t cols) {
  switch (type) {
  case GgmlType::TQ1_0: case GgmlType::TQ2_0: return kQK;
  case GgmlType::Q2_0: return kQ2;
  case GgmlType::IQ1_BN: case GgmlType::IQ2_BN: return cols;
  default: return 0;
  }
}

std::optional<BadCode> tern::gguf::decodeTernary(GgmlType type, llvm::ArrayRef<uint8_t> bytes,
                                                 int64_t rows, int64_t cols,
                                                 DecodedTernary &out) {
  out.values.assign(size_t(rows * cols), 0);
  int8_t *v = out.values.data();
  const uint8_t *p = bytes.data();
  std::optional<BadCode> bad;
  auto code2 = [&](int64_t row, int64_t col, int code) {
    if (code == 3 && !bad)
      bad = BadCode{row, col, code};
    v[row * cols + col] = int8_t(code == 3 ? 0 : code - 1);
  };
  switch (type) {
  case GgmlType::TQ1_0:
  case GgmlType::TQ2_0:
  case GgmlType::Q2_0: {
    int64_t block = type == GgmlType::Q2_0 ? kQ2 : kQK, per = cols / block;
    int64_t size = typeInfo(type).blockBytes;
    out.blockCols = block;
    out.scales.resize(size_t(rows * per));
    if (type == GgmlType::TQ2_0) {
      // Each 66-byte block is two 32-byte groups of 128 elements; element 32 n + m of a group
      // is field n of byte m.
      static const int fields[4] = {0, 1, 2, 3};
      for (int64_t b = 0; b < rows * per; ++b)
        out.scales[size_t(b)] = loadHalf(p + b * size + 64);
      bool three = false;
      for (int half = 0; half < 2; ++half)
        three |= decodeGroups(p + 32 * half, rows * per, size, v + 128 * half, kQK, fields);
      if (!three)
        return std::nullopt;
    }
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t b = 0; b < per; ++b) {
        const uint8_t *blk = p + (r * per + b) * size;
        int64_t col0 = b * block;
        if (type == GgmlType::TQ1_0) {
          out.scales[size_t(r * per + b)] = loadHalf(blk + 52);
          for (int e = 0; e < kQK; ++e) {
            int byte, n;
            tq1Position(e, byte, n);
            v[r * cols + col0 + e] = int8_t(trit(blk[byte], n) - 1);
          }
        } else if (type == GgmlType::TQ2_0) {
          out.scales[size_t(r * per + b)] = loadHalf(blk + 64);
          for (int e = 0; e < kQK; ++e) {
            int byte, shift;
            tq2Position(e, byte, shift);
            code2(r, col0 + e, (blk[byte] >> shift) & 3);
          }
        } else {
          out.scales[size_t(r * per + b)] = loadHalf(blk);
          for (int e = 0; e < kQ2; ++e)
            code2(r, col0 + e, (blk[2 + e / 4] >> (2 * (e % 4))) & 3);
        }
      }
    return bad;
  }
  case GgmlType::I2_S: {
    int64_t n = rows * cols;
    out.blockCols = n;
    out.scales = {loadF32(p + n / 4)};
    // Element 32 g + p of a 128-block is field 3 - g (the top bits first).
    static const int fields[4] = {3, 2, 1, 0};
    if (!decodeGroups(p, n / kI2, 32, v, kI2, fields))
      return std::nullopt;
    for (int64_t i = 0; i < n; ++i) { // a code 3 somewhere: find the first
      int byte, shift;
      i2Position(int(i % kI2), byte, shift);
      code2(i / cols, i % cols, (p[i / kI2 * 32 + byte] >> shift) & 3);
    }
    return bad;
  }
  case GgmlType::IQ1_BN:
  case GgmlType::IQ2_BN: {
    bool one = type == GgmlType::IQ1_BN;
    const GgmlTypeInfo &info = typeInfo(type);
    int64_t rowBytes = info.rowPrefixBytes + cols / kBN * info.blockBytes;
    out.blockCols = cols;
    out.scales.resize(size_t(rows));
    for (int64_t r = 0; r < rows; ++r) {
      const uint8_t *row = p + r * rowBytes;
      out.scales[size_t(r)] = one ? loadHalf(row) : loadF32(row);
      const uint8_t *blocks = row + info.rowPrefixBytes;
      for (int64_t c = 0; c < cols; ++c) {
        const uint8_t *blk = blocks + c / kBN * info.blockBytes;
        int e = int(c % kBN), byte, n;
        if (one) {
          iq1Position(e, byte, n);
          v[r * cols + c] = int8_t(trit(blk[byte], n) - 1);
        } else {
          code2(r, c, (blk[e % 16] >> (2 * (e / 16))) & 3);
        }
      }
    }
    return bad;
  }
  default:
    return BadCode{0, 0, -1};
  }
}

std::vector<uint8_t> tern::gguf::encodeTernary(GgmlType type, const int8_t *values,
                                               const float *scales, int64_t rows, int64_t cols) {
  const GgmlTypeInfo &info = typeInfo(type);
  std::vector<uint8_t> out(*tensorBytes(info, cols, rows), 0);
  uint8_t *p = out.data();
  auto code = [&](int64_t r, int64_t c) { return int(values[r * cols + c]) + 1; };
  switch (type) {
  case GgmlType::TQ1_0:
  case GgmlType::TQ2_0:
  case GgmlType::Q2_0: {
    int64_t block = type == GgmlType::Q2_0 ? kQ2 : kQK, per = cols / block;
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t b = 0; b < per; ++b) {
        uint8_t *blk = p + (r * per + b) * info.blockBytes;
        int64_t col0 = b * block;
        float d = scales[r * per + b];
        if (type == GgmlType::TQ1_0) {
          int v[52] = {0};
          for (int e = 0; e < kQK; ++e) {
            int byte, n;
            tq1Position(e, byte, n);
            static const int pow3[5] = {81, 27, 9, 3, 1};
            v[byte] += code(r, col0 + e) * pow3[n];
          }
          for (int i = 0; i < 52; ++i)
            blk[i] = tritByte(v[i]);
          storeHalf(blk + 52, d);
        } else if (type == GgmlType::TQ2_0) {
          for (int e = 0; e < kQK; ++e) {
            int byte, shift;
            tq2Position(e, byte, shift);
            blk[byte] |= uint8_t(code(r, col0 + e) << shift);
          }
          storeHalf(blk + 64, d);
        } else {
          storeHalf(blk, d);
          for (int e = 0; e < kQ2; ++e)
            blk[2 + e / 4] |= uint8_t(code(r, col0 + e) << (2 * (e % 4)));
        }
      }
    return out;
  }
  case GgmlType::I2_S: {
    int64_t n = rows * cols;
    for (int64_t i = 0; i < n; ++i) {
      int byte, shift;
      i2Position(int(i % kI2), byte, shift);
      p[i / kI2 * 32 + byte] |= uint8_t(code(i / cols, i % cols) << shift);
    }
    std::memcpy(p + n / 4, &scales[0], 4);
    return out;
  }
  case GgmlType::IQ1_BN:
  case GgmlType::IQ2_BN: {
    bool one = type == GgmlType::IQ1_BN;
    int64_t rowBytes = info.rowPrefixBytes + cols / kBN * info.blockBytes;
    for (int64_t r = 0; r < rows; ++r) {
      uint8_t *row = p + r * rowBytes;
      if (one)
        storeHalf(row, scales[r]);
      else
        std::memcpy(row, &scales[r], 4);
      uint8_t *blocks = row + info.rowPrefixBytes;
      for (int64_t b = 0; b < cols / kBN; ++b) {
        uint8_t *blk = blocks + b * info.blockBytes;
        if (one) {
          int v[13] = {0};
          static const int pow3[5] = {81, 27, 9, 3, 1};
          for (int e = 0; e < kBN; ++e) {
            int byte, n;
            iq1Position(e, byte, n);
            v[byte] += code(r, b * kBN + e) * pow3[n];
          }
          for (int i = 0; i < 13; ++i)
            blk[i] = tritByte(v[i]);
        } else {
          for (int e = 0; e < kBN; ++e)
            blk[e % 16] |= uint8_t(code(r, b * kBN + e) << (2 * (e / 16)));
        }
      }
    }
    return out;
  }
  default:
    return {};
  }
}

std::vector<uint8_t> tern::gguf::q4_0ToQ8_0(llvm::ArrayRef<uint8_t> q4, int64_t blocks) {
  std::vector<uint8_t> out(size_t(blocks) * 34);
  for (int64_t b = 0; b < blocks; ++b) {
    const uint8_t *in = q4.data() + b * 18;
    uint8_t *o = out.data() + b * 34;
    o[0] = in[0], o[1] = in[1]; // the same d
    for (int j = 0; j < 16; ++j) {
      o[2 + j] = uint8_t(int8_t((in[2 + j] & 0xf) - 8));
      o[2 + 16 + j] = uint8_t(int8_t((in[2 + j] >> 4) - 8));
    }
  }
  return out;
}
