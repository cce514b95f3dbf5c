//===- Tokenizer.h - a Hugging Face tokenizer.json as the runtime's tokenizer tensors -*- C++ -*-===//
//
// Reads a byte-level BPE tokenizer.json (Llama 3's, GPT-2 style ones) and adds the tensors
// runtime/include/tern/tokenizer.h describes to the weight store (tokenizer.vocab, .offsets,
// .merges, .special, .pattern, .config), so compiled programs tokenize without parsing JSON.
// What it does not support (another model type, normalizers, byte fallback, other
// pre-tokenizers) is an error naming the file and the field.
//
//===------------------------------------------------------------------------------------------===//
#ifndef TERN_FRONTENDS_HF_TOKENIZER_H
#define TERN_FRONTENDS_HF_TOKENIZER_H

#include "dialects/weights/WeightStore.h"

#include "llvm/Support/Error.h"

#include <string>

namespace tern::hf {

/// The names of the tensors importTokenizer adds.
extern const char *const kTokenizerTensors[6];
/// The chat format importCheckpointTokenizer adds when tokenizer_config.json's chat_template is
/// one tern implements (U8: its name, "llama3-header").
extern const char *const kChatTensor;

/// The chat format a Jinja chat_template is, or "" if it is none tern implements.
std::string chatFormat(llvm::StringRef chatTemplate);

/// Converts `path` (a tokenizer.json) into the store's tokenizer tensors. `eosToken` is the
/// end-of-text token's text (from tokenizer_config.json), or empty.
llvm::Error importTokenizer(llvm::StringRef path, llvm::StringRef eosToken, WeightStore &store);

/// tokenizer.json and tokenizer_config.json of a checkpoint folder, if it has them (with the
/// chat format when the template is one tern implements): returns whether a tokenizer was
/// imported.
llvm::Expected<bool> importCheckpointTokenizer(llvm::StringRef dir, WeightStore &store);

} // namespace tern::hf

#endif
