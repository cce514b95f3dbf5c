//===- Tokenizer.h - a Hugging Face tokenizer.json as the runtime's tokenizer tensors -*- C++ -*-===//
//
// Reads a BPE tokenizer.json, byte-level (Llama 3's, GPT-2 style ones) or metaspace with byte
// fallback (Llama 2's, SentencePiece converted), and adds the tensors
// runtime/include/tern/tokenizer.h describes to the weight store (tokenizer.vocab, .offsets,
// .merges, .special, .pattern, .config; frontends/common/TokenizerTables.h), so compiled
// programs tokenize without parsing JSON.
// What it does not support (another model type, normalizers, byte fallback, other
// pre-tokenizers) is an error naming the file and the field.
//
//===------------------------------------------------------------------------------------------===//
#ifndef TERN_FRONTENDS_HF_TOKENIZER_H
#define TERN_FRONTENDS_HF_TOKENIZER_H

#include "frontends/common/ChatTemplate.h"
#include "frontends/common/TokenizerTables.h"

#include "llvm/Support/Error.h"

#include <string>

namespace tern::hf {

/// Converts `path` (a tokenizer.json) into the store's tokenizer tensors. `eosToken` is the
/// end-of-text token's text (from tokenizer_config.json), or empty; `endOfGeneration` more ids
/// that end a reply.
llvm::Error importTokenizer(llvm::StringRef path, llvm::StringRef eosToken, WeightStore &store,
                           llvm::ArrayRef<int64_t> endOfGeneration = {});

/// tokenizer.json and tokenizer_config.json of a checkpoint folder, if it has them, with the
/// chat template (chat_template.jinja or tokenizer_config.json's, unless `choice` replaces it):
/// returns whether a tokenizer was imported.
llvm::Expected<bool> importCheckpointTokenizer(llvm::StringRef dir, WeightStore &store,
                                               const ChatTemplateChoice &choice = {});

} // namespace tern::hf

#endif
