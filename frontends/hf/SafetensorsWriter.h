//===- SafetensorsWriter.h - writes safetensors files, one tensor at a time ---------*- C++ -*-===//
#ifndef TERN_FRONTENDS_HF_SAFETENSORSWRITER_H
#define TERN_FRONTENDS_HF_SAFETENSORSWRITER_H

#include "dialects/weights/DType.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace tern::hf {

/// A tensor to write: its bytes are produced by `fill` only when the writer reaches it, so a
/// file larger than memory can be written.
struct TensorToWrite {
  std::string name;
  DType dtype = DType::F32;
  llvm::SmallVector<int64_t, 4> shape;
  std::function<void(llvm::MutableArrayRef<uint8_t>)> fill;
  uint64_t byteSize() const;
};

/// Writes `tensors` (in this order) to `path` with the given `__metadata__`; the header is
/// padded with spaces to a multiple of 8 bytes so the data area is aligned. `onBytes` is called
/// with the running byte count after each tensor (progress).
llvm::Error writeSafetensors(llvm::StringRef path, llvm::ArrayRef<TensorToWrite> tensors,
                             const std::map<std::string, std::string> &metadata,
                             const std::function<void(uint64_t)> &onBytes = {});

} // namespace tern::hf

#endif // TERN_FRONTENDS_HF_SAFETENSORSWRITER_H
