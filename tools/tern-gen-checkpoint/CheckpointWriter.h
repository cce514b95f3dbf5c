//===- CheckpointWriter.h - writes a checkpoint folder in a published layout --------*- C++ -*-===//
#ifndef TERN_TOOLS_TERNGENCHECKPOINT_CHECKPOINTWRITER_H
#define TERN_TOOLS_TERNGENCHECKPOINT_CHECKPOINTWRITER_H

#include "tools/tern-gen-checkpoint/CheckpointSpec.h"

#include "llvm/Support/Error.h"

#include <functional>

namespace tern::gen {

struct WriteProgress {
  /// Called after each tensor: bytes written so far and in total.
  std::function<void(uint64_t done, uint64_t total)> onBytes;
};

/// Writes config.json, model.safetensors (or shards + model.safetensors.index.json),
/// tokenizer.json and tokenizer_config.json for `spec` into `dir` (created if needed). The same
/// spec and seed always give the same bytes.
llvm::Error writeCheckpoint(CheckpointSpec spec, llvm::StringRef dir,
                            const WriteProgress &progress = {});

} // namespace tern::gen

#endif // TERN_TOOLS_TERNGENCHECKPOINT_CHECKPOINTWRITER_H
