//===- GgufWriter.h - writes GGUF files (version 3), one tensor at a time -----------*- C++ -*-===//
//
// For the tools that write GGUF (tern-gen-checkpoint's fixtures, tests of malformed files):
// metadata in the order it is added, tensor infos, then each tensor's bytes produced when the
// writer reaches it, every tensor aligned to `general.alignment` (32 unless set).
//
//===------------------------------------------------------------------------------------------===//
#ifndef TERN_FRONTENDS_GGUF_GGUFWRITER_H
#define TERN_FRONTENDS_GGUF_GGUFWRITER_H

#include "frontends/gguf/GgufFile.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <functional>
#include <string>
#include <vector>

namespace tern::gguf {

class GgufWriter {
public:
  void addString(llvm::StringRef key, llvm::StringRef value);
  void addU32(llvm::StringRef key, uint32_t value);
  void addF32(llvm::StringRef key, float value);
  void addBool(llvm::StringRef key, bool value);
  void addStrings(llvm::StringRef key, llvm::ArrayRef<std::string> values);
  void addI32s(llvm::StringRef key, llvm::ArrayRef<int32_t> values);

  /// A tensor of type id `typeId` with dims `ne` (ne[0] contiguous) and `size` bytes, which
  /// `fill` writes when the file reaches it.
  void addTensor(llvm::StringRef name, llvm::ArrayRef<int64_t> ne, uint32_t typeId, uint64_t size,
                 std::function<void(llvm::MutableArrayRef<uint8_t>)> fill);

  /// Writes the file; `onBytes` gets the running count of tensor bytes (progress).
  llvm::Error write(llvm::StringRef path, const std::function<void(uint64_t)> &onBytes = {});
  /// Bytes of tensor data the file will hold.
  uint64_t tensorBytes() const;

private:
  void key(llvm::StringRef key, ValueType type);
  struct Tensor {
    std::string name;
    std::vector<int64_t> ne;
    uint32_t typeId;
    uint64_t size;
    std::function<void(llvm::MutableArrayRef<uint8_t>)> fill;
  };
  std::string metadata;
  uint64_t keyCount = 0;
  uint64_t alignment = 32;
  std::vector<Tensor> tensors;
};

} // namespace tern::gguf

#endif // TERN_FRONTENDS_GGUF_GGUFWRITER_H
