//===- TernAttrs.h - tern enums and attributes --------------------------------------*- C++ -*-===//
#ifndef TERN_DIALECTS_TERN_TERNATTRS_H
#define TERN_DIALECTS_TERN_TERNATTRS_H

#include "mlir/IR/Attributes.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectImplementation.h"

#include "dialects/tern/TernEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/tern/TernAttrs.h.inc"

#endif // TERN_DIALECTS_TERN_TERNATTRS_H
