//===- Pipeline.cpp - the named phases of the pass pipeline ------------------------------------===//
#include "passes/Passes.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"

#include <algorithm>

void mlir::tern::addOptimizePasses(OpPassManager &pm) {
  pm.addNestedPass<func::FuncOp>(createTernFuseProjectionsPass());
  pm.addNestedPass<func::FuncOp>(createTernFuseGluQuantPass());
  pm.addNestedPass<func::FuncOp>(createTernFuseNormQuantPass());
}

void mlir::tern::addPlanPasses(OpPassManager &pm, int64_t context, int64_t maxTokens) {
  pm.addPass(createTernSetContextLengthPass(TernSetContextLengthPassOptions{context, true}));
  TernPlanMemoryPassOptions plan;
  plan.maxTokens = std::min(maxTokens, context);
  pm.addNestedPass<func::FuncOp>(createTernPlanMemoryPass(plan));
}

void mlir::tern::addRuntimePasses(OpPassManager &pm) {
  pm.addPass(createTernLowerToRuntimePass());
  pm.addPass(createCSEPass());
}
