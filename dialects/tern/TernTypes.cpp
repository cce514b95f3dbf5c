//===- TernTypes.cpp - tern types: syntax and verifiers ---------------------------------------===//
#include "dialects/tern/TernDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::tern;

#include "dialects/tern/TernTypeInterfaces.cpp.inc"

#define GET_TYPEDEF_CLASSES
#include "dialects/tern/TernTypes.cpp.inc"

/// Parses `N x K` (static, two dimensions) into rows and cols.
static ParseResult parseMatrixShape(AsmParser &parser, int64_t &rows, int64_t &cols) {
  SMLoc loc = parser.getCurrentLocation();
  SmallVector<int64_t, 2> dims;
  if (parser.parseDimensionList(dims, /*allowDynamic=*/false, /*withTrailingX=*/false))
    return failure();
  if (dims.size() != 2)
    return parser.emitError(loc) << "expected a weight shape N x K (2 dimensions), found "
                                 << dims.size() << " dimension(s)";
  rows = dims[0];
  cols = dims[1];
  return success();
}

static LogicalResult verifyMatrixShape(function_ref<InFlightDiagnostic()> emitError,
                                       StringRef typeName, int64_t rows, int64_t cols) {
  if (rows <= 0 || cols <= 0)
    return emitError() << typeName << " dimensions must be positive, found " << rows << "x"
                       << cols;
  return success();
}

//===------------------------------------------------------------------------------------------===//
// TernaryType
//===------------------------------------------------------------------------------------------===//

Type TernaryType::parse(AsmParser &parser) {
  SMLoc loc = parser.getCurrentLocation();
  int64_t rows, cols;
  if (parser.parseLess() || parseMatrixShape(parser, rows, cols) || parser.parseGreater())
    return {};
  return parser.getChecked<TernaryType>(loc, parser.getContext(), rows, cols);
}

void TernaryType::print(AsmPrinter &printer) const {
  printer << "<" << getRows() << "x" << getCols() << ">";
}

LogicalResult TernaryType::verify(function_ref<InFlightDiagnostic()> emitError, int64_t rows,
                                  int64_t cols) {
  return verifyMatrixShape(emitError, "!tern.ternary", rows, cols);
}

//===------------------------------------------------------------------------------------------===//
// PackedType
//===------------------------------------------------------------------------------------------===//

Type PackedType::parse(AsmParser &parser) {
  SMLoc loc = parser.getCurrentLocation();
  int64_t rows, cols;
  LayoutAttr layout;
  if (parser.parseLess() || parseMatrixShape(parser, rows, cols) || parser.parseComma() ||
      parser.parseAttribute(layout) || parser.parseGreater())
    return {};
  return parser.getChecked<PackedType>(loc, parser.getContext(), rows, cols, layout);
}

void PackedType::print(AsmPrinter &printer) const {
  printer << "<" << getRows() << "x" << getCols() << ", ";
  printer.printAttribute(getLayout());
  printer << ">";
}

LogicalResult PackedType::verify(function_ref<InFlightDiagnostic()> emitError, int64_t rows,
                                 int64_t cols, LayoutAttr layout) {
  if (!layout)
    return emitError() << "!tern.packed needs a #tern.layout";
  return verifyMatrixShape(emitError, "!tern.packed", rows, cols);
}

//===------------------------------------------------------------------------------------------===//
// KVCacheType
//===------------------------------------------------------------------------------------------===//

/// Parses `name = <integer>`, or `name = ?` when `dynamic` is given.
static ParseResult parseNamedInt(AsmParser &parser, StringRef name, int64_t &value,
                                 bool allowDynamic = false) {
  if (parser.parseKeyword(name) || parser.parseEqual())
    return failure();
  if (allowDynamic && succeeded(parser.parseOptionalQuestion())) {
    value = ShapedType::kDynamic;
    return success();
  }
  return parser.parseInteger(value);
}

Type KVCacheType::parse(AsmParser &parser) {
  SMLoc loc = parser.getCurrentLocation();
  int64_t layers, kvHeads, headDim, context;
  Type elementType;
  if (parser.parseLess() || parseNamedInt(parser, "layers", layers) || parser.parseComma() ||
      parseNamedInt(parser, "kv_heads", kvHeads) || parser.parseComma() ||
      parseNamedInt(parser, "head_dim", headDim) || parser.parseComma() ||
      parseNamedInt(parser, "context", context, /*allowDynamic=*/true) || parser.parseComma() ||
      parser.parseType(elementType) || parser.parseGreater())
    return {};
  return parser.getChecked<KVCacheType>(loc, parser.getContext(), layers, kvHeads, headDim,
                                        context, elementType);
}

void KVCacheType::print(AsmPrinter &printer) const {
  printer << "<layers = " << getLayers() << ", kv_heads = " << getKvHeads()
          << ", head_dim = " << getHeadDim() << ", context = ";
  if (hasStaticContext())
    printer << getContextLength();
  else
    printer << "?";
  printer << ", " << getElementType() << ">";
}

LogicalResult KVCacheType::verify(function_ref<InFlightDiagnostic()> emitError, int64_t layers,
                                  int64_t kvHeads, int64_t headDim, int64_t contextLength,
                                  Type elementType) {
  if (layers <= 0)
    return emitError() << "!tern.kv_cache needs at least one layer, found layers = " << layers;
  if (kvHeads <= 0)
    return emitError() << "!tern.kv_cache needs at least one head, found kv_heads = " << kvHeads;
  if (headDim <= 0)
    return emitError() << "!tern.kv_cache head_dim must be positive, found " << headDim;
  if (!ShapedType::isDynamic(contextLength) && contextLength <= 0)
    return emitError() << "!tern.kv_cache context must be positive or ?, found "
                       << contextLength;
  if (!elementType || !(elementType.isF32() || elementType.isF16() || elementType.isBF16() ||
                        elementType.isInteger(8)))
    return emitError() << "!tern.kv_cache element type must be f32, f16, bf16 or i8, found "
                       << elementType;
  return success();
}

void TernDialect::registerTypes() {
  addTypes<
#define GET_TYPEDEF_LIST
#include "dialects/tern/TernTypes.cpp.inc"
      >();
}
