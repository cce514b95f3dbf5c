//===- CheckpointWriter.h - writes a checkpoint folder in a published layout --------*- C++ -*-===//
#ifndef TERN_TOOLS_TERNGENCHECKPOINT_CHECKPOINTWRITER_H
#define TERN_TOOLS_TERNGENCHECKPOINT_CHECKPOINTWRITER_H

#include "tools/tern-gen-checkpoint/CheckpointSpec.h"
#include "tools/tern-gen-checkpoint/TokenizerGen.h"

#include "frontends/hf/SafetensorsWriter.h"

#include "llvm/Support/Error.h"

#include <functional>

namespace tern::gen {

struct WriteProgress {
  /// Called after each tensor: bytes written so far and in total.
  std::function<void(uint64_t done, uint64_t total)> onBytes;
};

/// The tokenizer a spec writes (generated, or --tokenizer's), with the vocabulary size and
/// special ids it implies filled into `spec`, which is then validated.
llvm::Expected<Tokenizer> resolveTokenizer(CheckpointSpec &spec);

/// The checkpoint's tensors in the Hugging Face layout of `spec` (for GGUF formats, 2B4T's),
/// generated when written.
std::vector<hf::TensorToWrite> checkpointTensors(const CheckpointSpec &spec);

/// Writes `spec`'s weights (checkpointTensors) and `tokenizer` as one GGUF file at `path`, as
/// llama.cpp's and bitnet.cpp's converters lay them out (GgufModelWriter.cpp).
llvm::Error writeGgufModel(const CheckpointSpec &spec, const Tokenizer &tokenizer,
                           llvm::StringRef path, const WriteProgress &progress);

/// Writes config.json, model.safetensors (or shards + model.safetensors.index.json),
/// tokenizer.json and tokenizer_config.json for `spec` into `dir` (created if needed), or
/// model.gguf for a GGUF format. The same spec and seed always give the same bytes.
llvm::Error writeCheckpoint(CheckpointSpec spec, llvm::StringRef dir,
                            const WriteProgress &progress = {});

} // namespace tern::gen

#endif // TERN_TOOLS_TERNGENCHECKPOINT_CHECKPOINTWRITER_H
