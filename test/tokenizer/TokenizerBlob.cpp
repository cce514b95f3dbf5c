//===- TokenizerBlob.cpp - a store's tokenizer tensors as the runtime opens them --------------===//
#include "TokenizerBlob.h"

#include "codegen/blob/WeightBlobWriter.h"
#include "frontends/common/TokenizerTables.h"

#include "llvm/ADT/STLExtras.h"

using namespace tern;

llvm::Error tern::openTokenizerBlob(const WeightStore &store, llvm::ArrayRef<const char *> extra,
                                    TokenizerBlob &out) {
  std::vector<std::string> names(std::begin(kTokenizerTensors), std::end(kTokenizerTensors));
  names.insert(names.end(), extra.begin(), extra.end());
  // The importers leave out what a tokenizer lacks (tokenizer.eog, a template's BOS text).
  llvm::erase_if(names, [&](const std::string &name) { return !store.lookup(name); });
  llvm::StringMap<uint64_t> offsets;
  auto bytes = codegen::buildWeightBlob(store, names, offsets);
  if (!bytes)
    return bytes.takeError();
  out.bytes = std::move(*bytes);
  char error[512];
  if (tern_blob_parse(out.bytes.data(), out.bytes.size(), "tokenizer", 1, &out.blob, error,
                      sizeof error) != 0 ||
      tern_tokenizer_open(&out.blob, nullptr, &out.tokenizer, error, sizeof error) != 0)
    return llvm::createStringError(llvm::inconvertibleErrorCode(), "%s", error);
  return llvm::Error::success();
}
