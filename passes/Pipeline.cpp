//===- Pipeline.cpp - the named phases of the pass pipeline ------------------------------------===//
#include "passes/Passes.h"

#include "mlir/Pass/PassManager.h"

void mlir::tern::addOptimizePasses(OpPassManager &pm) {
  pm.addNestedPass<func::FuncOp>(createTernFuseProjectionsPass());
  pm.addNestedPass<func::FuncOp>(createTernFuseGluQuantPass());
  pm.addNestedPass<func::FuncOp>(createTernFuseNormQuantPass());
}
