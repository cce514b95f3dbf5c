//===- GgufFile.h - a validating, memory-mapping GGUF reader ------------------------*- C++ -*-===//
//
// GGUF (versions 2 and 3, little-endian): "GGUF", u32 version, u64 tensor count, u64 metadata
// count; the metadata key/values (a key is a u64-length string, then a u32 value type and the
// value; arrays are a u32 element type, a u64 count and the elements); the tensor infos (name,
// u32 n_dims, u64 ne[n_dims] with ne[0] the contiguous dimension, u32 type, u64 offset relative
// to the data section); padding to `general.alignment` (default 32); the data.
// The file is treated as hostile: every count, length and offset is checked before use, and
// every error names the file and the key or tensor.
//
//===------------------------------------------------------------------------------------------===//
#ifndef TERN_FRONTENDS_GGUF_GGUFFILE_H
#define TERN_FRONTENDS_GGUF_GGUFFILE_H

#include "frontends/gguf/GgmlType.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/MemoryBuffer.h"

#include <memory>
#include <string>
#include <vector>

namespace tern::gguf {

/// Metadata value types, numbered as in the file.
enum class ValueType : uint32_t {
  U8 = 0, I8 = 1, U16 = 2, I16 = 3, U32 = 4, I32 = 5, F32 = 6, Bool = 7, String = 8, Array = 9,
  U64 = 10, I64 = 11, F64 = 12,
};
llvm::StringRef valueTypeName(ValueType t);

/// One metadata value. Scalars are held decoded; arrays keep their element type and count, with
/// strings as views into the file and numbers readable by index.
struct MetaValue {
  ValueType type = ValueType::U8;
  uint64_t u = 0;     ///< unsigned integers and bool
  int64_t i = 0;      ///< signed integers
  double f = 0;       ///< floats
  llvm::StringRef s;  ///< strings
  // Arrays:
  ValueType elementType = ValueType::U8;
  uint64_t count = 0;
  const uint8_t *elements = nullptr;      ///< numeric elements, little-endian, unaligned
  std::vector<llvm::StringRef> strings;   ///< string elements

  bool isInteger() const;
  bool isFloat() const { return type == ValueType::F32 || type == ValueType::F64; }
  /// A numeric element of an array as int64 / double (element types of integers or floats).
  int64_t intAt(uint64_t index) const;
  double floatAt(uint64_t index) const;
  /// "u32", "array of 12 string", ...: for messages.
  std::string describe() const;
};

struct GgufTensor {
  std::string name;
  llvm::SmallVector<int64_t, 4> ne; ///< ne[0] is the contiguous dimension
  uint32_t typeId = 0;
  const GgmlTypeInfo *type = nullptr;
  uint64_t offset = 0; ///< relative to the data section
  uint64_t size = 0;
  llvm::ArrayRef<uint8_t> bytes;

  int64_t numElements() const;
  int64_t rows() const { return ne.empty() ? 1 : numElements() / ne[0]; }
  /// "[2560, 640]" in ggml's order (ne[0] first), as llama.cpp prints shapes.
  std::string shapeString() const;
};

class GgufFile {
public:
  /// Memory-maps and validates `path`.
  static llvm::Expected<std::unique_ptr<GgufFile>> open(llvm::StringRef path);
  /// Validates a file in memory; `path` is only used in messages.
  static llvm::Expected<std::unique_ptr<GgufFile>> parse(std::unique_ptr<llvm::MemoryBuffer> buffer,
                                                        llvm::StringRef path);

  llvm::StringRef path() const { return filePath; }
  uint32_t version() const { return fileVersion; }
  uint64_t alignment() const { return align; }
  /// general.architecture ("" when absent).
  llvm::StringRef architecture() const;

  /// Keys in file order.
  llvm::ArrayRef<std::string> keys() const { return keyOrder; }
  const MetaValue *find(llvm::StringRef key) const;

  // Typed lookups: the value, or an error naming the file, the key and what was expected.
  // `optional` lookups return std::nullopt for a missing key but fail on a wrong type.
  llvm::Expected<uint64_t> getUInt(llvm::StringRef key) const;
  llvm::Expected<std::optional<uint64_t>> getOptionalUInt(llvm::StringRef key) const;
  llvm::Expected<std::optional<double>> getOptionalFloat(llvm::StringRef key) const;
  llvm::Expected<std::optional<bool>> getOptionalBool(llvm::StringRef key) const;
  llvm::Expected<std::optional<llvm::StringRef>> getOptionalString(llvm::StringRef key) const;
  /// An array of `element` values (any integer type when `element` is I64); null if absent.
  llvm::Expected<const MetaValue *> getArray(llvm::StringRef key, ValueType element) const;

  llvm::ArrayRef<GgufTensor> tensors() const { return tensorList; }
  const GgufTensor *findTensor(llvm::StringRef name) const;
  uint64_t dataBytes() const { return dataSize; }

  /// Hands the mapped file to a new owner (the weight store); tensor views stay valid.
  std::unique_ptr<llvm::MemoryBuffer> takeBuffer() { return std::move(buffer); }

  /// An error "<file>: <message>".
  llvm::Error error(const llvm::Twine &message) const;

private:
  GgufFile() = default;
  llvm::Error parseAll();
  llvm::Error checkTensors();

  std::string filePath;
  std::unique_ptr<llvm::MemoryBuffer> buffer;
  uint32_t fileVersion = 0;
  uint64_t align = 32;
  std::vector<std::string> keyOrder;
  llvm::StringMap<MetaValue> meta;
  std::vector<GgufTensor> tensorList;
  llvm::StringMap<size_t> tensorIndex;
  const uint8_t *data = nullptr;
  uint64_t dataSize = 0;
};

} // namespace tern::gguf

#endif // TERN_FRONTENDS_GGUF_GGUFFILE_H
