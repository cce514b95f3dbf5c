//===- TernaryScales.h - ternary matrices and the coarsest exact scale --------------*- C++ -*-===//
//
// Files that store ternary weights in blocks (ONNX MatMulNBits, GGUF's TQ2_0, Q2_0, ...) give a
// scale per block. tern's bitlinear takes one scale per tensor, per row, or per group of 64, 128
// or 256 columns; the importers keep the coarsest of these that gives every block holding a
// nonzero weight its own scale exactly (a block of zeros may have any scale).
//
//===------------------------------------------------------------------------------------------===//
#ifndef TERN_FRONTENDS_COMMON_TERNARYSCALES_H
#define TERN_FRONTENDS_COMMON_TERNARYSCALES_H

#include "dialects/weights/WeightStore.h"
#include "frontends/common/DecoderBuilder.h"

#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/SmallVector.h"

#include <optional>
#include <vector>

namespace tern {

struct CoarsestScale {
  llvm::SmallVector<int64_t, 2> shape; ///< [1], [N] or [N, K / G]
  std::vector<float> values;
};

/// The coarsest scale for a ternary [n, k] matrix `values` whose blocks of `blockCols` columns
/// (the last one shorter when k is not a multiple) have the scale `scaleAt(row, block)`, or
/// std::nullopt when the scales vary within every group tern supports.
std::optional<CoarsestScale> coarsestScale(const int8_t *values, int64_t n, int64_t k,
                                           int64_t blockCols,
                                           llvm::function_ref<float(int64_t, int64_t)> scaleAt);

/// A ternary [n, k] matrix as a store tensor: 2 bits per weight (Hugging Face's packing) when n
/// is a multiple of 4, else one int8 per weight.
std::pair<StoredTensor, std::vector<uint8_t>> ternaryTensor(std::string name, std::string origin,
                                                            const int8_t *values, int64_t n,
                                                            int64_t k);
/// Scales as a store tensor: BF16 when every value is exactly a bfloat16 (the checkpoints'
/// dtype, so the same kernels are chosen), else F32.
std::pair<StoredTensor, std::vector<uint8_t>> scaleTensor(std::string name, std::string origin,
                                                          const CoarsestScale &scale);

/// A ternary matrix with the scale found for it, as a linear layer's weights: stores the codes
/// (`ternaryName`) and the scale (`scaleName`) in `store` as derived tensors, then builds the two
/// tern.weight ops reading them at `loc` (scale mode multiply). `origin` names the source tensor
/// in the stored tensors' origins.
llvm::Expected<LinearWeights> ternaryLinear(mlir::OpBuilder &b, mlir::Location loc,
                                            WeightStore &store, const std::string &ternaryName,
                                            const std::string &scaleName,
                                            const std::string &origin, const int8_t *values,
                                            int64_t rows, int64_t cols, const CoarsestScale &scale);

} // namespace tern

#endif // TERN_FRONTENDS_COMMON_TERNARYSCALES_H
