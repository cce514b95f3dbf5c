//===- GgufFile.cpp - a validating, memory-mapping GGUF reader --------------------------------===//
#include "frontends/gguf/GgufFile.h"

#include "llvm/Support/Endian.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MathExtras.h"

#include <algorithm>
#include <cstring>
#include <functional>

using namespace tern::gguf;
using llvm::formatv;

namespace {

/// Bytes of a scalar of type `t` (0 for strings and arrays).
unsigned scalarSize(ValueType t) {
  switch (t) {
  case ValueType::U8: case ValueType::I8: case ValueType::Bool: return 1;
  case ValueType::U16: case ValueType::I16: return 2;
  case ValueType::U32: case ValueType::I32: case ValueType::F32: return 4;
  case ValueType::U64: case ValueType::I64: case ValueType::F64: return 8;
  case ValueType::String: case ValueType::Array: return 0;
  }
  return 0;
}

bool knownValueType(uint32_t t) { return t <= uint32_t(ValueType::F64); }

/// Reads little-endian numbers and strings with every length checked against the end.
class Cursor {
public:
  Cursor(const uint8_t *begin, const uint8_t *end) : p(begin), start(begin), end(end) {}
  uint64_t offset() const { return uint64_t(p - start); }
  uint64_t remaining() const { return uint64_t(end - p); }
  bool u32(uint32_t &v) { return take(4, [&] { v = llvm::support::endian::read32le(p); }); }
  bool u64(uint64_t &v) { return take(8, [&] { v = llvm::support::endian::read64le(p); }); }
  bool bytes(uint64_t n, const uint8_t *&at) { return take(n, [&] { at = p; }); }
  /// A u64 length then that many bytes; `length` is set even when they run past the end.
  bool string(llvm::StringRef &s, uint64_t &length) {
    if (!u64(length))
      return false;
    const uint8_t *at;
    if (!bytes(length, at))
      return false;
    s = llvm::StringRef(reinterpret_cast<const char *>(at), length);
    return true;
  }

private:
  template <typename F> bool take(uint64_t n, F read) {
    if (n > remaining())
      return false;
    read();
    p += n;
    return true;
  }
  const uint8_t *p, *start, *end;
};

uint64_t alignUp(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

} // namespace

llvm::StringRef tern::gguf::valueTypeName(ValueType t) {
  static const char *const names[] = {"u8",  "i8",  "u16",    "i16",   "u32", "i32", "f32",
                                      "bool", "string", "array", "u64", "i64", "f64"};
  return uint32_t(t) <= uint32_t(ValueType::F64) ? names[uint32_t(t)] : "unknown";
}

bool MetaValue::isInteger() const {
  switch (type) {
  case ValueType::U8: case ValueType::I8: case ValueType::U16: case ValueType::I16:
  case ValueType::U32: case ValueType::I32: case ValueType::U64: case ValueType::I64:
    return true;
  default:
    return false;
  }
}

int64_t MetaValue::intAt(uint64_t index) const {
  const uint8_t *e = elements + index * scalarSize(elementType);
  using namespace llvm::support::endian;
  switch (elementType) {
  case ValueType::U8: case ValueType::Bool: return *e;
  case ValueType::I8: return int8_t(*e);
  case ValueType::U16: return read16le(e);
  case ValueType::I16: return int16_t(read16le(e));
  case ValueType::U32: return read32le(e);
  case ValueType::I32: return int32_t(read32le(e));
  case ValueType::U64: case ValueType::I64: return int64_t(read64le(e));
  case ValueType::F32: case ValueType::F64: return int64_t(floatAt(index));
  default: return 0;
  }
}

double MetaValue::floatAt(uint64_t index) const {
  const uint8_t *e = elements + index * scalarSize(elementType);
  if (elementType == ValueType::F32) {
    uint32_t bits = llvm::support::endian::read32le(e);
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
  }
  if (elementType == ValueType::F64) {
    uint64_t bits = llvm::support::endian::read64le(e);
    double d;
    std::memcpy(&d, &bits, 8);
    return d;
  }
  return double(intAt(index));
}

std::string MetaValue::describe() const {
  if (type == ValueType::Array)
    return formatv("an array of {0} {1}", count, valueTypeName(elementType)).str();
  llvm::StringRef name = valueTypeName(type);
  return ((name.starts_with("i") || name.starts_with("f") ? "an " : "a ") + name).str();
}

int64_t GgufTensor::numElements() const {
  int64_t n = 1;
  for (int64_t d : ne)
    n *= d;
  return n;
}

std::string GgufTensor::shapeString() const {
  std::string s = "[";
  for (size_t i = 0; i < ne.size(); ++i)
    s += (i ? ", " : "") + std::to_string(ne[i]);
  return s + "]";
}

llvm::Error GgufFile::error(const llvm::Twine &message) const {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), filePath + ": " + message);
}

