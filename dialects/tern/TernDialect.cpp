//===- TernDialect.cpp - registration of the tern dialect -------------------------------------===//
#include "dialects/tern/TernDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"

using namespace mlir;
using namespace mlir::tern;

#include "dialects/tern/TernDialect.cpp.inc"

void TernDialect::initialize() {
  registerAttributes();
  registerTypes();
  addOperations<
#define GET_OP_LIST
#include "dialects/tern/TernOps.cpp.inc"
      >();
}
