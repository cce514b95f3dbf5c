//===- TokenizerTables.h - the runtime's tokenizer tensors, from any frontend -------*- C++ -*-===//
//
// A byte-level BPE tokenizer as runtime/include/tern/tokenizer.h stores it in the weights blob
// (tokenizer.vocab, .offsets, .merges, .special, .pattern, .config), built from whichever file
// holds it: tokenizer.json (frontends/hf) or GGUF metadata (frontends/gguf).
//
//===------------------------------------------------------------------------------------------===//
#ifndef TERN_FRONTENDS_COMMON_TOKENIZERTABLES_H
#define TERN_FRONTENDS_COMMON_TOKENIZERTABLES_H

#include "dialects/weights/WeightStore.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/Support/Error.h"

#include <string>
#include <vector>

namespace tern {

/// The names of the tensors addTokenizerTensors adds.
extern const char *const kTokenizerTensors[6];
/// The chat format (U8: its name, "llama3-header") when a chat template is one tern implements.
extern const char *const kChatTensor;

/// GPT-2's byte-level pre-tokenizer regex.
extern const char *const kGpt2Pattern;
/// Llama 3's pre-tokenizer regex (tokenizer.json's Split pattern; llama.cpp's "llama-bpe").
extern const char *const kLlama3Pattern;

struct TokenizerTables {
  std::vector<std::string> tokens; ///< every token's bytes, by id
  std::vector<int32_t> merges;     ///< (left, right, merged) ids, by rank
  std::vector<int32_t> special;    ///< added tokens, matched in text before pre-tokenization
  std::string pattern;             ///< the pre-tokenizer's regex
  bool ignoreMerges = false;
  int64_t bos = -1, eos = -1;      ///< the BOS the encoder adds (-1: none), the end-of-text id
};

/// GPT-2's byte-level alphabet: the byte each vocabulary character stands for.
llvm::DenseMap<uint32_t, uint8_t> byteLevelDecoder();
/// A byte-level vocabulary string's bytes, or false if a character is not in the alphabet.
bool decodeByteLevel(llvm::StringRef text, const llvm::DenseMap<uint32_t, uint8_t> &decode,
                     std::string &bytes);

/// Checks what every byte-level BPE needs (a token for each of the 256 bytes) and adds the
/// tensors to `store`. `origin` names the source file and `vocabField` the vocabulary's field
/// in it, for messages.
llvm::Error addTokenizerTensors(const TokenizerTables &tables, llvm::StringRef origin,
                                llvm::StringRef vocabField, WeightStore &store);

/// The chat format a Jinja chat_template is, or "" if it is none tern implements.
std::string chatFormat(llvm::StringRef chatTemplate);
/// Adds kChatTensor for a non-empty `format`.
llvm::Error addChatFormat(llvm::StringRef format, llvm::StringRef origin, WeightStore &store);

} // namespace tern

#endif // TERN_FRONTENDS_COMMON_TOKENIZERTABLES_H
