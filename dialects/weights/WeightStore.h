//===- WeightStore.h - the compiler's tensors outside the IR ------------------------*- C++ -*-===//
//
// `tern.weight "name"` refers to a tensor of this store. Frontends add the tensors of the model
// files (views into memory-mapped files, never copies) and the tensors they derive (e.g. latent
// weights ternarized at import); passes read them and add their own (packed layouts).
//
//===------------------------------------------------------------------------------------------===//
#ifndef TERN_DIALECTS_WEIGHTS_WEIGHTSTORE_H
#define TERN_DIALECTS_WEIGHTS_WEIGHTSTORE_H

#include "dialects/weights/DType.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/MemoryBuffer.h"

#include <memory>
#include <string>
#include <vector>

namespace tern {

/// How the bytes of a stored tensor encode its values.
enum class TensorEncoding : uint8_t {
  /// Row-major elements of `dtype`.
  Dense,
  /// A ternary [N, K] matrix as U8 [N/4, K], Hugging Face's block-wise 2-bit packing
  /// (TernaryCodec.h).
  TernaryHFPacked,
  /// A ternary [N, K] matrix as one I8 in {-1, 0, +1} per weight.
  TernaryI8,
  /// A float [N, K] table as GGUF stores it: each row K / 32 block_q8_0 (fp16 d, int8 q[32]).
  /// tern-pack-weights repacks it into the q8_0 head layout (tern/head_q8.h) bit for bit.
  GgmlQ8_0,
  /// A float [N, K] table as GGUF's block_q6_K rows (K / 256 blocks of 210 bytes), repacked into
  /// the q6_k head layout (tern/head_q6.h) bit for bit.
  GgmlQ6_K,
};
/// The largest TensorEncoding value (the weights file checks encodings against it).
constexpr TensorEncoding kLastTensorEncoding = TensorEncoding::GgmlQ6_K;

struct StoredTensor {
  std::string name;
  DType dtype = DType::F32;                ///< element type of `bytes`
  llvm::SmallVector<int64_t, 4> shape;     ///< logical shape ([N, K] for a ternary matrix)
  TensorEncoding encoding = TensorEncoding::Dense;
  llvm::ArrayRef<uint8_t> bytes;
  std::string origin; ///< the file it was read from, or what it was derived from

  int64_t numElements() const;
  bool isTernary() const {
    return encoding == TensorEncoding::TernaryHFPacked || encoding == TensorEncoding::TernaryI8;
  }
  /// A table in one of GGUF's block formats (GgmlQ8_0, GgmlQ6_K).
  bool isGgmlBlocks() const {
    return encoding == TensorEncoding::GgmlQ8_0 || encoding == TensorEncoding::GgmlQ6_K;
  }
};

class WeightStore {
public:
  WeightStore() = default;
  WeightStore(const WeightStore &) = delete;
  WeightStore &operator=(const WeightStore &) = delete;

  /// Keeps a (memory-mapped) file alive as long as the store: tensors point into it.
  void retain(std::unique_ptr<llvm::MemoryBuffer> buffer);

  /// Adds a tensor whose bytes live in a retained buffer. Fails if the name is taken.
  llvm::Error add(StoredTensor tensor);

  /// Adds a tensor whose bytes the store owns from now on.
  llvm::Error addDerived(StoredTensor tensor, std::vector<uint8_t> bytes);

  /// The tensor called `name`, or null.
  const StoredTensor *lookup(llvm::StringRef name) const;

  /// Decodes the ternary matrix `name` into rows * cols values in {-1, 0, +1}.
  llvm::Error readTernary(llvm::StringRef name, llvm::MutableArrayRef<int8_t> out) const;

  /// Tensor names in the order they were added.
  llvm::ArrayRef<std::string> names() const { return order; }
  size_t size() const { return order.size(); }
  /// Bytes the store owns (derived tensors); mapped files are not counted.
  uint64_t ownedBytes() const { return owned; }

private:
  llvm::StringMap<StoredTensor> tensors;
  std::vector<std::string> order;
  std::vector<std::unique_ptr<llvm::MemoryBuffer>> buffers;
  std::vector<std::vector<uint8_t>> derived;
  uint64_t owned = 0;
};

} // namespace tern

#endif // TERN_DIALECTS_WEIGHTS_WEIGHTSTORE_H
