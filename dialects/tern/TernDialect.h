//===- TernDialect.h - the tern dialect ---------------------------------------------*- C++ -*-===//
//
// Include this one header to use the dialect: it brings in its attributes, types and operations.
//
//===------------------------------------------------------------------------------------------===//
#ifndef TERN_DIALECTS_TERN_TERNDIALECT_H
#define TERN_DIALECTS_TERN_TERNDIALECT_H

#include "mlir/IR/Dialect.h"

#include "dialects/tern/TernDialect.h.inc"

#include "dialects/tern/TernAttrs.h"
#include "dialects/tern/TernTypes.h"
#include "dialects/tern/TernOps.h"

#endif // TERN_DIALECTS_TERN_TERNDIALECT_H
