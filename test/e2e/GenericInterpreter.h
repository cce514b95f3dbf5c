//===- GenericInterpreter.h - runs tern IR with the runtime's generic kernels -------*- C++ -*-===//
//
// A test oracle for the pipeline to come and a check of the generic kernels: executes an
// imported @forward (before or after the fusion passes) op by op, each tern op through its runtime kernel (ternary projections
// through the i2 layout and the dispatched multiply-add variant), keeping the KV cache between
// calls so prefill and decode can both be compared with the numpy reference.
//
//===------------------------------------------------------------------------------------------===//
#ifndef TERN_TEST_E2E_GENERICINTERPRETER_H
#define TERN_TEST_E2E_GENERICINTERPRETER_H

#include "dialects/weights/WeightStore.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Error.h"

#include <deque>
#include <string>
#include <vector>

namespace tern::test {

class GenericInterpreter {
public:
  GenericInterpreter(mlir::func::FuncOp forward, const WeightStore &store, int64_t context);

  /// Runs @forward on `tokens` at `positions`; returns the logits [tokens, vocab].
  llvm::Expected<std::vector<float>> run(llvm::ArrayRef<int32_t> tokens,
                                         llvm::ArrayRef<int32_t> positions);
  int64_t vocab() const { return vocabSize; }
  /// The kernel variants it dispatches to: the multiply-add GEMM's and the decoder kernels'.
  std::string kernelVariants() const;

private:
  struct Weight {
    std::vector<float> values;   // dense weights as float
    std::vector<int8_t> ternary; // ternary weights: the logical matrix
    std::vector<uint8_t> i2;     // ... and in the i2 layout
    int64_t rows = 0, cols = 0;
  };
  llvm::Expected<const Weight *> weight(llvm::StringRef name, bool ternary);

  mlir::func::FuncOp forward;
  const WeightStore &store;
  int64_t context, vocabSize = 0, layers = 0, kvHeads = 0, headDim = 0;
  std::vector<float> kCache, vCache; // [layer][kv_head][context][head_dim]
  llvm::StringMap<Weight> weights;
  std::deque<Weight> derived; // weights computed from others (tern.concat_rows)
};

} // namespace tern::test

#endif
