//===- TokenizerBlob.h - a store's tokenizer tensors as the runtime opens them ------*- C++ -*-===//
//
// The step the parity tools share: the tensors an importer put in a WeightStore are written into
// a weights blob, the blob is parsed as the runtime parses it, and the runtime's tokenizer is
// opened on it.
//
//===------------------------------------------------------------------------------------------===//
#ifndef TERN_TEST_TOKENIZER_TOKENIZERBLOB_H
#define TERN_TEST_TOKENIZER_TOKENIZERBLOB_H

#include "dialects/weights/WeightStore.h"

#include "tern/tokenizer.h"
#include "tern/weight_blob.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

#include <vector>

namespace tern {

struct TokenizerBlob {
  TokenizerBlob() = default;
  TokenizerBlob(const TokenizerBlob &) = delete;
  TokenizerBlob &operator=(const TokenizerBlob &) = delete;
  ~TokenizerBlob() { tern_tokenizer_free(tokenizer); }

  std::vector<uint8_t> bytes; ///< the blob; `blob` points into it
  tern_blob blob{};
  tern_tokenizer *tokenizer = nullptr;
};

/// Writes the tokenizer tensors of `store`, and those of `extra` it holds, into `out.bytes`,
/// parses them into `out.blob` and opens `out.tokenizer`.
llvm::Error openTokenizerBlob(const WeightStore &store, llvm::ArrayRef<const char *> extra,
                              TokenizerBlob &out);

} // namespace tern

#endif // TERN_TEST_TOKENIZER_TOKENIZERBLOB_H
