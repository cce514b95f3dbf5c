//===- TernTypes.h - tern types -----------------------------------------------------*- C++ -*-===//
#ifndef TERN_DIALECTS_TERN_TERNTYPES_H
#define TERN_DIALECTS_TERN_TERNTYPES_H

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Types.h"

#include "dialects/tern/TernAttrs.h"

#include "dialects/tern/TernTypeInterfaces.h.inc"

#define GET_TYPEDEF_CLASSES
#include "dialects/tern/TernTypes.h.inc"

#endif // TERN_DIALECTS_TERN_TERNTYPES_H
