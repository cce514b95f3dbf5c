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

/// The names of the tensors addTokenizerTensors adds (the last, tokenizer.eog, I32: the ids
/// that end a reply).
extern const char *const kTokenizerTensors[7];

/// GPT-2's byte-level pre-tokenizer regex.
extern const char *const kGpt2Pattern;
/// Llama 3's pre-tokenizer regex (tokenizer.json's Split pattern; llama.cpp's "llama-bpe").
extern const char *const kLlama3Pattern;

/// The two BPE kinds of the runtime (tern/tokenizer.h).
enum class TokenizerKind {
  ByteLevel = 0, ///< GPT-2's byte-level alphabet (Llama 3)
  Metaspace = 1, ///< U+2581 for spaces, byte fallback (Llama 2, SentencePiece converted)
};

/// Where metaspace puts a U+2581 in front of a span (TERN_PREPEND_* in tern/tokenizer.h).
enum class MetaspacePrepend { Never = 0, Always = 1, UnlessThere = 2, First = 3 };

struct TokenizerTables {
  TokenizerKind kind = TokenizerKind::ByteLevel;
  std::vector<std::string> tokens; ///< every token's bytes (metaspace: its text), by id
  std::vector<int32_t> merges;     ///< (left, right, merged) ids, by rank
  std::vector<int32_t> special;    ///< added tokens, matched in text before pre-tokenization
  std::string pattern;             ///< the pre-tokenizer's regex
  bool ignoreMerges = false;
  int64_t bos = -1, eos = -1;      ///< the BOS the encoder adds (-1: none), the end-of-text id
  /// More ids that end a reply (config.json's and generation_config.json's eos_token_id lists,
  /// GGUF's eot/eom ids); addTokenizerTensors adds `eos` and the known end-of-turn tokens.
  std::vector<int64_t> endOfGeneration;
  // Metaspace only.
  MetaspacePrepend prepend = MetaspacePrepend::Never;
  bool stripLeadingSpace = false; ///< the decoder strips a whole text's first space
  int64_t unk = -1;               ///< the unknown token (-1: none)
  bool fuseUnk = false, byteFallback = false;
};

/// The pre-tokenizer pattern of metaspace without a split: the whole span is one piece.
extern const char *const kWholeSpanPattern;
/// Metaspace's split (MergedWithNext on U+2581): a piece starts at every U+2581.
extern const char *const kMetaspaceSplitPattern;

/// GPT-2's byte-level alphabet: the byte each vocabulary character stands for.
llvm::DenseMap<uint32_t, uint8_t> byteLevelDecoder();
/// A byte-level vocabulary string's bytes, or false if a character is not in the alphabet.
bool decodeByteLevel(llvm::StringRef text, const llvm::DenseMap<uint32_t, uint8_t> &decode,
                     std::string &bytes);

/// The added tokens that end a turn in the chat formats of the model families tern imports
/// (<|eot_id|>, <|eom_id|>, <|im_end|>, <|end|>, <end_of_turn>): each ends a reply when it is
/// a special token of the vocabulary, as llama.cpp's end-of-generation set has them.
extern const char *const kEndOfTurnTokens[5];

/// Adds a tensor ternc derived from `origin` (a file) to `store`: the tokenizer's and the chat
/// template's tensors.
llvm::Error addConvertedTensor(WeightStore &store, const char *name, DType dtype,
                               llvm::SmallVector<int64_t, 4> shape, std::vector<uint8_t> bytes,
                               llvm::StringRef origin);

/// Checks what every byte-level BPE needs (a token for each of the 256 bytes) and adds the
/// tensors to `store`. `origin` names the source file and `vocabField` the vocabulary's field
/// in it, for messages.
llvm::Error addTokenizerTensors(const TokenizerTables &tables, llvm::StringRef origin,
                                llvm::StringRef vocabField, WeightStore &store);

} // namespace tern

#endif // TERN_FRONTENDS_COMMON_TOKENIZERTABLES_H
