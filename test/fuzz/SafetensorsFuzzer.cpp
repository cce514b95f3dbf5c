//===- SafetensorsFuzzer.cpp - libFuzzer target for the safetensors reader --------------------===//
//
// Any input must be either rejected with an error or accepted with every tensor's byte range
// inside the file; the oracle reads every accepted tensor's bytes (ASan catches a bad range).
//
//===------------------------------------------------------------------------------------------===//
#include "frontends/hf/Safetensors.h"

#include "llvm/Support/MemoryBuffer.h"

#include <cstdint>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  llvm::StringRef bytes(reinterpret_cast<const char *>(data), size);
  auto file = tern::hf::SafetensorsFile::parse(
      llvm::MemoryBuffer::getMemBufferCopy(bytes, "fuzz.safetensors"), "fuzz.safetensors");
  if (!file) {
    llvm::consumeError(file.takeError());
    return 0;
  }
  unsigned sum = 0;
  for (const tern::hf::SafetensorsEntry &entry : (*file)->entries()) {
    llvm::ArrayRef<uint8_t> b = (*file)->bytes(entry);
    if (uint64_t(b.size()) != entry.numElements() * tern::dtypeSize(entry.dtype))
      std::abort();
    for (uint8_t v : b)
      sum += v;
    if ((*file)->find(entry.name) != &entry)
      std::abort();
  }
  return int(sum & 0);
}
