//===- TokenizerGen.h - small BPE tokenizers in HF tokenizer.json form -------------*- C++ -*-===//
//
// The tiny preset needs a tokenizer whose vocabulary fits its embedding. This trains a byte-level
// BPE (GPT-2 byte alphabet, Llama-3 pre-tokenizer regex, Llama-3 special tokens and chat
// template) or a metaspace BPE with byte fallback (Llama 2's form) on a fixed built-in text, so
// the result is the same on every run.
//
//===------------------------------------------------------------------------------------------===//
#ifndef TERN_TOOLS_TERNGENCHECKPOINT_TOKENIZERGEN_H
#define TERN_TOOLS_TERNGENCHECKPOINT_TOKENIZERGEN_H

#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>

namespace tern::gen {

struct Tokenizer {
  std::string tokenizerJson;
  std::string tokenizerConfigJson;
  int64_t size = 0; ///< one past the largest token id
  int64_t bos = 0, eos = 0;
};

/// Trains the built-in tokenizer with `merges` merges. Special tokens follow the BPE tokens, or
/// sit at 128000.. (as in Llama 3) when `llama3SpecialIds`.
Tokenizer generateTokenizer(int merges, bool llama3SpecialIds, int64_t maxPositions);

/// Trains a metaspace BPE with byte fallback in Llama 2's tokenizer.json form (as converted from
/// SentencePiece: <unk> <s> </s>, the 256 <0xXX> byte tokens, the corpus' characters with
/// U+2581 for a space, then `merges` merges inside words; a normalizer that prepends U+2581 and
/// replaces spaces; a decoder that strips the leading space), with no chat template.
Tokenizer generateMetaspaceTokenizer(int merges, int64_t maxPositions);

/// Reads a given tokenizer.json: its size and the ids of its begin/end-of-text tokens.
llvm::Expected<Tokenizer> readTokenizer(llvm::StringRef path);

/// The Llama 3 chat template (used by BitNet b1.58 2B4T).
extern const char *const kLlama3ChatTemplate;

} // namespace tern::gen

#endif // TERN_TOOLS_TERNGENCHECKPOINT_TOKENIZERGEN_H
