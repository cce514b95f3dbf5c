//===- GgufWriter.cpp - writes GGUF files (version 3), one tensor at a time -------------------===//
#include "frontends/gguf/GgufWriter.h"

#include "llvm/Support/raw_ostream.h"

#include <cstring>

using namespace tern::gguf;

namespace {
template <typename T> void put(std::string &out, T value) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T)); // little-endian hosts only, as GGUF itself
  out.append(bytes, sizeof(T));
}
void putString(std::string &out, llvm::StringRef s) {
  put<uint64_t>(out, s.size());
  out.append(s.data(), s.size());
}
uint64_t alignUp(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }
} // namespace

void GgufWriter::key(llvm::StringRef k, ValueType type) {
  putString(metadata, k);
  put<uint32_t>(metadata, uint32_t(type));
  ++keyCount;
}

void GgufWriter::addString(llvm::StringRef k, llvm::StringRef value) {
  key(k, ValueType::String);
  putString(metadata, value);
}
void GgufWriter::addU32(llvm::StringRef k, uint32_t value) {
  key(k, ValueType::U32);
  put(metadata, value);
  if (k == "general.alignment")
    alignment = value;
}
void GgufWriter::addF32(llvm::StringRef k, float value) {
  key(k, ValueType::F32);
  put(metadata, value);
}
void GgufWriter::addBool(llvm::StringRef k, bool value) {
  key(k, ValueType::Bool);
  put<uint8_t>(metadata, value ? 1 : 0);
}
void GgufWriter::addStrings(llvm::StringRef k, llvm::ArrayRef<std::string> values) {
  key(k, ValueType::Array);
  put<uint32_t>(metadata, uint32_t(ValueType::String));
  put<uint64_t>(metadata, values.size());
  for (const std::string &v : values)
    putString(metadata, v);
}
void GgufWriter::addI32s(llvm::StringRef k, llvm::ArrayRef<int32_t> values) {
  key(k, ValueType::Array);
  put<uint32_t>(metadata, uint32_t(ValueType::I32));
  put<uint64_t>(metadata, values.size());
  for (int32_t v : values)
    put(metadata, v);
}

void GgufWriter::addTensor(llvm::StringRef name, llvm::ArrayRef<int64_t> ne, uint32_t typeId,
                           uint64_t size, std::function<void(llvm::MutableArrayRef<uint8_t>)> fill) {
  tensors.push_back({name.str(), std::vector<int64_t>(ne.begin(), ne.end()), typeId, size,
                     std::move(fill)});
}

uint64_t GgufWriter::tensorBytes() const {
  uint64_t offset = 0;
  for (const Tensor &t : tensors)
    offset = alignUp(offset, alignment) + t.size;
  return offset;
}

llvm::Error GgufWriter::write(llvm::StringRef path, const std::function<void(uint64_t)> &onBytes) {
  std::string header = "GGUF";
  put<uint32_t>(header, 3);
  put<uint64_t>(header, tensors.size());
  put<uint64_t>(header, keyCount);
  header += metadata;
  uint64_t offset = 0;
  for (const Tensor &t : tensors) {
    offset = alignUp(offset, alignment);
    putString(header, t.name);
    put<uint32_t>(header, uint32_t(t.ne.size()));
    for (int64_t n : t.ne)
      put<uint64_t>(header, uint64_t(n));
    put<uint32_t>(header, t.typeId);
    put<uint64_t>(header, offset);
    offset += t.size;
  }
  header.resize(alignUp(header.size(), alignment), '\0');
  std::error_code ec;
  llvm::raw_fd_ostream out(path, ec);
  if (ec)
    return llvm::createStringError(ec, "%s: cannot write: %s", path.str().c_str(),
                                   ec.message().c_str());
  out << header;
  uint64_t written = 0;
  std::vector<uint8_t> bytes;
  for (Tensor &t : tensors) {
    uint64_t aligned = alignUp(written, alignment);
    out.write_zeros(aligned - written);
    bytes.assign(t.size, 0);
    t.fill(bytes);
    out.write(reinterpret_cast<const char *>(bytes.data()), bytes.size());
    written = aligned + t.size;
    if (onBytes)
      onBytes(written);
  }
  out.close();
  if (out.has_error())
    return llvm::createStringError(out.error(), "%s: write failed: %s", path.str().c_str(),
                                   out.error().message().c_str());
  return llvm::Error::success();
}