llvm::Expected<std::unique_ptr<GgufFile>> GgufFile::open(llvm::StringRef path) {
  // Not volatile and no null terminator: LLVM maps the file instead of reading it.
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer)
    return llvm::createStringError(buffer.getError(), "%s: cannot open: %s", path.str().c_str(),
                                   buffer.getError().message().c_str());
  return parse(std::move(*buffer), path);
}

llvm::Expected<std::unique_ptr<GgufFile>>
GgufFile::parse(std::unique_ptr<llvm::MemoryBuffer> buffer, llvm::StringRef path) {
  std::unique_ptr<GgufFile> file(new GgufFile());
  file->filePath = path.str();
  file->buffer = std::move(buffer);
  if (llvm::Error e = file->parseAll())
    return std::move(e);
  return std::move(file);
}

llvm::Error GgufFile::parseAll() {
  const uint8_t *begin = reinterpret_cast<const uint8_t *>(buffer->getBufferStart());
  Cursor c(begin, begin + buffer->getBufferSize());
  const uint8_t *magic;
  if (!c.bytes(4, magic))
    return error(formatv("file is {0} bytes; a GGUF file starts with the magic 'GGUF'",
                         buffer->getBufferSize()));
  if (std::memcmp(magic, "GGUF", 4) != 0) {
    std::string shown;
    for (int i = 0; i < 4; ++i)
      shown += magic[i] >= 32 && magic[i] < 127 ? std::string(1, char(magic[i]))
                                                 : formatv("\\x{0:x-2}", magic[i]).str();
    return error("bad magic '" + shown + "'; a GGUF file starts with 'GGUF'");
  }
  if (!c.u32(fileVersion))
    return error("truncated: the file ends inside the header (version)");
  if (fileVersion == 0x02000000u || fileVersion == 0x03000000u)
    return error("a big-endian GGUF file; tern reads little-endian GGUF (versions 2 and 3)");
  if (fileVersion == 1)
    return error("GGUF version 1 (32-bit counts) is not supported; convert the model again "
                 "with a current llama.cpp (versions 2 and 3 are read)");
  if (fileVersion != 2 && fileVersion != 3)
    return error(formatv("unsupported GGUF version {0} (versions 2 and 3 are read)", fileVersion));
  uint64_t tensorCount, kvCount;
  if (!c.u64(tensorCount) || !c.u64(kvCount))
    return error("truncated: the file ends inside the header (counts)");
  // Each key/value takes at least 13 bytes and each tensor info 24: a count the rest of the
  // file cannot hold is an error before anything is allocated for it.
  if (kvCount > c.remaining() / 13)
    return error(formatv("the header announces {0} metadata key/values; the {1} bytes after it "
                         "cannot hold them",
                         kvCount, c.remaining()));
  if (tensorCount > c.remaining() / 24)
    return error(formatv("the header announces {0} tensors; the {1} bytes after it cannot hold "
                         "their infos",
                         tensorCount, c.remaining()));

  // Reads one value of type `t` into `v` (arrays recursively, nested at most 4 deep).
  std::function<llvm::Error(ValueType, MetaValue &, llvm::StringRef, int)> readValue =
      [&](ValueType t, MetaValue &v, llvm::StringRef key, int depth) -> llvm::Error {
    v.type = t;
    auto truncated = [&]() {
      return error(formatv("truncated: metadata key '{0}' ({1}) runs past the end of the file",
                           key, valueTypeName(t)));
    };
    if (t == ValueType::String) {
      uint64_t length;
      if (!c.string(v.s, length))
        return error(formatv("metadata key '{0}': string length {1} runs past the end of the "
                             "file",
                             key, length));
      return llvm::Error::success();
    }
    if (t == ValueType::Array) {
      uint32_t element;
      if (!c.u32(element) || !c.u64(v.count))
        return truncated();
      if (!knownValueType(element))
        return error(formatv("metadata key '{0}': array of unknown value type {1}", key, element));
      v.elementType = ValueType(element);
      if (unsigned size = scalarSize(v.elementType)) {
        if (v.count > c.remaining() / size)
          return error(formatv("metadata key '{0}': {1} elements of {2} run past the end of the "
                               "file",
                               key, v.count, valueTypeName(v.elementType)));
        c.bytes(v.count * size, v.elements);
        return llvm::Error::success();
      }
      if (v.count > c.remaining() / 8)
        return error(formatv("metadata key '{0}': {1} elements run past the end of the file", key,
                             v.count));
      if (v.elementType == ValueType::String) {
        v.strings.reserve(v.count);
        for (uint64_t i = 0; i < v.count; ++i) {
          llvm::StringRef s;
          uint64_t length;
          if (!c.string(s, length))
            return error(formatv("metadata key '{0}': string {1} (length {2}) runs past the end "
                                 "of the file",
                                 key, i, length));
          v.strings.push_back(s);
        }
        return llvm::Error::success();
      }
      if (depth >= 4)
        return error(formatv("metadata key '{0}': arrays nested more than 4 deep", key));
      // An array of arrays (gguf-py writes them; llama.cpp refuses them): each element is an
      // array value of its own, read and skipped.
      for (uint64_t i = 0; i < v.count; ++i) {
        MetaValue skipped;
        if (llvm::Error e = readValue(ValueType::Array, skipped, key, depth + 1))
          return e;
      }
      return llvm::Error::success();
    }
    const uint8_t *at;
    if (!c.bytes(scalarSize(t), at))
      return truncated();
    MetaValue one;
    one.elementType = t;
    one.elements = at;
    if (t == ValueType::F32 || t == ValueType::F64)
      v.f = one.floatAt(0);
    else if (t == ValueType::U64)
      v.u = llvm::support::endian::read64le(at);
    else
      v.i = one.intAt(0);
    if (t != ValueType::U64)
      v.u = uint64_t(v.i);
    if (t == ValueType::Bool && *at > 1)
      return error(formatv("metadata key '{0}': bool value {1} (expected 0 or 1)", key, *at));
    return llvm::Error::success();
  };

  for (uint64_t k = 0; k < kvCount; ++k) {
    llvm::StringRef key;
    uint64_t length;
    if (!c.string(key, length))
      return error(formatv("truncated: metadata key {0} of {1} (length {2}) runs past the end of "
                           "the file",
                           k, kvCount, length));
    uint32_t type;
    if (!c.u32(type))
      return error(formatv("truncated: metadata key '{0}' has no value type", key));
    if (!knownValueType(type))
      return error(formatv("metadata key '{0}' has unknown value type {1}", key, type));
    MetaValue v;
    if (llvm::Error e = readValue(ValueType(type), v, key, 0))
      return e;
    if (meta.count(key))
      return error(formatv("duplicate metadata key '{0}'", key));
    keyOrder.push_back(key.str());
    meta[key] = std::move(v);
  }

  if (const MetaValue *a = find("general.alignment")) {
    if (a->type != ValueType::U32)
      return error(formatv("metadata key 'general.alignment' is {0}; expected a u32",
                           a->describe()));
    if (a->u == 0 || !llvm::isPowerOf2_64(a->u))
      return error(formatv("general.alignment is {0}; expected a power of two", a->u));
    align = a->u;
  }

  tensorList.resize(tensorCount);
  for (uint64_t t = 0; t < tensorCount; ++t) {
    GgufTensor &info = tensorList[t];
    llvm::StringRef name;
    uint64_t length;
    if (!c.string(name, length))
      return error(formatv("truncated: tensor info {0} of {1} (name length {2}) runs past the "
                           "end of the file",
                           t, tensorCount, length));
    info.name = name.str();
    uint32_t dims;
    if (!c.u32(dims))
      return error(formatv("truncated: tensor '{0}': the file ends inside its info", name));
    if (dims == 0 || dims > 4)
      return error(formatv("tensor '{0}' has {1} dimensions; expected 1 to 4", name, dims));
    uint64_t elements = 1;
    for (uint32_t d = 0; d < dims; ++d) {
      uint64_t n;
      if (!c.u64(n))
        return error(formatv("truncated: tensor '{0}': the file ends inside its info", name));
      if (n == 0 || n > uint64_t(INT64_MAX) / elements)
        return error(formatv("tensor '{0}': dimension {1} is {2}; expected a positive size whose "
                             "product with the others fits in 63 bits",
                             name, d, n));
      elements *= n;
      info.ne.push_back(int64_t(n));
    }
    if (!c.u32(info.typeId) || !c.u64(info.offset))
      return error(formatv("truncated: tensor '{0}': the file ends inside its info", name));
    if (tensorIndex.count(name))
      return error(formatv("duplicate tensor name '{0}'", name));
    tensorIndex[name] = t;
  }

  uint64_t dataStart = alignUp(c.offset(), align);
  uint64_t fileSize = buffer->getBufferSize();
  if (dataStart > fileSize) {
    if (tensorCount)
      return error(formatv("truncated: the data section would start at byte {0}, past the end "
                           "of the file ({1} bytes)",
                           dataStart, fileSize));
    dataStart = fileSize;
  }
  data = begin + dataStart;
  dataSize = fileSize - dataStart;
  return checkTensors();
}

