//===- GgufImporter.h - GGUF BitNet models to tern IR -------------------------------*- C++ -*-===//
#ifndef TERN_FRONTENDS_GGUF_GGUFIMPORTER_H
#define TERN_FRONTENDS_GGUF_GGUFIMPORTER_H

#include "dialects/weights/TernaryCodec.h"
#include "frontends/common/ChatTemplate.h"
#include "dialects/weights/WeightStore.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"

#include <functional>
#include <optional>
#include <string>

namespace tern::gguf {

enum class FfnActivation { ReLU2, SiLU };

struct ImportOptions {
  /// Called as layers are imported: (layers done, layers in total).
  std::function<void(int64_t done, int64_t total)> progress;
  /// The FFN activation (ternc --ffn-act); unset: the architecture's, or the model's own.
  std::optional<FfnActivation> ffnActivation;
  /// ternc --chat-template: the file's tokenizer.chat_template, none, or a file's.
  ChatTemplateChoice chatTemplate;
};

struct ImportStats {
  std::string architecture;   ///< general.architecture
  int64_t parameters = 0;     ///< elements of every tensor the model uses
  TernaryStats ternary;       ///< distribution of the ternary weights
  uint64_t fileBytes = 0;     ///< bytes of tensor data in the file
  int64_t unusedTensors = 0;  ///< tensors the model does not read
  FfnActivation activation = FfnActivation::ReLU2;
  std::string activationReason; ///< why that activation ("--ffn-act", "bitnet-b1.58's graph")
  std::string projectionTypes;  ///< the projections' tensor types ("i2_s", "tq2_0, tq1_0")
  std::string headType;         ///< the output head's tensor type, and whether it is tied
  /// Why the binary has no tokenizer ("" when the file's was imported).
  std::string tokenizerNote;
};

/// Imports the GGUF file `path` (architectures bitnet, bitnet-25, bitnet-b1.58): validates the
/// metadata and every tensor the model reads, adds the weights to `store` (ternary types decoded
/// into ternary matrices with the coarsest exact scale; float tables kept as they are; Q8_0 and
/// Q6_K tables kept in their blocks for tern-pack-weights to repack; Q4_0 converted to Q8_0
/// exactly; Q4_1, Q5_0, Q5_1, Q4_K and Q5_K dequantized to f32 as llama.cpp computes them), the
/// tokenizer from its metadata, and returns a module holding `@forward`, the same
/// IR the Hugging Face importer builds for the same model.
llvm::Expected<mlir::OwningOpRef<mlir::ModuleOp>>
importGguf(mlir::MLIRContext &ctx, llvm::StringRef path, WeightStore &store,
           const ImportOptions &options = {}, ImportStats *stats = nullptr);

} // namespace tern::gguf

#endif // TERN_FRONTENDS_GGUF_GGUFIMPORTER_H
