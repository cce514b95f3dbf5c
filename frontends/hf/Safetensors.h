//===- Safetensors.h - a validating, memory-mapping safetensors reader --------------*- C++ -*-===//
//
// A safetensors file is an 8-byte little-endian header length N, N bytes of JSON mapping tensor
// names to {dtype, shape, data_offsets: [begin, end)} (offsets relative to the data area after the
// header) plus an optional "__metadata__" object of strings, then the data. The file is treated as
// hostile: every number is checked before use, and every error names the file and the tensor.
//
//===------------------------------------------------------------------------------------------===//
#ifndef TERN_FRONTENDS_HF_SAFETENSORS_H
#define TERN_FRONTENDS_HF_SAFETENSORS_H

#include "dialects/weights/DType.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/MemoryBuffer.h"

#include <memory>
#include <string>
#include <vector>

namespace tern::hf {

struct SafetensorsEntry {
  std::string name;
  DType dtype;
  llvm::SmallVector<int64_t, 4> shape;
  uint64_t begin = 0, end = 0; ///< byte range within the data area
  int64_t numElements() const;
};

class SafetensorsFile {
public:
  /// The largest header accepted (the reference implementation's limit).
  static constexpr uint64_t kMaxHeaderBytes = 100ull << 20;

  /// Memory-maps and validates `path`.
  static llvm::Expected<std::unique_ptr<SafetensorsFile>> open(llvm::StringRef path);
  /// Validates a file already in memory; `path` is only used in messages.
  static llvm::Expected<std::unique_ptr<SafetensorsFile>>
  parse(std::unique_ptr<llvm::MemoryBuffer> buffer, llvm::StringRef path);

  llvm::StringRef path() const { return filePath; }
  /// Tensors in the order of their data.
  llvm::ArrayRef<SafetensorsEntry> entries() const { return tensors; }
  const SafetensorsEntry *find(llvm::StringRef name) const;
  llvm::ArrayRef<uint8_t> bytes(const SafetensorsEntry &entry) const;
  const llvm::StringMap<std::string> &metadata() const { return meta; }

  /// Hands the mapped file to a new owner (the weight store); bytes() views stay valid.
  std::unique_ptr<llvm::MemoryBuffer> takeBuffer() { return std::move(buffer); }

private:
  SafetensorsFile() = default;
  llvm::Error parseHeader();

  std::string filePath;
  std::unique_ptr<llvm::MemoryBuffer> buffer;
  const uint8_t *data = nullptr; ///< start of the data area
  uint64_t dataSize = 0;
  std::vector<SafetensorsEntry> tensors;
  llvm::StringMap<size_t> index;
  llvm::StringMap<std::string> meta;
};

} // namespace tern::hf

#endif // TERN_FRONTENDS_HF_SAFETENSORS_H