llvm::Error GgufFile::checkTensors() {
  std::vector<size_t> byOffset;
  for (size_t i = 0; i < tensorList.size(); ++i) {
    GgufTensor &t = tensorList[i];
    t.type = typeForId(t.typeId);
    if (!t.type)
      return error(formatv("tensor '{0}' has unknown type id {1}", t.name, t.typeId));
    std::optional<uint64_t> size = tensorBytes(*t.type, t.ne[0], t.rows());
    if (!size)
      return error(formatv("tensor '{0}' ({1}) has {2} elements per row; {1} stores rows in "
                           "blocks of {3}",
                           t.name, t.type->name, t.ne[0], t.type->blockElems));
    if (t.offset % align)
      return error(formatv("tensor '{0}' has offset {1}, not a multiple of the alignment {2}",
                           t.name, t.offset, align));
    if (t.offset > dataSize || *size > dataSize - t.offset)
      return error(formatv("truncated: tensor '{0}' ({1} {2}, {3} bytes at offset {4}) runs past "
                           "the end of the file (the data section holds {5} bytes)",
                           t.name, t.type->name, t.shapeString(), *size, t.offset, dataSize));
    t.size = *size;
    t.bytes = llvm::ArrayRef<uint8_t>(data + t.offset, *size);
    byOffset.push_back(i);
  }
  std::sort(byOffset.begin(), byOffset.end(), [&](size_t a, size_t b) {
    return tensorList[a].offset < tensorList[b].offset;
  });
  for (size_t i = 1; i < byOffset.size(); ++i) {
    const GgufTensor &prev = tensorList[byOffset[i - 1]], &next = tensorList[byOffset[i]];
    if (next.offset < prev.offset + prev.size)
      return error(formatv("tensors '{0}' and '{1}' overlap in the data section", prev.name,
                           next.name));
  }
  return llvm::Error::success();
}

