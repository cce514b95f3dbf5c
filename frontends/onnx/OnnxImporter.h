//===- OnnxImporter.h - ONNX BitNet decoders to tern IR -----------------------------*- C++ -*-===//
#ifndef TERN_FRONTENDS_ONNX_ONNXIMPORTER_H
#define TERN_FRONTENDS_ONNX_ONNXIMPORTER_H

#include "frontends/onnx/GraphShapes.h"

#include "dialects/weights/TernaryCodec.h"
#include "dialects/weights/WeightStore.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"

#include <functional>

namespace tern::onnx {

struct ImportOptions {
  /// Called as layers are imported: (layers done, layers in total).
  std::function<void(int64_t done, int64_t total)> progress;
  /// A projection with float weights and unquantized activations becomes tern.matmul; without
  /// it, such a projection is an error naming it.
  bool keepFloatMatMul = false;
  /// Values for the graph's symbolic dims, by name (ternc --shapes).
  llvm::StringMap<int64_t> shapes;
};

struct ImportStats {
  int64_t parameters = 0;     ///< elements of every tensor the model uses
  TernaryStats ternary;       ///< distribution of the ternary weights
  uint64_t modelBytes = 0;    ///< bytes of initializer data
  int64_t nodes = 0;          ///< nodes recognized
  int64_t deadNodes = 0;      ///< nodes no output depends on (ignored)
  int64_t floatMatMuls = 0;   ///< float projections kept as tern.matmul
  GraphShapes shapes;         ///< static lengths of the graph's inputs and outputs
};

/// Imports the ONNX model `path` (external data beside it): recognizes the decoder
/// (DecoderRecognizer.h), converts its weights into `store` (ternary matrices and scales
/// recovered exactly; float tensors that are exactly bfloat16 stored as BF16) and returns a
/// module holding `@forward`, the same IR the Hugging Face importer builds for the same model.
llvm::Expected<mlir::OwningOpRef<mlir::ModuleOp>>
importOnnx(mlir::MLIRContext &ctx, llvm::StringRef path, WeightStore &store,
           const ImportOptions &options = {}, ImportStats *stats = nullptr);

} // namespace tern::onnx

#endif // TERN_FRONTENDS_ONNX_ONNXIMPORTER_H
