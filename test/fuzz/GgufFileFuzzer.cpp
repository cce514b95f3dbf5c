//===- GgufFileFuzzer.cpp - libFuzzer target for the GGUF reader and what reads its contents --===//
//
// Any input must be either rejected with an error or accepted with every tensor's bytes inside
// the file and of the size its type and dims give; then the tokenizer metadata is converted
// (rejected or accepted, never a crash) and every small ternary tensor decoded (ASan catches a
// read outside its bytes).
//
//===------------------------------------------------------------------------------------------===//
#include "frontends/gguf/GgufFile.h"
#include "frontends/gguf/GgufTokenizer.h"
#include "frontends/gguf/TernaryBlocks.h"

#include "llvm/Support/MemoryBuffer.h"

#include <cstdint>
#include <cstdlib>

using namespace tern::gguf;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  llvm::StringRef bytes(reinterpret_cast<const char *>(data), size);
  auto file = GgufFile::parse(llvm::MemoryBuffer::getMemBufferCopy(bytes, "fuzz.gguf"),
                              "fuzz.gguf");
  if (!file) {
    llvm::consumeError(file.takeError());
    return 0;
  }
  unsigned sum = 0;
  for (const GgufTensor &t : (*file)->tensors()) {
    if (t.bytes.size() != *tensorBytes(*t.type, t.ne[0], t.rows()) ||
        (*file)->findTensor(t.name) != &t)
      std::abort();
    for (uint8_t v : t.bytes)
      sum += v;
    if (isTernaryType(t.type->type) && t.numElements() <= (1 << 16)) {
      DecodedTernary d;
      std::optional<BadCode> bad = decodeTernary(t.type->type, t.bytes, t.rows(), t.ne[0], d);
      if (!bad && int64_t(d.values.size()) != t.numElements())
        std::abort();
    }
  }
  for (llvm::StringRef key : (*file)->keys())
    if (!(*file)->find(key))
      std::abort();
  auto tokenizer = readTokenizer(**file);
  if (!tokenizer)
    llvm::consumeError(tokenizer.takeError());
  return int(sum & 0);
}
