//===- SafetensorsWriter.cpp - writes safetensors files, one tensor at a time -----------------===//
#include "frontends/hf/SafetensorsWriter.h"

#include "llvm/Support/Endian.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

using namespace tern;
using namespace tern::hf;

uint64_t TensorToWrite::byteSize() const {
  uint64_t n = dtypeSize(dtype);
  for (int64_t d : shape)
    n *= uint64_t(d);
  return n;
}

llvm::Error tern::hf::writeSafetensors(llvm::StringRef path,
                                       llvm::ArrayRef<TensorToWrite> tensors,
                                       const std::map<std::string, std::string> &metadata,
                                       const std::function<void(uint64_t)> &onBytes) {
  llvm::json::Object header;
  if (!metadata.empty()) {
    llvm::json::Object meta;
    for (const auto &[k, v] : metadata)
      meta[k] = v;
    header["__metadata__"] = std::move(meta);
  }
  uint64_t offset = 0;
  for (const TensorToWrite &t : tensors) {
    llvm::json::Array shape;
    for (int64_t d : t.shape)
      shape.push_back(d);
    uint64_t end = offset + t.byteSize();
    header[t.name] = llvm::json::Object{{"dtype", dtypeName(t.dtype)},
                                        {"shape", std::move(shape)},
                                        {"data_offsets", llvm::json::Array{offset, end}}};
    offset = end;
  }
  std::string text;
  llvm::raw_string_ostream(text) << llvm::json::Value(std::move(header));
  text.append((8 - text.size() % 8) % 8, ' ');

  std::error_code ec;
  llvm::raw_fd_ostream out(path, ec);
  if (ec)
    return llvm::createStringError(ec, "%s: cannot write: %s", path.str().c_str(),
                                   ec.message().c_str());
  char length[8];
  llvm::support::endian::write64le(length, text.size());
  out.write(length, 8);
  out << text;
  std::vector<uint8_t> buffer;
  uint64_t written = 0;
  for (const TensorToWrite &t : tensors) {
    buffer.assign(t.byteSize(), 0);
    t.fill(buffer);
    out.write(reinterpret_cast<const char *>(buffer.data()), buffer.size());
    written += buffer.size();
    if (onBytes)
      onBytes(written);
  }
  out.close();
  if (out.has_error())
    return llvm::createStringError(out.error(), "%s: write failed: %s", path.str().c_str(),
                                   out.error().message().c_str());
  return llvm::Error::success();
}
