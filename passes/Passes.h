//===- Passes.h - tern passes -------------------------------------------------------*- C++ -*-===//
//
// Declarations of every tern pass (generated from Passes.td) and their registration.
//
//===------------------------------------------------------------------------------------------===//
#ifndef TERN_PASSES_PASSES_H
#define TERN_PASSES_PASSES_H

#include "dialects/tern/TernDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace tern {
class WeightStore;
} // namespace tern

namespace mlir::tern {

/// tern-pack-weights without a weight store (packs inline constants only; for tern-opt), and
/// with the store the driver loaded the model into, which receives the packed bytes.
std::unique_ptr<Pass> createTernPackWeightsPass();
/// With `tiedEmbedding`, a tied embedding reads the quantized head (see the pass description).
std::unique_ptr<Pass> createTernPackWeightsPass(::tern::WeightStore &store,
                                                const std::string &headFormat = "",
                                                bool tiedEmbedding = true);

/// The optimize phase (docs/design.md): the three fusion passes on every function, in the order
/// ternc runs them (they commute; see docs/passes.md).
void addOptimizePasses(OpPassManager &pm);

/// The plan phase: the KV cache's context fixed at `context` positions, and the activations
/// planned for calls of at most `maxTokens` tokens (longer prompts run in several calls).
void addPlanPasses(OpPassManager &pm, int64_t context, int64_t maxTokens);

/// The runtime phase: tern-lower-to-runtime, then CSE so each constant appears once and the
/// calls read as a table.
void addRuntimePasses(OpPassManager &pm);

#define GEN_PASS_DECL
#include "passes/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "passes/Passes.h.inc"

} // namespace mlir::tern

#endif // TERN_PASSES_PASSES_H
