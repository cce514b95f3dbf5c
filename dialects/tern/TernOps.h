//===- TernOps.h - tern operations --------------------------------------------------*- C++ -*-===//
#ifndef TERN_DIALECTS_TERN_TERNOPS_H
#define TERN_DIALECTS_TERN_TERNOPS_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "dialects/tern/TernAttrs.h"
#include "dialects/tern/TernTypes.h"

#define GET_OP_CLASSES
#include "dialects/tern/TernOps.h.inc"

#endif // TERN_DIALECTS_TERN_TERNOPS_H
