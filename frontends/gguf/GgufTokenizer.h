//===- GgufTokenizer.h - a GGUF file's tokenizer as the runtime's tokenizer tensors -*- C++ -*-===//
//
// llama.cpp's tokenizer metadata (tokenizer.ggml.model "gpt2": byte-level BPE) converted into
// the tensors the Hugging Face path builds from tokenizer.json (frontends/common/
// TokenizerTables.h), and tokenizer.chat_template used like tokenizer_config.json's.
//
//===------------------------------------------------------------------------------------------===//
#ifndef TERN_FRONTENDS_GGUF_GGUFTOKENIZER_H
#define TERN_FRONTENDS_GGUF_GGUFTOKENIZER_H

#include "frontends/common/ChatTemplate.h"
#include "frontends/common/TokenizerTables.h"
#include "frontends/gguf/GgufFile.h"

namespace tern::gguf {

/// The tokenizer of `file`'s metadata, or std::nullopt when it has none (no
/// tokenizer.ggml.model). Errors name the file and the key.
llvm::Expected<std::optional<TokenizerTables>> readTokenizer(const GgufFile &file);

/// Adds the tokenizer tensors and tokenizer.chat_template (unless `choice` replaces it) to
/// `store`; returns whether the file had a tokenizer.
llvm::Expected<bool> importTokenizer(const GgufFile &file, WeightStore &store,
                                     const ChatTemplateChoice &choice = {});

} // namespace tern::gguf

#endif // TERN_FRONTENDS_GGUF_GGUFTOKENIZER_H
