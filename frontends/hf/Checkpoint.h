//===- Checkpoint.h - the safetensors files of a Hugging Face checkpoint ------------*- C++ -*-===//
//
// A checkpoint folder holds either `model.safetensors` or shards listed by
// `model.safetensors.index.json` ({"metadata": {...}, "weight_map": {tensor: file}}).
//
//===------------------------------------------------------------------------------------------===//
#ifndef TERN_FRONTENDS_HF_CHECKPOINT_H
#define TERN_FRONTENDS_HF_CHECKPOINT_H

#include "frontends/hf/Safetensors.h"

#include "dialects/weights/WeightStore.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Error.h"

#include <memory>
#include <vector>

namespace tern::hf {

class Checkpoint {
public:
  /// Opens and validates every safetensors file of the checkpoint in `dir`.
  static llvm::Expected<std::unique_ptr<Checkpoint>> open(llvm::StringRef dir);

  struct Tensor {
    const SafetensorsEntry *entry;
    const SafetensorsFile *file;
    llvm::ArrayRef<uint8_t> bytes() const { return file->bytes(*entry); }
  };
  /// The tensor called `name`, or std::nullopt.
  std::optional<Tensor> find(llvm::StringRef name) const;
  size_t numTensors() const { return tensors.size(); }
  llvm::StringRef directory() const { return dir; }
  uint64_t totalBytes() const { return bytes; }
  llvm::ArrayRef<std::unique_ptr<SafetensorsFile>> files() const { return shards; }

  /// Moves the mapped files into `store`, which keeps them alive for the views it holds.
  void retainFilesIn(WeightStore &store);

private:
  llvm::Error addFile(std::unique_ptr<SafetensorsFile> file);

  std::string dir;
  std::vector<std::unique_ptr<SafetensorsFile>> shards;
  llvm::StringMap<Tensor> tensors;
  uint64_t bytes = 0;
};

} // namespace tern::hf

#endif // TERN_FRONTENDS_HF_CHECKPOINT_H
