//===- WeightBlobWriter.cpp - writes the weights file of a compiled model ---------------------===//
#include "codegen/blob/WeightBlobWriter.h"

#include "tern/weight_blob.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cstring>

using namespace tern;

static uint64_t alignUp(uint64_t v) {
  return (v + TERN_BLOB_ALIGN - 1) / TERN_BLOB_ALIGN * TERN_BLOB_ALIGN;
}

/// Writes the blob of `names` to `out`, tensor by tensor (a model's tensors are never copied
/// into one buffer), and records each tensor's offset.
static llvm::Error streamWeightBlob(const WeightStore &store, llvm::ArrayRef<std::string> names,
                                   llvm::raw_ostream &out, llvm::StringMap<uint64_t> &offsets) {
  std::vector<const StoredTensor *> tensors;
  std::string pool;
  for (const std::string &name : names) {
    const StoredTensor *t = store.lookup(name);
    if (!t)
      return llvm::createStringError("weights file: no tensor '%s' in the weight store",
                                     name.c_str());
    if (t->shape.size() > TERN_BLOB_MAX_RANK)
      return llvm::createStringError("weights file: tensor '%s' has rank %zu; at most %d",
                                     name.c_str(), t->shape.size(), TERN_BLOB_MAX_RANK);
    tensors.push_back(t);
    pool += name;
  }
  std::vector<tern_blob_entry> entries(tensors.size());
  uint64_t tableBytes = entries.size() * sizeof(tern_blob_entry) + pool.size();
  uint64_t offset = alignUp(sizeof(tern_blob_header) + tableBytes);
  const uint64_t dataOffset = offset;
  uint32_t nameOffset = 0;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const StoredTensor *t = tensors[i];
    tern_blob_entry &e = entries[i];
    std::memset(&e, 0, sizeof e);
    e.offset = offset;
    e.size = t->bytes.size();
    e.checksum = tern_blob_checksum(t->bytes.data(), t->bytes.size());
    e.name_offset = nameOffset;
    e.name_size = uint32_t(t->name.size());
    e.dtype = uint8_t(t->dtype);
    e.rank = uint8_t(t->shape.size());
    e.encoding = uint8_t(t->encoding);
    for (size_t d = 0; d < t->shape.size(); ++d)
      e.dims[d] = t->shape[d];
    offsets[t->name] = offset;
    nameOffset += e.name_size;
    offset = alignUp(offset + e.size);
  }
  // The table (entries, then the name pool) and its checksum.
  std::string table(reinterpret_cast<const char *>(entries.data()),
                    entries.size() * sizeof(tern_blob_entry));
  table += pool;
  tern_blob_header header;
  std::memset(&header, 0, sizeof header);
  std::memcpy(header.magic, TERN_BLOB_MAGIC, 8);
  header.version = TERN_BLOB_VERSION;
  header.count = uint32_t(entries.size());
  header.names_size = pool.size();
  header.data_offset = dataOffset;
  header.file_size = offset;
  header.table_checksum = tern_blob_checksum(table.data(), tableBytes);
  uint64_t written = 0;
  auto write = [&](const void *data, uint64_t size) {
    out.write(static_cast<const char *>(data), size);
    written += size;
  };
  auto padTo = [&](uint64_t to) {
    static const char zeros[TERN_BLOB_ALIGN] = {};
    while (written < to)
      write(zeros, std::min<uint64_t>(to - written, sizeof zeros));
  };
  write(&header, sizeof header);
  write(table.data(), table.size());
  for (size_t i = 0; i < tensors.size(); ++i) {
    padTo(entries[i].offset);
    if (!tensors[i]->bytes.empty())
      write(tensors[i]->bytes.data(), entries[i].size);
  }
  padTo(offset);
  return llvm::Error::success();
}

llvm::Expected<std::vector<uint8_t>>
codegen::buildWeightBlob(const WeightStore &store, llvm::ArrayRef<std::string> names,
                         llvm::StringMap<uint64_t> &offsets) {
  std::string bytes;
  llvm::raw_string_ostream out(bytes);
  if (llvm::Error e = streamWeightBlob(store, names, out, offsets))
    return std::move(e);
  out.flush();
  return std::vector<uint8_t>(bytes.begin(), bytes.end());
}

llvm::Error codegen::writeWeightBlob(const WeightStore &store, llvm::ArrayRef<std::string> names,
                                     llvm::StringRef path, llvm::StringMap<uint64_t> &offsets) {
  // Written beside the target and renamed over it: the store may be reading the file being
  // replaced (a .mlir input's weights, mmapped), which keeps its old bytes that way.
  std::string temp = (path + ".tmp").str();
  std::error_code ec;
  {
    llvm::raw_fd_ostream out(temp, ec, llvm::sys::fs::OF_None);
    if (ec)
      return llvm::createStringError(ec, "%s: cannot write the weights file: %s",
                                     path.str().c_str(), ec.message().c_str());
    if (llvm::Error e = streamWeightBlob(store, names, out, offsets)) {
      out.close();
      llvm::sys::fs::remove(temp);
      return e;
    }
    out.close();
    if (out.has_error()) {
      std::error_code error = out.error();
      out.clear_error();
      llvm::sys::fs::remove(temp);
      return llvm::createStringError(error, "%s: writing the weights file failed",
                                     path.str().c_str());
    }
  }
  if ((ec = llvm::sys::fs::rename(temp, path)))
    return llvm::createStringError(ec, "%s: cannot write the weights file: %s",
                                   path.str().c_str(), ec.message().c_str());
  return llvm::Error::success();
}

llvm::Error codegen::loadWeightBlob(llvm::StringRef path, WeightStore &store) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer)
    return llvm::createStringError(buffer.getError(), "%s: %s", path.str().c_str(),
                                   buffer.getError().message().c_str());
  const auto *data = reinterpret_cast<const uint8_t *>((*buffer)->getBufferStart());
  tern_blob blob;
  char error[512];
  if (tern_blob_parse(data, (*buffer)->getBufferSize(), path.str().c_str(), /*verify_data=*/1,
                      &blob, error, sizeof error) != 0)
    return llvm::createStringError("%s", error);
  for (uint32_t i = 0; i < blob.header->count; ++i) {
    const tern_blob_entry &e = blob.entries[i];
    StoredTensor t;
    t.name.assign(blob.names + e.name_offset, e.name_size);
    if (e.dtype > uint8_t(DType::F8E5M2) || e.encoding > uint8_t(kLastTensorEncoding))
      return llvm::createStringError("%s: tensor '%s' has an unknown dtype %u or encoding %u",
                                     path.str().c_str(), t.name.c_str(), e.dtype, e.encoding);
    t.dtype = DType(e.dtype);
    t.encoding = TensorEncoding(e.encoding);
    t.shape.assign(e.dims, e.dims + e.rank);
    t.bytes = llvm::ArrayRef<uint8_t>(data + e.offset, e.size);
    t.origin = path.str();
    if (llvm::Error err = store.add(std::move(t)))
      return err;
  }
  store.retain(std::move(*buffer));
  return llvm::Error::success();
}
