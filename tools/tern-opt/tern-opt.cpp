//===- tern-opt.cpp - the tern optimizer driver -----------------------------------------------===//
//
// mlir-opt with the tern dialect and passes: parses, verifies, transforms and prints tern IR.
//
//===------------------------------------------------------------------------------------------===//
#include "tools/common/Registration.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  tern::registerPasses();
  mlir::DialectRegistry registry;
  tern::registerDialects(registry);
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "tern optimizer driver: parse, verify, transform tern IR\n",
                        registry));
}
