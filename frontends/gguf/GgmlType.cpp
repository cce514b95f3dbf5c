//===- GgmlType.cpp - ggml tensor type ids and their block sizes ------------------------------===//
#include "frontends/gguf/GgmlType.h"

using namespace tern::gguf;

namespace {
// id, name, elements and bytes per block, row prefix, tensor suffix (ggml-common.h's structs).
const GgmlTypeInfo kTypes[] = {
    {GgmlType::F32, 0, "f32", 1, 4},
    {GgmlType::F16, 1, "f16", 1, 2},
    {GgmlType::Q4_0, 2, "q4_0", 32, 18},
    {GgmlType::Q4_1, 3, "q4_1", 32, 20},
    {GgmlType::Q5_0, 6, "q5_0", 32, 22},
    {GgmlType::Q5_1, 7, "q5_1", 32, 24},
    {GgmlType::Q8_0, 8, "q8_0", 32, 34},
    {GgmlType::Q8_1, 9, "q8_1", 32, 36},
    {GgmlType::Q2_K, 10, "q2_K", 256, 84},
    {GgmlType::Q3_K, 11, "q3_K", 256, 110},
    {GgmlType::Q4_K, 12, "q4_K", 256, 144},
    {GgmlType::Q5_K, 13, "q5_K", 256, 176},
    {GgmlType::Q6_K, 14, "q6_K", 256, 210},
    {GgmlType::Q8_K, 15, "q8_K", 256, 292},
    {GgmlType::IQ2_XXS, 16, "iq2_xxs", 256, 66},
    {GgmlType::IQ2_XS, 17, "iq2_xs", 256, 74},
    {GgmlType::IQ3_XXS, 18, "iq3_xxs", 256, 98},
    {GgmlType::IQ1_S, 19, "iq1_s", 256, 50},
    {GgmlType::IQ4_NL, 20, "iq4_nl", 32, 18},
    {GgmlType::IQ3_S, 21, "iq3_s", 256, 110},
    {GgmlType::IQ2_S, 22, "iq2_s", 256, 82},
    {GgmlType::IQ4_XS, 23, "iq4_xs", 256, 136},
    {GgmlType::I8, 24, "i8", 1, 1},
    {GgmlType::I16, 25, "i16", 1, 2},
    {GgmlType::I32, 26, "i32", 1, 4},
    {GgmlType::I64, 27, "i64", 1, 8},
    {GgmlType::F64, 28, "f64", 1, 8},
    {GgmlType::IQ1_M, 29, "iq1_m", 256, 56},
    {GgmlType::BF16, 30, "bf16", 1, 2},
    {GgmlType::TQ1_0, 34, "tq1_0", 256, 54},
    {GgmlType::TQ2_0, 35, "tq2_0", 256, 66},
    // bitnet.cpp: nelements / 4 bytes of codes (128-element blocks of 32 bytes), then one float
    // scale padded to 32 bytes.
    {GgmlType::I2_S, 36, "i2_s", 128, 32, 0, 32},
    {GgmlType::MXFP4, 39, "mxfp4", 32, 17},
    {GgmlType::Q1_0, 41, "q1_0", 128, 18},
    {GgmlType::Q2_0, 42, "q2_0", 64, 18},
    // ik_llama.cpp: each row starts with its scale (fp16 for IQ1_BN, float for IQ2_BN).
    {GgmlType::IQ1_BN, 134, "iq1_bn", 64, 13, 2},
    {GgmlType::IQ2_BN, 135, "iq2_bn", 64, 16, 4},
};
} // namespace

const GgmlTypeInfo *tern::gguf::typeForId(uint32_t id) {
  for (const GgmlTypeInfo &t : kTypes)
    if (t.id == id)
      return &t;
  return nullptr;
}

const GgmlTypeInfo &tern::gguf::typeInfo(GgmlType type) {
  for (const GgmlTypeInfo &t : kTypes)
    if (t.type == type)
      return t;
  __builtin_unreachable();
}

llvm::StringRef tern::gguf::typeName(GgmlType type) { return typeInfo(type).name; }

std::optional<uint64_t> tern::gguf::tensorBytes(const GgmlTypeInfo &info, int64_t rowElems,
                                                int64_t rows) {
  if (rowElems <= 0 || rows <= 0 || rowElems % info.blockElems)
    return std::nullopt;
  unsigned __int128 row = (unsigned __int128)(rowElems / info.blockElems) * info.blockBytes +
                          info.rowPrefixBytes;
  unsigned __int128 total = row * (unsigned __int128)rows + info.tensorSuffixBytes;
  if (total > (unsigned __int128)INT64_MAX)
    return std::nullopt;
  return uint64_t(total);
}
