//===- DequantizeBlocks.cpp - ggml's other block types, dequantized as llama.cpp does ---------===//
//
// The block layouts of ggml-common.h and the arithmetic of ggml-quants.c's dequantize_row_q4_1,
// _q5_0, _q5_1, _q4_K and _q5_K: every product and sum in float32, in llama.cpp's order.
//
//===------------------------------------------------------------------------------------------===//
#include "frontends/gguf/DequantizeBlocks.h"

#include "dialects/weights/DType.h"

#include <cstring>

using namespace tern;
using namespace tern::gguf;

#pragma STDC FP_CONTRACT OFF

namespace {

float half(const uint8_t *p) { return halfToFloat(uint16_t(p[0] | (p[1] << 8))); }

/// The 6-bit scale and min of sub-block j (0..7) of a K-quant's 12 packed bytes.
void scaleMinK4(int j, const uint8_t *q, uint8_t &d, uint8_t &m) {
  if (j < 4) {
    d = q[j] & 63;
    m = q[j + 4] & 63;
  } else {
    d = uint8_t((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
    m = uint8_t((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
  }
}

void q4_1(const uint8_t *b, float *y) { // {half d; half m; uint8 qs[16]}
  float d = half(b), m = half(b + 2);
  for (int j = 0; j < 16; ++j) {
    y[j] = float(b[4 + j] & 0x0F) * d + m;
    y[j + 16] = float(b[4 + j] >> 4) * d + m;
  }
}

void q5(const uint8_t *b, float *y, bool withMin) { // {half d; [half m;] uint8 qh[4]; qs[16]}
  float d = half(b), m = withMin ? half(b + 2) : 0.0f;
  const uint8_t *qhBytes = b + (withMin ? 4 : 2), *qs = qhBytes + 4;
  uint32_t qh;
  std::memcpy(&qh, qhBytes, 4);
  for (int j = 0; j < 16; ++j) {
    uint8_t xh0 = uint8_t(((qh >> (j + 0)) << 4) & 0x10);
    uint8_t xh1 = uint8_t(((qh >> (j + 12))) & 0x10);
    if (withMin) {
      y[j] = float((qs[j] & 0x0F) | xh0) * d + m;
      y[j + 16] = float((qs[j] >> 4) | xh1) * d + m;
    } else {
      y[j] = float(int32_t((qs[j] & 0x0F) | xh0) - 16) * d;
      y[j + 16] = float(int32_t((qs[j] >> 4) | xh1) - 16) * d;
    }
  }
}

/// Q4_K ({half d; half dmin; scales[12]; qs[128]}) and, with `five`, Q5_K (qh[32] before qs:
/// bit 2i of qh[l] is the fifth bit of the low nibble's element in 64-block i, bit 2i + 1 the
/// high nibble's), as dequantize_row_q4_K / q5_K share their loop.
void qK(const uint8_t *b, float *y, bool five) {
  float d = half(b), min = half(b + 2);
  const uint8_t *scales = b + 4, *qh = b + 16, *ql = b + (five ? 48 : 16);
  int is = 0;
  uint8_t u1 = 1, u2 = 2;
  for (int j = 0; j < 256; j += 64) {
    uint8_t sc, m;
    scaleMinK4(is + 0, scales, sc, m);
    float d1 = d * float(sc), m1 = min * float(m);
    scaleMinK4(is + 1, scales, sc, m);
    float d2 = d * float(sc), m2 = min * float(m);
    for (int l = 0; l < 32; ++l)
      *y++ = d1 * float((ql[l] & 0xF) + (five && (qh[l] & u1) ? 16 : 0)) - m1;
    for (int l = 0; l < 32; ++l)
      *y++ = d2 * float((ql[l] >> 4) + (five && (qh[l] & u2) ? 16 : 0)) - m2;
    ql += 32;
    is += 2;
    u1 = uint8_t(u1 << 2);
    u2 = uint8_t(u2 << 2);
  }
}

} // namespace

bool tern::gguf::canDequantize(GgmlType type) {
  switch (type) {
  case GgmlType::Q4_1: case GgmlType::Q5_0: case GgmlType::Q5_1: case GgmlType::Q4_K:
  case GgmlType::Q5_K:
    return true;
  default:
    return false;
  }
}

void tern::gguf::dequantize(GgmlType type, const uint8_t *blocks, int64_t count, float *out) {
  const GgmlTypeInfo &info = typeInfo(type);
  for (int64_t b = 0; b < count / info.blockElems; ++b) {
    const uint8_t *in = blocks + b * info.blockBytes;
    float *y = out + b * info.blockElems;
    switch (type) {
    case GgmlType::Q4_1: q4_1(in, y); break;
    case GgmlType::Q5_0: q5(in, y, /*withMin=*/false); break;
    case GgmlType::Q5_1: q5(in, y, /*withMin=*/true); break;
    case GgmlType::Q4_K: qK(in, y, /*five=*/false); break;
    case GgmlType::Q5_K: qK(in, y, /*five=*/true); break;
    default: break;
    }
  }
}
