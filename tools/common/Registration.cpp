//===- Registration.cpp - dialects and passes every tern tool registers -----------------------===//
#include "tools/common/Registration.h"

#include "dialects/tern/TernDialect.h"
#include "passes/Passes.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"

void tern::registerDialects(mlir::DialectRegistry &registry) {
  registry.insert<mlir::tern::TernDialect>();
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
}

void tern::registerPasses() {
  static const bool once = [] {
    mlir::registerAllPasses();
    mlir::tern::registerTernPasses();
    return true;
  }();
  (void)once;
}