llvm::StringRef GgufFile::architecture() const {
  const MetaValue *v = find("general.architecture");
  return v && v->type == ValueType::String ? v->s : "";
}

const MetaValue *GgufFile::find(llvm::StringRef key) const {
  auto it = meta.find(key);
  return it == meta.end() ? nullptr : &it->second;
}

const GgufTensor *GgufFile::findTensor(llvm::StringRef name) const {
  auto it = tensorIndex.find(name);
  return it == tensorIndex.end() ? nullptr : &tensorList[it->second];
}

llvm::Expected<std::optional<uint64_t>> GgufFile::getOptionalUInt(llvm::StringRef key) const {
  const MetaValue *v = find(key);
  if (!v)
    return std::nullopt;
  if (!v->isInteger() || (v->type != ValueType::U64 && v->i < 0))
    return error(formatv("metadata key '{0}' is {1}; expected a non-negative integer", key,
                         v->describe()));
  return v->u;
}

llvm::Expected<uint64_t> GgufFile::getUInt(llvm::StringRef key) const {
  llvm::Expected<std::optional<uint64_t>> v = getOptionalUInt(key);
  if (!v)
    return v.takeError();
  if (!*v)
    return error(formatv("missing metadata key '{0}' (an integer)", key));
  return **v;
}

llvm::Expected<std::optional<double>> GgufFile::getOptionalFloat(llvm::StringRef key) const {
  const MetaValue *v = find(key);
  if (!v)
    return std::nullopt;
  if (v->isFloat())
    return v->f;
  if (v->isInteger())
    return v->type == ValueType::U64 ? double(v->u) : double(v->i);
  return error(formatv("metadata key '{0}' is {1}; expected a number", key, v->describe()));
}

llvm::Expected<std::optional<bool>> GgufFile::getOptionalBool(llvm::StringRef key) const {
  const MetaValue *v = find(key);
  if (!v)
    return std::nullopt;
  if (v->type != ValueType::Bool)
    return error(formatv("metadata key '{0}' is {1}; expected a bool", key, v->describe()));
  return v->u != 0;
}

llvm::Expected<std::optional<llvm::StringRef>>
GgufFile::getOptionalString(llvm::StringRef key) const {
  const MetaValue *v = find(key);
  if (!v)
    return std::nullopt;
  if (v->type != ValueType::String)
    return error(formatv("metadata key '{0}' is {1}; expected a string", key, v->describe()));
  return v->s;
}

llvm::Expected<const MetaValue *> GgufFile::getArray(llvm::StringRef key,
                                                     ValueType element) const {
  const MetaValue *v = find(key);
  if (!v)
    return nullptr;
  bool ok = v->type == ValueType::Array &&
            (v->elementType == element ||
             (element == ValueType::I64 && scalarSize(v->elementType) &&
              v->elementType != ValueType::F32 && v->elementType != ValueType::F64 &&
              v->elementType != ValueType::Bool));
  if (!ok)
    return error(formatv("metadata key '{0}' is {1}; expected an array of {2}", key,
                         v->describe(),
                         element == ValueType::I64 ? "integers" : valueTypeName(element)));
  return v;
}
