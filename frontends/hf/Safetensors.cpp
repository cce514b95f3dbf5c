//===- Safetensors.cpp - a validating, memory-mapping safetensors reader ----------------------===//
#include "frontends/hf/Safetensors.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>

using namespace tern;
using namespace tern::hf;

int64_t SafetensorsEntry::numElements() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

llvm::Expected<std::unique_ptr<SafetensorsFile>> SafetensorsFile::open(llvm::StringRef path) {
  // IsVolatile=false + no null terminator lets LLVM mmap the file instead of reading it.
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer)
    return llvm::createStringError(buffer.getError(), "%s: cannot open: %s", path.str().c_str(),
                                   buffer.getError().message().c_str());
  return parse(std::move(*buffer), path);
}

llvm::Expected<std::unique_ptr<SafetensorsFile>>
SafetensorsFile::parse(std::unique_ptr<llvm::MemoryBuffer> buffer, llvm::StringRef path) {
  std::unique_ptr<SafetensorsFile> file(new SafetensorsFile());
  file->filePath = path.str();
  file->buffer = std::move(buffer);
  if (llvm::Error e = file->parseHeader())
    return llvm::createStringError("%s: %s", path.str().c_str(),
                                   llvm::toString(std::move(e)).c_str());
  return std::move(file);
}

const SafetensorsEntry *SafetensorsFile::find(llvm::StringRef name) const {
  auto it = index.find(name);
  return it == index.end() ? nullptr : &tensors[it->second];
}

llvm::ArrayRef<uint8_t> SafetensorsFile::bytes(const SafetensorsEntry &entry) const {
  return llvm::ArrayRef<uint8_t>(data + entry.begin, entry.end - entry.begin);
}

/// Reads a non-negative integer that fits in uint64_t from a JSON value.
static std::optional<uint64_t> getIndex(const llvm::json::Value &v) {
  if (std::optional<int64_t> i = v.getAsInteger())
    return *i >= 0 ? std::optional<uint64_t>(uint64_t(*i)) : std::nullopt;
  if (std::optional<uint64_t> u = v.getAsUINT64())
    return u;
  return std::nullopt;
}

static llvm::Error fail(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

llvm::Error SafetensorsFile::parseHeader() {
  llvm::StringRef file = buffer->getBuffer();
  if (file.size() < 8)
    return fail(llvm::formatv("file is {0} bytes; a safetensors file starts with an 8-byte "
                              "header length",
                              file.size()));
  uint64_t headerSize = llvm::support::endian::read64le(file.data());
  if (headerSize > kMaxHeaderBytes)
    return fail(llvm::formatv("header length {0} exceeds the {1} MiB limit", headerSize,
                              kMaxHeaderBytes >> 20));
  if (headerSize > file.size() - 8)
    return fail(llvm::formatv("header length {0} runs past the end of the file ({1} bytes)",
                              headerSize, file.size()));
  llvm::StringRef headerText = file.substr(8, headerSize);
  data = reinterpret_cast<const uint8_t *>(file.data()) + 8 + headerSize;
  dataSize = file.size() - 8 - headerSize;

  llvm::Expected<llvm::json::Value> header = llvm::json::parse(headerText);
  if (!header)
    return fail("header is not valid JSON: " + llvm::toString(header.takeError()));
  const llvm::json::Object *root = header->getAsObject();
  if (!root)
    return fail("header is not a JSON object");

  for (const auto &[key, value] : *root) {
    llvm::StringRef name = key;
    if (name == "__metadata__") {
      const llvm::json::Object *m = value.getAsObject();
      if (!m)
        return fail("__metadata__ must be an object of strings");
      for (const auto &[mk, mv] : *m) {
        std::optional<llvm::StringRef> s = mv.getAsString();
        if (!s)
          return fail("__metadata__ entry '" + llvm::StringRef(mk) + "' is not a string");
        meta[mk] = s->str();
      }
      continue;
    }
    const llvm::json::Object *t = value.getAsObject();
    if (!t)
      return fail("tensor '" + name + "': expected an object with dtype, shape and data_offsets");
    SafetensorsEntry entry;
    entry.name = name.str();

    std::optional<llvm::StringRef> dtypeName = t->getString("dtype");
    if (!dtypeName)
      return fail("tensor '" + name + "' has no dtype string");
    std::optional<DType> dtype = parseDType(*dtypeName);
    if (!dtype)
      return fail("tensor '" + name + "' has unknown dtype '" + *dtypeName + "'");
    entry.dtype = *dtype;

    const llvm::json::Array *shape = t->getArray("shape");
    if (!shape)
      return fail("tensor '" + name + "' has no shape array");
    uint64_t elements = 1;
    bool overflow = false;
    for (const llvm::json::Value &d : *shape) {
      std::optional<uint64_t> dim = getIndex(d);
      if (!dim || *dim > uint64_t(INT64_MAX))
        return fail("tensor '" + name + "': shape must be an array of non-negative integers");
      entry.shape.push_back(int64_t(*dim));
      overflow |= *dim != 0 && elements > UINT64_MAX / *dim;
      elements *= *dim;
    }

    const llvm::json::Array *offsets = t->getArray("data_offsets");
    std::optional<uint64_t> begin, end;
    if (offsets && offsets->size() == 2) {
      begin = getIndex((*offsets)[0]);
      end = getIndex((*offsets)[1]);
    }
    if (!begin || !end || *begin > *end)
      return fail("tensor '" + name + "': data_offsets must be [begin, end] with 0 <= begin <= end");
    if (*end > dataSize)
      return fail(llvm::formatv("tensor '{0}': data_offsets [{1}, {2}) end past the data area "
                                "({3} bytes)",
                                name, *begin, *end, dataSize));
    entry.begin = *begin;
    entry.end = *end;
    uint64_t size = dtypeSize(entry.dtype);
    if (overflow || elements > UINT64_MAX / size || elements * size != *end - *begin)
      return fail(llvm::formatv("tensor '{0}': shape {1} of {2} needs {3} bytes but data_offsets "
                                "span {4}",
                                name, shapeString(entry.shape), dtypeName->str(),
                                overflow ? std::string("too many")
                                         : std::to_string(elements * size),
                                *end - *begin));
    tensors.push_back(std::move(entry));
  }

  // The tensors must tile the data area exactly: no overlap, no unclaimed bytes.
  llvm::sort(tensors, [](const SafetensorsEntry &a, const SafetensorsEntry &b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  uint64_t expected = 0;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const SafetensorsEntry &t = tensors[i];
    if (t.begin < expected)
      return fail(llvm::formatv("tensors '{0}' [{1}, {2}) and '{3}' [{4}, {5}) overlap",
                                tensors[i - 1].name, tensors[i - 1].begin, tensors[i - 1].end,
                                t.name, t.begin, t.end));
    if (t.begin > expected)
      return fail(llvm::formatv("bytes [{0}, {1}) of the data area belong to no tensor",
                                expected, t.begin));
    expected = t.end;
  }
  if (expected != dataSize)
    return fail(llvm::formatv("bytes [{0}, {1}) of the data area belong to no tensor", expected,
                              dataSize));
  for (size_t i = 0; i < tensors.size(); ++i)
    index[tensors[i].name] = i;
  return llvm::Error::success();
}
