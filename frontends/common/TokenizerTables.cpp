//===- TokenizerTables.cpp - the runtime's tokenizer tensors, from any frontend ---------------===//
#include "frontends/common/TokenizerTables.h"

#include <algorithm>
#include <cstring>

using namespace tern;

const char *const tern::kTokenizerTensors[7] = {
    "tokenizer.vocab",   "tokenizer.offsets", "tokenizer.merges", "tokenizer.special",
    "tokenizer.pattern", "tokenizer.config",  "tokenizer.eog"};
const char *const tern::kEndOfTurnTokens[5] = {"<|eot_id|>", "<|eom_id|>", "<|im_end|>",
                                               "<|end|>", "<end_of_turn>"};
const char *const tern::kGpt2Pattern =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
const char *const tern::kLlama3Pattern =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| "
    "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

const char *const tern::kWholeSpanPattern = "(?s:.+)";
const char *const tern::kMetaspaceSplitPattern = "\u2581[^\u2581]*|[^\u2581]+";

llvm::DenseMap<uint32_t, uint8_t> tern::byteLevelDecoder() {
  // Printable Latin-1 bytes stand for themselves; the others are 256, 257, ... in byte order.
  llvm::DenseMap<uint32_t, uint8_t> decode;
  uint32_t next = 256;
  for (uint32_t b = 0; b < 256; ++b) {
    bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
    decode[printable ? b : next++] = uint8_t(b);
  }
  return decode;
}

bool tern::decodeByteLevel(llvm::StringRef text, const llvm::DenseMap<uint32_t, uint8_t> &decode,
                           std::string &bytes) {
  bytes.clear();
  for (size_t i = 0; i < text.size();) {
    uint8_t c = uint8_t(text[i]);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : 4;
    if (i + len > text.size())
      return false;
    uint32_t cp = len == 1 ? c : len == 2 ? c & 0x1f : len == 3 ? c & 0x0f : c & 0x07;
    for (size_t j = 1; j < len; ++j)
      cp = (cp << 6) | (uint8_t(text[i + j]) & 0x3f);
    auto it = decode.find(cp);
    if (it == decode.end())
      return false;
    bytes.push_back(char(it->second));
    i += len;
  }
  return true;
}

llvm::Error tern::addConvertedTensor(WeightStore &store, const char *name, DType dtype,
                                     llvm::SmallVector<int64_t, 4> shape,
                                     std::vector<uint8_t> bytes, llvm::StringRef origin) {
  StoredTensor t;
  t.name = name;
  t.dtype = dtype;
  t.shape = std::move(shape);
  t.origin = ("converted from " + origin).str();
  return store.addDerived(std::move(t), std::move(bytes));
}

namespace {
template <typename T>
llvm::Error addTensor(WeightStore &store, const char *name, DType dtype,
                      llvm::SmallVector<int64_t, 4> shape, const std::vector<T> &values,
                      llvm::StringRef origin) {
  std::vector<uint8_t> bytes(values.size() * sizeof(T));
  if (!values.empty())
    std::memcpy(bytes.data(), values.data(), bytes.size());
  return addConvertedTensor(store, name, dtype, std::move(shape), std::move(bytes), origin);
}
} // namespace

llvm::Error tern::addTokenizerTensors(const TokenizerTables &tables, llvm::StringRef origin,
                                      llvm::StringRef vocabField, WeightStore &store) {
  // Byte-level BPE starts every piece from single bytes: all 256 must be tokens.
  std::vector<bool> single(256, tables.kind != TokenizerKind::ByteLevel);
  for (const std::string &t : tables.tokens)
    if (t.size() == 1)
      single[uint8_t(t[0])] = true;
  for (int b = 0; b < 256; ++b)
    if (!single[size_t(b)])
      return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                     "%s: %s: no token for the byte %d (a byte-level "
                                     "vocabulary has all 256)",
                                     origin.str().c_str(), vocabField.str().c_str(), b);
  std::vector<uint8_t> bytes;
  std::vector<int64_t> offsets{0};
  for (const std::string &t : tables.tokens) {
    bytes.insert(bytes.end(), t.begin(), t.end());
    offsets.push_back(int64_t(bytes.size()));
  }
  std::vector<uint8_t> patternBytes(tables.pattern.begin(), tables.pattern.end());
  std::vector<int64_t> config{tables.ignoreMerges ? 1 : 0,
                              tables.bos,
                              tables.eos,
                              /*version=*/2,
                              int64_t(tables.kind),
                              int64_t(tables.prepend),
                              tables.stripLeadingSpace ? 1 : 0,
                              tables.unk,
                              tables.fuseUnk ? 1 : 0,
                              tables.byteFallback ? 1 : 0};
  int64_t v = int64_t(tables.tokens.size());
  std::vector<int32_t> eog;
  for (int64_t id : tables.endOfGeneration) {
    if (id < 0 || id >= v)
      return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                     "%s: end-of-sequence id %lld is outside the vocabulary of "
                                     "%lld tokens",
                                     origin.str().c_str(), (long long)id, (long long)v);
    eog.push_back(int32_t(id));
  }
  if (tables.eos >= 0)
    eog.push_back(int32_t(tables.eos));
  for (int32_t id : tables.special)
    for (const char *text : kEndOfTurnTokens)
      if (tables.tokens[size_t(id)] == text)
        eog.push_back(id);
  std::sort(eog.begin(), eog.end());
  eog.erase(std::unique(eog.begin(), eog.end()), eog.end());
  if (llvm::Error e = addTensor(store, kTokenizerTensors[0], DType::U8, {int64_t(bytes.size())},
                                bytes, origin))
    return e;
  if (llvm::Error e = addTensor(store, kTokenizerTensors[1], DType::I64, {v + 1}, offsets, origin))
    return e;
  if (llvm::Error e = addTensor(store, kTokenizerTensors[2], DType::I32,
                                {int64_t(tables.merges.size() / 3), 3}, tables.merges, origin))
    return e;
  if (llvm::Error e = addTensor(store, kTokenizerTensors[3], DType::I32,
                                {int64_t(tables.special.size())}, tables.special, origin))
    return e;
  if (llvm::Error e = addTensor(store, kTokenizerTensors[4], DType::U8,
                                {int64_t(patternBytes.size())}, patternBytes, origin))
    return e;
  if (llvm::Error e = addTensor(store, kTokenizerTensors[5], DType::I64,
                                {int64_t(config.size())}, config, origin))
    return e;
  if (eog.empty())
    return llvm::Error::success();
  return addTensor(store, kTokenizerTensors[6], DType::I32, {int64_t(eog.size())}, eog, origin);
}
