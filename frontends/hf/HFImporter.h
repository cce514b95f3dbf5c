//===- HFImporter.h - Hugging Face BitNet checkpoints to tern IR --------------------*- C++ -*-===//
#ifndef TERN_FRONTENDS_HF_HFIMPORTER_H
#define TERN_FRONTENDS_HF_HFIMPORTER_H

#include "frontends/hf/HFConfig.h"

#include "dialects/weights/TernaryCodec.h"
#include "dialects/weights/WeightStore.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"

#include <functional>

namespace tern::hf {

struct ImportOptions {
  /// Called as layers are imported: (layers done, layers in total).
  std::function<void(int64_t done, int64_t total)> progress;
};

struct ImportStats {
  int64_t parameters = 0;        ///< elements of every tensor the model uses
  TernaryStats ternary;          ///< distribution of the ternary weights
  uint64_t checkpointBytes = 0;  ///< bytes of tensor data in the safetensors files
  int64_t unusedTensors = 0;     ///< checkpoint tensors the model does not read
};

/// Imports the checkpoint folder `dir` (config.json + safetensors): validates every tensor the
/// model reads, adds them to `store` (memory-mapped; latent weights ternarized into derived
/// tensors `<name>:ternary` and `<name>:scale`), and returns a module holding `@forward`.
llvm::Expected<mlir::OwningOpRef<mlir::ModuleOp>>
importCheckpoint(mlir::MLIRContext &ctx, llvm::StringRef dir, WeightStore &store,
                 const ImportOptions &options = {}, ImportStats *stats = nullptr);

/// The name of the derived ternary tensor and scale of latent weight `name`.
std::string latentTernaryName(llvm::StringRef name);
std::string latentScaleName(llvm::StringRef name);

} // namespace tern::hf

#endif // TERN_FRONTENDS_HF_HFIMPORTER_H
