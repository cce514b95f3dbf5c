//===- WeightBlobWriter.h - writes the weights file of a compiled model -------------*- C++ -*-===//
//
// The compiler side of runtime/include/tern/weight_blob.h: the tensors a compiled model reads,
// taken from the weight store, each 64-byte aligned with its checksum (tern_blob_checksum).
//
//===------------------------------------------------------------------------------------------===//
#ifndef TERN_CODEGEN_BLOB_WEIGHTBLOBWRITER_H
#define TERN_CODEGEN_BLOB_WEIGHTBLOBWRITER_H

#include "dialects/weights/WeightStore.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Error.h"

#include <string>
#include <vector>

namespace tern::codegen {

/// The blob of `names` (in that order) from `store`. Fails naming a tensor the store lacks.
/// `offsets` receives each tensor's offset in the blob.
llvm::Expected<std::vector<uint8_t>> buildWeightBlob(const WeightStore &store,
                                                     llvm::ArrayRef<std::string> names,
                                                     llvm::StringMap<uint64_t> &offsets);

/// buildWeightBlob, streamed to `path` tensor by tensor (never the whole blob in memory).
llvm::Error writeWeightBlob(const WeightStore &store, llvm::ArrayRef<std::string> names,
                            llvm::StringRef path, llvm::StringMap<uint64_t> &offsets);

/// Adds every tensor of the weights file at `path` to `store` (mapped, checked: the header, the
/// table and every tensor's checksum), with its dtype, shape and encoding, so a .mlir that names
/// them can be compiled on. Errors name the file and the tensor.
llvm::Error loadWeightBlob(llvm::StringRef path, WeightStore &store);

} // namespace tern::codegen

#endif
